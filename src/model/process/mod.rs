//! The `process` model: N OS processes, started with `fork` or `spawn`,
//! each reporting to the parent, then reaped one by one.
//!
//! - `paralab_workers`: paralab's own workers (a forked copy, or paralab
//!   started afresh), sending their [`record::WorkerRecord`] through one
//!   result pipe; [`worker`] is the spawned worker's side.
//! - `commands`: `--cmd` programs, whose exit status is their outcome.
//! - `supervise`: the one loop both share: start each worker in its own
//!   registered process group, kill and reap them all after a refusal,
//!   watch the deadline, wait, reap each with `wait4`, say how each ended,
//!   and time the run from the first start to the last reap.
//! - [`run_in_group`]: one program as one worker (a Python interpreter
//!   running a whole run), with its output.
//!
//! The forks themselves, and every other raw process call, are in
//! [`crate::sys`].

mod commands;
mod paralab_workers;
pub(crate) mod record;
mod supervise;
pub mod worker;

use std::io;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use super::{
    MemoryProbe, Model, ModelError, RunContext, RunOutput, Runner, StartMethod, WorkerOutcome,
};
use crate::measure::running::{RunningSampler, RunningSpans};
use crate::sys::children::GroupChild;
use crate::sys::stop::StopToken;
use crate::sys::watchdog::Watchdog;
use crate::workload::Workload;

/// Starts `workers` processes running `workload`, collects their results
/// and reaps them all: their outcomes, and the run's wall time from the
/// first start to the last reap (what each launcher prepares beforehand
/// is not on the clock).
pub(crate) fn run(
    method: StartMethod,
    workload: &Workload,
    workers: usize,
    context: &RunContext,
) -> Result<(Vec<WorkerOutcome>, f64), ModelError> {
    let supervised = match workload {
        Workload::Command { argv, .. } => commands::run(method, argv, workers, context),
        _ => paralab_workers::run(method, workload, workers, context),
    }?;
    Ok((supervised.outcomes, supervised.wall_s))
}

/// What [`run_in_group`] got from a program.
#[derive(Debug)]
pub(crate) struct GroupOutput {
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
pub(crate) fn run_in_group(
    command: &mut Command,
    timeout: Option<Duration>,
    stop: &StopToken,
) -> io::Result<GroupOutput> {
    run_in_group_watching(command, timeout, stop, false).map(|(output, _)| output)
}

/// [`run_in_group`], and, when `threads` is set, when each of the
/// program's threads was running, sampled while it ran.
pub(crate) fn run_in_group_watching(
    command: &mut Command,
    timeout: Option<Duration>,
    stop: &StopToken,
    threads: bool,
) -> io::Result<(GroupOutput, RunningSpans)> {
    let deadline = timeout.map(|timeout| Instant::now() + timeout);
    let child = GroupChild::spawn(
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    )?;
    let watchdog = Watchdog::start(&[child.id()], deadline);
    let sampler = threads.then(|| RunningSampler::start(child.id()));
    // Also kills what the program left in its group.
    let output = child.wait_with_output();
    let running = sampler.map(RunningSampler::stop).unwrap_or_default();
    let timed_out = watchdog.stop();
    Ok((
        GroupOutput {
            output: output?,
            timed_out,
            interrupted: stop.requested(),
        },
        running,
    ))
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
        let (outcomes, wall_s) = run(method, workload, workers, context)?;
        Ok(RunOutput {
            outcomes,
            own_wall_s: Some(wall_s),
            launch_s: None,
        })
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

    /// The process model times its run itself, from its first start to
    /// its last reap: inside the caller's clock around it, and not the
    /// preparation before (so never more than the caller's figure).
    #[test]
    fn a_command_run_is_timed_from_its_start_to_its_reap() {
        let context = RunContext::new("unused").starting_now();
        let workload = Workload::Command {
            argv: vec!["true".into()],
            name: None,
            parameters: Default::default(),
        };
        let before = crate::measure::clock::MonoTime::now();
        let ran = Processes
            .run(Model::process(StartMethod::Fork), &workload, 2, &context)
            .unwrap();
        let caller_s = crate::measure::clock::MonoTime::now().seconds_since(before);
        let own_s = ran.own_wall_s.expect("the process model times itself");
        assert!(
            own_s > 0.0 && own_s <= caller_s,
            "{own_s} s of {caller_s} s"
        );
        assert_eq!(ran.outcomes.len(), 2);
        for outcome in &ran.outcomes {
            let start_s = outcome.start_s.expect("a start time");
            assert!((0.0..=own_s).contains(&start_s), "{start_s} s of {own_s} s");
        }
    }

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

    #[test]
    fn run_in_group_example() {
        use std::time::Duration;
        let mut sleeper = std::process::Command::new("sleep");
        sleeper.arg("10");
        let ran = crate::model::process::run_in_group(
            &mut sleeper,
            Some(Duration::from_millis(100)),
            &Default::default(),
        )
        .unwrap();
        assert!(ran.timed_out);
    }
}
