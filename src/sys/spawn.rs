//! Starting a program without copying paralab: the `spawn` start method of
//! `--cmd`.
//!
//! `fork` copies the page tables of the whole paralab (its threads'
//! stacks, its heap), which costs more than running `true` does. glibc's
//! `posix_spawn`, which hyperfine uses, avoids that copy with a
//! `clone(CLONE_VM | CLONE_VFORK)`: the child borrows the parent's memory
//! (the calling thread waits) until it executes the program. But
//! `posix_spawn` cannot ask the kernel to kill the program when paralab
//! dies (`PR_SET_PDEATHSIG`), and a program left running by a paralab
//! killed with SIGKILL would outlive it, holding a CPU or a file. So
//! paralab makes that same clone itself ([`spawn_exec`]) and sets the
//! child up as every child of paralab is set up (see
//! [`super::fork::fork_exec`]) before the exec.
//!
//! The child shares paralab's memory while it runs, so it must write
//! nothing but its own stack, the errno of the thread that waits for it,
//! and the one word it reports an exec failure in: it only makes system
//! calls on values built before the clone, as a forked child does, and
//! no signal handler of paralab's can run in it (every signal is blocked
//! around the clone, and the child gives each signal its default action
//! before it unblocks them).

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;

use nix::libc::{self, c_char, c_int, c_void};
use nix::unistd::{Pid, getpid};

use super::fork::{EXEC_FAILED, ExecArgs, default_signals, die_with_parent};
use super::wait::reap;

/// The child's stack: it calls `setpgid`, `prctl`, `getppid`,
/// `rt_sigaction`, `pthread_sigmask`, `dup2` and `execv`, whose frames
/// take a few hundred bytes; glibc's `posix_spawn` gives its child some
/// 32 KiB. Heap memory, not mapped per call: a `malloc` of this size is
/// cheaper than an `mmap` and a `munmap`.
const STACK_BYTES: usize = 64 * 1024;

/// One 16-byte-aligned slot of the child's stack (x86-64 and AArch64 want
/// a stack pointer aligned to 16 bytes).
#[derive(Clone, Copy)]
#[repr(C, align(16))]
struct StackSlot([u8; 16]);

/// What the child reads (built before the clone) and writes (`errno`).
#[repr(C)]
struct ChildArgs {
    /// paralab, which the child must still have as its parent once it has
    /// asked to die with it.
    parent: libc::pid_t,
    /// Its standard input and output.
    devnull: c_int,
    /// Whether `devnull` is its standard error too (else paralab's).
    errors_too: bool,
    path: *const c_char,
    argv: *const *const c_char,
    /// 0, or why the child did not execute the program.
    errno: c_int,
}

/// Starts the program of `exec` with `devnull` on its standard input and
/// output, and on its standard error when `errors_too` (else paralab's
/// stays), set up as every child of paralab
/// is: leading its own process group, killed by the kernel if paralab
/// dies (even by SIGKILL; the "parent" is the calling thread, which must
/// outlive the child, as for [`super::fork::fork_exec`]), with the default
/// action for every signal and an empty signal mask. Returns the child's
/// pid once the program is executing; if it could not be executed, the
/// child is reaped and the error is `exec`'s own (`ENOEXEC`, `ENOENT`,
/// `EACCES`…), reported through the memory the child shares until its
/// exec, as glibc's `posix_spawn` reports it.
pub(crate) fn spawn_exec(exec: &ExecArgs, devnull: &File, errors_too: bool) -> io::Result<Pid> {
    let mut stack: Vec<StackSlot> = Vec::with_capacity(STACK_BYTES / size_of::<StackSlot>());
    let mut args = ChildArgs {
        parent: getpid().as_raw(),
        devnull: devnull.as_raw_fd(),
        errors_too,
        path: exec.path_ptr(),
        argv: exec.argv_ptr(),
        errno: 0,
    };
    let all = BlockAll::now()?;
    // SAFETY: the stack is `STACK_BYTES` of memory owned by `stack`
    // (allocated, never read before the child writes it), alive until the
    // clone returns, which with CLONE_VFORK is after the child's exec or
    // exit, when it no longer uses it; the top passed is one past its end,
    // 16-byte aligned, as the stack grows down on every architecture
    // paralab runs on. `args` is alive until then too, and the child
    // writes only its `errno` field. `start_child` makes only
    // async-signal-safe system calls (see its SAFETY comment), and every
    // signal is blocked meanwhile, so no handler of paralab's runs in the
    // child on borrowed memory. Without CLONE_SIGHAND the child's signal
    // actions are its own copy: resetting them leaves paralab's alone.
    let child = unsafe {
        let top = stack.as_mut_ptr().add(stack.capacity());
        libc::clone(
            start_child,
            top.cast::<c_void>(),
            libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD,
            (&raw mut args).cast::<c_void>(),
        )
    };
    let cloned = if child == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(Pid::from_raw(child))
    };
    drop(all);
    let child = cloned?;
    // SAFETY: the child has executed its program or exited: nothing else
    // writes `args` now; the volatile read keeps the compiler from reusing
    // the 0 it stored before the clone.
    let errno = unsafe { std::ptr::read_volatile(&raw const args.errno) };
    if errno != 0 {
        let _ = reap(child);
        return Err(io::Error::from_raw_os_error(errno));
    }
    Ok(child)
}

/// What the cloned child runs on its own stack, in paralab's memory: lead
/// its own group, ask to die with paralab, take the default action of
/// every signal then empty the mask (in that order: once no handler of
/// paralab's is left, a signal may arrive), put `devnull` on its standard
/// input and output, and execute the program; if that fails, write why in
/// `args.errno` and exit.
extern "C" fn start_child(args: *mut c_void) -> c_int {
    // SAFETY: `args` is the `ChildArgs` of `spawn_exec`, alive and not
    // touched by the parent, which waits (CLONE_VFORK) until this exec or
    // exit. Every call below is a system call or an async-signal-safe
    // libc function on values built before the clone: nothing allocates
    // or takes a lock (the allocator's locks are paralab's, in the memory
    // this child shares). The errno they may set is the waiting thread's,
    // which reads none after a successful clone.
    unsafe {
        let args = &mut *args.cast::<ChildArgs>();
        libc::setpgid(0, 0);
        if !die_with_parent(Pid::from_raw(args.parent)) {
            args.errno = libc::ESRCH;
            libc::_exit(1);
        }
        default_signals();
        libc::dup2(args.devnull, 0);
        libc::dup2(args.devnull, 1);
        if args.errors_too {
            libc::dup2(args.devnull, 2);
        }
        libc::execv(args.path, args.argv);
        args.errno = *libc::__errno_location();
        libc::_exit(EXEC_FAILED)
    }
}

/// Every signal blocked in the calling thread (glibc's two internal ones
/// too, which `pthread_sigmask` leaves alone) until dropped, when its
/// mask is back as it was.
struct BlockAll {
    before: u64,
}

/// The kernel's signal set for 64 signals (`_NSIG` on Linux's x86-64 and
/// AArch64), which `rt_sigprocmask` takes with its size.
const SIGSET_BYTES: usize = size_of::<u64>();

impl BlockAll {
    fn now() -> io::Result<BlockAll> {
        let all = u64::MAX;
        let mut before = 0_u64;
        // SAFETY: rt_sigprocmask reads `all` and writes `before`, two live
        // locals of the size given.
        let done = unsafe {
            libc::syscall(
                libc::SYS_rt_sigprocmask,
                libc::SIG_SETMASK,
                &raw const all,
                &raw mut before,
                SIGSET_BYTES,
            )
        };
        if done == -1 {
            return Err(io::Error::last_os_error());
        }
        Ok(BlockAll { before })
    }
}

impl Drop for BlockAll {
    fn drop(&mut self) {
        // SAFETY: rt_sigprocmask reads `self.before`, a live value of the
        // size given, and writes nothing (a null old set).
        unsafe {
            libc::syscall(
                libc::SYS_rt_sigprocmask,
                libc::SIG_SETMASK,
                &raw const self.before,
                std::ptr::null_mut::<u64>(),
                SIGSET_BYTES,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::sys::wait::Exit;

    fn devnull() -> File {
        File::options()
            .read(true)
            .write(true)
            .open("/dev/null")
            .unwrap()
    }

    #[test]
    fn a_program_that_cannot_be_executed_is_exec_s_error() {
        let exec = ExecArgs::new(Path::new("/nonexistent/paralab-test"), &["x".into()]).unwrap();
        let error = spawn_exec(&exec, &devnull(), false).unwrap_err();
        assert_eq!(error.raw_os_error(), Some(libc::ENOENT), "{error}");

        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let garbage = dir.path().join("g2");
        std::fs::write(&garbage, [0x7f, b'E', b'L', b'F', 0, 0, 0, 0]).unwrap();
        std::fs::set_permissions(&garbage, std::fs::Permissions::from_mode(0o755)).unwrap();
        let exec = ExecArgs::new(&garbage, &["g2".into()]).unwrap();
        let error = spawn_exec(&exec, &devnull(), false).unwrap_err();
        assert_eq!(error.raw_os_error(), Some(libc::ENOEXEC), "{error}");
    }

    #[test]
    fn a_spawned_program_gets_its_arguments() {
        let argv = ["sh", "-c", "exit \"$0\"", "7"].map(String::from);
        let exec = ExecArgs::new(Path::new("/bin/sh"), &argv).unwrap();
        let child = spawn_exec(&exec, &devnull(), false).unwrap();
        assert_eq!(reap(child).unwrap().exit, Exit::Code(7));
    }

    #[test]
    fn a_spawned_program_leads_its_group_with_default_signals_and_the_callers_mask_is_kept() {
        use nix::sys::signal::{SigSet, SigmaskHow, Signal, kill};
        let mut blocked = SigSet::empty();
        blocked.add(Signal::SIGUSR2);
        let before = blocked.thread_swap_mask(SigmaskHow::SIG_BLOCK).unwrap();
        let exec = ExecArgs::new(Path::new("/bin/sleep"), &["sleep".into(), "30".into()]).unwrap();
        let spawned = spawn_exec(&exec, &devnull(), false);
        let after = SigSet::thread_get_mask().unwrap();
        before.thread_set_mask().unwrap();
        let child = spawned.unwrap();
        let group = nix::unistd::getpgid(Some(child));
        let status = std::fs::read_to_string(format!("/proc/{child}/status")).unwrap();
        kill(child, Signal::SIGKILL).unwrap();
        assert_eq!(reap(child).unwrap().exit, Exit::Signal(9));
        assert_eq!(group, Ok(child));
        assert!(status.contains("SigBlk:\t0000000000000000"), "{status}");
        assert!(status.contains("SigIgn:\t0000000000000000"), "{status}");
        assert!(after.contains(Signal::SIGUSR2));
        assert!(!after.contains(Signal::SIGUSR1));
    }
}
