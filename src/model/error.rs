//! Why a model could not run all its workers: each case typed, with the
//! cause it came from kept as a value, not folded into text.

use std::io;
use std::path::PathBuf;

use super::python::PythonError;
use crate::workload::ProgramError;

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
        cause: io::Error,
        /// The limit that was most likely hit, with its current value.
        limit: String,
    },
    /// The OS refused something the model needs before any worker starts
    /// (a pipe, a runtime's threads, `/dev/null`).
    #[error("could not {doing}: {cause}; {limit}")]
    Resource {
        /// What was being done: "create the result pipe".
        doing: String,
        /// The error the OS gave.
        cause: io::Error,
        /// The limit that was most likely hit, with its current value.
        limit: String,
    },
    /// rayon could not build its pool.
    #[error("could not start the rayon pool's {threads} threads: {cause}")]
    Pool {
        /// How many threads were asked for.
        threads: usize,
        /// rayon's reason.
        cause: rayon::ThreadPoolBuildError,
    },
    /// A closure lives in paralab's memory and cannot cross an `exec`.
    #[error(
        "the closure workload '{name}' cannot cross an exec, so {model} cannot run it; use process:fork or an in-process model"
    )]
    ClosureCannotCrossExec {
        /// The workload's name.
        name: String,
        /// The model that was asked to run it.
        model: String,
    },
    /// An external program needs a model that runs programs.
    #[error(
        "an external command runs only under the process models (process:fork, process:spawn), not '{model}', which runs its workers inside paralab"
    )]
    CommandNeedsProcesses {
        /// The model that was asked to run it.
        model: String,
    },
    /// A custom workload whose closure was not given to the experiment.
    #[error(
        "no closure is registered for the custom workload '{name}'; pass it to Experiment::workload_fn"
    )]
    NoClosure {
        /// The workload's name.
        name: String,
    },
    /// The external program cannot be run.
    #[error(transparent)]
    Program(#[from] ProgramError),
    /// The OS could not execute a program that exists.
    #[error("could not run '{}': {}", .program.display(), crate::fmt::os_error(.cause))]
    Exec {
        /// The program.
        program: PathBuf,
        /// The error `exec` gave.
        cause: io::Error,
    },
    /// The program the spawn start method re-executes could not be run.
    #[error("could not execute the worker program {exe} for the spawn start method: {cause}")]
    WorkerProgram {
        /// The program, normally paralab itself.
        exe: PathBuf,
        /// The error `exec` gave.
        cause: io::Error,
    },
    /// A Python model was asked to run without an interpreter.
    #[error("no Python interpreter was given for the Python models (Experiment::python)")]
    NoPython,
    /// The interpreter failed to run the driver, or to report.
    #[error(transparent)]
    Python(#[from] PythonError),
}
