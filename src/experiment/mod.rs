//! Experiments: a [`Plan`] walked run by run, each [`Measurement`] streamed
//! to the observers as it arrives.
//!
//! - `plan`: what to run, plain data;
//! - `sweep`: the policy — the order of the runs, and when to stop;
//! - `run`: one run — the clock, the memory sampler, the result check;
//! - `measurement`: what a run yields;
//! - `observer`: what watches the runs as they finish.

mod measurement;
mod observer;
mod plan;
mod run;
mod sweep;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use nix::sys::signal::Signal;

pub use measurement::Measurement;
pub use measurement::ShellStartup;
pub(crate) use measurement::run_label;
pub use observer::{Observer, RunKind};
pub use plan::{Plan, default_workers};
pub(crate) use sweep::AdaptiveRuns;
use sweep::{Policy, Runs};

use crate::model::python::Python;
use crate::model::{Interpreter, Model, ModelError, RunContext};
use crate::sys::signals as interrupt;
use crate::sys::stop::StopToken;
use crate::workload::{Workload, WorkloadFn};

/// The most worker counts (rows of the table) a plan from the command
/// line may hold, unless the machine's default `1..2×CPUs` holds more.
/// Each count is run in turn, every workload under every model: 4096
/// rows of threads already start some 8 million workers per model and
/// run, and a million rows (`--workers 1..=1000000`) would start 5·10^11
/// and never finish. A finer sweep than this is a list: `1,2,4,…,4096`.
pub(crate) const MAX_WORKER_COUNTS: usize = 4096;

/// The most worker counts accepted on this machine (see
/// [`MAX_WORKER_COUNTS`]): never fewer than the default sweep's.
pub(crate) fn max_worker_counts() -> usize {
    MAX_WORKER_COUNTS.max(2 * crate::machine::logical_cpus())
}

/// Why an experiment stopped before the end of its plan.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// Workers failed in a run; the run's measurement is kept.
    #[error("{}: {}", .label, .details.join("; "))]
    Workers {
        /// The run: `cpu · thread · 2 workers`.
        label: String,
        /// One line per failed worker, or per group failing alike.
        details: Vec<String>,
    },
    /// The model could not start its workers; nothing of that run is kept.
    #[error("{label}: {error}")]
    Model {
        /// The run: `cpu · thread · 2 workers`.
        label: String,
        /// Why the workers could not start.
        error: ModelError,
    },
    /// SIGINT or SIGTERM asked paralab to stop; the run it interrupted is
    /// not kept (its workers were killed), every run finished before is.
    #[error("interrupted by {signal}")]
    Interrupted {
        /// The signal that asked to stop.
        signal: nix::sys::signal::Signal,
    },
    /// With [`Experiment::keep_going`], runs whose workers failed: each is
    /// kept (and its failure recorded in its outcomes), and the sweep went on.
    #[error("{} runs had failed workers: {}", .failures.len(), .failures.iter().map(|f| f.to_string()).collect::<Vec<_>>().join(" | "))]
    KeptGoing {
        /// Each failed run, in order.
        failures: Vec<Failure>,
    },
}

/// What an experiment produced: every measurement it finished, and the
/// failure that stopped it, if one did.
#[derive(Debug)]
pub struct Results {
    /// Every timed run, in the order they ran.
    pub measurements: Vec<Measurement>,
    /// Why the plan was not finished.
    pub failure: Option<Failure>,
}

/// A plan, the program that spawned workers run, and its observers.
pub struct Experiment<'o> {
    plan: Plan,
    worker_exe: Option<PathBuf>,
    observers: Vec<&'o mut dyn Observer>,
    closures: Vec<WorkloadFn>,
    // Each interpreter with the name the plan's models give it.
    pythons: Vec<(Interpreter, Arc<Python>)>,
    python_iters: Option<u64>,
    adaptive: Option<AdaptiveRuns>,
    timeout: Option<Duration>,
    keep_going: bool,
    stop: StopToken,
}

impl<'o> Experiment<'o> {
    /// An experiment with no observers.
    pub fn new(plan: Plan) -> Experiment<'o> {
        Experiment {
            plan,
            worker_exe: None,
            observers: Vec::new(),
            closures: Vec::new(),
            pythons: Vec::new(),
            python_iters: None,
            adaptive: None,
            timeout: None,
            keep_going: false,
            stop: interrupt::stop_token(),
        }
    }

    /// The interpreter the plan's Python models run in. Without one, a
    /// Python model's run fails with a message saying so. Given several
    /// times, the plan's Python models each name theirs (see
    /// `Model::in_interpreter`); a model that names none runs in the first.
    pub fn python(mut self, python: Python) -> Self {
        self.pythons.push((python.interpreter(), Arc::new(python)));
        self
    }

    /// Gives the Python models their own iteration count for the plan's
    /// cpu workloads (their measurements record it, and their results are
    /// checked against its own reference): CPython runs the loop some 35×
    /// slower than Rust, so one count cannot suit both.
    pub fn python_iters(mut self, iters: u64) -> Self {
        self.python_iters = Some(iters);
        self
    }

    /// Chooses the timed runs of each cell as they go, instead of making
    /// exactly the plan's `runs`: at least `runs` (as long as they fit in
    /// 1.5 s: one run of a 1 s sleep is enough when it agrees with
    /// itself), more while the runs disagree by more than 5 %, up to
    /// `max_runs` and as long as the cell's timed runs take no more than
    /// `budget_per_cell` in all. paralab's default when `--runs` is not
    /// given.
    pub fn adaptive_runs(mut self, max_runs: usize, budget_per_cell: Duration) -> Self {
        self.adaptive = Some(AdaptiveRuns {
            max_runs,
            budget: budget_per_cell,
            ..AdaptiveRuns::default()
        });
        self
    }

    /// Limits each run to `timeout`: worker processes still running then
    /// are killed and reaped; threads and tasks cannot be killed, so they
    /// are reported and the experiment stops (see
    /// [`crate::WorkerStatus::TimedOut`]).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Goes on after a run whose workers failed (crashed, exited non-zero,
    /// timed out and were killed), keeping its measurement, instead of
    /// stopping there. A refusal by the OS, a stop signal, or a thread left
    /// running by a timeout still stop the sweep.
    pub fn keep_going(mut self, keep_going: bool) -> Self {
        self.keep_going = keep_going;
        self
    }

    /// Stops the sweep when `stop` is set, instead of on paralab's own
    /// SIGINT and SIGTERM (by default, the token that paralab's signal handling cancels).
    pub fn stop_token(mut self, stop: StopToken) -> Self {
        self.stop = stop;
        self
    }

    /// Registers the closure behind the plan's [`Workload::Custom`] of the
    /// same name (see [`WorkloadFn`]).
    pub fn workload_fn(mut self, closure: WorkloadFn) -> Self {
        self.closures.retain(|c| c.name() != closure.name());
        self.closures.push(closure);
        self
    }

    /// The program the `spawn` start method runs (default: this program).
    pub fn worker_exe(mut self, exe: impl Into<PathBuf>) -> Self {
        self.worker_exe = Some(exe.into());
        self
    }

    /// Adds an observer.
    pub fn observe(mut self, observer: &'o mut dyn Observer) -> Self {
        self.observers.push(observer);
        self
    }

    /// Walks the plan: for each worker count, each workload, each model,
    /// the warm-ups then the timed runs. Stops at the first failure,
    /// keeping every measurement made so far; except that a Python model
    /// that fails (a crash of the interpreter, a broken `python3`) is
    /// dropped from the rest of the plan and the Rust models go on; the
    /// first such failure is then the experiment's failure. The policy is
    /// `sweep`'s; this gives it the real runs.
    pub fn run(mut self) -> Results {
        for observer in &mut self.observers {
            observer.plan_started(&self.plan);
        }
        let worker_exe = self
            .worker_exe
            .take()
            .or_else(|| std::env::current_exe().ok())
            .unwrap_or_else(|| PathBuf::from("paralab"));
        let context = RunContext::new(worker_exe)
            .with_timeout(self.timeout)
            .with_stop(self.stop.clone());
        let mut runs = ModelRuns {
            context,
            closures: &self.closures,
            pythons: &self.pythons,
            last: None,
        };
        let policy = Policy {
            keep_going: self.keep_going,
            stop: self.stop.clone(),
            python_iters: self.python_iters,
            adaptive: self.adaptive,
        };
        sweep::sweep(&self.plan, &mut runs, &mut self.observers, &policy)
    }
}

/// The real runs: each one a model run under a fresh clock.
struct ModelRuns<'c> {
    context: RunContext,
    closures: &'c [WorkloadFn],
    pythons: &'c [(Interpreter, Arc<Python>)],
    /// The last run made: its cell and its wall time.
    last: Option<(Workload, Model, usize, f64)>,
}

impl ModelRuns<'_> {
    /// The interpreter `model` runs in: the one of its program, else the
    /// first. By program, as a label may have been made longer to tell two
    /// interpreters apart.
    fn python_for(&self, model: Model) -> Option<Arc<Python>> {
        let chosen = match model.interpreter() {
            Some(named) => self
                .pythons
                .iter()
                .find(|(i, _)| i.info().executable == named.info().executable),
            None => self.pythons.first(),
        };
        chosen.map(|(_, python)| Arc::clone(python))
    }
}

impl Runs for ModelRuns<'_> {
    fn reference(&mut self, workload: &Workload, stop: &StopToken) -> Result<u64, Signal> {
        run::reference(workload, stop)
    }

    fn measure(
        &mut self,
        workload: &Workload,
        model: Model,
        workers: usize,
        run: usize,
        expected: u64,
    ) -> Result<Measurement, ModelError> {
        let custom = match workload {
            Workload::Custom { name, .. } => {
                self.closures.iter().find(|c| c.name() == name).cloned()
            }
            _ => None,
        };
        let context = self
            .context
            .clone()
            .with_closure(custom)
            .with_python(self.python_for(model));
        // A run whose cell's previous run was too short for a memory
        // figure is not sampled: its figure would be dropped, and the
        // sampler's thread would cost it time.
        let short = matches!(
            &self.last,
            Some((w, m, n, wall)) if w == workload && *m == model && *n == workers
                && !run::long_enough_to_sample(model, *wall)
        );
        let measured = run::measure(workload, model, workers, run, expected, &context, !short);
        if let Ok(m) = &measured {
            self.last = Some((workload.clone(), model, workers, m.wall_s));
        }
        measured
    }
}
