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
            // A panicking task drops its sender; awaiting it tells the panic.
            runtime.spawn(async move {
                let report = task(job).await;
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
/// on the worker thread that polls it (its CPU time is that thread's,
/// measured around the call, which never yields).
async fn task(job: Arc<Job>) -> TaskReport {
    let start = MonoTime::now();
    if let Job::Builtin(Workload::Sleep { duration }) = *job {
        tokio::time::sleep(duration).await;
        return TaskReport {
            result: nanos(duration),
            start,
            end: MonoTime::now(),
            usage: None,
        };
    }
    let cpu_before = CpuUsage::now_thread();
    let result = job.run();
    TaskReport {
        result,
        start,
        end: MonoTime::now(),
        usage: CpuUsage::thread_since(cpu_before),
    }
}
