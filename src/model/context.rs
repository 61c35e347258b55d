//! What a model is told about the run it is part of, and what it gives back.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::WorkerOutcome;
use super::python::Python;
use crate::measure::clock::MonoTime;
use crate::sys::stop::StopToken;
use crate::workload::WorkloadFn;

/// What a model needs to know about the run it is part of.
#[derive(Clone, Debug)]
pub(crate) struct RunContext {
    /// The instant the run started; worker times are offsets from it.
    pub t0: MonoTime,
    /// The program the `spawn` start method executes: one that calls
    /// [`super::process::worker::serve_if_requested`] first thing in `main`.
    pub worker_exe: PathBuf,
    /// The closure behind a [`crate::Workload::Custom`] of this run, if any.
    pub custom: Option<WorkloadFn>,
    /// The interpreter the Python models run in, if the plan has any.
    pub python: Option<Arc<Python>>,
    /// How long the run may take: worker processes still running then are
    /// killed and reaped, threads and tasks are reported and left behind
    /// (see [`super::WorkerStatus::TimedOut`]). `None`: no limit.
    pub timeout: Option<Duration>,
    /// Set when the run must stop early (Ctrl-C, SIGTERM): a model starts no
    /// more workers and stops waiting for those that run.
    pub stop: StopToken,
}

impl RunContext {
    /// A run starting now that spawns `worker_exe`, with no closure, no
    /// interpreter, no time limit, and a stop token of its own.
    pub(crate) fn new(worker_exe: impl Into<PathBuf>) -> RunContext {
        RunContext {
            t0: MonoTime::now(),
            worker_exe: worker_exe.into(),
            custom: None,
            python: None,
            timeout: None,
            stop: StopToken::new(),
        }
    }

    /// The same context with the run's time limit set.
    pub(crate) fn with_timeout(mut self, timeout: Option<Duration>) -> RunContext {
        self.timeout = timeout;
        self
    }

    /// The same context, stopped by `stop`.
    pub(crate) fn with_stop(mut self, stop: StopToken) -> RunContext {
        self.stop = stop;
        self
    }

    /// The same context with the closure of a custom workload.
    pub(crate) fn with_closure(mut self, custom: Option<WorkloadFn>) -> RunContext {
        self.custom = custom;
        self
    }

    /// The same context with the interpreter of the Python models.
    pub(crate) fn with_python(mut self, python: Option<Arc<Python>>) -> RunContext {
        self.python = python;
        self
    }

    /// The same context, its clock restarted now.
    pub(crate) fn starting_now(&self) -> RunContext {
        RunContext {
            t0: MonoTime::now(),
            ..self.clone()
        }
    }
}

/// What a model's run yields: one outcome per worker, in worker order, and
/// the run's wall time when the model timed it itself (the Python driver
/// times inside the interpreter, as the notebook does, so that starting
/// `python3` is not counted).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct RunOutput {
    /// One per worker, in worker order.
    pub outcomes: Vec<WorkerOutcome>,
    /// The model's own wall time, if it timed the run; otherwise the
    /// caller's clock around [`super::Model::run`] is the wall time.
    pub own_wall_s: Option<f64>,
    /// What starting the workers cost before the timed part began, when
    /// the model measures it apart (MPI: mpirun's start to every rank past
    /// `MPI_Init`); never part of the wall time.
    pub launch_s: Option<f64>,
}

impl RunOutput {
    /// Outcomes of a run timed by the caller's clock around [`super::Model::run`].
    pub(crate) fn timed_by_caller(outcomes: Vec<WorkerOutcome>) -> RunOutput {
        RunOutput {
            outcomes,
            own_wall_s: None,
            launch_s: None,
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn run_context_example() {
        use crate::model::RunContext;
        use std::time::Duration;
        let context =
            RunContext::new("target/release/paralab").with_timeout(Some(Duration::from_secs(5)));
        assert_eq!(context.timeout, Some(Duration::from_secs(5)));
        assert!(context.stop.requested().is_none());
    }
}
