//! The one loop that runs N worker processes, whatever they are (paralab
//! workers reporting through the result pipe, or `--cmd` programs): start
//! them, each in its own registered process group; after a refusal, kill
//! and reap those started and name the OS limit; otherwise watch the
//! deadline while they run, wait for every one to exit, kill what they
//! left in their groups, reap each with `wait4` (its own CPU time) and
//! tell how it ended.
//!
//! The run is timed here, from just before the first worker is started to
//! just after the last is reaped, as hyperfine times a command from before
//! its spawn to after its wait: what a launcher prepares beforehand (a
//! program's path looked up, `/dev/null` opened, the result pipe made) is
//! not on the clock, nor is anything the caller does around the run.

use std::io;

use nix::sys::signal::Signal;
use nix::unistd::Pid;

use super::super::{ModelError, RunContext, WorkerOutcome, WorkerStatus, deadline};
use crate::measure::clock::MonoTime;
use crate::measure::cpu::CpuUsage;
use crate::measure::memory::Watched;
use crate::sys::limits;
use crate::sys::signals::WorkerGroup;
use crate::sys::stop::StopToken;
use crate::sys::wait::{self, Exit};
use crate::sys::watchdog::Watchdog;

/// One kind of worker process: how it is started, what it reports besides
/// its exit, and what its exit means.
pub(super) trait Launcher {
    /// What the workers tell the parent while they run.
    type Reports;

    /// Starts worker `index`, leading its own process group.
    fn start(&mut self, index: usize) -> io::Result<Pid>;

    /// Every worker that will be started has been: the parent lets go of
    /// what only the workers may hold now.
    fn all_started(&mut self) {}

    /// When starting a worker failed with `cause` and no OS limit explains
    /// it, the launcher's own error (a program that cannot be run), or
    /// `Err(cause)` back when it is a refusal by the OS all the same.
    fn start_error(&self, cause: io::Error) -> Result<ModelError, io::Error>;

    /// Gathers what the workers tell, while they run.
    fn collect(&mut self, workers: usize) -> Self::Reports;

    /// How worker `worker` ended, from its exit and the reports.
    fn status(&self, worker: usize, exit: Exit, reports: &Self::Reports) -> WorkerStatus;

    /// Worker `worker`'s start and end, in seconds since `t0`; `started`
    /// is when the parent began to start it, `exited` when the parent saw
    /// it exit (where the kernel could tell).
    fn times(
        &self,
        worker: usize,
        started: MonoTime,
        exited: Option<MonoTime>,
        reports: &Self::Reports,
        t0: MonoTime,
    ) -> (Option<f64>, Option<f64>);
}

/// What [`supervise`] returns: the workers' outcomes and the run's time.
#[derive(Debug)]
pub(super) struct Supervised {
    /// One per worker, in order.
    pub outcomes: Vec<WorkerOutcome>,
    /// From just before the first worker was started to just after the
    /// last was reaped, in seconds.
    pub wall_s: f64,
}

/// Runs `workers` workers of `launcher` under `context` (its deadline, its
/// stop token) and reaps them all: one outcome per worker, in order, and
/// the time they took.
pub(super) fn supervise<L: Launcher>(
    launcher: &mut L,
    workers: usize,
    context: &RunContext,
) -> Result<Supervised, ModelError> {
    let deadline = deadline::deadline(context);
    let mut children: Vec<(Pid, MonoTime)> = Vec::with_capacity(workers);
    let mut groups: Vec<WorkerGroup> = Vec::with_capacity(workers);
    let mut watched: Vec<Watched> = Vec::with_capacity(workers);
    let mut refusal = None;
    let t0 = MonoTime::now();
    for index in 0..workers {
        if context.stop.requested().is_some() {
            break;
        }
        let started = MonoTime::now();
        match launcher.start(index) {
            Ok(child) => {
                children.push((child, started));
                groups.push(WorkerGroup::register(child));
                watched.push(Watched::start(child.as_raw() as u32));
            }
            Err(cause) => {
                refusal = Some((index, cause));
                break;
            }
        }
    }
    launcher.all_started();
    let pids: Vec<Pid> = children.iter().map(|&(child, _)| child).collect();

    if let Some((index, cause)) = refusal {
        // Explained before the workers are reaped: the limit may be
        // theirs to show.
        let limit = limits::explain(&cause);
        kill_and_reap(groups, &pids);
        drop(watched);
        let cause = if limits::is_os_limit(&cause) {
            cause
        } else {
            match launcher.start_error(cause) {
                Ok(error) => return Err(error),
                Err(cause) => cause,
            }
        };
        return Err(ModelError::Refused {
            what: "process",
            index,
            workers,
            cause,
            limit,
        });
    }

    let watchdog = Watchdog::start(&pids, deadline);
    let reports = launcher.collect(workers);
    let exited = wait::wait_all_exited(&pids, MonoTime::now);
    let timed_out = watchdog.stop();
    // Every worker has exited but none is reaped yet, so their group ids
    // are still theirs: what they started and left in their groups goes
    // with them; then unregister, then reap.
    for group in &groups {
        group.signal(Signal::SIGKILL);
    }
    drop(groups);
    let reaped: Vec<_> = children
        .iter()
        .map(|&(child, _)| wait::reap(child))
        .collect();
    let wall_s = MonoTime::now().seconds_since(t0);
    drop(watched);
    let mut outcomes: Vec<WorkerOutcome> = children
        .iter()
        .zip(reaped)
        .enumerate()
        .map(|(worker, (&(_, started), reaped))| {
            let (status, usage) = match reaped {
                Ok(reaped) => (
                    launcher.status(worker, reaped.exit, &reports),
                    Some(CpuUsage {
                        user_s: reaped.user_s,
                        system_s: reaped.system_s,
                        voluntary_switches: reaped.voluntary_switches,
                        involuntary_switches: reaped.involuntary_switches,
                    }),
                ),
                Err(error) => (
                    WorkerStatus::Lost {
                        reason: format!("it could not be reaped: {error}"),
                    },
                    None,
                ),
            };
            let (start_s, end_s) = launcher.times(worker, started, exited[worker], &reports, t0);
            WorkerOutcome::ended(worker, stopped_status(status, timed_out, &context.stop))
                .with_times(start_s, end_s)
                .with_usage(usage)
        })
        .collect();
    never_started(&mut outcomes, workers, &context.stop);
    Ok(Supervised { outcomes, wall_s })
}

/// After a refusal: kills the workers already started (their whole process
/// groups) and reaps them, so that none outlives the failed run.
fn kill_and_reap(groups: Vec<WorkerGroup>, children: &[Pid]) {
    for group in &groups {
        group.signal(Signal::SIGKILL);
    }
    for &child in children {
        let _ = wait::reap(child);
    }
}

/// `Killed` with the signal's name, for a worker signal `number` ended.
pub(super) fn killed_by(number: i32) -> WorkerStatus {
    WorkerStatus::Killed {
        signal: wait::signal_name(number),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn killed_by(signal: &str) -> WorkerStatus {
        WorkerStatus::Killed {
            signal: signal.into(),
        }
    }

    #[test]
    fn a_worker_killed_by_paralab_says_why() {
        let calm = StopToken::new();
        assert_eq!(
            stopped_status(killed_by("SIGKILL"), true, &calm),
            WorkerStatus::TimedOut {
                still_running: false
            }
        );
        assert_eq!(
            stopped_status(killed_by("SIGKILL"), false, &calm),
            killed_by("SIGKILL")
        );
        let stopped = StopToken::new();
        stopped.request(Signal::SIGINT);
        assert_eq!(
            stopped_status(killed_by("SIGTERM"), false, &stopped),
            WorkerStatus::Interrupted {
                signal: "SIGINT".into()
            }
        );
        assert_eq!(
            stopped_status(killed_by("SIGSEGV"), false, &stopped),
            killed_by("SIGSEGV")
        );
    }

    #[test]
    fn unstarted_workers_are_interrupted_only_after_a_stop() {
        let mut outcomes = Vec::new();
        never_started(&mut outcomes, 2, &StopToken::new());
        assert!(outcomes.is_empty());
        let stopped = StopToken::new();
        stopped.request(Signal::SIGTERM);
        never_started(&mut outcomes, 2, &stopped);
        assert_eq!(outcomes.len(), 2);
        assert_eq!(
            outcomes[1].status,
            WorkerStatus::Interrupted {
                signal: "SIGTERM".into()
            }
        );
    }
}
