//! One run of (workload, model, workers): the clock, the memory sampler,
//! the model, and the check of every result against the reference.

use std::time::Duration;

use nix::sys::signal::Signal;

use super::Measurement;
use crate::measure::clock::MonoTime;
use crate::measure::contention::Counters;
use crate::measure::memory::{MemorySampler, MemoryUse, Snapshot};
use crate::model::{MemoryProbe, Model, ModelError, RunContext, RunOutput, WorkerStatus};
use crate::sys::signals as interrupt;
use crate::sys::stop::StopToken;
use crate::workload::Workload;

/// The reference result of `workload`, computed once before its runs. A
/// big cpu workload takes as long as one worker; when signals are
/// handled (see [`interrupt::install`]) it is computed on its own thread,
/// so a Ctrl-C meanwhile is not kept waiting for it.
pub(crate) fn reference(workload: &Workload, stop: &StopToken) -> Result<u64, Signal> {
    if !interrupt::installed() || !matches!(workload, Workload::Cpu { .. }) {
        return Ok(workload.expected_result());
    }
    let (sender, value) = std::sync::mpsc::channel();
    let owned = workload.clone();
    let computing = std::thread::Builder::new()
        .name("paralab-reference".into())
        .spawn(move || sender.send(owned.expected_result()));
    if computing.is_err() {
        return Ok(workload.expected_result());
    }
    loop {
        if let Some(signal) = stop.requested() {
            return Err(signal);
        }
        if let Ok(value) = value.recv_timeout(Duration::from_millis(50)) {
            return Ok(value);
        }
    }
}

/// How often a run of `model` has its memory sampled. Workers of the
/// in-process models live in this process: reading /proc/self is enough,
/// and cheap enough to do often. Process workers' smaps_rollup (read by
/// pid) walks their page tables, so less often.
fn sampling_interval(model: Model) -> Duration {
    Duration::from_millis(if model.memory() == MemoryProbe::Children {
        50
    } else {
        10
    })
}

/// Whether a run of `model` that lasts `wall_s` is long enough for its
/// memory to be a figure: two sampling intervals, or every sample may
/// have missed it.
pub(crate) fn long_enough_to_sample(model: Model, wall_s: f64) -> bool {
    wall_s >= 2.0 * sampling_interval(model).as_secs_f64()
}

/// One run: starts the clock, runs the model, stops the clock, and checks
/// every result against the reference. Its memory is sampled when
/// `sample_memory` is set: a caller that knows the run to be too short
/// for a figure ([`long_enough_to_sample`]) spares it the sampler's
/// thread, whose start costs a run of `true` some 10 %.
pub(crate) fn measure(
    workload: &Workload,
    model: Model,
    workers: usize,
    run: usize,
    expected: u64,
    context: &RunContext,
    sample_memory: bool,
) -> Result<Measurement, ModelError> {
    // Nothing here is on the run's clock: the sampler's first sample is
    // one interval in, and a process model times itself from its first
    // start to its last reap.
    let children = model.memory() == MemoryProbe::Children;
    let sampled = sample_memory && model.memory() != MemoryProbe::None;
    let before = match (sampled, children) {
        (false, _) => Err(std::io::Error::other("not sampled")),
        (true, true) => Snapshot::now(),
        (true, false) => Snapshot::own(),
    };
    let interval = sampling_interval(model);
    let sampler = match sampled {
        true => MemorySampler::start_with(interval, children),
        false => MemorySampler::idle(),
    };
    // Read just outside the clock, so the window holds the whole run.
    let contention_before = Counters::now();
    let context = &context.starting_now();
    let ran = model.run(workload, workers, context);
    let clock_wall_s = MonoTime::now().seconds_since(context.t0);
    let contention = contention_before.until(&Counters::now());
    let peak = sampler.stop();
    let RunOutput {
        mut outcomes,
        own_wall_s,
        launch_s,
    } = ran?;
    let wall_s = own_wall_s.unwrap_or(clock_wall_s);
    // A run shorter than two sampling intervals may have been missed by
    // every sample: no figure rather than a wrong one.
    // A model whose workers' memory cannot be read (an interpreter's
    // figure would be its own, not its workers') gets none.
    let memory = before
        .ok()
        .filter(|_| long_enough_to_sample(model, wall_s))
        .map(|before| MemoryUse::between(&before, &peak, workers, children));
    for outcome in &mut outcomes {
        if let WorkerStatus::Finished { result } = outcome.status
            && result != expected
        {
            outcome.status = WorkerStatus::WrongResult { result, expected };
        }
    }
    Ok(Measurement {
        workload: workload.clone(),
        model,
        workers,
        run,
        wall_s,
        outcomes,
        memory,
        others_cpus: contention.others_cpus,
        steal_cpus: contention.steal_cpus,
        cpu_pressure: contention.cpu_pressure,
        launch_s,
        shell_startup: None,
    })
}
