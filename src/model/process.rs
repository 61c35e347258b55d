//! The `process` model: N OS processes, started with `fork` or `spawn`,
//! each sending its result to the parent, then reaped one by one.
//!
//! This file and [`crate::worker`] are the only places where paralab forks
//! or handles raw process state; every `unsafe` block says why it is sound.
//!
//! All workers of a run write their [`WorkerRecord`] into one pipe, so a run
//! of any size needs two file descriptors. The parent reads the pipe until
//! every copy of its write end is closed (every worker has exited), then
//! reaps each child with `wait4`, which also gives that child's own CPU time.

use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;
use std::process::{Command, Stdio};

use nix::fcntl::OFlag;
use nix::libc;
use nix::sys::signal::{Signal, kill};
use nix::unistd::{ForkResult, Pid, fork, pipe2};

use super::{ModelError, RunContext, StartMethod, WorkerOutcome, WorkerStatus, limits};
use crate::worker::{RECORD_LEN, WorkerRecord, spawn_args};
use crate::workload::Workload;

/// Exit code of a forked child whose workload panicked.
const CHILD_PANICKED: i32 = 101;

/// Starts `workers` processes running `workload`, collects their records
/// and reaps them all.
pub fn run(
    method: StartMethod,
    workload: &Workload,
    workers: usize,
    context: &RunContext,
) -> Result<Vec<WorkerOutcome>, ModelError> {
    let (reader, writer) = pipe2(OFlag::O_CLOEXEC)
        .map_err(|errno| ModelError::Setup(format!("could not create the result pipe: {errno}")))?;

    let mut children: Vec<Pid> = Vec::with_capacity(workers);
    let mut refusal = None;
    for index in 0..workers {
        let started = match method {
            StartMethod::Fork => fork_worker(index, workload, writer.as_fd()),
            StartMethod::Spawn => spawn_worker(index, workload, &writer, &context.worker_exe),
        };
        match started {
            Ok(child) => children.push(child),
            Err(cause) => {
                refusal = Some((index, cause));
                break;
            }
        }
    }
    // Only the workers may hold the write end now, so end-of-file on the
    // read end means every worker has exited.
    drop(writer);

    if let Some((index, cause)) = refusal {
        for &child in &children {
            let _ = kill(child, Signal::SIGKILL);
        }
        for &child in &children {
            let _ = reap(child);
        }
        return Err(refused_or_setup(
            method,
            index,
            workers,
            cause,
            &context.worker_exe,
        ));
    }

    let (records, problems) = read_records(reader, workers);
    let outcomes = children
        .iter()
        .enumerate()
        .map(|(index, &child)| outcome(index, reap(child), records[index], &problems, context))
        .collect();
    Ok(outcomes)
}

/// Forks one worker that runs `workload`, sends its record on `out` and exits.
fn fork_worker(index: usize, workload: &Workload, out: BorrowedFd<'_>) -> io::Result<Pid> {
    // SAFETY: after fork only the calling thread exists in the child, and
    // other threads of the parent may have held locks (the allocator's among
    // them). The child therefore runs only code that takes no lock and
    // allocates nothing: the workload (arithmetic, or nanosleep), two reads
    // of CLOCK_MONOTONIC, one write(2) of a stack buffer, then _exit.
    match unsafe { fork() } {
        Ok(ForkResult::Child) => {
            let sent = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                WorkerRecord::measure(index as u32, workload).send(out)
            }));
            let code = match sent {
                Ok(Ok(())) => 0,
                Ok(Err(_)) => 1,
                Err(_) => CHILD_PANICKED,
            };
            // SAFETY: _exit ends the child at once, without running the
            // parent's atexit handlers or flushing stdio buffers that the
            // child shares with its parent, which would print them twice.
            unsafe { libc::_exit(code) }
        }
        Ok(ForkResult::Parent { child }) => Ok(child),
        Err(errno) => Err(io::Error::from(errno)),
    }
}

/// Starts the worker program afresh with the worker command line, its
/// standard output on the result pipe.
fn spawn_worker(index: usize, workload: &Workload, out: &OwnedFd, exe: &Path) -> io::Result<Pid> {
    let child = Command::new(exe)
        .args(spawn_args(index, workload))
        .stdin(Stdio::null())
        .stdout(Stdio::from(out.try_clone()?))
        .spawn()?;
    // The `Child` handle is dropped without waiting: `reap` waits with
    // wait4, which std does not offer, to get the child's resource usage.
    Ok(Pid::from_raw(child.id() as i32))
}

fn refused_or_setup(
    method: StartMethod,
    index: usize,
    workers: usize,
    cause: io::Error,
    exe: &Path,
) -> ModelError {
    let limited = matches!(
        cause.raw_os_error(),
        Some(libc::EAGAIN | libc::ENOMEM | libc::EMFILE | libc::ENFILE)
    );
    if method == StartMethod::Spawn && !limited {
        return ModelError::Setup(format!(
            "could not execute the worker program {} for the spawn start method: {cause}",
            exe.display()
        ));
    }
    let limit = limits::explain(&cause);
    ModelError::Refused {
        what: "process",
        index,
        workers,
        cause,
        limit,
    }
}

/// Reads records until every worker has closed the pipe. Returns the first
/// valid record of each worker, and what was wrong with the rest.
fn read_records(reader: OwnedFd, workers: usize) -> (Vec<Option<WorkerRecord>>, Vec<String>) {
    let mut records = vec![None; workers];
    let mut problems = Vec::new();
    let mut pipe = File::from(reader);
    let mut record = [0u8; RECORD_LEN];
    let mut filled = 0;
    let mut chunk = [0u8; 4096];
    loop {
        let read = match pipe.read(&mut chunk) {
            Ok(0) => break,
            Ok(read) => read,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => {
                problems.push(format!("reading the result pipe failed: {error}"));
                break;
            }
        };
        for &byte in &chunk[..read] {
            record[filled] = byte;
            filled += 1;
            if filled == RECORD_LEN {
                filled = 0;
                match WorkerRecord::decode(&record) {
                    Ok(valid) if (valid.worker as usize) < workers => {
                        let slot = &mut records[valid.worker as usize];
                        match slot {
                            None => *slot = Some(valid),
                            Some(_) => {
                                problems.push(format!("worker {} reported twice", valid.worker))
                            }
                        }
                    }
                    Ok(valid) => problems.push(format!(
                        "a record named worker {}, which does not exist",
                        valid.worker
                    )),
                    Err(problem) => problems.push(problem),
                }
            }
        }
    }
    if filled != 0 {
        problems.push(format!(
            "the pipe ended in the middle of a record ({filled} of {RECORD_LEN} bytes)"
        ));
    }
    (records, problems)
}

/// How a reaped child ended: its wait status and its own resource usage.
struct Reaped {
    status: libc::c_int,
    cpu_s: f64,
}

/// Waits for `child` with wait4, which reports that child's own resource
/// usage (not the maximum over all children, as `RUSAGE_CHILDREN` would).
fn reap(child: Pid) -> io::Result<Reaped> {
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is a plain C struct of integers, for which all zero
    // bytes is a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: `child` is a child of this process not yet reaped, and
        // both pointers are to live locals that wait4 fills in.
        let returned = unsafe { libc::wait4(child.as_raw(), &mut status, 0, &mut usage) };
        if returned == child.as_raw() {
            let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
            return Ok(Reaped {
                status,
                cpu_s: seconds(usage.ru_utime) + seconds(usage.ru_stime),
            });
        }
        let error = io::Error::last_os_error();
        if error.kind() != io::ErrorKind::Interrupted {
            return Err(error);
        }
    }
}

fn outcome(
    worker: usize,
    reaped: io::Result<Reaped>,
    record: Option<WorkerRecord>,
    problems: &[String],
    context: &RunContext,
) -> WorkerOutcome {
    let (status, cpu_s) = match reaped {
        Err(error) => (
            WorkerStatus::Lost {
                reason: format!("it could not be reaped: {error}"),
            },
            None,
        ),
        Ok(reaped) => (
            exit_status(reaped.status, record, problems),
            Some(reaped.cpu_s),
        ),
    };
    WorkerOutcome {
        worker,
        start_s: record.map(|r| r.start.seconds_since(context.t0)),
        end_s: record.map(|r| r.end.seconds_since(context.t0)),
        cpu_s,
        status,
    }
}

fn exit_status(
    status: libc::c_int,
    record: Option<WorkerRecord>,
    problems: &[String],
) -> WorkerStatus {
    if libc::WIFSIGNALED(status) {
        let number = libc::WTERMSIG(status);
        let signal = Signal::try_from(number)
            .map_or_else(|_| format!("signal {number}"), |s| s.as_str().to_string());
        return WorkerStatus::Killed { signal };
    }
    match (libc::WEXITSTATUS(status), record) {
        (0, Some(record)) => WorkerStatus::Finished {
            result: record.result,
        },
        (0, None) if problems.is_empty() => WorkerStatus::Lost {
            reason: "it exited without reporting a result".into(),
        },
        (0, None) => WorkerStatus::Lost {
            reason: format!("its report was unreadable: {}", problems.join("; ")),
        },
        (CHILD_PANICKED, _) => WorkerStatus::Panicked {
            message: "the workload panicked in the forked child".into(),
        },
        (code, _) => WorkerStatus::Exited { code },
    }
}
