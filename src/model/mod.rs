//! Models: how N workers are run at once.
//!
//! Every model runs N copies of one [`Workload`] and returns one
//! [`WorkerOutcome`] per worker, in worker order. Each model lives in its
//! own file, as a type implementing the crate-private `Runner` trait, and
//! is listed once in `MODELS`: its name, what may follow the name after a
//! colon, and a line of help. Names, parsing, display, the file form and
//! the `--models` help all come from that table.
//!
//! Adding a model: write its file (a `Runner`), add one row to `MODELS`
//! (and a constant below if library users should name it), a test, and
//! its line in the README.

pub(crate) mod async_tasks;
mod context;
pub(crate) mod deadline;
mod error;
pub(crate) mod gil;
mod job;
mod mpi;
mod outcome;
pub(crate) mod pool;
pub(crate) mod process;
pub(crate) mod python;
pub(crate) mod thread;
mod variant;

use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub(crate) use context::{RunContext, RunOutput};
pub use error::ModelError;
pub(crate) use job::Job;
pub use outcome::{WorkerOutcome, WorkerStatus};
pub(crate) use python::interpreter::Interpreter;
pub use variant::StartMethod;
pub(crate) use variant::{DEFAULT_SWITCH_INTERVAL, VariantDefaults, parse_switch_interval};
pub(crate) use variant::{Variant, VariantKind};

use crate::workload::{Workload, WorkloadKind};

/// Runs N workers at once: what each model's file implements.
pub(crate) trait Runner: Sync {
    /// Runs `workers` copies of `workload` as `model` and waits for all of
    /// them. A worker that fails is described in its outcome; `Err` means
    /// the workers could not all be started, and those that were have been
    /// waited for or killed and reaped.
    fn run(
        &self,
        model: Model,
        workload: &Workload,
        workers: usize,
        context: &RunContext,
    ) -> Result<RunOutput, ModelError>;

    /// Where the memory of the workers can be read while they run.
    fn memory(&self) -> MemoryProbe {
        MemoryProbe::OwnProcess
    }

    /// Whether each worker is a separate program, which is what an external
    /// command ([`Workload::Command`]) needs.
    fn runs_programs(&self) -> bool {
        false
    }

    /// Why this paralab cannot run the model at all (built without what it
    /// needs); `None`: it can.
    fn unavailable(&self) -> Option<&'static str> {
        None
    }

    /// The language the workers run in.
    fn language(&self) -> Language {
        Language::Rust
    }

    /// What the sweep does when this model cannot start its workers.
    fn on_start_failure(&self) -> OnStartFailure {
        OnStartFailure::StopSweep
    }

    /// What the model's numbers mean where they would surprise a reader of
    /// the summary, for `workload` on `cpus` CPUs: `[the sleeps wait on the
    /// runtime's timer and hold no thread]`.
    fn note(&self, _model: Model, _workload: WorkloadKind, _cpus: usize) -> Option<String> {
        None
    }

    /// The note when the Python interpreter the run used is known:
    /// `gil_enabled` is its GIL state (`None`: unknown). Only the Python
    /// models' notes depend on it.
    fn note_for_interpreter(
        &self,
        model: Model,
        workload: WorkloadKind,
        cpus: usize,
        _gil_enabled: Option<bool>,
    ) -> Option<String> {
        self.note(model, workload, cpus)
    }

    /// The pip package the model needs beyond CPython's standard library
    /// (`interpreters-pep-734`); such a model is run only when named, as
    /// `--python` must not fail where the package is missing.
    fn optional_library(&self) -> Option<&'static str> {
        None
    }

    /// Why `python` cannot run `model`, in one line that names what to
    /// install (paralab never installs anything); `None`: it can.
    fn missing_library(
        &self,
        _model: Model,
        _python: &python::Python,
    ) -> Option<python::PythonError> {
        None
    }
}

/// Where a run's memory can be read from `/proc` while its workers live.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MemoryProbe {
    /// The workers are threads or tasks of paralab: `/proc/self`.
    OwnProcess,
    /// The workers are paralab's child processes.
    Children,
    /// No figure means anything (an interpreter's memory is not its workers').
    None,
}

/// What the workers' code is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Language {
    /// paralab's own code.
    Rust,
    /// The notebook's code in CPython.
    Python,
}

/// What the sweep does when a model cannot start its workers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OnStartFailure {
    /// The sweep stops there: something is wrong with the machine or paralab.
    StopSweep,
    /// The model is dropped from the rest of the sweep and the others go on
    /// (a broken interpreter says nothing about Rust's models).
    DropModel,
}

/// One family of models: one row of [`MODELS`].
pub(crate) struct Family {
    /// The name on the command line and in files: `process`.
    pub(crate) name: &'static str,
    /// What may follow the name after a colon.
    pub(crate) variant: VariantKind,
    /// A few words for the `--models` help, after the names: `tokio tasks`.
    pub(crate) about: Option<&'static str>,
    /// Runs the workers.
    pub(crate) runner: &'static dyn Runner,
}

/// Every model, in the order help texts list them.
pub(crate) static MODELS: [Family; 15] = [
    Family {
        name: "thread",
        variant: VariantKind::None,
        about: None,
        runner: &thread::Threads,
    },
    Family {
        name: "process",
        variant: VariantKind::StartMethod,
        about: None,
        runner: &process::Processes,
    },
    Family {
        name: "async",
        variant: VariantKind::None,
        about: Some("tokio tasks"),
        runner: &async_tasks::Tasks,
    },
    Family {
        name: "pool",
        variant: VariantKind::None,
        about: Some("rayon"),
        runner: &pool::Pool,
    },
    Family {
        name: "gil",
        variant: VariantKind::SwitchInterval,
        about: Some("threads behind one global lock, like CPython's; MS: its switch interval"),
        runner: &gil::GilThreads,
    },
    Family {
        name: "py-thread",
        variant: VariantKind::None,
        about: None,
        runner: &python::PyFamily::Thread,
    },
    Family {
        name: "py-process",
        variant: VariantKind::StartMethod,
        about: None,
        runner: &python::PyFamily::Process,
    },
    // A Python start method and pool kinds that the Rust models do not
    // have: whole names, so that `process:` takes only fork and spawn.
    Family {
        name: "py-process:forkserver",
        variant: VariantKind::None,
        about: None,
        runner: &python::PyFamily::Forkserver,
    },
    Family {
        name: "py-async",
        variant: VariantKind::None,
        about: Some("the notebook's code in CPython"),
        runner: &python::PyFamily::Async,
    },
    Family {
        name: "py-pool:thread",
        variant: VariantKind::None,
        about: None,
        runner: &python::PyFamily::ThreadPool,
    },
    Family {
        name: "py-pool:process",
        variant: VariantKind::None,
        about: Some("concurrent.futures executors"),
        runner: &python::PyFamily::ProcessPool,
    },
    Family {
        name: "py-interp",
        variant: VariantKind::None,
        about: Some("subinterpreters: CPython 3.14, or 3.13 with interpreters-pep-734"),
        runner: &python::PyFamily::Interpreters,
    },
    Family {
        name: "py-dask",
        variant: VariantKind::None,
        about: Some("Dask distributed: a LocalCluster, or --dask-scheduler's workers"),
        runner: &python::PyFamily::Dask,
    },
    Family {
        name: "mpi",
        variant: VariantKind::None,
        about: Some("MPI ranks launched by mpirun; needs a paralab built with --features mpi"),
        runner: &mpi::MpiRanks,
    },
    Family {
        name: "py-mpi",
        variant: VariantKind::None,
        about: Some("mpi4py ranks launched by mpirun; needs mpi4py in the interpreter"),
        runner: &python::mpi4py::PyMpiRanks,
    },
];

/// How N workers are run at once: a family of the model table and, for some,
/// a start method or a switch interval.
///
/// ```
/// use paralab::{Model, StartMethod};
/// let model: Model = "process:spawn".parse().unwrap();
/// assert_eq!(model, Model::process(StartMethod::Spawn));
/// assert_eq!(model.to_string(), "process:spawn");
/// assert_eq!("gil".parse::<Model>().unwrap(), Model::GIL);
/// ```
///
/// In files a model is `{"model": "thread"}`,
/// `{"model": "process", "start_method": "fork"}`, `{"model": "async"}`,
/// `{"model": "pool"}`, `{"model": "gil", "switch_interval_s": 0.005}`,
/// `{"model": "py-thread"}`, `{"model": "py-process", "start_method": "spawn"}`
/// or `{"model": "py-async"}`.
#[derive(Clone, Copy)]
pub struct Model {
    family: &'static Family,
    variant: Variant,
    // Which of several interpreters a Python model runs in; `None` for the
    // Rust models and when a sweep has one interpreter (whose results then
    // read, and are saved, as before several were possible). Not a
    // `Variant`: it is not written after a colon, and py-process has both.
    interpreter: Option<Interpreter>,
}

impl Model {
    /// N OS threads (`std::thread`), started then joined.
    pub const THREAD: Model = Model::of(&MODELS[0], Variant::None);
    /// N tokio tasks on a multi-threaded runtime with one worker thread per
    /// logical CPU: sleeps wait on the runtime's timer, CPU work runs on
    /// (and occupies) the runtime's worker threads.
    pub const ASYNC: Model = Model::of(&MODELS[2], Variant::None);
    /// N jobs on a rayon pool of one thread per logical CPU.
    pub const POOL: Model = Model::of(&MODELS[3], Variant::None);
    /// N OS threads behind one global lock that behaves like CPython's GIL,
    /// handed over every 5 ms (CPython's default switch interval).
    pub const GIL: Model = Model::gil(DEFAULT_SWITCH_INTERVAL);
    /// The notebook's `threading.Thread` in CPython.
    pub const PY_THREAD: Model = Model::of(&MODELS[5], Variant::None);
    /// The notebook's code as `asyncio` tasks in CPython.
    pub const PY_ASYNC: Model = Model::of(&MODELS[8], Variant::None);
    /// The notebook's `multiprocessing.Process` in CPython, started by a
    /// fork server (Python's `forkserver` start method).
    pub const PY_FORKSERVER: Model = Model::of(&MODELS[7], Variant::None);
    /// The notebook's work as N tasks of a `concurrent.futures.ThreadPoolExecutor`
    /// of N threads.
    pub const PY_THREAD_POOL: Model = Model::of(&MODELS[9], Variant::None);
    /// The notebook's work as N tasks of a `concurrent.futures.ProcessPoolExecutor`
    /// of N (forked) processes.
    pub const PY_PROCESS_POOL: Model = Model::of(&MODELS[10], Variant::None);
    /// The notebook's work in N subinterpreters (PEP 734), one GIL each.
    pub const PY_INTERP: Model = Model::of(&MODELS[11], Variant::None);
    /// The notebook's work in N mpi4py ranks launched by `mpirun`.
    pub const PY_MPI: Model = Model::of(&MODELS[14], Variant::None);
    /// The notebook's work as N Dask tasks: on a LocalCluster of N
    /// single-threaded worker processes, or on `--dask-scheduler`'s workers.
    pub const PY_DASK: Model = Model::of(&MODELS[12], Variant::None);

    const fn of(family: &'static Family, variant: Variant) -> Model {
        Model {
            family,
            variant,
            interpreter: None,
        }
    }

    /// The same Python model, run in `interpreter`: one of several
    /// interpreters of a sweep, each its own column. A Rust model is
    /// returned as it is.
    pub(crate) fn in_interpreter(self, interpreter: Interpreter) -> Model {
        Model {
            interpreter: self.is_python().then_some(interpreter),
            ..self
        }
    }

    /// The interpreter this Python model runs in, when the sweep named
    /// several (`None`: the sweep's only one, or a Rust model).
    pub(crate) fn interpreter(&self) -> Option<Interpreter> {
        self.interpreter
    }

    /// The same Python model in `interpreter`, or in none (the sweep's
    /// only one); a Rust model is returned as it is.
    pub(crate) fn in_interpreter_of(self, interpreter: Option<Interpreter>) -> Model {
        Model {
            interpreter: interpreter.filter(|_| self.is_python()),
            ..self
        }
    }

    /// N OS processes started with `method`, then reaped.
    pub const fn process(method: StartMethod) -> Model {
        Model::of(&MODELS[1], Variant::Start(method))
    }

    /// N threads behind one global lock handed over every `switch_interval`
    /// (held while computing, released while sleeping).
    pub const fn gil(switch_interval: Duration) -> Model {
        Model::of(&MODELS[4], Variant::SwitchInterval(switch_interval))
    }

    /// The notebook's `multiprocessing.Process` in CPython, started with `method`.
    pub const fn py_process(method: StartMethod) -> Model {
        Model::of(&MODELS[6], Variant::Start(method))
    }

    /// Runs `workers` copies of `workload` at once and waits for all of them.
    ///
    /// A worker that fails (panics, dies, reports nothing) is described in
    /// its outcome; `Err` means the workers could not all be started, in
    /// which case those started have been waited for or killed and reaped.
    pub(crate) fn run(
        &self,
        workload: &Workload,
        workers: usize,
        context: &RunContext,
    ) -> Result<RunOutput, ModelError> {
        self.family.runner.run(*self, workload, workers, context)
    }

    /// The model's family name, without what follows a colon: `thread`,
    /// `process`, `async`, `pool`, `gil`, `py-thread`, `py-process`, `py-async`.
    pub fn family(&self) -> &'static str {
        self.family.name
    }

    /// What the model's workers are called in a sentence: `threads`,
    /// `processes`, `tasks`, `ranks`, `interpreters`, or `workers`.
    pub(crate) fn workers_noun(&self) -> &'static str {
        let family = self.family();
        if family.contains("thread") || family == "gil" {
            "threads"
        } else if family.contains("process") {
            "processes"
        } else if family.contains("async") || family == "py-dask" {
            "tasks"
        } else if family.contains("mpi") {
            "ranks"
        } else if family == "py-interp" {
            "interpreters"
        } else {
            "workers"
        }
    }

    /// Whether `other` is of the same family (`process:fork` and
    /// `process:spawn` are; `thread` and `py-thread` are not).
    pub fn same_family(&self, other: Model) -> bool {
        self.family.name == other.family.name
    }

    /// Whether the workers run in CPython rather than in Rust.
    pub fn is_python(&self) -> bool {
        self.family.runner.language() == Language::Python
    }

    /// The start method, for process models.
    pub fn start_method(&self) -> Option<StartMethod> {
        match self.variant {
            Variant::Start(method) => Some(method),
            _ => None,
        }
    }

    /// The switch interval, for the gil model.
    pub fn switch_interval(&self) -> Option<Duration> {
        match self.variant {
            Variant::SwitchInterval(interval) => Some(interval),
            _ => None,
        }
    }

    /// Whether the model runs each worker as a separate program, which is
    /// what an external command ([`Workload::Command`]) needs.
    pub fn runs_programs(&self) -> bool {
        self.family.runner.runs_programs()
    }

    /// Where the workers' memory can be read.
    pub(crate) fn memory(&self) -> MemoryProbe {
        self.family.runner.memory()
    }

    /// What the sweep does when the model cannot start its workers.
    pub(crate) fn on_start_failure(&self) -> OnStartFailure {
        self.family.runner.on_start_failure()
    }

    /// The note when the run's Python interpreter is known (the model's
    /// own, else the machine block's `python`): `gil_enabled` is whether it
    /// had a GIL, so that a free-threaded CPython is never said to hold one.
    pub(crate) fn note_for_interpreter(
        &self,
        workload: WorkloadKind,
        cpus: usize,
        gil_enabled: Option<bool>,
    ) -> Option<String> {
        let gil_enabled = self.interpreter.map(|i| i.gil_enabled()).or(gil_enabled);
        self.family
            .runner
            .note_for_interpreter(*self, workload, cpus, gil_enabled)
    }

    /// The models `--python` adds: the notebook's three CPython models.
    /// The libraries beside them (pools, forkserver, subinterpreters) run
    /// when `--models` names them: the notebook format's columns and the
    /// lessons know only the notebook's, and py-interp needs a package.
    pub(crate) fn python_models(defaults: &VariantDefaults) -> impl Iterator<Item = Model> + '_ {
        Model::all(defaults)
            .filter(Model::is_python)
            .filter(|m| m.family.runner.optional_library().is_none())
            .filter(|m| matches!(m.family.name, "py-thread" | "py-process" | "py-async"))
    }

    /// Why `python` cannot run this model, in one line naming the pip
    /// package to install and the interpreter; `None`: it can.
    pub(crate) fn missing_library(&self, python: &python::Python) -> Option<python::PythonError> {
        self.family.runner.missing_library(*self, python)
    }

    /// Every model of the table with its variant left to `defaults`: what
    /// `--models` can name.
    pub(crate) fn all(defaults: &VariantDefaults) -> impl Iterator<Item = Model> + '_ {
        MODELS
            .iter()
            .filter(|family| family.runner.unavailable().is_none())
            .map(|family| Model::of(family, family.variant.default_variant(defaults)))
    }
}

/// What `--models` accepts: `thread, process, process:fork, process:spawn, …`.
pub(crate) fn model_names() -> String {
    MODELS
        .iter()
        .flat_map(|family| family.variant.spellings(family.name))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The `--models` help: every name, with a few words where a name is not
/// enough: `…, async (tokio tasks), pool (rayon), …`.
pub(crate) fn models_help() -> String {
    MODELS
        .iter()
        .map(|family| {
            let mut names = family.variant.spellings(family.name).join(", ");
            if family.variant == VariantKind::SwitchInterval {
                names = names.replace(" (switch interval)", "");
            }
            match family.about {
                Some(about) => format!("{names} ({about})"),
                None => names,
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A model as a command line names it: the variant may be left open
/// (`process` alone), to be taken from options such as `--start-method`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ModelName {
    family: &'static Family,
    variant: Option<Variant>,
}

impl ModelName {
    /// The model, its open variant taken from `defaults`.
    pub(crate) fn resolve(self, defaults: &VariantDefaults) -> Model {
        let variant = self
            .variant
            .unwrap_or_else(|| self.family.variant.default_variant(defaults));
        Model::of(self.family, variant)
    }
}

impl FromStr for ModelName {
    type Err = String;
    /// `thread`, `process` (start method left open), `process:spawn`,
    /// `gil` (switch interval left open), `gil:2ms`, …
    fn from_str(text: &str) -> Result<ModelName, String> {
        let (name, after) = match text.split_once(':') {
            Some((name, after)) => (name, Some(after)),
            None => (text, None),
        };
        let unknown = || format!("unknown model '{text}'; accepted: {}", model_names());
        // A whole name first: `py-pool:thread` is a family of its own.
        if let Some(family) = MODELS.iter().find(|family| family.name == text) {
            return Ok(ModelName {
                family,
                variant: None,
            });
        }
        let family = MODELS
            .iter()
            .find(|family| family.name == name)
            .ok_or_else(unknown)?;
        if let Some(reason) = family.runner.unavailable() {
            return Err(format!("model '{name}': {reason}"));
        }
        let variant = match after {
            None => None,
            Some(after) => Some(family.variant.parse(after).ok_or_else(unknown)??),
        };
        Ok(ModelName { family, variant })
    }
}

impl FromStr for Model {
    type Err = String;
    /// `process` alone takes the default start method, `fork`; `gil`
    /// alone CPython's 5 ms.
    fn from_str(text: &str) -> Result<Model, String> {
        Ok(text
            .parse::<ModelName>()?
            .resolve(&VariantDefaults::default()))
    }
}

impl fmt::Display for Model {
    /// `thread`, `process:fork`, `async`, `pool`, `gil` (`gil:2ms` when the
    /// switch interval is not CPython's 5 ms).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.variant.suffix() {
            Some(suffix) => write!(f, "{}:{suffix}", self.family.name)?,
            None => f.write_str(self.family.name)?,
        }
        match self.interpreter {
            Some(interpreter) => write!(f, " ({interpreter})"),
            None => Ok(()),
        }
    }
}

impl fmt::Debug for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Model({self})")
    }
}

impl PartialEq for Model {
    fn eq(&self, other: &Model) -> bool {
        self.same_family(*other)
            && self.variant == other.variant
            && self.interpreter == other.interpreter
    }
}

impl Eq for Model {}

impl Hash for Model {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.family.name.hash(state);
        self.variant.hash(state);
        self.interpreter.hash(state);
    }
}

impl PartialEq for Family {
    fn eq(&self, other: &Family) -> bool {
        self.name == other.name
    }
}

impl Eq for Family {}

impl fmt::Debug for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

/// The file form of [`Model`]: the field names and values the first
/// version wrote (`model`, `start_method`, `switch_interval_s`) stay
/// exactly as they were.
#[derive(Serialize, Deserialize)]
struct ModelRepr {
    model: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    start_method: Option<StartMethod>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    switch_interval_s: Option<f64>,
    /// The interpreter, when the sweep had several (absent otherwise, and
    /// in older files).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    python: Option<Interpreter>,
}

impl Serialize for Model {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        ModelRepr {
            model: self.family.name.to_string(),
            start_method: self.start_method(),
            switch_interval_s: self.switch_interval().map(|d| d.as_secs_f64()),
            python: self.interpreter,
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Model {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Model, D::Error> {
        let repr = ModelRepr::deserialize(deserializer)?;
        let family = MODELS
            .iter()
            .find(|family| family.name == repr.model)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown model '{}'", repr.model)))?;
        let defaults = VariantDefaults::default();
        let variant = match family.variant {
            VariantKind::None => Variant::None,
            VariantKind::StartMethod => {
                Variant::Start(repr.start_method.unwrap_or(defaults.start_method))
            }
            VariantKind::SwitchInterval => Variant::SwitchInterval(match repr.switch_interval_s {
                Some(s) => Duration::try_from_secs_f64(s).map_err(serde::de::Error::custom)?,
                None => defaults.switch_interval,
            }),
        };
        let model = Model::of(family, variant);
        Ok(match repr.python {
            Some(interpreter) => model.in_interpreter(interpreter),
            None => model,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_parses_back_to_itself() {
        for model in Model::all(&VariantDefaults::default()) {
            let parsed: Model = model.to_string().parse().unwrap();
            assert_eq!(parsed, model);
            let json = serde_json::to_string(&model).unwrap();
            assert_eq!(
                serde_json::from_str::<Model>(&json).unwrap(),
                model,
                "{json}"
            );
        }
    }

    #[test]
    fn names_and_help_come_from_the_table() {
        assert_eq!(
            model_names(),
            "thread, process, process:fork, process:spawn, async, pool, gil, gil:MS (switch interval), \
             py-thread, py-process, py-process:fork, py-process:spawn, py-process:forkserver, \
             py-async, py-pool:thread, py-pool:process, py-interp, py-dask, mpi, py-mpi"
        );
        assert!(models_help().contains(
            "async (tokio tasks), pool (rayon), gil, gil:MS (threads behind one global lock"
        ));
    }

    #[test]
    fn the_python_libraries_have_whole_names() {
        let parse = |text: &str| text.parse::<Model>().unwrap();
        assert_eq!(parse("py-pool:thread"), Model::PY_THREAD_POOL);
        assert_eq!(parse("py-pool:process"), Model::PY_PROCESS_POOL);
        assert_eq!(parse("py-process:forkserver"), Model::PY_FORKSERVER);
        assert_eq!(parse("py-interp"), Model::PY_INTERP);
        assert_eq!(parse("py-mpi"), Model::PY_MPI);
        assert_eq!(parse("py-dask"), Model::PY_DASK);
        assert!("py-dask:local".parse::<Model>().is_err());
        assert_eq!(
            parse("py-process:spawn"),
            Model::py_process(StartMethod::Spawn)
        );
        // forkserver is CPython's: the Rust process model has no such method.
        assert!("process:forkserver".parse::<Model>().is_err());
        assert!("py-pool".parse::<Model>().is_err());
        assert!("py-pool:fiber".parse::<Model>().is_err());
        for model in [
            Model::PY_THREAD_POOL,
            Model::PY_INTERP,
            Model::PY_DASK,
            Model::PY_MPI,
        ] {
            assert!(model.is_python());
            let json = serde_json::to_string(&model).unwrap();
            assert_eq!(serde_json::from_str::<Model>(&json).unwrap(), model);
        }
        // --python adds the notebook's three, not the libraries beside them.
        let added: Vec<String> = Model::python_models(&VariantDefaults::default())
            .map(|m| m.to_string())
            .collect();
        assert_eq!(added, ["py-thread", "py-process:fork", "py-async"]);
        assert!(!added.contains(&"py-interp".to_string()), "{added:?}");
        assert!(!added.contains(&"py-mpi".to_string()), "{added:?}");
        assert!(!added.contains(&"py-dask".to_string()), "{added:?}");
        assert!(!added.contains(&"py-pool:thread".to_string()), "{added:?}");
    }

    #[test]
    fn an_open_variant_takes_the_defaults() {
        let defaults = VariantDefaults {
            start_method: StartMethod::Spawn,
            switch_interval: Duration::from_millis(2),
        };
        let resolve = |text: &str| text.parse::<ModelName>().unwrap().resolve(&defaults);
        assert_eq!(resolve("process"), Model::process(StartMethod::Spawn));
        assert_eq!(resolve("process:fork"), Model::process(StartMethod::Fork));
        assert_eq!(resolve("py-process"), Model::py_process(StartMethod::Spawn));
        assert_eq!(resolve("gil").to_string(), "gil:2ms");
        assert_eq!(resolve("thread"), Model::THREAD);
    }

    #[test]
    fn bad_names_say_what_is_accepted() {
        for bad in ["fiber", "thread:fork", "", ":fork"] {
            let error = bad.parse::<Model>().unwrap_err();
            assert!(
                error.contains("accepted: thread, process"),
                "{bad}: {error}"
            );
        }
        assert!(
            "process:vfork"
                .parse::<Model>()
                .unwrap_err()
                .contains("fork, spawn")
        );
        assert!(
            "gil:-1"
                .parse::<Model>()
                .unwrap_err()
                .contains("milliseconds")
        );
    }

    #[test]
    fn the_readme_lists_every_model() {
        let readme = include_str!("../../README.md");
        let section = &readme[readme.find("### The models").expect("a models section")..];
        let table = &section[..section[3..]
            .find("\n#")
            .map_or(section.len(), |end| end + 3)];
        for family in &MODELS {
            assert!(
                table.contains(&format!("`{}`", family.name))
                    || table.contains(&format!("`{}:", family.name)),
                "README's table of models has no row for {}",
                family.name
            );
        }
    }

    #[test]
    fn the_file_form_is_the_first_versions() {
        let json = serde_json::to_string(&Model::process(StartMethod::Fork)).unwrap();
        assert_eq!(json, r#"{"model":"process","start_method":"fork"}"#);
        let gil: Model =
            serde_json::from_str(r#"{"model":"gil","switch_interval_s":0.002}"#).unwrap();
        assert_eq!(gil.switch_interval(), Some(Duration::from_millis(2)));
        assert!(serde_json::from_str::<Model>(r#"{"model":"fiber"}"#).is_err());
    }
}
