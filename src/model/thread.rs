//! The `thread` model: N OS threads started one after another, then joined
//! in order, as the notebook's `CpuThread` and `IoThread` are.

use std::sync::{Arc, mpsc};
use std::thread::{self, JoinHandle};

use super::deadline::{self, Collected};
use super::{Job, Model, ModelError, RunContext, RunOutput, Runner, WorkerOutcome, WorkerStatus};
use crate::measure::clock::MonoTime;
use crate::measure::cpu::CpuUsage;
use crate::sys::limits;
use crate::workload::Workload;

/// What a worker thread hands back at join.
struct ThreadReport {
    result: u64,
    start: MonoTime,
    end: MonoTime,
    usage: Option<CpuUsage>,
}

/// The `thread` model.
pub(crate) struct Threads;

impl Runner for Threads {
    /// Starts `workers` threads running `workload`, then joins them all (or
    /// leaves behind those still running at the timeout).
    fn run(
        &self,
        model: Model,
        workload: &Workload,
        workers: usize,
        context: &RunContext,
    ) -> Result<RunOutput, ModelError> {
        let job = Job::in_process(workload, context, model)?;
        run_threads(workers, context, move |_| job.run()).map(RunOutput::timed_by_caller)
    }
}

/// Starts `workers` threads, thread `i` running `body(i)`, then waits for
/// them all; the thread and gil models share it. Workers that would not
/// fit in the OS's limits ([`limits::room_for_threads`]) are refused
/// before any starts. When the OS refuses a thread, the started ones are waited for and the refusal names the
/// limit. Threads still running at the run's timeout, or when a stop is
/// requested, are reported and left behind: a thread cannot be killed.
pub(crate) fn run_threads(
    workers: usize,
    context: &RunContext,
    body: impl Fn(usize) -> u64 + Send + Sync + 'static,
) -> Result<Vec<WorkerOutcome>, ModelError> {
    // A thread that cannot map its signal stack aborts paralab, and a
    // refusal after thousands started wastes them: forecast first.
    if let Err(limit) = limits::room_for_threads(workers) {
        return Err(ModelError::Resource {
            doing: format!("start {workers} threads"),
            cause: std::io::Error::other("not enough room, checked before any started"),
            limit,
        });
    }
    let deadline = deadline::deadline(context);
    let body = Arc::new(body);
    let (reports, collector) = mpsc::channel::<(usize, ThreadReport)>();
    let mut handles: Vec<JoinHandle<()>> = Vec::with_capacity(workers);
    for index in 0..workers {
        let body = Arc::clone(&body);
        let sender = reports.clone();
        let started = thread::Builder::new().spawn(move || {
            let cpu_before = CpuUsage::now_thread();
            let start = MonoTime::now();
            let result = body(index);
            let end = MonoTime::now();
            let usage = CpuUsage::thread_since(cpu_before);
            // A panicking body never gets here: its sender is dropped
            // while unwinding, and the join tells the panic.
            let _ = sender.send((
                index,
                ThreadReport {
                    result,
                    start,
                    end,
                    usage,
                },
            ));
        });
        match started {
            Ok(handle) => handles.push(handle),
            Err(cause) => {
                // Name the limit while the started threads still count,
                // then wait for them (threads cannot be killed) so none
                // outlives this run.
                let limit = limits::explain(&cause);
                drop(reports);
                let started = handles.len();
                let _ = deadline::collect(&collector, started, deadline, &context.stop);
                return Err(ModelError::Refused {
                    what: "thread",
                    index,
                    workers,
                    cause,
                    limit,
                });
            }
        }
        if context.stop.requested().is_some() {
            break;
        }
    }
    drop(reports);
    let collected = deadline::collect(&collector, workers, deadline, &context.stop);
    Ok(outcomes(handles, collected, workers, context))
}

/// One outcome per worker: its report, the panic that ended it, or why
/// the run stopped waiting for it (never started, still running).
fn outcomes(
    handles: Vec<JoinHandle<()>>,
    collected: Collected<ThreadReport>,
    workers: usize,
    context: &RunContext,
) -> Vec<WorkerOutcome> {
    let mut handles = handles.into_iter().map(Some).collect::<Vec<_>>();
    handles.resize_with(workers, || None);
    collected
        .reports
        .into_iter()
        .zip(handles)
        .enumerate()
        .map(|(worker, (report, handle))| {
            let failed = |status| WorkerOutcome::failed(worker, status);
            match (report, handle) {
                (Some(report), handle) => {
                    // It has sent its report and is returning.
                    if let Some(handle) = handle {
                        let _ = handle.join();
                    }
                    let finished = WorkerStatus::Finished {
                        result: report.result,
                    };
                    WorkerOutcome::ended(worker, finished)
                        .with_times(
                            Some(report.start.seconds_since(context.t0)),
                            Some(report.end.seconds_since(context.t0)),
                        )
                        .with_usage(report.usage)
                }
                (None, Some(handle)) if collected.stop.is_none() || handle.is_finished() => {
                    match handle.join() {
                        Err(payload) => failed(WorkerStatus::Panicked {
                            message: panic_message(payload.as_ref()),
                        }),
                        Ok(()) => failed(WorkerStatus::Lost {
                            reason: "the thread ended without a report".into(),
                        }),
                    }
                }
                // Left running: a thread cannot be killed.
                (None, Some(_)) => failed(collected.stop.map_or(
                    WorkerStatus::Lost {
                        reason: "it did not report".into(),
                    },
                    |stop| stop.status(true),
                )),
                (None, None) => failed(collected.stop.map_or(
                    WorkerStatus::Lost {
                        reason: "it was never started".into(),
                    },
                    |stop| stop.status(false),
                )),
            }
        })
        .collect()
}

/// The text of a panic, as `panic!` formatted it.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        text.to_string()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "a panic with a non-text payload".to_string()
    }
}
