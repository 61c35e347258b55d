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

use std::ffi::CString;
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::libc;
use nix::sys::prctl;
use nix::sys::signal::{SigSet, Signal, killpg};
use nix::sys::wait::{Id, WaitPidFlag, waitid};
use nix::unistd::{ForkResult, Pid, fork, getpid, getppid, pipe2, setpgid};

use super::{
    Job, MemoryProbe, Model, ModelError, RunContext, RunOutput, Runner, StartMethod, WorkerOutcome,
    WorkerStatus, deadline, limits,
};
use crate::measure::clock::MonoTime;
use crate::sys::signals::{self as interrupt, WorkerGroup};
use crate::sys::stop::StopToken;
use crate::worker::{PARENT_ENV, RECORD_LEN, WorkerRecord, spawn_args};
use crate::workload::{ProgramError, Workload, resolve_program};

/// Exit code of a forked child whose workload panicked.
const CHILD_PANICKED: i32 = 101;

/// Exit code of a forked child that could not execute its command, as
/// shells report "command not found".
const EXEC_FAILED: i32 = 127;

/// Starts `workers` processes running `workload`, collects their records
/// and reaps them all.
pub fn run(
    method: StartMethod,
    workload: &Workload,
    workers: usize,
    context: &RunContext,
) -> Result<Vec<WorkerOutcome>, ModelError> {
    if let Workload::Command { argv } = workload {
        return run_commands(method, argv, workers, context);
    }
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

    let deadline = deadline::deadline(context);
    let mut children: Vec<Pid> = Vec::with_capacity(workers);
    let mut groups: Vec<WorkerGroup> = Vec::with_capacity(workers);
    let mut refusal = None;
    for index in 0..workers {
        if context.stop.requested().is_some() {
            break;
        }
        let started = match &job {
            Some(job) => fork_worker(index, job, writer.as_fd()),
            None => spawn_worker(index, workload, &writer, &context.worker_exe),
        };
        match started {
            Ok(child) => {
                children.push(child);
                groups.push(WorkerGroup::register(child));
            }
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
        let limit = limits::explain(&cause);
        kill_and_reap(groups, children.iter().copied());
        return Err(refused_or_setup(
            method,
            index,
            workers,
            cause,
            limit,
            &context.worker_exe,
        ));
    }

    let watchdog = Watchdog::start(&children, deadline);
    let (records, problems) = read_records(reader, workers);
    let timed_out = watchdog.stop();
    // Every worker has exited (the pipe is closed): unregister, then reap.
    drop(groups);
    let mut outcomes: Vec<WorkerOutcome> = children
        .iter()
        .enumerate()
        .map(|(index, &child)| {
            let mut outcome = outcome(index, reap(child), records[index], &problems, context);
            outcome.status = stopped_status(outcome.status, timed_out, &context.stop);
            outcome
        })
        .collect();
    never_started(&mut outcomes, workers, &context.stop);
    Ok(outcomes)
}

/// A worker killed by paralab itself is reported for why it was killed: a
/// timeout (SIGKILL from the watchdog) or a stop signal (SIGTERM, then
/// SIGKILL after the grace period). Anything else is kept as it is.
fn stopped_status(status: WorkerStatus, timed_out: bool, stop: &StopToken) -> WorkerStatus {
    let WorkerStatus::Killed { signal } = &status else {
        return status;
    };
    if timed_out && signal == "SIGKILL" {
        return WorkerStatus::TimedOut {
            still_running: false,
        };
    }
    match stop.requested() {
        Some(stop) if signal == "SIGKILL" || signal == "SIGTERM" => WorkerStatus::Interrupted {
            signal: stop.as_str().to_string(),
        },
        _ => status,
    }
}

/// Workers left unstarted because a stop was requested while starting.
fn never_started(outcomes: &mut Vec<WorkerOutcome>, workers: usize, stop: &StopToken) {
    let Some(stop) = stop.requested() else {
        return;
    };
    for worker in outcomes.len()..workers {
        let signal = stop.as_str().to_string();
        outcomes.push(WorkerOutcome::failed(
            worker,
            WorkerStatus::Interrupted { signal },
        ));
    }
}

/// Kills the worker groups of a run that outlives its deadline: a thread
/// that sleeps until then, unless the run ends first. No thread at all
/// when the run has no deadline.
struct Watchdog {
    done: Option<mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<bool>>,
}

impl Watchdog {
    fn start(groups: &[Pid], deadline: Option<Instant>) -> Watchdog {
        let Some(deadline) = deadline else {
            return Watchdog {
                done: None,
                thread: None,
            };
        };
        let groups = groups.to_vec();
        let (done, finished) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("paralab-timeout".into())
            .spawn(move || {
                let left = deadline.saturating_duration_since(Instant::now());
                match finished.recv_timeout(left) {
                    Err(mpsc::RecvTimeoutError::Timeout) => {
                        for &group in &groups {
                            let _ = killpg(group, Signal::SIGKILL);
                        }
                        true
                    }
                    _ => false,
                }
            });
        match thread {
            Ok(thread) => Watchdog {
                done: Some(done),
                thread: Some(thread),
            },
            // Without a thread to watch the clock, kill at the deadline
            // is impossible; the run goes on without a limit.
            Err(_) => Watchdog {
                done: None,
                thread: None,
            },
        }
    }

    /// Stops watching; whether the deadline had passed and the groups were killed.
    fn stop(mut self) -> bool {
        drop(self.done.take());
        self.thread
            .take()
            .and_then(|thread| thread.join().ok())
            .unwrap_or(false)
    }
}

/// Forks one worker that runs `job`, sends its record on `out` and exits.
fn fork_worker(index: usize, job: &Job, out: BorrowedFd<'_>) -> io::Result<Pid> {
    let parent = getpid();
    let stop_signals = interrupt::stop_signals();
    // SAFETY: after fork only the calling thread exists in the child, and
    // other threads of the parent may have held locks (the allocator's among
    // them). The child therefore runs only code that takes no lock and
    // allocates nothing: the workload (arithmetic, or nanosleep), two reads
    // of CLOCK_MONOTONIC, one write(2) of a stack buffer, then _exit. A
    // closure workload is the user's code; its documentation
    // (`WorkloadFn`) states the same rule. One case is beyond that rule: a
    // closure that panics runs the panic hook, which allocates and locks
    // stderr, and can deadlock the child if another thread held those
    // locks at the fork; the run then waits for that child (bounded by
    // `--timeout` when given). cpu and sleep never panic.
    match unsafe { fork() } {
        Ok(ForkResult::Child) => {
            become_worker(parent, &stop_signals);
            let sent = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                WorkerRecord::measure_with(index as u32, || job.run()).send(out)
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
        Ok(ForkResult::Parent { child }) => {
            // Also here, so the group exists before the parent signals it,
            // whichever of the two runs first.
            let _ = setpgid(child, child);
            Ok(child)
        }
        Err(errno) => Err(io::Error::from(errno)),
    }
}

/// What a forked child does first: leave the terminal's process group (so
/// Ctrl-C reaches paralab only, which decides, and the whole group can be
/// killed), ask to be killed if paralab dies, even by SIGKILL, and take
/// SIGINT and SIGTERM back (the fork copied paralab's blocked mask).
/// Only system calls: safe right after `fork`.
fn become_worker(parent: Pid, stop_signals: &SigSet) {
    let _ = setpgid(Pid::from_raw(0), Pid::from_raw(0));
    let _ = prctl::set_pdeathsig(Signal::SIGKILL);
    if getppid() != parent {
        // SAFETY: the parent died before the request above took effect;
        // _exit ends this orphan at once.
        unsafe { libc::_exit(1) }
    }
    let _ = stop_signals.thread_unblock();
}

/// Starts the worker program afresh with the worker command line, its
/// standard output on the result pipe.
fn spawn_worker(index: usize, workload: &Workload, out: &OwnedFd, exe: &Path) -> io::Result<Pid> {
    let child = Command::new(exe)
        .args(spawn_args(index, workload))
        .env(PARENT_ENV, getpid().to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::from(out.try_clone()?))
        .process_group(0)
        .spawn()?;
    // The `Child` handle is dropped without waiting: `reap` waits with
    // wait4, which std does not offer, to get the child's resource usage.
    Ok(Pid::from_raw(child.id() as i32))
}

/// Runs `workers` copies of an external program at once and reaps them;
/// each one's exit status is its outcome. `fork` forks paralab and execs
/// the program in the child; `spawn` lets the standard library start it
/// (`posix_spawn`, which does not copy paralab's page tables).
fn run_commands(
    method: StartMethod,
    argv: &[String],
    workers: usize,
    context: &RunContext,
) -> Result<Vec<WorkerOutcome>, ModelError> {
    let (program, args) = argv.split_first().ok_or(ProgramError::Empty)?;
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
    let c_path = CString::new(path.as_os_str().as_bytes());
    let c_argv: Result<Vec<CString>, _> = argv.iter().map(|a| CString::new(a.as_bytes())).collect();
    let (Ok(c_path), Ok(c_argv)) = (c_path, c_argv) else {
        return Err(ProgramError::NulByte.into());
    };
    let argv_ptrs: Vec<*const libc::c_char> = c_argv
        .iter()
        .map(|a| a.as_ptr())
        .chain(std::iter::once(std::ptr::null()))
        .collect();

    let deadline = deadline::deadline(context);
    let parent = getpid();
    let stop_signals = interrupt::stop_signals();
    let mut children: Vec<(Pid, MonoTime)> = Vec::with_capacity(workers);
    let mut groups: Vec<WorkerGroup> = Vec::with_capacity(workers);
    for index in 0..workers {
        if context.stop.requested().is_some() {
            break;
        }
        let start = MonoTime::now();
        let started = match method {
            StartMethod::Fork => fork_exec(&c_path, &argv_ptrs, &devnull, parent, &stop_signals),
            // posix_spawn, also for the process group: a program started
            // this way is not killed by the kernel if paralab is SIGKILLed
            // (only `fork` can ask for that before exec).
            StartMethod::Spawn => Command::new(&path)
                .args(args)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .process_group(0)
                .spawn()
                .map(|child| Pid::from_raw(child.id() as i32)),
        };
        match started {
            Ok(child) => {
                children.push((child, start));
                groups.push(WorkerGroup::register(child));
            }
            Err(cause) => {
                let limit = limits::explain(&cause);
                kill_and_reap(groups, children.iter().map(|&(child, _)| child));
                let limited = is_os_limit(&cause);
                if !limited {
                    return Err(ModelError::Exec {
                        program: path,
                        cause,
                    });
                }
                return Err(ModelError::Refused {
                    what: "process",
                    index,
                    workers,
                    cause,
                    limit,
                });
            }
        }
    }
    let pids: Vec<Pid> = children.iter().map(|&(child, _)| child).collect();
    let watchdog = Watchdog::start(&pids, deadline);
    for &child in &pids {
        wait_exited(child);
    }
    let timed_out = watchdog.stop();
    // What the programs started and left in their groups goes with them.
    for group in &groups {
        group.signal(Signal::SIGKILL);
    }
    drop(groups);
    let mut outcomes: Vec<WorkerOutcome> = children
        .iter()
        .enumerate()
        .map(|(worker, &(child, start))| {
            let (status, cpu_s) = match reap(child) {
                Ok(reaped) => (
                    stopped_status(command_status(reaped.status), timed_out, &context.stop),
                    Some(reaped.cpu_s),
                ),
                Err(error) => (
                    WorkerStatus::Lost {
                        reason: format!("it could not be reaped: {error}"),
                    },
                    None,
                ),
            };
            WorkerOutcome {
                worker,
                start_s: Some(start.seconds_since(context.t0)),
                end_s: None,
                cpu_s,
                status,
            }
        })
        .collect();
    never_started(&mut outcomes, workers, &context.stop);
    Ok(outcomes)
}

/// Waits until `child` has exited, without reaping it: its pid, and its
/// process group, stay reserved until [`reap`], so no signal sent to them
/// meanwhile can reach an unrelated process.
fn wait_exited(child: Pid) {
    let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOWAIT;
    while let Err(Errno::EINTR) = waitid(Id::Pid(child), flags) {}
}

/// Forks a child that puts /dev/null on its standard input and output and
/// executes `path` with `argv` (NULL-terminated).
fn fork_exec(
    path: &CString,
    argv: &[*const libc::c_char],
    devnull: &File,
    parent: Pid,
    stop_signals: &SigSet,
) -> io::Result<Pid> {
    // SAFETY: the child calls only async-signal-safe functions (setpgid,
    // prctl, getppid, pthread_sigmask, dup2, execv, _exit) on data built
    // before the fork; nothing allocates or takes a lock.
    match unsafe { fork() } {
        Ok(ForkResult::Child) => {
            // The death signal and the unblocked mask survive the exec.
            become_worker(parent, stop_signals);
            // SAFETY: `devnull` is an open descriptor; 0 and 1 are the
            // standard descriptors; `path` and `argv` are NUL-terminated C
            // strings and a NULL-terminated array of them, alive until exec.
            unsafe {
                libc::dup2(devnull.as_raw_fd(), 0);
                libc::dup2(devnull.as_raw_fd(), 1);
                libc::execv(path.as_ptr(), argv.as_ptr());
                libc::_exit(EXEC_FAILED)
            }
        }
        Ok(ForkResult::Parent { child }) => {
            let _ = setpgid(child, child);
            Ok(child)
        }
        Err(errno) => Err(io::Error::from(errno)),
    }
}

/// After a refusal: kills the workers already started (their whole process
/// groups) and reaps them, so that none outlives the failed run.
fn kill_and_reap(groups: Vec<WorkerGroup>, children: impl Iterator<Item = Pid>) {
    for group in &groups {
        group.signal(Signal::SIGKILL);
    }
    for child in children {
        let _ = reap(child);
    }
}

/// `Killed` with the signal's name, for a wait status that says a signal
/// ended the process.
fn killed_by_signal(status: libc::c_int) -> Option<WorkerStatus> {
    if !libc::WIFSIGNALED(status) {
        return None;
    }
    let number = libc::WTERMSIG(status);
    let signal = Signal::try_from(number)
        .map_or_else(|_| format!("signal {number}"), |s| s.as_str().to_string());
    Some(WorkerStatus::Killed { signal })
}

/// Whether starting a worker failed on an OS limit (processes, memory,
/// open files) rather than on the program itself.
fn is_os_limit(cause: &io::Error) -> bool {
    matches!(
        cause.raw_os_error(),
        Some(libc::EAGAIN | libc::ENOMEM | libc::EMFILE | libc::ENFILE)
    )
}

/// A command's wait status as an outcome: exit 0 is success (result 0).
fn command_status(status: libc::c_int) -> WorkerStatus {
    if let Some(killed) = killed_by_signal(status) {
        return killed;
    }
    match libc::WEXITSTATUS(status) {
        0 => WorkerStatus::Finished { result: 0 },
        code => WorkerStatus::Exited { code },
    }
}

fn refused_or_setup(
    method: StartMethod,
    index: usize,
    workers: usize,
    cause: io::Error,
    limit: String,
    exe: &Path,
) -> ModelError {
    let limited = is_os_limit(&cause);
    if method == StartMethod::Spawn && !limited {
        return ModelError::WorkerProgram {
            exe: exe.to_path_buf(),
            cause,
        };
    }
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
    if let Some(killed) = killed_by_signal(status) {
        return killed;
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

/// What [`run_in_group`] got from a program.
#[derive(Debug)]
pub struct GroupOutput {
    /// Its exit status and everything it wrote.
    pub output: std::process::Output,
    /// Whether the timeout expired, and the group was killed.
    pub timed_out: bool,
    /// The stop signal that ended the run while it ran, if one did.
    pub interrupted: Option<Signal>,
}

/// Runs `command` as one worker (a Python interpreter running a whole run,
/// say): in its own process group, registered so that Ctrl-C and SIGTERM
/// stop it, killed with its whole group when `timeout` expires, its
/// standard output and error collected, reaped, and whatever it left in
/// its group killed. Standard input is /dev/null.
///
/// ```
/// use std::time::Duration;
/// let mut sleeper = std::process::Command::new("sleep");
/// sleeper.arg("10");
/// let ran = paralab::model::process::run_in_group(&mut sleeper, Some(Duration::from_millis(100)), &Default::default()).unwrap();
/// assert!(ran.timed_out);
/// ```
pub fn run_in_group(
    command: &mut Command,
    timeout: Option<Duration>,
    stop: &StopToken,
) -> io::Result<GroupOutput> {
    let deadline = timeout.map(|timeout| Instant::now() + timeout);
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()?;
    let pid = Pid::from_raw(child.id() as i32);
    let group = WorkerGroup::register(pid);
    let watchdog = Watchdog::start(&[pid], deadline);
    let output = child.wait_with_output();
    let timed_out = watchdog.stop();
    group.signal(Signal::SIGKILL);
    drop(group);
    Ok(GroupOutput {
        output: output?,
        timed_out,
        interrupted: stop.requested(),
    })
}

/// Forks a child that exits at once, and waits for it: the cost of the
/// `fork` start method itself (what `paralab primitives` times, and what
/// lmbench's `lat_proc fork` times).
pub fn fork_and_wait() -> io::Result<()> {
    // SAFETY: the child calls only _exit, which is async-signal-safe.
    match unsafe { fork() } {
        // SAFETY: _exit ends the child at once, running nothing of the
        // parent's (no atexit handler, no stdio flush).
        Ok(ForkResult::Child) => unsafe { libc::_exit(0) },
        Ok(ForkResult::Parent { child }) => reap(child).map(|_| ()),
        Err(errno) => Err(io::Error::from(errno)),
    }
}

/// A forked child that echoes every byte it reads from one pipe into
/// another, for timing a round trip between two processes (lmbench's
/// `lat_pipe`, `perf bench sched pipe`). Dropping it closes the pipes,
/// which ends the child, and reaps it.
pub struct EchoChild {
    to_child: Option<File>,
    from_child: File,
    child: Pid,
}

impl EchoChild {
    /// Forks the echoing child.
    pub fn start() -> io::Result<EchoChild> {
        let (child_reads, parent_writes) = pipe2(OFlag::O_CLOEXEC)?;
        let (parent_reads, child_writes) = pipe2(OFlag::O_CLOEXEC)?;
        // SAFETY: the child only calls read(2) and write(2) on a stack
        // buffer, then _exit: no allocation, no lock.
        match unsafe { fork() } {
            Ok(ForkResult::Child) => {
                drop(parent_writes);
                drop(parent_reads);
                let mut byte = [0u8; 1];
                loop {
                    match nix::unistd::read(&child_reads, &mut byte) {
                        Ok(1) => {
                            if nix::unistd::write(&child_writes, &byte).is_err() {
                                break;
                            }
                        }
                        Err(nix::errno::Errno::EINTR) => continue,
                        _ => break,
                    }
                }
                // SAFETY: ends the child without running the parent's
                // exit handlers.
                unsafe { libc::_exit(0) }
            }
            Ok(ForkResult::Parent { child }) => Ok(EchoChild {
                to_child: Some(File::from(parent_writes)),
                from_child: File::from(parent_reads),
                child,
            }),
            Err(errno) => Err(io::Error::from(errno)),
        }
    }

    /// Sends one byte and waits for it to come back.
    pub fn round_trip(&mut self) -> io::Result<()> {
        use std::io::Write;
        let to_child = self.to_child.as_mut().expect("open until drop");
        to_child.write_all(&[1])?;
        let mut byte = [0u8; 1];
        self.from_child.read_exact(&mut byte)
    }
}

impl Drop for EchoChild {
    fn drop(&mut self) {
        // End of file on its input ends the child's loop.
        self.to_child = None;
        let _ = reap(self.child);
    }
}

/// The `process` model: each worker a process of its own.
pub(crate) struct Processes;

impl Runner for Processes {
    fn run(
        &self,
        model: Model,
        workload: &Workload,
        workers: usize,
        context: &RunContext,
    ) -> Result<RunOutput, ModelError> {
        let method = model.start_method().unwrap_or_default();
        run(method, workload, workers, context).map(RunOutput::timed_by_caller)
    }

    fn memory(&self) -> MemoryProbe {
        MemoryProbe::Children
    }

    fn runs_programs(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_program_in_a_group_gives_its_output() {
        let mut echo = Command::new("sh");
        echo.args(["-c", "echo hi; echo there >&2; exit 3"]);
        let ran =
            run_in_group(&mut echo, Some(Duration::from_secs(30)), &StopToken::new()).unwrap();
        assert_eq!(ran.output.stdout, b"hi\n");
        assert_eq!(ran.output.stderr, b"there\n");
        assert_eq!(ran.output.status.code(), Some(3));
        assert!(!ran.timed_out);
    }

    #[test]
    fn a_timeout_kills_the_program_and_its_children() {
        let start = Instant::now();
        let mut shell = Command::new("sh");
        // The shell's child holds the output pipe too: only killing the
        // whole group ends the wait.
        shell.args(["-c", "sleep 30; echo late"]);
        let ran = run_in_group(
            &mut shell,
            Some(Duration::from_millis(200)),
            &StopToken::new(),
        )
        .unwrap();
        assert!(ran.timed_out);
        assert!(ran.output.stdout.is_empty());
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{:?}",
            start.elapsed()
        );
    }
}
