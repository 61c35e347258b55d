//! `--cmd`: N copies of an external program at once, each one's exit
//! status its outcome. `fork` forks paralab and execs the program in the
//! child with paralab's own allocation-free child code; `spawn` lets the
//! standard library start it. Both set the child up alike (its own
//! process group, death with paralab, default signals), so the standard
//! library forks too: `posix_spawn` cannot ask the kernel to kill the
//! program when paralab dies.

use std::fs::File;
use std::io;
use std::path::PathBuf;

use nix::unistd::Pid;

use super::super::{ModelError, RunContext, StartMethod, WorkerStatus};
use super::supervise::{Launcher, Supervised, killed_by, supervise};
use crate::measure::clock::MonoTime;
use crate::sys::fork::{ExecArgs, fork_exec};
use crate::sys::limits;
use crate::sys::spawn::spawn_exec;
use crate::sys::wait::Exit;
use crate::workload::{ProgramError, resolve_program};

/// Runs `workers` copies of the program `argv` at once and reaps them.
pub(super) fn run(
    method: StartMethod,
    argv: &[String],
    workers: usize,
    context: &RunContext,
) -> Result<Supervised, ModelError> {
    let (program, _) = argv.split_first().ok_or(ProgramError::Empty)?;
    let path = resolve_program(program)?;
    let devnull = File::options()
        .read(true)
        .write(true)
        .open("/dev/null")
        .map_err(|cause| ModelError::Resource {
            doing: "open /dev/null".into(),
            limit: limits::explain(&cause),
            cause,
        })?;
    // Everything exec needs is built before forking, so the child only
    // calls dup2, execv and _exit.
    let exec = ExecArgs::new(&path, argv).map_err(|_| ProgramError::NulByte)?;
    let mut launcher = Commands {
        method,
        path,
        exec,
        devnull,
    };
    supervise(&mut launcher, workers, context)
}

/// The program of a run, ready to start either way.
struct Commands {
    method: StartMethod,
    path: PathBuf,
    exec: ExecArgs,
    /// Standard input and output of a forked copy.
    devnull: File,
}

impl Launcher for Commands {
    type Reports = ();

    fn start(&mut self, _index: usize) -> io::Result<Pid> {
        match self.method {
            StartMethod::Fork => fork_exec(&self.exec, &self.devnull),
            StartMethod::Spawn => spawn_exec(&self.exec, &self.devnull),
        }
    }

    fn start_error(&self, cause: io::Error) -> Result<ModelError, io::Error> {
        Ok(ModelError::Exec {
            program: self.path.clone(),
            cause,
        })
    }

    /// A program tells nothing but its exit status.
    fn collect(&mut self, _workers: usize) {}

    /// Exit 0 is success (result 0).
    fn status(&self, _worker: usize, exit: Exit, _reports: &()) -> WorkerStatus {
        match exit {
            Exit::Signal(number) => killed_by(number),
            Exit::Code(0) => WorkerStatus::Finished { result: 0 },
            Exit::Code(code) => WorkerStatus::Exited { code },
        }
    }

    /// When it was started; a program does not say when it ended its work.
    fn times(
        &self,
        _worker: usize,
        started: MonoTime,
        _reports: &(),
        t0: MonoTime,
    ) -> (Option<f64>, Option<f64>) {
        (Some(started.seconds_since(t0)), None)
    }
}
