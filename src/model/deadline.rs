//! Waiting for in-process workers (threads, tasks, pool jobs) without
//! waiting forever: until they have all reported, the run's `--timeout`
//! expires, or SIGINT/SIGTERM asks paralab to stop.
//!
//! A thread cannot be killed, so a worker still running at that point is
//! left behind and reported ([`WorkerStatus::TimedOut`] with
//! `still_running`, or [`WorkerStatus::Interrupted`]); the experiment then
//! stops, and the program ends, taking the thread with it.

use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use super::{RunContext, WorkerStatus};
use crate::sys::stop::StopToken;

/// How often a waiting run looks whether a stop was requested: short
/// enough that Ctrl-C feels immediate, long enough to cost nothing.
const STOP_POLL: Duration = Duration::from_millis(50);

/// Why a run stopped waiting for its workers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stop {
    /// The run's timeout expired.
    TimedOut,
    /// SIGINT or SIGTERM asked paralab to stop.
    Interrupted(Signal),
}

impl Stop {
    /// The status of a worker that had not finished when the run stopped;
    /// `still_running` when it could not be killed (a thread or a task).
    pub(crate) fn status(self, still_running: bool) -> WorkerStatus {
        match self {
            Stop::TimedOut => WorkerStatus::TimedOut { still_running },
            Stop::Interrupted(signal) => WorkerStatus::Interrupted {
                signal: signal.as_str().to_string(),
            },
        }
    }
}

/// When the run that starts now must end, from the context's timeout.
pub(crate) fn deadline(context: &RunContext) -> Option<Instant> {
    context.timeout.map(|timeout| Instant::now() + timeout)
}

/// What [`collect`] gathered: each worker's report, if it came, and why the
/// wait ended early, if it did.
pub(crate) struct Collected<T> {
    /// Indexed by worker.
    pub reports: Vec<Option<T>>,
    /// `None` when every sender reported or was dropped (a panic).
    pub stop: Option<Stop>,
}

/// Receives `(worker, report)` pairs until every worker has reported, every
/// sender is gone (the others panicked), the deadline passes, or a stop is
/// requested. Reports naming a worker out of range are ignored.
pub(crate) fn collect<T>(
    reports: &Receiver<(usize, T)>,
    workers: usize,
    deadline: Option<Instant>,
    stop_token: &StopToken,
) -> Collected<T> {
    let mut got: Vec<Option<T>> = (0..workers).map(|_| None).collect();
    let mut missing = workers;
    let mut stop = None;
    while missing > 0 {
        if let Some(signal) = stop_token.requested() {
            stop = Some(Stop::Interrupted(signal));
            break;
        }
        let now = Instant::now();
        let slice = match deadline {
            Some(deadline) if deadline <= now => {
                stop = Some(Stop::TimedOut);
                break;
            }
            Some(deadline) => (deadline - now).min(STOP_POLL),
            None => STOP_POLL,
        };
        match reports.recv_timeout(slice) {
            Ok((worker, report)) => {
                if let Some(slot) = got.get_mut(worker)
                    && slot.is_none()
                {
                    *slot = Some(report);
                    missing -= 1;
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
    }
    Collected { reports: got, stop }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc::channel;

    #[test]
    fn every_report_is_collected_in_worker_order() {
        let (tx, rx) = channel();
        for worker in [2, 0, 1] {
            tx.send((worker, worker * 10)).unwrap();
        }
        let collected = collect(&rx, 3, None, &StopToken::new());
        assert_eq!(collected.reports, vec![Some(0), Some(10), Some(20)]);
        assert_eq!(collected.stop, None);
    }

    #[test]
    fn a_dropped_sender_ends_the_wait_without_a_stop() {
        let (tx, rx) = channel::<(usize, u32)>();
        tx.send((0, 1)).unwrap();
        drop(tx);
        let collected = collect(&rx, 2, None, &StopToken::new());
        assert_eq!(collected.reports, vec![Some(1), None]);
        assert_eq!(collected.stop, None);
    }

    #[test]
    fn the_deadline_ends_the_wait() {
        let (_tx, rx) = channel::<(usize, u32)>();
        let start = Instant::now();
        let collected = collect(
            &rx,
            1,
            Some(start + Duration::from_millis(30)),
            &StopToken::new(),
        );
        assert_eq!(collected.stop, Some(Stop::TimedOut));
        let waited = start.elapsed();
        assert!(waited >= Duration::from_millis(30), "{waited:?}");
        assert!(waited < Duration::from_secs(2), "{waited:?}");
    }
}
