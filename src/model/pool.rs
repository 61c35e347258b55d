//! The `pool` model: N jobs on a rayon thread pool of one thread per
//! logical CPU, the data-parallel way: at most CPUs jobs run at once, the
//! rest wait their turn, and no thread is started per job.

use std::sync::Arc;

use rayon::prelude::*;

use super::thread::panic_message;
use super::{Job, ModelError, RunContext, WorkerOutcome, WorkerStatus};
use crate::experiment::logical_cpus;
use crate::measure::clock::{MonoTime, thread_cpu_time};
use crate::workload::Workload;

/// Builds the pool, runs `workers` jobs on it, and returns their outcomes
/// in job order.
pub fn run(
    workload: &Workload,
    workers: usize,
    context: &RunContext,
) -> Result<Vec<WorkerOutcome>, ModelError> {
    let job = Arc::new(Job::in_process(workload, context, "pool")?);
    let threads = logical_cpus();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|cause| {
            ModelError::Setup(format!(
                "could not start the rayon pool's {threads} threads: {cause}"
            ))
        })?;
    let t0 = context.t0;
    let outcomes = pool.install(|| {
        (0..workers)
            .into_par_iter()
            .map(|worker| one_job(worker, &job, t0))
            .collect()
    });
    Ok(outcomes)
}

/// One job on whichever pool thread takes it; a panic is caught here so it
/// fails this job only, not the whole pool.
fn one_job(worker: usize, job: &Job, t0: MonoTime) -> WorkerOutcome {
    let cpu_before = thread_cpu_time();
    let start = MonoTime::now();
    let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job.run()));
    let end = MonoTime::now();
    match ran {
        Ok(result) => WorkerOutcome {
            worker,
            start_s: Some(start.seconds_since(t0)),
            end_s: Some(end.seconds_since(t0)),
            cpu_s: Some((thread_cpu_time() - cpu_before).as_secs_f64()),
            status: WorkerStatus::Finished { result },
        },
        Err(payload) => WorkerOutcome {
            worker,
            start_s: Some(start.seconds_since(t0)),
            end_s: None,
            cpu_s: None,
            status: WorkerStatus::Panicked {
                message: panic_message(payload.as_ref()),
            },
        },
    }
}
