//! The `pool` model: N jobs on a rayon thread pool of one thread per
//! logical CPU, the data-parallel way: at most CPUs jobs run at once, the
//! rest wait their turn, and no thread is started per job.

use std::sync::{Arc, mpsc};

use rayon::prelude::*;

use super::thread::panic_message;
use super::{
    Job, Model, ModelError, RunContext, RunOutput, Runner, WorkerOutcome, WorkerStatus, deadline,
};
use crate::machine::logical_cpus;
use crate::measure::clock::MonoTime;
use crate::measure::cpu::CpuUsage;
use crate::sys::{limits, threads};
use crate::workload::{Workload, WorkloadKind};

/// The `pool` model.
pub(crate) struct Pool;

impl Runner for Pool {
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
        (workload == WorkloadKind::Sleep).then(|| {
            format!(" [a pool runs {cpus} jobs at a time, so waits queue behind each other]")
        })
    }
}

/// Builds the pool, runs `workers` jobs on it, and returns their outcomes
/// in job order.
fn run(
    job: Arc<Job>,
    workers: usize,
    context: &RunContext,
) -> Result<Vec<WorkerOutcome>, ModelError> {
    let threads = logical_cpus();
    let doing = || format!("start the rayon pool's {threads} threads");
    // rayon's refusal carries no OS error to name a limit from: probe first.
    threads::can_start(threads).map_err(|refusal| ModelError::Resource {
        doing: doing(),
        cause: refusal.cause,
        limit: refusal.limit,
    })?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|cause| ModelError::Resource {
            doing: doing(),
            // Threads are refused for the limits EAGAIN names.
            limit: limits::explain(&std::io::Error::from_raw_os_error(nix::libc::EAGAIN)),
            cause: std::io::Error::other(cause.to_string()),
        })?;
    let t0 = context.t0;
    let deadline = deadline::deadline(context);
    let (reports, collector) = mpsc::channel::<(usize, WorkerOutcome)>();
    pool.spawn(move || {
        (0..workers)
            .into_par_iter()
            .for_each_with(reports, |reports, worker| {
                let _ = reports.send((worker, one_job(worker, &job, t0)));
            });
    });
    // Waited for from this thread, so a timeout or a stop can end the
    // wait; jobs still running are left to the pool, whose threads end
    // with paralab (dropping the pool does not wait for them).
    let collected = deadline::collect(&collector, workers, deadline, &context.stop);
    let outcomes = collected
        .reports
        .into_iter()
        .enumerate()
        .map(|(worker, outcome)| {
            outcome.unwrap_or_else(|| {
                WorkerOutcome::failed(
                    worker,
                    collected.stop.map_or(
                        WorkerStatus::Lost {
                            reason: "the pool job ended without a report".into(),
                        },
                        |stop| stop.status(true),
                    ),
                )
            })
        })
        .collect();
    Ok(outcomes)
}

/// One job on whichever pool thread takes it; a panic is caught here so it
/// fails this job only, not the whole pool.
fn one_job(worker: usize, job: &Job, t0: MonoTime) -> WorkerOutcome {
    let cpu_before = CpuUsage::now_thread();
    let start = MonoTime::now();
    let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job.run()));
    let end = MonoTime::now();
    match ran {
        Ok(result) => WorkerOutcome::ended(worker, WorkerStatus::Finished { result })
            .with_times(Some(start.seconds_since(t0)), Some(end.seconds_since(t0)))
            .with_usage(CpuUsage::thread_since(cpu_before)),
        Err(payload) => WorkerOutcome::ended(
            worker,
            WorkerStatus::Panicked {
                message: panic_message(payload.as_ref()),
            },
        )
        .with_times(Some(start.seconds_since(t0)), None),
    }
}
