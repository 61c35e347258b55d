//! How a child process ended, read from its wait status, and the waits
//! that get it.
//!
//! [`Exit`] is paralab's one decoding of a wait status: the process model
//! reads it from `wait4`, the lessons from the standard library's
//! [`ExitStatus`]. [`reap`] waits with `wait4`, which also gives that
//! child's own CPU time: unlike `RUSAGE_CHILDREN`, which sums (and, for
//! `ru_maxrss`, maximises) over every child ever reaped.

use std::fmt;
use std::io;
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;

use nix::errno::Errno;
use nix::libc;
use nix::sys::signal::Signal;
use nix::sys::wait::{Id, WaitPidFlag, waitid, waitpid};
use nix::unistd::Pid;

/// The exit code of a Rust program whose main thread panicked, and of a
/// forked child whose body panicked (see `sys::fork::fork_worker`).
pub(crate) const PANIC_EXIT: i32 = 101;

/// How a process ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Exit {
    /// It exited (returned from `main`, or called `exit`) with this code.
    Code(i32),
    /// A signal killed it: the signal's number (real-time signals have no
    /// name in [`Signal`], so the number is kept as it is).
    Signal(i32),
}

impl Exit {
    /// Decodes a raw wait status, as `wait4` and `waitpid` fill it in.
    /// Only ended processes are waited for in paralab (no `WUNTRACED`),
    /// so a status that is not a signal's is an exit's.
    pub(crate) fn from_raw(status: libc::c_int) -> Exit {
        if libc::WIFSIGNALED(status) {
            Exit::Signal(libc::WTERMSIG(status))
        } else {
            Exit::Code(libc::WEXITSTATUS(status))
        }
    }
}

impl From<ExitStatus> for Exit {
    fn from(status: ExitStatus) -> Exit {
        Exit::from_raw(status.into_raw())
    }
}

impl fmt::Display for Exit {
    /// `exit code 3`, `SIGKILL`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Exit::Code(code) => write!(f, "exit code {code}"),
            Exit::Signal(number) => f.write_str(&signal_name(*number)),
        }
    }
}

/// A signal's name from its number: `SIGKILL`, or `signal 42`.
pub(crate) fn signal_name(number: i32) -> String {
    Signal::try_from(number).map_or_else(|_| format!("signal {number}"), |s| s.as_str().to_string())
}

/// How a reaped child ended: its exit, its own CPU time and its context
/// switches (those of its threads, and of its own children it waited for).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Reaped {
    /// How it ended.
    pub exit: Exit,
    /// Its user + system CPU time, in seconds.
    pub cpu_s: f64,
    /// Its user CPU time, in seconds.
    pub user_s: f64,
    /// Its system CPU time, in seconds.
    pub system_s: f64,
    /// Times it gave up a CPU to wait.
    pub voluntary_switches: u64,
    /// Times the scheduler took a CPU away from it.
    pub involuntary_switches: u64,
}

/// Waits for `child` with `wait4`, which reports that child's own resource
/// usage (not the maximum over all children, as `RUSAGE_CHILDREN` would).
pub(crate) fn reap(child: Pid) -> io::Result<Reaped> {
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is a plain C struct of integers, for which all zero
    // bytes is a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: both pointers are to live locals that wait4 fills in; a
        // pid that is not an unreaped child of this process gets ECHILD.
        let returned = unsafe { libc::wait4(child.as_raw(), &mut status, 0, &mut usage) };
        if returned == child.as_raw() {
            let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
            let (user_s, system_s) = (seconds(usage.ru_utime), seconds(usage.ru_stime));
            return Ok(Reaped {
                exit: Exit::from_raw(status),
                cpu_s: user_s + system_s,
                user_s,
                system_s,
                voluntary_switches: usage.ru_nvcsw.max(0) as u64,
                involuntary_switches: usage.ru_nivcsw.max(0) as u64,
            });
        }
        let error = io::Error::last_os_error();
        if error.kind() != io::ErrorKind::Interrupted {
            return Err(error);
        }
    }
}

/// Waits until `child` has exited, without reaping it: its pid, and its
/// process group, stay reserved until it is reaped, so no signal sent to
/// them meanwhile can reach an unrelated process.
pub(crate) fn wait_exited(child: Pid) {
    let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOWAIT;
    while let Err(Errno::EINTR) = waitid(Id::Pid(child), flags) {}
}

/// Reaps every child of this process, whatever its kind, until none is left.
pub(crate) fn reap_all() {
    while waitpid(None::<Pid>, Some(WaitPidFlag::__WALL)).is_ok() {}
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status_of(script: &str) -> ExitStatus {
        std::process::Command::new("sh")
            .args(["-c", script])
            .status()
            .unwrap()
    }

    #[test]
    fn exits_and_signals_are_told_apart() {
        assert_eq!(Exit::from(status_of("exit 3")), Exit::Code(3));
        assert_eq!(Exit::from(status_of("true")), Exit::Code(0));
        let killed = Exit::from(status_of("kill -KILL $$"));
        assert_eq!(killed, Exit::Signal(9));
        assert_eq!(killed.to_string(), "SIGKILL");
        assert_eq!(Exit::Code(3).to_string(), "exit code 3");
    }

    #[test]
    fn a_signal_without_a_name_keeps_its_number() {
        assert_eq!(
            signal_name(libc::SIGRTMIN() + 1).split(' ').next(),
            Some("signal")
        );
        assert_eq!(signal_name(15), "SIGTERM");
    }

    #[test]
    fn a_reaped_child_gives_its_exit_and_cpu_time() {
        // Reaped below by wait4, not by the standard library.
        let pid = std::process::Command::new("sh")
            .args(["-c", "exit 7"])
            .spawn()
            .map(|child| Pid::from_raw(child.id() as i32))
            .unwrap();
        wait_exited(pid);
        let reaped = reap(pid).unwrap();
        assert_eq!(reaped.exit, Exit::Code(7));
        assert!(reaped.cpu_s >= 0.0);
        assert!((reaped.user_s + reaped.system_s - reaped.cpu_s).abs() < 1e-9);
    }

    #[test]
    fn exit_example() {
        use crate::sys::wait::Exit;
        let status = std::process::Command::new("sh")
            .args(["-c", "kill -SEGV $$"])
            .status()
            .unwrap();
        assert_eq!(Exit::from(status), Exit::Signal(11));
        assert_eq!(Exit::from(status).to_string(), "SIGSEGV");
    }
}
