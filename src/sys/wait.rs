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

/// Waits until every one of `children` has exited, without reaping them
/// (as [`wait_exited`]), and notes `now()` as each exits, in whatever order
/// they do: a child that ends before an earlier one is not given the
/// later one's end. Each child is watched through a pidfd (Linux 5.3+);
/// where the kernel has none, they are waited for in order and no time is
/// noted (`None`), rather than a wrong one.
pub(crate) fn wait_all_exited<T>(children: &[Pid], mut now: impl FnMut() -> T) -> Vec<Option<T>> {
    use std::os::fd::{AsFd, FromRawFd, OwnedFd};

    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

    let mut ends: Vec<Option<T>> = children.iter().map(|_| None).collect();
    if let [child] = children {
        // One child needs no pidfd: its wait is its exit.
        wait_exited(*child);
        ends[0] = Some(now());
        return ends;
    }
    let pidfds: Option<Vec<OwnedFd>> = children
        .iter()
        .map(|child| {
            // SAFETY: pidfd_open takes a pid and a flags word and returns a
            // new descriptor or -1; it touches no memory of ours.
            let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, child.as_raw(), 0) };
            // SAFETY: a non-negative result is a descriptor the kernel has
            // just opened for us alone, so it may be owned and closed here.
            (fd >= 0).then(|| unsafe { OwnedFd::from_raw_fd(fd as i32) })
        })
        .collect();
    let Some(pidfds) = pidfds else {
        for &child in children {
            wait_exited(child);
        }
        return ends;
    };
    let mut pending: Vec<usize> = (0..children.len()).collect();
    while !pending.is_empty() {
        let mut fds: Vec<PollFd> = pending
            .iter()
            .map(|&i| PollFd::new(pidfds[i].as_fd(), PollFlags::POLLIN))
            .collect();
        match poll(&mut fds, PollTimeout::NONE) {
            Ok(_) => {}
            Err(Errno::EINTR) => continue,
            Err(_) => {
                // Cannot poll: wait for the rest in order, their ends unknown.
                for &i in &pending {
                    wait_exited(children[i]);
                }
                return ends;
            }
        }
        let exited: Vec<bool> = fds
            .iter()
            .map(|fd| fd.revents().is_some_and(|r| !r.is_empty()))
            .collect();
        let mut at = Some(now());
        let mut still = Vec::with_capacity(pending.len());
        for (&i, done) in pending.iter().zip(exited) {
            if done {
                // Several that exit at once share the instant they were seen.
                ends[i] = at.take().or_else(|| Some(now()));
            } else {
                still.push(i);
            }
        }
        pending = still;
    }
    ends
}

/// Reaps every child of this process, whatever its kind, until none is left.
pub(crate) fn reap_all() {
    while waitpid(None::<Pid>, Some(WaitPidFlag::__WALL)).is_ok() {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_child_s_exit_is_noted_when_it_happens_not_in_order() {
        let mut slow = std::process::Command::new("sleep")
            .arg("0.3")
            .spawn()
            .unwrap();
        let mut quick = std::process::Command::new("true").spawn().unwrap();
        let pids = [slow.id(), quick.id()].map(|id| Pid::from_raw(id as i32));
        let began = std::time::Instant::now();
        let ends = wait_all_exited(&pids, std::time::Instant::now);
        // Not reaped yet: their pids are still theirs to reap.
        assert!(slow.wait().unwrap().success() && quick.wait().unwrap().success());
        let [Some(slow_end), Some(quick_end)] = ends[..] else {
            panic!("no pidfd on this kernel: {ends:?}");
        };
        assert!(quick_end < slow_end, "{ends:?}");
        assert!(
            slow_end.duration_since(began).as_secs_f64() >= 0.25,
            "{ends:?}"
        );
    }

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
