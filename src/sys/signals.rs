//! Stop signals (Ctrl-C, SIGTERM, a closed terminal's SIGHUP, SIGQUIT,
//! SIGUSR1/2, SIGALRM, SIGPIPE): stop cleanly, keep what finished, leave
//! no child and no temporary file.
//!
//! [`install`] blocks the [`stop_signals`] in the calling thread (call it
//! first thing in `main`, before any other thread exists, so every thread
//! inherits the mask) and starts one thread that waits for them with
//! `sigwait`. No signal handler runs, so no code has to be
//! async-signal-safe, and no `unsafe` is needed.
//!
//! SIGPIPE is one of them as a signal sent to paralab (`kill -PIPE`): a
//! write of paralab's own to a closed pipe raises it for the writing
//! thread only, where it stays blocked and pending, so that write fails
//! with `EPIPE` and its caller decides.
//!
//! What a signal does depends on whether the program is inside a
//! [`Graceful`] section (`paralab bench` is, while it runs and writes):
//!
//! - Inside one, the first signal records itself ([`requested`]) and sends
//!   SIGTERM to every registered worker process group; [`GRACE`] later the
//!   groups still registered get SIGKILL. The running run ends, the
//!   experiment starts no more runs, and the caller reports and saves what
//!   finished, then exits with [`exit_code`].
//! - A second signal, or a first one outside a graceful section, kills
//!   every worker group and every child process with SIGKILL, reaps them
//!   all, removes the temporary files and directories registered with
//!   [`RemoveOnStop`] (no destructor runs on that exit), and exits at once
//!   with 128 + the signal number.
//!
//! Worker processes live in their own process groups ([`WorkerGroup`]), so
//! a Ctrl-C at the terminal reaches only paralab, which decides what
//! happens to them, and a `--cmd` program's own children die with it.
//! Children inherit the blocked mask and ignored signals: every child
//! paralab starts empties its mask and takes back the default disposition
//! of every signal before it runs anything (see [`super::fork::become_worker`]
//! and [`super::fork::start_as_worker`]).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use nix::sys::signal::{SigSet, Signal, kill, killpg};
use nix::unistd::Pid;

use super::stop::StopToken;
use super::{procfs, wait};

/// How long workers get between the SIGTERM of a first signal and SIGKILL.
pub(crate) const GRACE: Duration = Duration::from_secs(2);

/// The token the signal thread sets: paralab's own decision to stop.
static PROCESS_STOP: OnceLock<StopToken> = OnceLock::new();

/// The stop token that SIGINT and SIGTERM set, for an experiment run by
/// the `paralab` program.
pub(crate) fn stop_token() -> StopToken {
    PROCESS_STOP.get_or_init(StopToken::new).clone()
}

/// Whether [`install`] ran.
static INSTALLED: AtomicBool = AtomicBool::new(false);

/// What tells the user that a signal is ending the program at once
/// (`again`: it is the second signal). Set by [`install`]: this layer
/// prints nothing itself.
static ON_STOP_NOW: OnceLock<fn(signal: Signal, again: bool)> = OnceLock::new();

/// How many [`Graceful`] sections are open.
static GRACEFUL: AtomicUsize = AtomicUsize::new(0);

/// Process groups of running workers.
static GROUPS: Mutex<Vec<Pid>> = Mutex::new(Vec::new());

/// Temporary files and directories to remove when a signal ends paralab
/// at once.
static TEMPORARIES: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// The signals paralab stops on: each asks for what SIGINT asks (a
/// closed terminal's SIGHUP, a `timeout`'s or a batch system's SIGTERM,
/// SIGALRM or SIGUSR1, a keyboard's SIGQUIT, …), and none of them, by its
/// default action, would let paralab reap its children or keep what
/// finished.
pub(crate) const STOP_SIGNALS: [Signal; 8] = [
    Signal::SIGINT,
    Signal::SIGTERM,
    Signal::SIGHUP,
    Signal::SIGQUIT,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
    Signal::SIGALRM,
    Signal::SIGPIPE,
];

/// [`STOP_SIGNALS`] as a set.
pub(crate) fn stop_signals() -> SigSet {
    let mut set = SigSet::empty();
    for signal in STOP_SIGNALS {
        set.add(signal);
    }
    set
}

/// Blocks the stop signals here and starts the thread that waits for
/// them; `on_stop_now` tells the user when a signal ends the program at
/// once, just before it exits. Call once, first thing in `main`; later
/// calls do nothing. Also ignores SIGXFSZ (see
/// [`super::limits::ignore_file_size_signal`]). When the OS refuses the
/// thread, the signals are left unblocked (each ends paralab by its
/// default action) and the error names the limit.
pub(crate) fn install(on_stop_now: fn(signal: Signal, again: bool)) -> std::io::Result<()> {
    if INSTALLED.swap(true, Ordering::SeqCst) {
        return Ok(());
    }
    super::limits::ignore_file_size_signal();
    let _ = ON_STOP_NOW.set(on_stop_now);
    let signals = stop_signals();
    signals.thread_block()?;
    let started = std::thread::Builder::new()
        .name("paralab-signals".into())
        .spawn(move || {
            loop {
                let Ok(signal) = signals.wait() else { continue };
                let first = stop_token().request(signal);
                if first && GRACEFUL.load(Ordering::SeqCst) > 0 {
                    signal_groups(Signal::SIGTERM);
                    let _ = std::thread::Builder::new()
                        .name("paralab-grace".into())
                        .spawn(|| {
                            std::thread::sleep(GRACE);
                            signal_groups(Signal::SIGKILL);
                        });
                } else {
                    stop_now(signal, first);
                }
            }
        });
    if let Err(cause) = started {
        // No thread waits for them: blocked, they would be ignored, and
        // a Ctrl-C would not even end paralab.
        let limit = super::limits::explain(&cause);
        let _ = signals.thread_unblock();
        INSTALLED.store(false, Ordering::SeqCst);
        return Err(std::io::Error::new(
            cause.kind(),
            format!("could not start the thread that waits for signals: {cause}; {limit}"),
        ));
    }
    Ok(())
}

/// Whether [`stop_now`] is ending the program.
static STOPPING_NOW: AtomicBool = AtomicBool::new(false);

/// Kills every worker group and child with SIGKILL, reaps them, exits.
fn stop_now(signal: Signal, first: bool) -> ! {
    STOPPING_NOW.store(true, Ordering::SeqCst);
    signal_groups(Signal::SIGKILL);
    kill_children();
    wait::reap_all();
    // A `--cmd` program's own children stay in its group after it is reaped.
    signal_groups(Signal::SIGKILL);
    remove_temporaries();
    if let Some(tell) = ON_STOP_NOW.get() {
        tell(signal, !first);
    }
    std::process::exit(exit_code(signal));
}

/// Whether [`install`] ran: only then can a signal stop a run gracefully.
pub(crate) fn installed() -> bool {
    INSTALLED.load(Ordering::SeqCst)
}

/// The signal that asked paralab to stop, if one did.
pub(crate) fn requested() -> Option<Signal> {
    stop_token().requested()
}

/// The exit code for a stop asked by `signal`, as shells report a program
/// that signal ended: 128 + its number (130 for SIGINT, 129 for SIGHUP).
pub(crate) fn exit_code(signal: Signal) -> i32 {
    128 + signal as i32
}

/// Blocks for good when a second signal is ending the program at once,
/// so that the caller does not race it to report and exit while workers
/// are still being killed and reaped; returns at once otherwise.
pub(crate) fn wait_if_stopping_now() {
    while STOPPING_NOW.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A section during which a first SIGINT or SIGTERM asks the work to stop
/// (see [`requested`]) instead of ending the program at once.
pub(crate) struct Graceful(());

impl Graceful {
    /// Opens a graceful section; it closes when dropped.
    pub(crate) fn begin() -> Graceful {
        GRACEFUL.fetch_add(1, Ordering::SeqCst);
        Graceful(())
    }
}

impl Drop for Graceful {
    fn drop(&mut self) {
        wait_if_stopping_now();
        GRACEFUL.fetch_sub(1, Ordering::SeqCst);
    }
}

fn groups() -> std::sync::MutexGuard<'static, Vec<Pid>> {
    GROUPS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn signal_groups(signal: Signal) {
    for &group in groups().iter() {
        let _ = killpg(group, signal);
    }
}

/// SIGKILL to every child of this process, registered or not (a lesson's
/// child, the far end of a pipe), found in `/proc` by parent pid.
fn kill_children() {
    for child in children() {
        let _ = kill(child, Signal::SIGKILL);
    }
}

/// The processes whose parent is this process, from `/proc/*/stat`.
pub(crate) fn children() -> Vec<Pid> {
    procfs::children_of(std::process::id())
        .into_iter()
        .map(|pid| Pid::from_raw(pid as i32))
        .collect()
}

/// Removes every registered temporary path; run only when ending at once.
fn remove_temporaries() {
    let paths = std::mem::take(
        &mut *TEMPORARIES
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()),
    );
    for path in paths {
        let removed = match std::fs::symlink_metadata(&path) {
            Ok(meta) if meta.is_dir() => std::fs::remove_dir_all(&path),
            Ok(_) => std::fs::remove_file(&path),
            Err(error) => Err(error),
        };
        drop(removed);
    }
}

/// A temporary file or directory that a signal ending paralab at once
/// (a second Ctrl-C, which runs no destructor) removes; unregistered when
/// dropped. Register it right after creating it, and drop this guard
/// once the file is renamed into place or removed (a removal of the old
/// temporary name after the rename finds nothing there).
///
/// ```ignore
/// let dir = tempfile::tempdir()?;
/// let _remove_on_stop = RemoveOnStop::register(dir.path());
/// ```
pub(crate) struct RemoveOnStop(PathBuf);

impl RemoveOnStop {
    /// Registers `path` for removal if a signal ends paralab at once.
    pub(crate) fn register(path: &Path) -> RemoveOnStop {
        TEMPORARIES
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(path.to_path_buf());
        RemoveOnStop(path.to_path_buf())
    }
}

impl Drop for RemoveOnStop {
    fn drop(&mut self) {
        let mut paths = TEMPORARIES
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(at) = paths.iter().position(|p| *p == self.0) {
            paths.swap_remove(at);
        }
    }
}

/// A registered process group of workers; unregistered when dropped.
/// A group registered after a stop was requested is killed at once.
pub(crate) struct WorkerGroup(Pid);

impl WorkerGroup {
    /// Registers `group` so that a stop signals it.
    pub(crate) fn register(group: Pid) -> WorkerGroup {
        groups().push(group);
        if requested().is_some() {
            let _ = killpg(group, Signal::SIGKILL);
        }
        WorkerGroup(group)
    }

    /// Sends `signal` to every process of the group.
    pub(crate) fn signal(&self, signal: Signal) {
        let _ = killpg(self.0, signal);
    }
}

impl Drop for WorkerGroup {
    fn drop(&mut self) {
        groups().retain(|&g| g != self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exit_codes_are_the_shells() {
        assert_eq!(exit_code(Signal::SIGINT), 130);
        assert_eq!(exit_code(Signal::SIGTERM), 143);
        assert_eq!(exit_code(Signal::SIGHUP), 129);
        assert_eq!(exit_code(Signal::SIGPIPE), 141);
        assert!(STOP_SIGNALS.iter().all(|&s| stop_signals().contains(s)));
    }

    #[test]
    fn registered_temporaries_are_removed_and_dropped_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        let kept = dir.path().join("kept");
        let gone = dir.path().join("gone");
        std::fs::write(&kept, "x").unwrap();
        std::fs::create_dir(&gone).unwrap();
        std::fs::write(gone.join("inside"), "x").unwrap();
        let keep = RemoveOnStop::register(&kept);
        let _remove = RemoveOnStop::register(&gone);
        drop(keep);
        remove_temporaries();
        assert!(kept.exists());
        assert!(!gone.exists());
    }

    #[test]
    fn a_child_is_found_by_its_parent_pid() {
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .unwrap();
        let pid = Pid::from_raw(child.id() as i32);
        let found = children().contains(&pid);
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(found);
        assert!(!children().contains(&pid));
    }

    #[test]
    fn a_registered_group_is_unregistered_when_dropped() {
        let group = WorkerGroup::register(Pid::from_raw(999_999_999));
        assert!(groups().contains(&group.0));
        drop(group);
        assert!(!groups().contains(&Pid::from_raw(999_999_999)));
    }

    #[test]
    fn graceful_example() {
        let section = crate::sys::signals::Graceful::begin();
        // … run, then report and save what finished …
        drop(section);
    }
}
