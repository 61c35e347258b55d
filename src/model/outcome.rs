//! What one worker did in one run, as every model reports it.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::measure::cpu::CpuUsage;

/// The most spans of holding a global lock kept per worker and run: a
/// 5 ms switch interval gives 200 a second, so this keeps a minute.
pub(crate) const MAX_HELD_SLICES: usize = 12_000;

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
    /// The user part of `cpu_s` (absent in files written before paralab
    /// measured it, and where the model cannot tell).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_s: Option<f64>,
    /// The system (kernel) part of `cpu_s`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_s: Option<f64>,
    /// Times the worker gave up its CPU itself (to wait: a sleep, a lock, a pipe).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voluntary_switches: Option<u64>,
    /// Times the scheduler took its CPU away (its time slice was up and
    /// something else wanted the CPU).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub involuntary_switches: Option<u64>,
    /// The host the worker ran on, for models whose workers may run on
    /// several (an MPI rank); absent for the others, which run here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// When the worker held a global lock that let one worker compute at
    /// a time (the `gil` model), as `[from, to]` in seconds after the run
    /// started, in order; the first [`MAX_HELD_SLICES`] only. Empty for
    /// the models without one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub held_s: Vec<[f64; 2]>,
    /// How the worker ended.
    #[serde(flatten)]
    pub status: WorkerStatus,
}

impl WorkerOutcome {
    /// A worker that has no times to show: it failed, was lost, or never
    /// reported.
    pub fn failed(worker: usize, status: WorkerStatus) -> WorkerOutcome {
        WorkerOutcome::ended(worker, status)
    }

    /// How worker `worker` ended, its times and CPU use still unknown: the
    /// models add them with [`WorkerOutcome::with_times`] and
    /// [`WorkerOutcome::with_usage`] where they have them.
    pub(crate) fn ended(worker: usize, status: WorkerStatus) -> WorkerOutcome {
        WorkerOutcome {
            worker,
            start_s: None,
            end_s: None,
            cpu_s: None,
            user_s: None,
            system_s: None,
            voluntary_switches: None,
            involuntary_switches: None,
            host: None,
            held_s: Vec::new(),
            status,
        }
    }

    /// The outcome with the spans in which it held a global lock.
    pub(crate) fn with_held(self, held_s: Vec<[f64; 2]>) -> WorkerOutcome {
        WorkerOutcome { held_s, ..self }
    }

    /// The outcome with the host the worker ran on.
    pub(crate) fn with_host(self, host: Option<String>) -> WorkerOutcome {
        WorkerOutcome { host, ..self }
    }

    /// The outcome with the times it began and ended its workload, in
    /// seconds after the run started.
    pub(crate) fn with_times(self, start_s: Option<f64>, end_s: Option<f64>) -> WorkerOutcome {
        WorkerOutcome {
            start_s,
            end_s,
            ..self
        }
    }

    /// The outcome with its CPU time and switches set from `usage` (all
    /// left unknown when it is `None`).
    pub(crate) fn with_usage(self, usage: Option<CpuUsage>) -> WorkerOutcome {
        WorkerOutcome {
            cpu_s: usage.map(|u| u.cpu_s()),
            user_s: usage.map(|u| u.user_s),
            system_s: usage.map(|u| u.system_s),
            voluntary_switches: usage.map(|u| u.voluntary_switches),
            involuntary_switches: usage.map(|u| u.involuntary_switches),
            ..self
        }
    }
}

/// How a worker ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum WorkerStatus {
    /// Returned the expected result.
    Finished {
        /// The workload's result.
        result: u64,
    },
    /// Returned, but not the value the reference computation gives.
    WrongResult {
        /// What the worker returned.
        result: u64,
        /// What the reference computation gives.
        expected: u64,
    },
    /// A thread or task that panicked; the panic message.
    Panicked {
        /// The panic's message.
        message: String,
    },
    /// A process killed by a signal (`SIGSEGV`, `SIGKILL`, …).
    Killed {
        /// The signal's name: `SIGKILL`.
        signal: String,
    },
    /// A process that exited with a non-zero code.
    Exited {
        /// The exit code.
        code: i32,
    },
    /// A program that exited with a non-zero code under `-i/--ignore-failure`:
    /// its run is timed like a successful one, and the code is kept (as
    /// hyperfine keeps it in `exit_codes`).
    IgnoredExit {
        /// The exit code.
        code: i32,
    },
    /// A worker that ended without a usable report of its result.
    Lost {
        /// Why no report came.
        reason: String,
    },
    /// A worker still running when the run's timeout expired. A process is
    /// killed with its process group and reaped; a thread or task cannot be
    /// killed, so it is left running (`still_running`) and the experiment
    /// stops.
    TimedOut {
        /// Whether it could not be killed (a thread or a task).
        still_running: bool,
    },
    /// A worker still running when SIGINT or SIGTERM stopped the run (a
    /// process is killed and reaped).
    Interrupted {
        /// The stop signal's name: `SIGINT`.
        signal: String,
    },
}

impl WorkerStatus {
    /// Whether the worker did its work and returned the right result.
    pub fn is_success(&self) -> bool {
        matches!(
            self,
            WorkerStatus::Finished { .. } | WorkerStatus::IgnoredExit { .. }
        )
    }

    /// The exit code of a program that exited by itself: 0 for a finished
    /// run, the code of one that exited non-zero, with or without `-i`.
    pub fn exit_code(&self) -> Option<i32> {
        match self {
            WorkerStatus::Finished { .. } => Some(0),
            WorkerStatus::Exited { code } | WorkerStatus::IgnoredExit { code } => Some(*code),
            _ => None,
        }
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
            WorkerStatus::IgnoredExit { code } => {
                write!(f, "exited with code {code}, ignored (-i)")
            }
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
