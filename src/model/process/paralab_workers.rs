//! paralab's own worker processes: forked copies of paralab (`fork`), or
//! paralab started afresh with the worker command line (`spawn`), each
//! sending its [`WorkerRecord`] into the one result pipe of the run.
//!
//! All workers of a run write into one pipe, so a run of any size needs
//! two file descriptors. The parent reads the pipe until every copy of its
//! write end is closed (every worker has exited), then reaps each child
//! with `wait4`, which also gives that child's own CPU time.

use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use nix::fcntl::OFlag;
use nix::unistd::{Pid, getpid, pipe2};

use super::record::{Reports, WorkerRecord, read_records};
use super::supervise::{Launcher, Supervised, killed_by, supervise};
use super::worker::{PARENT_ENV, spawn_args};
use crate::measure::clock::MonoTime;
use crate::model::{Job, Model, ModelError, RunContext, StartMethod, WorkerStatus};
use crate::sys::fork::{fork_worker, start_as_worker};
use crate::sys::limits;
use crate::sys::wait::{Exit, PANIC_EXIT};
use crate::workload::Workload;

/// Starts `workers` paralab workers running `workload`, collects their
/// records and reaps them all.
pub(super) fn run(
    method: StartMethod,
    workload: &Workload,
    workers: usize,
    context: &RunContext,
) -> Result<Supervised, ModelError> {
    let job = match (method, workload) {
        (StartMethod::Spawn, Workload::Custom { name, .. }) => {
            return Err(ModelError::ClosureCannotCrossExec {
                name: name.clone(),
                model: "process:spawn".into(),
            });
        }
        (StartMethod::Fork, _) => Some(Job::in_process(
            workload,
            context,
            Model::process(StartMethod::Fork),
        )?),
        (StartMethod::Spawn, _) => None,
    };
    let (reader, writer) = pipe2(OFlag::O_CLOEXEC).map_err(|errno| {
        let cause = io::Error::from(errno);
        ModelError::Resource {
            doing: "create the result pipe".into(),
            limit: limits::explain(&cause),
            cause,
        }
    })?;
    let mut launcher = ParalabWorkers {
        method,
        job,
        workload,
        exe: &context.worker_exe,
        reader: Some(reader),
        writer: Some(writer),
    };
    supervise(&mut launcher, workers, context)
}

/// The workers of one run, and the two ends of their result pipe.
struct ParalabWorkers<'a> {
    method: StartMethod,
    /// What a forked worker runs; `None` for `spawn`.
    job: Option<Job>,
    workload: &'a Workload,
    /// The program a spawned worker is.
    exe: &'a Path,
    reader: Option<OwnedFd>,
    /// Closed once every worker is started, so that end-of-file on the
    /// read end means every worker has exited.
    writer: Option<OwnedFd>,
}

impl Launcher for ParalabWorkers<'_> {
    type Reports = Reports;

    fn start(&mut self, index: usize) -> io::Result<Pid> {
        let writer = self
            .writer
            .as_ref()
            .expect("open until every worker is started");
        match &self.job {
            Some(job) => fork(index, job, writer.as_fd()),
            None => spawn(index, self.workload, writer, self.exe),
        }
    }

    fn all_started(&mut self) {
        // Only the workers may hold the write end now.
        self.writer = None;
    }

    fn start_error(&self, cause: io::Error) -> Result<ModelError, io::Error> {
        match self.method {
            StartMethod::Spawn => Ok(ModelError::WorkerProgram {
                exe: PathBuf::from(self.exe),
                cause,
            }),
            StartMethod::Fork => Err(cause),
        }
    }

    fn collect(&mut self, workers: usize) -> Reports {
        let reader = self.reader.take().expect("read once");
        read_records(reader, workers)
    }

    fn status(&self, worker: usize, exit: Exit, reports: &Reports) -> WorkerStatus {
        exit_status(exit, reports.records[worker], &reports.problems)
    }

    fn times(
        &self,
        worker: usize,
        _started: MonoTime,
        _exited: Option<MonoTime>,
        reports: &Reports,
        t0: MonoTime,
    ) -> (Option<f64>, Option<f64>) {
        let record = reports.records[worker];
        (
            record.map(|r| r.start.seconds_since(t0)),
            record.map(|r| r.end.seconds_since(t0)),
        )
    }
}

/// Forks one worker that runs `job`, sends its record on `out` and exits.
fn fork(index: usize, job: &Job, out: BorrowedFd<'_>) -> io::Result<Pid> {
    // The child runs the workload (arithmetic, or nanosleep), two reads of
    // CLOCK_MONOTONIC and one write(2) of a stack buffer: no allocation,
    // no lock, as `fork_worker` requires.
    fork_worker(
        || match WorkerRecord::measure_with(index as u32, || job.run()).send(out) {
            Ok(()) => 0,
            Err(_) => 1,
        },
    )
}

/// Starts the worker program afresh with the worker command line, its
/// standard output on the result pipe, set up as every child of paralab
/// (its own group, death with paralab from before the exec, default
/// signals).
fn spawn(index: usize, workload: &Workload, out: &OwnedFd, exe: &Path) -> io::Result<Pid> {
    let child = start_as_worker(
        Command::new(exe)
            .args(spawn_args(index, workload))
            .env(PARENT_ENV, getpid().to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::from(out.try_clone()?)),
    )
    .spawn()?;
    // The `Child` handle is dropped without waiting: the run reaps it with
    // wait4, which std does not offer, to get the child's resource usage.
    Ok(Pid::from_raw(child.id() as i32))
}

/// How a paralab worker ended, from its exit and its record.
fn exit_status(exit: Exit, record: Option<WorkerRecord>, problems: &[String]) -> WorkerStatus {
    let code = match exit {
        Exit::Signal(number) => return killed_by(number),
        Exit::Code(code) => code,
    };
    match (code, record) {
        (0, Some(record)) => WorkerStatus::Finished {
            result: record.result,
        },
        (0, None) if problems.is_empty() => WorkerStatus::Lost {
            reason: "it exited without reporting a result".into(),
        },
        (0, None) => WorkerStatus::Lost {
            reason: format!("its report was unreadable: {}", problems.join("; ")),
        },
        (PANIC_EXIT, _) => WorkerStatus::Panicked {
            message: "the workload panicked in the forked child".into(),
        },
        (code, _) => WorkerStatus::Exited { code },
    }
}
