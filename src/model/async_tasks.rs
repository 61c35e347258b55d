//! The `async` model: N tokio tasks on a multi-threaded runtime with one
//! worker thread per logical CPU.
//!
//! A sleeping task waits on the runtime's timer and holds no thread, so
//! 100,000 of them cost a few hundred bytes each. A computing task holds the
//! worker thread that polls it until it returns: N cpu tasks therefore run
//! at most CPUs at a time, like a pool, and while they run no other task on
//! that worker makes progress. That is why blocking work in async code
//! belongs on `spawn_blocking` or a pool.

use std::sync::Arc;

use super::thread::panic_message;
use super::{Job, ModelError, RunContext, WorkerOutcome, WorkerStatus, limits};
use crate::experiment::logical_cpus;
use crate::measure::clock::{MonoTime, thread_cpu_time};
use crate::workload::{Workload, nanos};

/// What a task hands back when awaited.
struct TaskReport {
    result: u64,
    start: MonoTime,
    end: MonoTime,
    cpu_s: Option<f64>,
}

/// Starts a runtime, spawns `workers` tasks running `workload`, awaits
/// them all in order, and shuts the runtime down.
pub fn run(
    workload: &Workload,
    workers: usize,
    context: &RunContext,
) -> Result<Vec<WorkerOutcome>, ModelError> {
    let job = Arc::new(Job::in_process(workload, context, "async")?);
    let threads = logical_cpus();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_time()
        .build()
        .map_err(|cause| {
            ModelError::Setup(format!(
                "could not start the tokio runtime's {threads} worker threads: {cause}; {}",
                limits::explain(&cause)
            ))
        })?;
    let outcomes = runtime.block_on(async {
        let handles: Vec<_> = (0..workers)
            .map(|_| tokio::spawn(task(Arc::clone(&job))))
            .collect();
        let mut outcomes = Vec::with_capacity(workers);
        for (worker, handle) in handles.into_iter().enumerate() {
            outcomes.push(match handle.await {
                Ok(report) => WorkerOutcome {
                    worker,
                    start_s: Some(report.start.seconds_since(context.t0)),
                    end_s: Some(report.end.seconds_since(context.t0)),
                    cpu_s: report.cpu_s,
                    status: WorkerStatus::Finished {
                        result: report.result,
                    },
                },
                Err(error) => WorkerOutcome {
                    worker,
                    start_s: None,
                    end_s: None,
                    cpu_s: None,
                    status: if error.is_panic() {
                        WorkerStatus::Panicked {
                            message: panic_message(error.into_panic().as_ref()),
                        }
                    } else {
                        WorkerStatus::Lost {
                            reason: format!("the task was cancelled: {error}"),
                        }
                    },
                },
            });
        }
        outcomes
    });
    drop(runtime);
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
            cpu_s: None,
        };
    }
    let cpu_before = thread_cpu_time();
    let result = job.run();
    TaskReport {
        result,
        start,
        end: MonoTime::now(),
        cpu_s: Some((thread_cpu_time() - cpu_before).as_secs_f64()),
    }
}
