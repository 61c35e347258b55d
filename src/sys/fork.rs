//! Forking: a worker that runs a body in a copy of paralab, a program
//! executed in a forked child, the setup every child of paralab does
//! before it runs anything ([`start_as_worker`] for a `Command`), and the
//! two small forks `paralab primitives` times.
//!
//! After `fork` only the calling thread exists in the child, while other
//! threads of the parent may have held locks (the allocator's among them).
//! A forked child therefore runs only code that takes no lock and
//! allocates nothing, then leaves with `_exit`, which runs nothing of the
//! parent's (no atexit handler, no flush of stdio buffers the child shares
//! with its parent, which would print them twice).

use std::ffi::{CString, NulError};
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;

use nix::fcntl::OFlag;
use nix::libc;
use nix::sys::prctl;
use nix::sys::signal::Signal;
use nix::unistd::{ForkResult, Pid, fork, getpid, getppid, pipe2, setpgid};

use super::wait::{PANIC_EXIT, reap};

/// Exit code of a forked child that could not execute its program, as
/// shells report "command not found".
pub(crate) const EXEC_FAILED: i32 = 127;

/// Forks a worker: the child becomes a worker (see [`become_worker`]),
/// runs `body`, and exits with the code `body` returns, or with
/// [`PANIC_EXIT`] if `body` panics. Returns the child's pid; the child
/// leads its own process group.
///
/// `body` runs in a child forked from a process that may have other
/// threads: it must allocate nothing and take no lock (arithmetic,
/// `nanosleep`, reading a clock, `write(2)` of a buffer it already has).
/// The workloads `cpu` and `sleep` and the `send` of a worker's record
/// keep that rule; a closure workload is the user's code, and its
/// documentation (`WorkloadFn`) states the same rule.
pub(crate) fn fork_worker(body: impl FnOnce() -> i32) -> io::Result<Pid> {
    let parent = getpid();
    // SAFETY: the child runs only `become_worker` (system calls on values
    // built before the fork), `body`, whose contract above is to allocate
    // nothing and take no lock, and `_exit`. One case is beyond that
    // contract: a body that panics runs the panic hook, which allocates
    // and locks stderr, and can deadlock the child if another thread held
    // those locks at the fork; the parent then waits for that child
    // (bounded by `--timeout` when given). cpu and sleep never panic.
    match unsafe { fork() } {
        Ok(ForkResult::Child) => {
            become_worker(parent);
            let code =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(body)).unwrap_or(PANIC_EXIT);
            exit_now(code)
        }
        Ok(ForkResult::Parent { child }) => {
            // Also here, so the group exists before the parent signals it,
            // whichever of the two runs first.
            let _ = setpgid(child, child);
            Ok(child)
        }
        Err(errno) => Err(io::Error::from(errno)),
    }
}

/// What a forked worker does first: leave the terminal's process group (so
/// Ctrl-C reaches paralab only, which decides, and the whole group can be
/// killed), ask to be killed if paralab dies, even by SIGKILL, and start
/// with a clean slate of signals (see [`default_signals`]).
/// Only system calls: safe right after `fork`.
fn become_worker(parent: Pid) {
    let _ = setpgid(Pid::from_raw(0), Pid::from_raw(0));
    if !die_with_parent(parent) {
        // The parent died before the request took effect.
        exit_now(1)
    }
    default_signals();
}

/// Makes `command` start as every child of paralab does: leading its own
/// process group, killed by the kernel if paralab dies (even by SIGKILL),
/// refusing to run if paralab is already gone, and with the default
/// action for every signal and an empty signal mask, whatever paralab
/// blocks or ignores (see [`default_signals`]).
///
/// The kernel's "parent" for that request is the thread that starts the
/// child: the child is killed if that thread ends, so start children from
/// a thread that outlives them (every caller in paralab waits for its
/// children on the thread that started them).
///
/// The standard library starts such a command with `fork` and `exec`
/// (a `pre_exec` step rules out `posix_spawn`, which cannot ask to die
/// with the parent). A program that need not be a `Command` (no pipes to
/// read) starts without that copy of paralab through
/// [`super::spawn::spawn_exec`], set up alike.
pub(crate) fn start_as_worker(command: &mut Command) -> &mut Command {
    let parent = getpid();
    command.process_group(0);
    // SAFETY: the closure runs in the child between fork and exec, where
    // only async-signal-safe calls are allowed: it calls prctl, getppid,
    // sigaction and pthread_sigmask on plain values captured before the
    // fork, and builds its error from a raw errno, which allocates nothing.
    unsafe {
        command.pre_exec(move || {
            if !die_with_parent(parent) {
                return Err(io::Error::from_raw_os_error(libc::ESRCH));
            }
            default_signals();
            Ok(())
        })
    }
}

/// Gives every signal its default action and empties the signal mask of
/// the calling thread. A child inherits both from paralab, which blocks
/// its stop signals (to wait for them in one thread) and may have been
/// started with signals ignored (`nohup`, a shell's background job); a
/// program must start as it would from a shell, or a Ctrl-C, a SIGTERM or
/// a broken pipe would not end it. Only `sigaction` and `pthread_sigmask`:
/// async-signal-safe, so callable between `fork` and `exec`.
pub(crate) fn default_signals() {
    // The kernel's own call, not glibc's `sigaction`, which refuses the
    // two real-time signals glibc keeps for itself (32 and 33): a program
    // must not inherit those ignored either. An all-zero kernel
    // `struct sigaction` is SIG_DFL with no flags and an empty mask,
    // whatever the architecture lays it out as; 32 bytes hold it.
    let default = [0u64; 4];
    for number in 1..=libc::SIGRTMAX() {
        if number != libc::SIGKILL && number != libc::SIGSTOP {
            // SAFETY: rt_sigaction reads `default` (a live local, as large
            // as the kernel's structure), writes nothing (a null old
            // action) and is async-signal-safe; a number the kernel does
            // not know only gets EINVAL.
            unsafe {
                libc::syscall(
                    libc::SYS_rt_sigaction,
                    number,
                    default.as_ptr(),
                    std::ptr::null_mut::<libc::c_void>(),
                    std::mem::size_of::<u64>(),
                );
            }
        }
    }
    // SAFETY: sigemptyset writes the live local `empty`, and
    // pthread_sigmask reads it; both are async-signal-safe.
    unsafe {
        let mut empty: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut empty);
        libc::pthread_sigmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut());
    }
}

/// Asks the kernel to SIGKILL this process when its parent dies, and tells
/// whether `parent` is still the parent (if it is not, it died before the
/// request took effect, and nobody will ever read this process's work).
/// Only system calls: safe right after `fork`.
pub(crate) fn die_with_parent(parent: Pid) -> bool {
    let _ = prctl::set_pdeathsig(Signal::SIGKILL);
    getppid() == parent
}

/// Ends a forked child at once with `code`.
fn exit_now(code: i32) -> ! {
    // SAFETY: _exit ends the process without running the parent's atexit
    // handlers or flushing stdio buffers that the child shares with its
    // parent; it is async-signal-safe.
    unsafe { libc::_exit(code) }
}

/// A program and its arguments made ready for `execv` before forking, so
/// that the child only has to call it: NUL-terminated strings and the
/// NULL-terminated array of pointers to them.
pub(crate) struct ExecArgs {
    path: CString,
    /// Owns the strings `pointers` points into.
    _argv: Vec<CString>,
    pointers: Vec<*const libc::c_char>,
}

impl ExecArgs {
    /// `path` to execute, with `argv` (its `argv[0]` first); an error if
    /// any of them holds a NUL byte.
    pub(crate) fn new(path: &Path, argv: &[String]) -> Result<ExecArgs, NulError> {
        let path = CString::new(path.as_os_str().as_bytes())?;
        let argv: Vec<CString> = argv
            .iter()
            .map(|arg| CString::new(arg.as_bytes()))
            .collect::<Result<_, _>>()?;
        // The strings' bytes live on the heap: moving the vector that owns
        // them into the struct does not move them.
        let pointers = argv
            .iter()
            .map(|arg| arg.as_ptr())
            .chain(std::iter::once(std::ptr::null()))
            .collect();
        Ok(ExecArgs {
            path,
            _argv: argv,
            pointers,
        })
    }

    /// The program's path, for `execv`.
    pub(super) fn path_ptr(&self) -> *const libc::c_char {
        self.path.as_ptr()
    }

    /// The NULL-terminated `argv`, for `execv`.
    pub(super) fn argv_ptr(&self) -> *const *const libc::c_char {
        self.pointers.as_ptr()
    }
}

/// Forks a worker that puts `devnull` on its standard input and output
/// (and on its standard error when `errors_too`, else paralab's stays)
/// and executes `exec`. Returns the child's pid once the exec succeeded;
/// if it failed, the child is reaped and the error is `exec`'s own
/// (`ENOEXEC`, `ENOENT`, `EACCES`…), which the caller names with the
/// program: the child tells it through a close-on-exec pipe, which a
/// successful exec closes with nothing written. The child is set up as a
/// forked worker is (its own process group, killed if paralab dies,
/// default signal actions, empty mask), and that setup survives the exec.
pub(crate) fn fork_exec(exec: &ExecArgs, devnull: &File, errors_too: bool) -> io::Result<Pid> {
    let parent = getpid();
    let (errno_read, errno_write) = pipe2(OFlag::O_CLOEXEC).map_err(io::Error::from)?;
    // SAFETY: the child calls only async-signal-safe functions (setpgid,
    // prctl, getppid, sigaction, pthread_sigmask, dup2, execv, write,
    // _exit) on data built before the fork; nothing allocates or takes a
    // lock.
    match unsafe { fork() } {
        Ok(ForkResult::Child) => {
            become_worker(parent);
            // SAFETY: `devnull` and `errno_write` are open descriptors; 0
            // to 2 are the standard descriptors; `exec.path` is a
            // NUL-terminated C string and `exec.pointers` a NULL-terminated
            // array of them, alive until exec; `errno` is a local buffer.
            unsafe {
                libc::dup2(devnull.as_raw_fd(), 0);
                libc::dup2(devnull.as_raw_fd(), 1);
                if errors_too {
                    libc::dup2(devnull.as_raw_fd(), 2);
                }
                libc::execv(exec.path.as_ptr(), exec.pointers.as_ptr());
                let errno = (*libc::__errno_location()).to_ne_bytes();
                libc::write(errno_write.as_raw_fd(), errno.as_ptr().cast(), errno.len());
            }
            exit_now(EXEC_FAILED)
        }
        Ok(ForkResult::Parent { child }) => {
            let _ = setpgid(child, child);
            drop(errno_write);
            // Ends at the exec (the pipe closes, 0 bytes) or at its failure
            // (4 bytes); EINTR is retried by read_exact.
            let mut errno = [0_u8; 4];
            match File::from(errno_read).read_exact(&mut errno) {
                Ok(()) => {
                    let _ = reap(child);
                    Err(io::Error::from_raw_os_error(i32::from_ne_bytes(errno)))
                }
                Err(_) => Ok(child),
            }
        }
        Err(errno) => Err(io::Error::from(errno)),
    }
}

/// Forks a child that exits at once, and waits for it: the cost of the
/// `fork` start method itself (what `paralab primitives` times, and what
/// lmbench's `lat_proc fork` times).
pub(crate) fn fork_and_wait() -> io::Result<()> {
    // SAFETY: the child calls only _exit, which is async-signal-safe.
    match unsafe { fork() } {
        Ok(ForkResult::Child) => exit_now(0),
        Ok(ForkResult::Parent { child }) => reap(child).map(|_| ()),
        Err(errno) => Err(io::Error::from(errno)),
    }
}

/// A forked child that echoes every byte it reads from one pipe into
/// another, for timing a round trip between two processes (lmbench's
/// `lat_pipe`, `perf bench sched pipe`). Dropping it closes the pipes,
/// which ends the child, and reaps it.
pub(crate) struct EchoChild {
    to_child: Option<File>,
    from_child: File,
    child: Pid,
}

impl EchoChild {
    /// Forks the echoing child.
    pub(crate) fn start() -> io::Result<EchoChild> {
        let (child_reads, parent_writes) = pipe2(OFlag::O_CLOEXEC)?;
        let (parent_reads, child_writes) = pipe2(OFlag::O_CLOEXEC)?;
        // SAFETY: the child only calls read(2) and write(2) on a stack
        // buffer, close(2) on descriptors, then _exit: no allocation, no lock.
        match unsafe { fork() } {
            Ok(ForkResult::Child) => {
                drop(parent_writes);
                drop(parent_reads);
                let mut byte = [0u8; 1];
                loop {
                    match nix::unistd::read(&child_reads, &mut byte) {
                        Ok(1) => {
                            if nix::unistd::write(&child_writes, &byte).is_err() {
                                break;
                            }
                        }
                        Err(nix::errno::Errno::EINTR) => continue,
                        _ => break,
                    }
                }
                exit_now(0)
            }
            Ok(ForkResult::Parent { child }) => Ok(EchoChild {
                to_child: Some(File::from(parent_writes)),
                from_child: File::from(parent_reads),
                child,
            }),
            Err(errno) => Err(io::Error::from(errno)),
        }
    }

    /// Sends one byte and waits for it to come back.
    pub(crate) fn round_trip(&mut self) -> io::Result<()> {
        let to_child = self.to_child.as_mut().expect("open until drop");
        to_child.write_all(&[1])?;
        let mut byte = [0u8; 1];
        self.from_child.read_exact(&mut byte)
    }
}

impl Drop for EchoChild {
    fn drop(&mut self) {
        // End of file on its input ends the child's loop.
        self.to_child = None;
        let _ = reap(self.child);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::wait::Exit;

    #[test]
    fn a_forked_worker_exits_with_its_bodys_code() {
        let child = fork_worker(|| 42).unwrap();
        assert_eq!(reap(child).unwrap().exit, Exit::Code(42));
    }

    #[test]
    fn a_program_that_cannot_be_executed_is_exec_s_error() {
        let devnull = File::options()
            .read(true)
            .write(true)
            .open("/dev/null")
            .unwrap();
        let exec = ExecArgs::new(Path::new("/nonexistent/paralab-test"), &["x".into()]).unwrap();
        let error = fork_exec(&exec, &devnull, false).unwrap_err();
        assert_eq!(error.raw_os_error(), Some(libc::ENOENT), "{error}");
        assert!(ExecArgs::new(Path::new("/bin/true"), &["a\0b".into()]).is_err());
    }

    #[test]
    fn an_executed_program_gets_its_arguments() {
        let devnull = File::options()
            .read(true)
            .write(true)
            .open("/dev/null")
            .unwrap();
        let argv = [
            "sh".to_string(),
            "-c".into(),
            "exit $#".into(),
            "sh".into(),
            "a".into(),
            "b".into(),
        ];
        let exec = ExecArgs::new(Path::new("/bin/sh"), &argv).unwrap();
        let child = fork_exec(&exec, &devnull, false).unwrap();
        assert_eq!(reap(child).unwrap().exit, Exit::Code(2));
    }

    #[test]
    fn the_echo_child_sends_bytes_back_and_is_reaped() {
        let mut echo = EchoChild::start().unwrap();
        for _ in 0..3 {
            echo.round_trip().unwrap();
        }
        drop(echo);
    }

    #[test]
    fn fork_and_wait_returns() {
        fork_and_wait().unwrap();
    }
}
