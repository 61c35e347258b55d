//! The `thread` model: N OS threads started one after another, then joined
//! in order, as the notebook's `CpuThread` and `IoThread` are.

use std::sync::Arc;
use std::thread::{self, JoinHandle};

use super::{Job, ModelError, RunContext, WorkerOutcome, WorkerStatus, limits};
use crate::measure::clock::{MonoTime, thread_cpu_time};
use crate::workload::Workload;

/// What a worker thread hands back at join.
struct ThreadReport {
    result: u64,
    start: MonoTime,
    end: MonoTime,
    cpu_s: f64,
}

/// Starts `workers` threads running `workload`, then joins them all.
pub fn run(
    workload: &Workload,
    workers: usize,
    context: &RunContext,
) -> Result<Vec<WorkerOutcome>, ModelError> {
    let job = Job::in_process(workload, context, "thread")?;
    run_threads(workers, context, move |_| job.run())
}

/// Starts `workers` threads, thread `i` running `body(i)`, then joins them
/// all; the thread and gil models share it. When the OS refuses a thread,
/// the started ones are joined and the refusal names the limit.
pub(crate) fn run_threads(
    workers: usize,
    context: &RunContext,
    body: impl Fn(usize) -> u64 + Send + Sync + 'static,
) -> Result<Vec<WorkerOutcome>, ModelError> {
    let body = Arc::new(body);
    let mut handles: Vec<JoinHandle<ThreadReport>> = Vec::with_capacity(workers);
    for index in 0..workers {
        let body = Arc::clone(&body);
        let started = thread::Builder::new().spawn(move || {
            let cpu_before = thread_cpu_time();
            let start = MonoTime::now();
            let result = body(index);
            let end = MonoTime::now();
            let cpu_s = (thread_cpu_time() - cpu_before).as_secs_f64();
            ThreadReport {
                result,
                start,
                end,
                cpu_s,
            }
        });
        match started {
            Ok(handle) => handles.push(handle),
            Err(cause) => {
                // Name the limit while the started threads still count,
                // then wait for them (threads cannot be killed) so none
                // outlives this run.
                let limit = limits::explain(&cause);
                join_all(handles, context);
                return Err(ModelError::Refused {
                    what: "thread",
                    index,
                    workers,
                    cause,
                    limit,
                });
            }
        }
    }
    Ok(join_all(handles, context))
}

fn join_all(handles: Vec<JoinHandle<ThreadReport>>, context: &RunContext) -> Vec<WorkerOutcome> {
    handles
        .into_iter()
        .enumerate()
        .map(|(worker, handle)| match handle.join() {
            Ok(report) => WorkerOutcome {
                worker,
                start_s: Some(report.start.seconds_since(context.t0)),
                end_s: Some(report.end.seconds_since(context.t0)),
                cpu_s: Some(report.cpu_s),
                status: WorkerStatus::Finished {
                    result: report.result,
                },
            },
            Err(payload) => WorkerOutcome {
                worker,
                start_s: None,
                end_s: None,
                cpu_s: None,
                status: WorkerStatus::Panicked {
                    message: panic_message(payload.as_ref()),
                },
            },
        })
        .collect()
}

/// The text of a panic, as `panic!` formatted it.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        text.to_string()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "a panic with a non-text payload".to_string()
    }
}
