//! Models: how N workers are run at once.
//!
//! Every model runs N copies of one [`Workload`] and returns one
//! [`WorkerOutcome`] per worker, in worker order. How each model starts its
//! workers lives in its own file: [`thread`], [`process`], [`async_tasks`],
//! [`pool`] and [`gil`].

pub mod async_tasks;
pub mod deadline;
mod error;
pub mod gil;
pub mod pool;
pub mod process;
pub mod thread;

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use error::ModelError;

use crate::measure::clock::MonoTime;
use crate::python::{PyModel, Python};
use crate::sys::stop::StopToken;
use crate::workload::{Workload, WorkloadFn};

/// How a process model starts its children, as in Python's `multiprocessing`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StartMethod {
    /// A copy of the parent (`fork`), Python's default on Linux up to 3.13.
    #[default]
    Fork,
    /// A fresh program (`fork` + `exec` of the paralab binary).
    Spawn,
}

impl StartMethod {
    /// The name used on the command line and in files.
    pub fn name(self) -> &'static str {
        match self {
            StartMethod::Fork => "fork",
            StartMethod::Spawn => "spawn",
        }
    }
}

impl FromStr for StartMethod {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "fork" => Ok(StartMethod::Fork),
            "spawn" => Ok(StartMethod::Spawn),
            _ => Err(format!("unknown start method '{s}'; accepted: fork, spawn")),
        }
    }
}

/// How N workers are run at once.
///
/// ```
/// use paralab::{Model, StartMethod};
/// let model: Model = "process:spawn".parse().unwrap();
/// assert_eq!(model, Model::Process(StartMethod::Spawn));
/// assert_eq!(model.to_string(), "process:spawn");
/// ```
///
/// In files a model is `{"model": "thread"}`,
/// `{"model": "process", "start_method": "fork"}`, `{"model": "async"}`,
/// `{"model": "pool"}`, `{"model": "gil", "switch_interval_s": 0.005}`,
/// `{"model": "py-thread"}`, `{"model": "py-process", "start_method": "spawn"}`
/// or `{"model": "py-async"}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "repr::ModelRepr", try_from = "repr::ModelRepr")]
pub enum Model {
    /// N OS threads (`std::thread`), started then joined.
    Thread,
    /// N OS processes, started with the given method, then reaped.
    Process(StartMethod),
    /// N tokio tasks on a multi-threaded runtime with one worker thread per
    /// logical CPU: sleeps wait on the runtime's timer, CPU work runs on
    /// (and occupies) the runtime's worker threads.
    Async,
    /// N jobs on a rayon pool of one thread per logical CPU.
    Pool,
    /// N OS threads behind one global lock that behaves like CPython's GIL:
    /// held while computing, handed over every `switch_interval`, released
    /// while sleeping.
    Gil {
        /// How long a computing worker keeps the lock when another waits
        /// (CPython's `sys.getswitchinterval()`, 5 ms by default).
        switch_interval: Duration,
    },
    /// The notebook's own code in CPython (`python3`): threads,
    /// multiprocessing or asyncio; see [`crate::python`].
    Python(PyModel),
}

/// What the command line accepts for `--models`.
pub const MODEL_NAMES: &str = "thread, process, process:fork, process:spawn, async, pool, gil, gil:MS (switch interval), \
     py-thread, py-process, py-process:fork, py-process:spawn, py-async";

/// CPython's default switch interval, `sys.getswitchinterval()`.
pub const DEFAULT_SWITCH_INTERVAL: Duration = Duration::from_millis(5);

impl Model {
    /// Runs `workers` copies of `workload` at once and waits for all of them.
    ///
    /// A worker that fails (panics, dies, reports nothing) is described in
    /// its outcome; `Err` means the workers could not all be started, in
    /// which case those started have been waited for or killed and reaped.
    pub fn run(
        &self,
        workload: &Workload,
        workers: usize,
        context: &RunContext,
    ) -> Result<RunOutput, ModelError> {
        let outcomes = match self {
            Model::Thread => thread::run(workload, workers, context),
            Model::Process(method) => process::run(*method, workload, workers, context),
            Model::Async => async_tasks::run(workload, workers, context),
            Model::Pool => pool::run(workload, workers, context),
            Model::Gil { switch_interval } => {
                gil::run(workload, workers, *switch_interval, context)
            }
            Model::Python(model) => {
                return crate::python::run_model(*model, workload, workers, context);
            }
        }?;
        Ok(RunOutput {
            outcomes,
            own_wall_s: None,
        })
    }

    /// The model's family name without a start method: `thread`, `process`,
    /// `async`, `pool`, `gil`.
    pub fn family(&self) -> &'static str {
        match self {
            Model::Thread => "thread",
            Model::Process(_) => "process",
            Model::Async => "async",
            Model::Pool => "pool",
            Model::Gil { .. } => "gil",
            Model::Python(PyModel::Thread) => "py-thread",
            Model::Python(PyModel::Process(_)) => "py-process",
            Model::Python(PyModel::Async) => "py-async",
        }
    }

    /// Whether the workers run in CPython rather than in Rust.
    pub fn is_python(&self) -> bool {
        matches!(self, Model::Python(_))
    }

    /// The start method, for process models.
    pub fn start_method(&self) -> Option<StartMethod> {
        match self {
            Model::Process(method) | Model::Python(PyModel::Process(method)) => Some(*method),
            _ => None,
        }
    }

    /// The switch interval, for the gil model.
    pub fn switch_interval(&self) -> Option<Duration> {
        match self {
            Model::Gil { switch_interval } => Some(*switch_interval),
            _ => None,
        }
    }

    /// Whether the model runs each worker as a separate program, which is
    /// what an external command ([`Workload::Command`]) needs.
    pub fn runs_programs(&self) -> bool {
        matches!(self, Model::Process(_))
    }
}

impl fmt::Display for Model {
    /// `thread`, `process:fork`, `async`, `pool`, `gil` (`gil:2ms` when the
    /// switch interval is not CPython's 5 ms).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Model::Process(method) => write!(f, "process:{}", method.name()),
            Model::Python(PyModel::Process(method)) => write!(f, "py-process:{}", method.name()),
            Model::Gil { switch_interval } if *switch_interval != DEFAULT_SWITCH_INTERVAL => {
                write!(f, "gil:{}ms", switch_interval.as_secs_f64() * 1e3)
            }
            other => f.write_str(other.family()),
        }
    }
}

impl FromStr for Model {
    type Err = String;
    /// `process` alone takes the default start method, `fork`.
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "thread" => Ok(Model::Thread),
            "process" => Ok(Model::Process(StartMethod::default())),
            "async" => Ok(Model::Async),
            "pool" => Ok(Model::Pool),
            "gil" => Ok(Model::Gil {
                switch_interval: DEFAULT_SWITCH_INTERVAL,
            }),
            "py-thread" => Ok(Model::Python(PyModel::Thread)),
            "py-process" => Ok(Model::Python(PyModel::Process(StartMethod::default()))),
            "py-async" => Ok(Model::Python(PyModel::Async)),
            _ => {
                if let Some(method) = s.strip_prefix("process:") {
                    method.parse().map(Model::Process)
                } else if let Some(method) = s.strip_prefix("py-process:") {
                    method.parse().map(|m| Model::Python(PyModel::Process(m)))
                } else if let Some(interval) = s.strip_prefix("gil:") {
                    parse_switch_interval(interval)
                        .map(|switch_interval| Model::Gil { switch_interval })
                } else {
                    Err(format!("unknown model '{s}'; accepted: {MODEL_NAMES}"))
                }
            }
        }
    }
}

/// A switch interval in milliseconds, `5ms` or `5`, from 1 µs to 10 s.
///
/// ```
/// use std::time::Duration;
/// assert_eq!(paralab::model::parse_switch_interval("0.5ms"), Ok(Duration::from_micros(500)));
/// assert!(paralab::model::parse_switch_interval("fast").is_err());
/// ```
pub fn parse_switch_interval(text: &str) -> Result<Duration, String> {
    let number = text.trim().trim_end_matches("ms");
    match number.parse::<f64>() {
        Ok(ms) if ms.is_finite() && (0.001..=10_000.0).contains(&ms) => {
            Ok(Duration::from_secs_f64(ms / 1e3))
        }
        _ => Err(format!(
            "'{text}' is not a switch interval; give milliseconds from 0.001 to 10000, e.g. 5ms"
        )),
    }
}

/// The file form of [`Model`]: the field names and values the first
/// version wrote (`model`, `start_method`) stay exactly as they were.
mod repr {
    use std::time::Duration;

    use serde::{Deserialize, Serialize};

    use super::{DEFAULT_SWITCH_INTERVAL, Model, PyModel, StartMethod};

    #[derive(Serialize, Deserialize)]
    pub struct ModelRepr {
        model: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        start_method: Option<StartMethod>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        switch_interval_s: Option<f64>,
    }

    impl From<Model> for ModelRepr {
        fn from(model: Model) -> ModelRepr {
            ModelRepr {
                model: model.family().to_string(),
                start_method: model.start_method(),
                switch_interval_s: model.switch_interval().map(|d| d.as_secs_f64()),
            }
        }
    }

    impl TryFrom<ModelRepr> for Model {
        type Error = String;
        fn try_from(repr: ModelRepr) -> Result<Model, String> {
            match repr.model.as_str() {
                "thread" => Ok(Model::Thread),
                "process" => Ok(Model::Process(repr.start_method.unwrap_or_default())),
                "async" => Ok(Model::Async),
                "pool" => Ok(Model::Pool),
                "gil" => Ok(Model::Gil {
                    switch_interval: match repr.switch_interval_s {
                        Some(s) => Duration::try_from_secs_f64(s).map_err(|e| e.to_string())?,
                        None => DEFAULT_SWITCH_INTERVAL,
                    },
                }),
                "py-thread" => Ok(Model::Python(PyModel::Thread)),
                "py-process" => Ok(Model::Python(PyModel::Process(
                    repr.start_method.unwrap_or_default(),
                ))),
                "py-async" => Ok(Model::Python(PyModel::Async)),
                other => Err(format!("unknown model '{other}'")),
            }
        }
    }
}

/// What a model needs to know about the run it is part of.
///
/// ```
/// use std::time::Duration;
/// use paralab::model::RunContext;
/// let context = RunContext::new("target/release/paralab").with_timeout(Some(Duration::from_secs(5)));
/// assert_eq!(context.timeout, Some(Duration::from_secs(5)));
/// assert!(context.stop.requested().is_none());
/// ```
#[derive(Clone, Debug)]
pub struct RunContext {
    /// The instant the run started; worker times are offsets from it.
    pub t0: MonoTime,
    /// The program the `spawn` start method executes: one that calls
    /// [`crate::worker::serve_if_requested`] first thing in `main`.
    pub worker_exe: PathBuf,
    /// The closure behind a [`Workload::Custom`] of this run, if any.
    pub custom: Option<crate::workload::WorkloadFn>,
    /// The interpreter the Python models run in, if the plan has any.
    pub python: Option<std::sync::Arc<Python>>,
    /// How long the run may take: worker processes still running then are
    /// killed and reaped, threads and tasks are reported and left behind
    /// (see [`WorkerStatus::TimedOut`]). `None`: no limit.
    pub timeout: Option<Duration>,
    /// Set when the run must stop early (Ctrl-C, SIGTERM): a model starts no
    /// more workers and stops waiting for those that run.
    pub stop: StopToken,
}

impl RunContext {
    /// A run starting now that spawns `worker_exe`, with no closure, no
    /// interpreter, no time limit, and a stop token of its own.
    pub fn new(worker_exe: impl Into<PathBuf>) -> RunContext {
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
    pub fn with_timeout(mut self, timeout: Option<Duration>) -> RunContext {
        self.timeout = timeout;
        self
    }

    /// The same context, stopped by `stop`.
    pub fn with_stop(mut self, stop: StopToken) -> RunContext {
        self.stop = stop;
        self
    }

    /// The same context with the closure of a custom workload.
    pub fn with_closure(mut self, custom: Option<WorkloadFn>) -> RunContext {
        self.custom = custom;
        self
    }

    /// The same context with the interpreter of the Python models.
    pub fn with_python(mut self, python: Option<std::sync::Arc<Python>>) -> RunContext {
        self.python = python;
        self
    }

    /// The same context, its clock restarted now.
    pub fn starting_now(&self) -> RunContext {
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
pub struct RunOutput {
    /// One per worker, in worker order.
    pub outcomes: Vec<WorkerOutcome>,
    /// The model's own wall time, if it timed the run; otherwise the
    /// caller's clock around [`Model::run`] is the wall time.
    pub own_wall_s: Option<f64>,
}

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
        model: &str,
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

/// What one worker did in one run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorkerOutcome {
    /// The worker's number, from 0.
    pub worker: usize,
    /// When the worker began its workload, in seconds after the run started
    /// (so a process's start-up cost shows here).
    pub start_s: Option<f64>,
    /// When the worker finished its workload, in seconds after the run started.
    pub end_s: Option<f64>,
    /// CPU time the worker used (user + system), where it can be measured.
    pub cpu_s: Option<f64>,
    /// How the worker ended.
    #[serde(flatten)]
    pub status: WorkerStatus,
}

impl WorkerOutcome {
    /// A worker that has no times to show: it failed, was lost, or never
    /// reported.
    pub fn failed(worker: usize, status: WorkerStatus) -> WorkerOutcome {
        WorkerOutcome {
            worker,
            start_s: None,
            end_s: None,
            cpu_s: None,
            status,
        }
    }
}

/// How a worker ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum WorkerStatus {
    /// Returned the expected result.
    Finished { result: u64 },
    /// Returned, but not the value the reference computation gives.
    WrongResult { result: u64, expected: u64 },
    /// A thread or task that panicked; the panic message.
    Panicked { message: String },
    /// A process killed by a signal (`SIGSEGV`, `SIGKILL`, …).
    Killed { signal: String },
    /// A process that exited with a non-zero code.
    Exited { code: i32 },
    /// A worker that ended without a usable report of its result.
    Lost { reason: String },
    /// A worker still running when the run's timeout expired. A process is
    /// killed with its process group and reaped; a thread or task cannot be
    /// killed, so it is left running (`still_running`) and the experiment
    /// stops.
    TimedOut { still_running: bool },
    /// A worker still running when SIGINT or SIGTERM stopped the run (a
    /// process is killed and reaped).
    Interrupted { signal: String },
}

impl WorkerStatus {
    /// Whether the worker did its work and returned the right result.
    pub fn is_success(&self) -> bool {
        matches!(self, WorkerStatus::Finished { .. })
    }

    /// The value the worker returned, right or wrong.
    pub fn result(&self) -> Option<u64> {
        match self {
            WorkerStatus::Finished { result } | WorkerStatus::WrongResult { result, .. } => {
                Some(*result)
            }
            _ => None,
        }
    }
}

impl fmt::Display for WorkerStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WorkerStatus::Finished { result } => write!(f, "finished with result {result}"),
            WorkerStatus::WrongResult { result, expected } => {
                write!(
                    f,
                    "returned {result}, but the reference value is {expected}"
                )
            }
            WorkerStatus::Panicked { message } => write!(f, "panicked: {message}"),
            WorkerStatus::Killed { signal } => write!(f, "was killed by {signal}"),
            WorkerStatus::Exited { code } => write!(f, "exited with code {code}"),
            WorkerStatus::Lost { reason } => write!(f, "was lost: {reason}"),
            WorkerStatus::TimedOut {
                still_running: false,
            } => write!(f, "timed out, and was killed and reaped"),
            WorkerStatus::TimedOut {
                still_running: true,
            } => write!(
                f,
                "timed out, and is still running (a thread or task cannot be killed; it ends with paralab)"
            ),
            WorkerStatus::Interrupted { signal } => {
                write!(f, "was stopped by {signal} before it finished")
            }
        }
    }
}
