//! The `async` model: N tokio tasks on a multi-threaded runtime with one
//! worker thread per logical CPU.
//!
//! A sleeping task waits on the runtime's timer and holds no thread, so
//! 100,000 of them cost a few hundred bytes each. A computing task holds the
//! worker thread that polls it until it returns: N cpu tasks therefore run
//! at most CPUs at a time, like a pool, and while they run no other task on
//! that worker makes progress. That is why blocking work in async code
//! belongs on `spawn_blocking` or a pool.

use std::sync::{Arc, mpsc};

use super::thread::panic_message;
use super::{
    Job, Model, ModelError, RunContext, RunOutput, Runner, WorkerOutcome, WorkerStatus, deadline,
};
use crate::machine::logical_cpus;
use crate::measure::clock::MonoTime;
use crate::measure::cpu::CpuUsage;
use crate::sys::limits;
use crate::workload::{Workload, WorkloadKind, nanos};
use nix::time::{ClockId, clock_gettime};

/// What a task hands back when awaited.
struct TaskReport {
    result: u64,
    start: MonoTime,
    end: MonoTime,
    usage: Option<CpuUsage>,
}

/// The `async` model.
pub(crate) struct Tasks;

impl Runner for Tasks {
    fn run(
        &self,
        model: Model,
        workload: &Workload,
        workers: usize,
        context: &RunContext,
    ) -> Result<RunOutput, ModelError> {
        let job = Arc::new(Job::in_process(workload, context, model)?);
        run(job, workers, context).map(RunOutput::timed_by_caller)
    }

    fn note(&self, _model: Model, workload: WorkloadKind, cpus: usize) -> Option<String> {
        Some(match workload {
            WorkloadKind::Sleep => {
                " [the sleeps wait on the runtime's timer and hold no thread]".to_string()
            }
            _ => format!(
                " [cpu tasks run on the runtime's {cpus} worker threads: each holds its thread until it returns, so at most {cpus} run at once and other tasks on that thread wait]"
            ),
        })
    }
}

/// Starts a runtime, spawns `workers` tasks running `job`, awaits them all
/// in order, and shuts the runtime down.
fn run(
    job: Arc<Job>,
    workers: usize,
    context: &RunContext,
) -> Result<Vec<WorkerOutcome>, ModelError> {
    let threads = logical_cpus();
    // tokio's build panics (and may hang) when the OS refuses a worker
    // thread: probe first.
    crate::sys::threads::can_start(threads).map_err(|refusal| ModelError::Resource {
        doing: format!("start the tokio runtime's {threads} worker threads"),
        cause: refusal.cause,
        limit: refusal.limit,
    })?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_time()
        .build()
        .map_err(|cause| ModelError::Resource {
            doing: format!("start the tokio runtime's {threads} worker threads"),
            limit: limits::explain(&cause),
            cause,
        })?;
    let deadline = deadline::deadline(context);
    let (reports, collector) = mpsc::channel::<(usize, TaskReport)>();
    let handles: Vec<_> = (0..workers)
        .map(|worker| {
            let job = Arc::clone(&job);
            let reports = reports.clone();
            let counters = if matches!(*job, Job::Builtin(Workload::Sleep { .. })) {
                Counters::ClockOnly
            } else {
                Counters::All
            };
            // A panicking task drops its sender; awaiting it tells the panic.
            runtime.spawn(async move {
                let (mut report, usage) = metered(task(job), counters).await;
                report.usage = usage;
                let _ = reports.send((worker, report));
            })
        })
        .collect();
    drop(reports);
    // Waited for from this thread, not on the runtime's timer, which the
    // runtime's threads drive only when a cpu task leaves one free.
    let collected = deadline::collect(&collector, workers, deadline, &context.stop);
    let mut outcomes = Vec::with_capacity(workers);
    for ((worker, report), handle) in collected.reports.into_iter().enumerate().zip(handles) {
        let failed = |status| WorkerOutcome::failed(worker, status);
        outcomes.push(match report {
            Some(report) => WorkerOutcome::ended(
                worker,
                WorkerStatus::Finished {
                    result: report.result,
                },
            )
            .with_times(
                Some(report.start.seconds_since(context.t0)),
                Some(report.end.seconds_since(context.t0)),
            )
            .with_usage(report.usage),
            None => match collected.stop {
                Some(stop) if !handle.is_finished() => failed(stop.status(true)),
                _ => match runtime.block_on(handle) {
                    Ok(()) => failed(WorkerStatus::Lost {
                        reason: "the task ended without a report".into(),
                    }),
                    Err(error) if error.is_panic() => failed(WorkerStatus::Panicked {
                        message: panic_message(error.into_panic().as_ref()),
                    }),
                    Err(error) => failed(WorkerStatus::Lost {
                        reason: format!("the task was cancelled: {error}"),
                    }),
                },
            },
        });
    }
    if collected.stop.is_some() {
        // Dropping the runtime would wait for tasks that may never end.
        runtime.shutdown_background();
    } else {
        drop(runtime);
    }
    Ok(outcomes)
}

/// One worker: a sleep on the runtime's timer, or the job run to the end
/// on the worker thread that polls it. Its CPU time is counted by
/// [`metered`], across every poll.
async fn task(job: Arc<Job>) -> TaskReport {
    let start = MonoTime::now();
    let result = if let Job::Builtin(Workload::Sleep { duration }) = *job {
        tokio::time::sleep(duration).await;
        nanos(duration)
    } else {
        job.run()
    };
    TaskReport {
        result,
        start,
        end: MonoTime::now(),
        usage: None,
    }
}

/// Runs `future` to its end, adding up the CPU time and switches of the
/// thread that polls it during each poll. A task may be polled on
/// several of the runtime's threads and waits between polls on none, so
/// the thread's clock around the whole task would count other tasks' work
/// (or, around a sleep, nothing of its own): each poll is measured apart.
/// `None` when the kernel does not give a thread's counters.
async fn metered<F: Future>(future: F, read: Counters) -> (F::Output, Option<CpuUsage>) {
    let mut future = std::pin::pin!(future);
    let mut counters = Some(CpuUsage::default());
    let mut clock = Some(0.0);
    let output = std::future::poll_fn(|context| {
        let before = (read == Counters::All).then(CpuUsage::now_thread).flatten();
        let clock_before = thread_clock_s();
        let poll = future.as_mut().poll(context);
        counters = match read {
            Counters::All => counters
                .zip(CpuUsage::thread_since(before))
                .map(|(sum, poll)| sum + poll),
            // A poll that returned Pending is the task giving up its
            // thread to wait: its voluntary switch, at the task's level.
            Counters::ClockOnly => counters.map(|mut sum| {
                sum.voluntary_switches += u64::from(poll.is_pending());
                sum
            }),
        };
        clock = clock
            .zip(clock_before.zip(thread_clock_s()))
            .map(|(sum, (before, after))| sum + (after - before).max(0.0));
        poll
    })
    .await;
    (output, counters.map(|counters| timed_by(counters, clock)))
}

/// What [`metered`] reads around each poll.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Counters {
    /// The thread's CPU clock and its `getrusage` counters (user and
    /// system split, switches): for jobs that compute in one long poll.
    All,
    /// The CPU clock alone, half the system calls: for sleeps, whose polls
    /// last microseconds (too short for `getrusage`'s split, which moves
    /// at clock ticks) and whose number (100,000 tasks, two polls each)
    /// would make the counting itself lengthen the run it times.
    ClockOnly,
}

/// The thread's CPU clock, in seconds, exact to the nanosecond.
fn thread_clock_s() -> Option<f64> {
    let now = clock_gettime(ClockId::CLOCK_THREAD_CPUTIME_ID).ok()?;
    Some(now.tv_sec() as f64 + now.tv_nsec() as f64 / 1e9)
}

/// `counters` with their CPU time set to `clock`'s, split between user
/// and system as the counters split it. The kernel brings a running
/// thread's `getrusage` time up to date only at a clock tick or a switch,
/// so a poll of a few microseconds reads as nothing, or as the tick's
/// worth of whatever ran before it; the thread's CPU clock is exact. With
/// no split to go by (every poll read nothing), the time is counted as
/// user time: a poll runs the task's and the runtime's own code.
fn timed_by(counters: CpuUsage, clock: Option<f64>) -> CpuUsage {
    let Some(clock) = clock else {
        return counters;
    };
    let counted = counters.cpu_s();
    let (user_s, system_s) = if counted > 0.0 {
        (
            clock * counters.user_s / counted,
            clock * counters.system_s / counted,
        )
    } else {
        (clock, 0.0)
    };
    CpuUsage {
        user_s,
        system_s,
        ..counters
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;

    fn cpu_of(workload: Workload, workers: usize) -> (Vec<f64>, f64) {
        let context = RunContext::new("paralab");
        let start = Instant::now();
        let output = Tasks
            .run(Model::ASYNC, &workload, workers, &context)
            .unwrap();
        let wall = start.elapsed().as_secs_f64();
        let cpu = output
            .outcomes
            .iter()
            .map(|o| o.cpu_s.expect("every task has its CPU time"))
            .collect();
        (cpu, wall)
    }

    #[test]
    fn sleeping_tasks_use_a_little_cpu_time_of_their_own() {
        let duration = Duration::from_millis(100);
        let (cpu, wall) = cpu_of(Workload::Sleep { duration }, 4);
        let total: f64 = cpu.iter().sum();
        assert!(total > 0.0, "{cpu:?}");
        // Arming a timer and waking up: far less than the waits, however
        // busy the machine is.
        assert!(
            total < 0.05 * wall.max(duration.as_secs_f64()),
            "{cpu:?} in {wall} s"
        );
    }

    #[test]
    fn computing_tasks_keep_their_cpu_time() {
        let (cpu, wall) = cpu_of(Workload::Cpu { iters: 20_000_000 }, 2);
        let total: f64 = cpu.iter().sum();
        // Each task computes for its whole run, on one of ≤ 2 threads at once.
        assert!(
            total > 0.0 && total <= wall * logical_cpus() as f64 * 1.1,
            "{cpu:?} in {wall} s"
        );
        assert!(cpu.iter().all(|&c| c > 0.02), "{cpu:?}");
    }

    #[test]
    fn the_exact_clock_sets_the_time_and_the_counters_its_split() {
        let counters = CpuUsage {
            user_s: 0.003,
            system_s: 0.001,
            voluntary_switches: 2,
            involuntary_switches: 1,
        };
        let timed = timed_by(counters, Some(0.0002));
        assert!((timed.user_s - 0.00015).abs() < 1e-12, "{timed:?}");
        assert!((timed.system_s - 0.00005).abs() < 1e-12, "{timed:?}");
        assert_eq!(timed.voluntary_switches, 2);
        let nothing_counted = timed_by(CpuUsage::default(), Some(0.0002));
        assert_eq!(
            (nothing_counted.user_s, nothing_counted.system_s),
            (0.0002, 0.0)
        );
        assert_eq!(timed_by(counters, None), counters);
    }
}
