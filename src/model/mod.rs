//! Models: how N workers are run at once.
//!
//! Every model runs N copies of one [`Workload`] and returns one
//! [`WorkerOutcome`] per worker, in worker order. How each model starts its
//! workers lives in its own file: [`thread`] and [`process`].

pub mod limits;
pub mod process;
pub mod thread;

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::measure::clock::MonoTime;
use crate::workload::Workload;

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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "model", content = "start_method", rename_all = "lowercase")]
pub enum Model {
    /// N OS threads (`std::thread`), started then joined.
    Thread,
    /// N OS processes, started with the given method, then reaped.
    Process(StartMethod),
}

/// What the command line accepts for `--models`.
pub const MODEL_NAMES: &str = "thread, process, process:fork, process:spawn";

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
    ) -> Result<Vec<WorkerOutcome>, ModelError> {
        match self {
            Model::Thread => thread::run(workload, workers, context),
            Model::Process(method) => process::run(*method, workload, workers, context),
        }
    }

    /// The model's family name without a start method: `thread`, `process`.
    pub fn family(&self) -> &'static str {
        match self {
            Model::Thread => "thread",
            Model::Process(_) => "process",
        }
    }

    /// The start method, for process models.
    pub fn start_method(&self) -> Option<StartMethod> {
        match self {
            Model::Process(method) => Some(*method),
            Model::Thread => None,
        }
    }
}

impl fmt::Display for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Model::Thread => f.write_str("thread"),
            Model::Process(method) => write!(f, "process:{}", method.name()),
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
            _ => match s.strip_prefix("process:") {
                Some(method) => method.parse().map(Model::Process),
                None => Err(format!("unknown model '{s}'; accepted: {MODEL_NAMES}")),
            },
        }
    }
}

/// What a model needs to know about the run it is part of.
#[derive(Clone, Debug)]
pub struct RunContext {
    /// The instant the run started; worker times are offsets from it.
    pub t0: MonoTime,
    /// The program the `spawn` start method executes: one that calls
    /// [`crate::worker::serve_if_requested`] first thing in `main`.
    pub worker_exe: PathBuf,
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
        }
    }
}

/// Why a model could not run all its workers.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The OS refused to start one more worker.
    #[error("the OS refused to start {what} {index} of {workers}: {cause}; {limit}")]
    Refused {
        /// "thread" or "process".
        what: &'static str,
        /// The worker that could not be started (from 0); as many were running.
        index: usize,
        /// How many were asked for.
        workers: usize,
        /// The error the OS gave.
        cause: std::io::Error,
        /// The limit that was most likely hit, with its current value.
        limit: String,
    },
    /// Something the model needs before starting workers failed.
    #[error("{0}")]
    Setup(String),
}
