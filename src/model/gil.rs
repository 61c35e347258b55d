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

use super::outcome::MAX_HELD_SLICES;
use super::{
    DEFAULT_SWITCH_INTERVAL, Job, Model, ModelError, RunContext, RunOutput, Runner, WorkerOutcome,
    thread,
};
use crate::measure::clock::MonoTime;
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
/// interval, and joins them; each outcome says when its worker held the
/// lock, so a timeline shows the turns.
fn run(
    job: Job,
    workers: usize,
    switch_interval: Duration,
    context: &RunContext,
) -> Result<Vec<WorkerOutcome>, ModelError> {
    let gil = Arc::new(Gil::new(switch_interval));
    let logs: Arc<Mutex<Vec<Held>>> = Arc::new(Mutex::new(vec![Held::default(); workers]));
    let kept = Arc::clone(&logs);
    let outcomes = thread::run_threads(workers, context, move |index| {
        let mut held = Held::default();
        held.acquire(&gil);
        let result = match &job {
            Job::Builtin(Workload::Cpu { iters }) => cpu_under(&gil, *iters, &mut held),
            Job::Builtin(Workload::Sleep { duration }) => {
                held.release(&gil);
                std::thread::sleep(*duration);
                held.acquire(&gil);
                nanos(*duration)
            }
            other => other.run(),
        };
        held.release(&gil);
        kept.lock().unwrap_or_else(PoisonError::into_inner)[index] = held;
        result
    })?;
    let logs = std::mem::take(&mut *logs.lock().unwrap_or_else(PoisonError::into_inner));
    Ok(outcomes
        .into_iter()
        .zip(logs)
        .map(|(outcome, held)| outcome.with_held(held.seconds_since(context.t0)))
        .collect())
}

/// When one worker held the lock: the lock's own acquire and release,
/// noting the time of each (two clock reads a switch interval).
#[derive(Clone, Debug, Default)]
struct Held {
    spans: Vec<[MonoTime; 2]>,
    since: Option<MonoTime>,
}

impl Held {
    fn acquire(&mut self, gil: &Gil) {
        gil.acquire();
        self.since = Some(MonoTime::now());
    }

    fn release(&mut self, gil: &Gil) {
        self.note_end();
        gil.release();
    }

    /// [`Gil::switch`], noted: the span ends before the lock is dropped
    /// and the next begins once it is taken again.
    fn switch(&mut self, gil: &Gil) {
        self.note_end();
        gil.switch();
        self.since = Some(MonoTime::now());
    }

    fn note_end(&mut self) {
        if let Some(since) = self.since.take()
            && self.spans.len() < MAX_HELD_SLICES
        {
            self.spans.push([since, MonoTime::now()]);
        }
    }

    fn seconds_since(&self, t0: MonoTime) -> Vec<[f64; 2]> {
        self.spans
            .iter()
            .map(|[from, to]| [from.seconds_since(t0), to.seconds_since(t0)])
            .collect()
    }
}

/// The notebook's `cpu_func(1, iters)`, giving the lock away whenever
/// another worker has waited a switch interval for it. Same result as
/// [`crate::workload::cpu_func`].
fn cpu_under(gil: &Gil, iters: u64, held: &mut Held) -> u64 {
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
            held.switch(gil);
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
            assert_eq!(cpu_under(&gil, iters, &mut Held::default()), expected);
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
    fn the_outcomes_say_when_each_worker_held_the_lock_never_two_at_once() {
        use crate::{Experiment, Plan};
        let plan = Plan {
            workloads: vec![Workload::Cpu { iters: 20_000_000 }],
            models: vec![Model::GIL],
            workers: vec![2],
            runs: 1,
            warmup: 0,
        };
        let results = Experiment::new(plan).run();
        let run = &results.measurements[0];
        assert!(run.succeeded(), "{run:?}");
        let mut spans: Vec<[f64; 2]> = Vec::new();
        for outcome in &run.outcomes {
            let (start, end) = (outcome.start_s.unwrap(), outcome.end_s.unwrap());
            assert!(!outcome.held_s.is_empty());
            for &[from, to] in &outcome.held_s {
                assert!(start <= from && from <= to && to <= end, "{outcome:?}");
            }
            spans.extend(&outcome.held_s);
        }
        spans.sort_by(|a, b| a[0].total_cmp(&b[0]));
        for pair in spans.windows(2) {
            assert!(pair[0][1] <= pair[1][0], "two holders at once: {pair:?}");
        }
        // The lock changed hands: the first holder did not keep it to
        // the end (each computes for tens of milliseconds, the interval
        // is 5 ms).
        assert!(run.outcomes.iter().any(|o| o.held_s.len() > 1), "{run:?}");
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
