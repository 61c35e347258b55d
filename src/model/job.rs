//! A workload made ready to run inside paralab's own process: what the
//! in-process models (threads, tasks, pool jobs, a forked child) call.

use super::{ModelError, RunContext};
use crate::workload::{Workload, WorkloadFn};

/// A workload made ready to run inside paralab's own process (a thread, a
/// task, a pool job, a forked child): a built-in workload or a closure.
#[derive(Clone, Debug)]
pub(crate) enum Job {
    Builtin(Workload),
    Closure(WorkloadFn),
}

impl Job {
    /// Resolves `workload` for `model`, which runs workers in-process:
    /// a command cannot run there, and a custom workload needs its closure.
    pub(crate) fn in_process(
        workload: &Workload,
        context: &RunContext,
        model: super::Model,
    ) -> Result<Job, ModelError> {
        match workload {
            Workload::Command { .. } => Err(ModelError::CommandNeedsProcesses {
                model: model.to_string(),
            }),
            Workload::Custom { name, .. } => match &context.custom {
                Some(closure) if closure.name() == name => Ok(Job::Closure(closure.clone())),
                _ => Err(ModelError::NoClosure { name: name.clone() }),
            },
            builtin => Ok(Job::Builtin(builtin.clone())),
        }
    }

    /// Runs the job in the calling thread; allocation-free for `cpu`,
    /// `sleep`, and whatever the closure does.
    #[inline]
    pub(crate) fn run(&self) -> u64 {
        match self {
            Job::Builtin(workload) => workload.run(),
            Job::Closure(closure) => closure.call(),
        }
    }
}
