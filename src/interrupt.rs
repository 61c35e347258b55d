//! Ctrl-C and SIGTERM: stop cleanly, keep what finished, leave no child.
//!
//! [`install`] blocks SIGINT and SIGTERM in the calling thread (call it
//! first thing in `main`, before any other thread exists, so every thread
//! inherits the mask) and starts one thread that waits for them with
//! `sigwait`. No signal handler runs, so no code has to be
//! async-signal-safe, and no `unsafe` is needed.
//!
//! - The first signal records itself ([`requested`]) and sends SIGTERM to
//!   every registered worker process group: the running run fails, the
//!   experiment starts no more runs, and the caller reports and saves what
//!   finished.
//! - A second signal sends SIGKILL to those groups, reaps every child and
//!   exits at once with 128 + the signal number.
//!
//! Worker processes live in their own process groups ([`WorkerGroup`]), so
//! a Ctrl-C at the terminal reaches only paralab, which decides what
//! happens to them, and a `--cmd` program's own children die with it.

use std::sync::Mutex;
use std::sync::atomic::{AtomicI32, Ordering};

use nix::sys::signal::{SigSet, Signal, killpg};
use nix::sys::wait::{WaitPidFlag, waitpid};
use nix::unistd::Pid;

/// The signal that asked paralab to stop, 0 for none.
static REQUESTED: AtomicI32 = AtomicI32::new(0);

/// Process groups of running workers.
static GROUPS: Mutex<Vec<Pid>> = Mutex::new(Vec::new());

/// The signals paralab stops on.
pub fn stop_signals() -> SigSet {
    let mut set = SigSet::empty();
    set.add(Signal::SIGINT);
    set.add(Signal::SIGTERM);
    set
}

/// Blocks SIGINT and SIGTERM here and starts the thread that waits for
/// them. Call once, first thing in `main`.
pub fn install() -> std::io::Result<()> {
    let signals = stop_signals();
    signals.thread_block()?;
    std::thread::Builder::new()
        .name("paralab-signals".into())
        .spawn(move || {
            loop {
                let Ok(signal) = signals.wait() else { continue };
                if REQUESTED
                    .compare_exchange(0, signal as i32, Ordering::SeqCst, Ordering::SeqCst)
                    .is_ok()
                {
                    signal_groups(Signal::SIGTERM);
                } else {
                    signal_groups(Signal::SIGKILL);
                    reap_all_children();
                    std::process::exit(128 + signal as i32);
                }
            }
        })?;
    Ok(())
}

/// The signal that asked paralab to stop, if one did.
pub fn requested() -> Option<Signal> {
    Signal::try_from(REQUESTED.load(Ordering::SeqCst)).ok()
}

/// The exit code for a stop asked by `signal`: 130 for SIGINT, 143 for SIGTERM.
pub fn exit_code(signal: Signal) -> i32 {
    128 + signal as i32
}

fn signal_groups(signal: Signal) {
    let groups = GROUPS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    for &group in groups.iter() {
        let _ = killpg(group, signal);
    }
}

fn reap_all_children() {
    while waitpid(None::<Pid>, Some(WaitPidFlag::__WALL)).is_ok() {}
}

/// A registered process group of workers; unregistered when dropped.
/// Workers started after a stop was requested are signalled at once.
pub struct WorkerGroup(Pid);

impl WorkerGroup {
    /// Registers `group` so that a stop signals it.
    pub fn register(group: Pid) -> WorkerGroup {
        GROUPS
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(group);
        if requested().is_some() {
            let _ = killpg(group, Signal::SIGTERM);
        }
        WorkerGroup(group)
    }
}

impl Drop for WorkerGroup {
    fn drop(&mut self) {
        GROUPS
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .retain(|&g| g != self.0);
    }
}
