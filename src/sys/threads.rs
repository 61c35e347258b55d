//! Threads paralab starts for itself (a progress ticker, probes before a
//! runtime or pool starts its own), started so that a refusal of the OS
//! is an error to report, never a panic: `std::thread::spawn` and the
//! libraries built on it (indicatif's steady tick, tokio's runtime) panic
//! when the OS refuses a thread.

use std::io;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, PoisonError, RwLock};
use std::thread::{Builder, JoinHandle};
use std::time::{Duration, Instant};

use super::limits;

/// A thread that calls a function at a fixed interval until dropped; a
/// fallible replacement for indicatif's `enable_steady_tick`.
///
/// ```ignore
/// let bar = self.bar.clone();
/// self.ticker = Ticker::start(Duration::from_millis(120), move || bar.tick()).ok();
/// ```
// For cli/progress.rs, whose owner replaces `enable_steady_tick` with it.
#[allow(dead_code)]
pub(crate) struct Ticker {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

#[allow(dead_code)]
impl Ticker {
    /// Starts calling `tick` every `interval`; the error is the OS's
    /// refusal to start the thread (the caller may go on without ticks).
    pub(crate) fn start(
        interval: Duration,
        mut tick: impl FnMut() + Send + 'static,
    ) -> io::Result<Ticker> {
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = Builder::new()
            .name("paralab-ticker".into())
            .spawn(move || {
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(interval) {
                    tick();
                }
            })?;
        Ok(Ticker {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Why `count` more threads cannot start now: the OS's error and the
/// limit it most likely comes from, with its value (see [`limits::explain`]).
#[derive(Debug)]
pub(crate) struct Refusal {
    /// The OS's error, or a forecast's reason for a limit that would abort.
    pub cause: io::Error,
    /// One line naming the limit and its value.
    pub limit: String,
}

/// Checks that `count` more threads can start now, for a library that
/// panics when the OS refuses one of its threads (tokio's runtime): first
/// against the limits whose overrun aborts a Rust thread instead of
/// failing it ([`limits::room_for_threads`]), then by starting `count`
/// threads that wait until all are up, and ending them. Returns once
/// they are gone (their slots counted free again), so the caller's
/// threads find the room the probe found; another program of the same
/// user can still take it meanwhile.
pub(crate) fn can_start(count: usize) -> Result<(), Refusal> {
    if let Err(limit) = limits::room_for_threads(count) {
        return Err(Refusal {
            cause: io::Error::from_raw_os_error(nix::libc::EAGAIN),
            limit,
        });
    }
    let before = own_threads();
    // Held for writing until every probe is started; each probe waits for
    // a read.
    let gate = Arc::new(RwLock::new(()));
    let closed = gate.write().unwrap_or_else(PoisonError::into_inner);
    let mut probes = Vec::with_capacity(count);
    let mut refused = None;
    for _ in 0..count {
        let gate = Arc::clone(&gate);
        let probe = Builder::new()
            .name("paralab-probe".into())
            .stack_size(64 * 1024)
            .spawn(move || {
                drop(gate.read());
            });
        match probe {
            Ok(probe) => probes.push(probe),
            Err(cause) => {
                // Named while the probes still hold their slots.
                let limit = limits::explain(&cause);
                refused = Some((cause, limit));
                break;
            }
        }
    }
    drop(closed);
    for probe in probes {
        let _ = probe.join();
    }
    wait_for_threads_to_go(before);
    match refused {
        None => Ok(()),
        Some((cause, limit)) => Err(Refusal { cause, limit }),
    }
}

/// Threads of this process now, from `/proc/self/status`.
fn own_threads() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    super::procfs::field(&status, "Threads:").ok()
}

/// A joined thread still holds its slot (RLIMIT_NPROC, threads-max) until
/// the kernel releases it, just after the join returns: waits (at most a
/// second) until this process is back to `before` threads.
fn wait_for_threads_to_go(before: Option<u64>) {
    let Some(before) = before else { return };
    let deadline = Instant::now() + Duration::from_secs(1);
    while own_threads().is_some_and(|now| now > before) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn a_ticker_ticks_until_dropped() {
        let ticks = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&ticks);
        let ticker = Ticker::start(Duration::from_millis(5), move || {
            counted.fetch_add(1, Ordering::SeqCst);
        })
        .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while ticks.load(Ordering::SeqCst) < 2 {
            assert!(Instant::now() < deadline, "no tick");
            std::thread::sleep(Duration::from_millis(5));
        }
        drop(ticker);
        let after = ticks.load(Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(30));
        assert_eq!(ticks.load(Ordering::SeqCst), after, "ticked after drop");
    }

    #[test]
    fn a_few_threads_can_start() {
        can_start(3).unwrap();
    }

    #[test]
    fn more_threads_than_pids_are_refused_before_any_starts() {
        let refusal = can_start(10_000_000).unwrap_err();
        assert_eq!(refusal.cause.raw_os_error(), Some(nix::libc::EAGAIN));
        assert!(refusal.limit.contains(" = "), "{}", refusal.limit);
    }
}
