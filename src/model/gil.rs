//! The `gil` model: N OS threads behind one global lock that behaves like
//! CPython's global interpreter lock (the "new GIL" of CPython 3.2+,
//! `Python/ceval_gil.h`):
//!
//! - a worker holds the lock while it computes;
//! - a worker that wants the lock waits at most one switch interval, then
//!   asks the holder to drop it (`gil_drop_request`);
//! - the holder checks for that request between small slices of work (as
//!   the interpreter checks its "eval breaker" between bytecodes), drops
//!   the lock, and waits until another worker has taken it before asking
//!   again (CPython's forced switching), so the lock really changes hands;
//! - a sleeping worker releases the lock for the whole sleep, as
//!   `time.sleep` does.
//!
//! So N computing workers take N times as long as one, whatever the number
//! of CPUs, while N sleeping workers overlap: the notebook's Python result,
//! in Rust. A closure workload holds the lock for its whole call, like C
//! code that does not release the GIL.
//!
//! No crate offers a GIL; this is the few lines of it paralab needs.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use super::{
    DEFAULT_SWITCH_INTERVAL, Job, Model, ModelError, RunContext, RunOutput, Runner, WorkerOutcome,
    thread,
};
use crate::workload::{Workload, WorkloadKind, cpu_step, nanos};

/// Iterations of the cpu loop between two checks for a drop request:
/// a few microseconds, far below any sensible switch interval.
const SLICE: u64 = 1024;

/// The `gil` model.
pub(crate) struct GilThreads;

impl Runner for GilThreads {
    fn run(
        &self,
        model: Model,
        workload: &Workload,
        workers: usize,
        context: &RunContext,
    ) -> Result<RunOutput, ModelError> {
        let job = Job::in_process(workload, context, model)?;
        let switch_interval = model.switch_interval().unwrap_or(DEFAULT_SWITCH_INTERVAL);
        run(job, workers, switch_interval, context).map(RunOutput::timed_by_caller)
    }

    fn note(&self, model: Model, workload: WorkloadKind, _cpus: usize) -> Option<String> {
        let ms = model.switch_interval()?.as_secs_f64() * 1e3;
        Some(match workload {
            WorkloadKind::Sleep => format!(
                " [a sleeping worker releases the global lock, as Python's time.sleep does (switch interval {ms} ms)]"
            ),
            _ => format!(
                " [one global lock, handed over every {ms} ms: one worker computes at a time, as CPython's threads do]"
            ),
        })
    }
}

/// Starts `workers` threads that share one [`Gil`] with the given switch
/// interval, and joins them.
fn run(
    job: Job,
    workers: usize,
    switch_interval: Duration,
    context: &RunContext,
) -> Result<Vec<WorkerOutcome>, ModelError> {
    let gil = Arc::new(Gil::new(switch_interval));
    thread::run_threads(workers, context, move |_| {
        gil.acquire();
        let result = match &job {
            Job::Builtin(Workload::Cpu { iters }) => cpu_under(&gil, *iters),
            Job::Builtin(Workload::Sleep { duration }) => {
                gil.release();
                std::thread::sleep(*duration);
                gil.acquire();
                nanos(*duration)
            }
            other => other.run(),
        };
        gil.release();
        result
    })
}

/// The notebook's `cpu_func(1, iters)`, giving the lock away whenever
/// another worker has waited a switch interval for it. Same result as
/// [`crate::workload::cpu_func`].
fn cpu_under(gil: &Gil, iters: u64) -> u64 {
    let iters = std::hint::black_box(iters);
    let mut result = 1;
    let mut i = 0;
    while i < iters {
        let end = iters.min(i + SLICE);
        for j in i..end {
            result = cpu_step(result, j);
        }
        i = end;
        if gil.drop_requested() {
            gil.switch();
        }
    }
    std::hint::black_box(result)
}

/// A global lock with CPython's hand-over rules.
#[derive(Debug)]
pub(crate) struct Gil {
    state: Mutex<State>,
    /// Signalled when the lock is released.
    released: Condvar,
    /// Signalled when a worker takes the lock.
    taken: Condvar,
    /// Set by a worker that waited a whole interval; read by the holder.
    drop_request: AtomicBool,
    interval: Duration,
}

#[derive(Debug, Default)]
struct State {
    held: bool,
    /// How many times the lock was taken; a waiter compares it before and
    /// after its wait to know whether the lock changed hands meanwhile.
    switches: u64,
}

impl Gil {
    /// An unheld lock handed over every `interval`.
    pub(crate) fn new(interval: Duration) -> Gil {
        Gil {
            state: Mutex::new(State::default()),
            released: Condvar::new(),
            taken: Condvar::new(),
            drop_request: AtomicBool::new(false),
            interval,
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes the lock, asking the holder to drop it after each interval in
    /// which it did not change hands.
    pub(crate) fn acquire(&self) {
        let mut state = self.state();
        while state.held {
            let seen = state.switches;
            let (guard, wait) = self
                .released
                .wait_timeout(state, self.interval)
                .unwrap_or_else(PoisonError::into_inner);
            state = guard;
            if wait.timed_out() && state.held && state.switches == seen {
                self.drop_request.store(true, Ordering::Relaxed);
            }
        }
        state.held = true;
        state.switches += 1;
        self.drop_request.store(false, Ordering::Relaxed);
        self.taken.notify_all();
    }

    /// Releases the lock.
    pub(crate) fn release(&self) {
        self.state().held = false;
        self.released.notify_one();
    }

    /// Whether a waiting worker asked the holder to drop the lock.
    #[inline]
    pub(crate) fn drop_requested(&self) -> bool {
        self.drop_request.load(Ordering::Relaxed)
    }

    /// Drops the lock, waits until another worker has taken it, then waits
    /// for it again: the holder's answer to a drop request.
    pub(crate) fn switch(&self) {
        let mut state = self.state();
        let seen = state.switches;
        state.held = false;
        self.released.notify_one();
        while state.switches == seen {
            state = self
                .taken
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
        drop(state);
        self.acquire();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sliced_loop_gives_the_notebooks_results() {
        let gil = Gil::new(Duration::from_millis(5));
        for (iters, expected) in [(0, 1), (3, 795), (1000, 9_707_240), (100_000, 5_346_240)] {
            assert_eq!(cpu_under(&gil, iters), expected);
        }
    }

    #[test]
    fn a_waiter_gets_the_lock_from_a_busy_holder() {
        let gil = Arc::new(Gil::new(Duration::from_millis(1)));
        gil.acquire();
        let waiter = {
            let gil = Arc::clone(&gil);
            std::thread::spawn(move || {
                gil.acquire();
                gil.release();
            })
        };
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while !gil.drop_requested() {
            assert!(std::time::Instant::now() < deadline, "no drop request");
            std::thread::yield_now();
        }
        gil.switch();
        gil.release();
        waiter.join().unwrap();
    }

    #[test]
    fn gil_example() {
        use crate::model::gil::Gil;
        use std::time::Duration;
        let gil = Gil::new(Duration::from_millis(5));
        gil.acquire();
        assert!(!gil.drop_requested());
        gil.release();
    }
}
