//! Workloads: what one worker does.
//!
//! A [`Workload`] is plain data, so it can be saved, compared and sent to a
//! re-executed worker process. Running a `cpu` or `sleep` workload
//! ([`Workload::run`]) allocates nothing, which keeps it safe in a child
//! right after `fork`.
//!
//! Two workloads come from the user: an external program
//! ([`Workload::Command`], `--cmd`), run by the process models, and a Rust
//! closure ([`WorkloadFn`]), run by the in-process models and `fork`. A
//! closure is code, not data, so the plan holds only its name and reference
//! value ([`Workload::Custom`]) and the closure itself is handed to the
//! [`Experiment`](crate::Experiment): the plan stays serialisable.

mod closure;
mod command;
mod cpu;
mod sleep;

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use closure::WorkloadFn;
pub use command::ProgramError;
pub(crate) use command::display as display_command;
pub(crate) use command::{
    CommandSettings, OutputTo, choose, first_program, parse_command, resolve_program, run_helper,
    settings, shell_startup_workload, shell_syntax, substitute, substitute_parameters,
};
pub(crate) use cpu::{DEFAULT_ITERS, cpu_func, cpu_reference, cpu_step};
pub(crate) use sleep::{DEFAULT_SLEEP, nanos, sleep_for};

/// What one worker does.
///
/// ```
/// use paralab::Workload;
/// let cpu = Workload::Cpu { iters: 10 };
/// assert_eq!(cpu.run(), 9_349_050);
/// assert_eq!(cpu.expected_result(), cpu.run());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Workload {
    /// The notebook's `cpu_func(1, iters)`.
    Cpu {
        /// Loop iterations per worker (the notebook's `niters`).
        iters: u64,
    },
    /// The notebook's `time.sleep(duration)`.
    Sleep {
        /// How long each worker sleeps.
        #[serde(rename = "seconds", with = "duration_seconds")]
        duration: Duration,
    },
    /// An external program (`--cmd 'PROGRAM ARGS…'`); its exit status is
    /// the worker's outcome and its result is 0. `{n}` (the worker count)
    /// and `{i}` (the worker's index, from 0) in its words are replaced
    /// when it starts.
    Command {
        /// The program and its arguments: `[SHELL, "-c", TEXT]` when it
        /// runs through a shell.
        argv: Vec<String>,
        /// What the user called it (`-n/--command-name`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        /// The parameter values this command was made with (`-P`, `-L`),
        /// as hyperfine's JSON keeps them.
        #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
        parameters: std::collections::BTreeMap<String, String>,
    },
    /// A Rust closure registered with the experiment under this name (see
    /// [`WorkloadFn`]).
    Custom {
        /// The name the closure was registered under.
        name: String,
        /// The value every worker must return.
        expected: u64,
    },
}

impl Workload {
    /// Does the work in the calling thread and returns its result.
    ///
    /// `cpu` and `sleep` allocate nothing. A `command` is started and
    /// waited for here (the process models start it themselves instead),
    /// giving 0 or its exit code. A `custom` workload needs its closure,
    /// which only the experiment holds: here it returns `u64::MAX`, which
    /// no reference check accepts.
    pub fn run(&self) -> u64 {
        match self {
            Workload::Cpu { iters } => cpu_func(*iters),
            Workload::Sleep { duration } => sleep_for(*duration),
            Workload::Command { argv, .. } => command::run_and_wait(argv),
            Workload::Custom { .. } => u64::MAX,
        }
    }

    /// The result every worker must return. For `cpu` it makes at most
    /// 10^7 steps of the loop whatever `iters` is (see `cpu_reference`),
    /// so a huge count cannot keep paralab computing it for ever; it is
    /// still some milliseconds, so call it once per workload.
    pub fn expected_result(&self) -> u64 {
        match self {
            Workload::Cpu { iters } => cpu_reference(*iters),
            Workload::Sleep { duration } => nanos(*duration),
            Workload::Command { .. } => 0,
            Workload::Custom { expected, .. } => *expected,
        }
    }

    /// How a workload is named at the start of a summary's line: its kind
    /// (`cpu`), or for an external program the command with its name
    /// (`command (gzip -9)`), so that two commands read apart.
    pub(crate) fn line_label(&self) -> String {
        match self {
            Workload::Command { .. } => self.to_string(),
            _ => self.kind().to_string(),
        }
    }

    /// Which kind of workload this is.
    pub fn kind(&self) -> WorkloadKind {
        match self {
            Workload::Cpu { .. } => WorkloadKind::Cpu,
            Workload::Sleep { .. } => WorkloadKind::Sleep,
            Workload::Command { .. } => WorkloadKind::Command,
            Workload::Custom { .. } => WorkloadKind::Custom,
        }
    }
}

impl fmt::Display for Workload {
    /// `cpu (35,000,000 iterations)`, `sleep (1 s)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Workload::Cpu { iters } => {
                write!(f, "cpu ({} iterations)", crate::fmt::thousands(*iters))
            }
            Workload::Sleep { duration } => write!(f, "sleep ({} s)", duration.as_secs_f64()),
            Workload::Command { argv, name, .. } => match name {
                Some(name) => write!(f, "command ({name})"),
                None => write!(f, "command ({})", command::display(argv)),
            },
            Workload::Custom { name, .. } => write!(f, "custom ({name})"),
        }
    }
}

/// The kinds of workload, as named on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WorkloadKind {
    /// CPU-bound arithmetic.
    Cpu,
    /// Waiting, the notebook's stand-in for IO.
    Sleep,
    /// An external program (`--cmd`).
    Command,
    /// A Rust closure given to the library.
    Custom,
}

impl WorkloadKind {
    /// Every kind, in the notebook's column order.
    pub const ALL: [WorkloadKind; 2] = [WorkloadKind::Cpu, WorkloadKind::Sleep];

    /// The name used on the command line and in files.
    pub fn name(self) -> &'static str {
        match self {
            WorkloadKind::Cpu => "cpu",
            WorkloadKind::Sleep => "sleep",
            WorkloadKind::Command => "command",
            WorkloadKind::Custom => "custom",
        }
    }

    /// The prefix of the notebook's class names: `Cpu`Thread, `Io`Process.
    pub fn notebook_prefix(self) -> &'static str {
        match self {
            WorkloadKind::Cpu => "Cpu",
            WorkloadKind::Sleep => "Io",
            WorkloadKind::Command => "Cmd",
            WorkloadKind::Custom => "Custom",
        }
    }
}

impl fmt::Display for WorkloadKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for WorkloadKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        WorkloadKind::ALL
            .into_iter()
            .find(|kind| kind.name() == s)
            .ok_or_else(|| format!("unknown workload '{s}'; accepted: cpu, sleep"))
    }
}

/// Durations as decimal seconds in files, the unit people read.
mod duration_seconds {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub(crate) fn serialize<S: Serializer>(duration: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(duration.as_secs_f64())
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let seconds = f64::deserialize(d)?;
        Duration::try_from_secs_f64(seconds).map_err(D::Error::custom)
    }
}
