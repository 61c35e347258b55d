//! The sweep's policy: in which order the runs of a plan are made, and
//! when the sweep stops — at the first failed run (or after it, with
//! `--keep-going`), at a stop request, at a model the OS refused — and
//! which measurements it keeps.
//!
//! The policy does not run anything itself: it asks a [`Runs`] for the
//! reference value of a workload and for each run. The experiment gives it
//! the real one ([`super::Experiment`]); the tests below give it a mock that
//! replays scripted outcomes, so the policy is tested without a thread or
//! a process.

use std::collections::HashMap;
use std::time::Duration;

use nix::sys::signal::Signal;

use super::{Failure, Measurement, Observer, Plan, Results, RunKind, ShellStartup, run_label};
use crate::measure::stats::{mad, median};
use crate::model::{Model, ModelError, OnStartFailure, WorkerStatus};
use crate::sys::stop::StopToken;
use crate::workload::{CommandSettings, Workload};

/// What the sweep asks of whoever makes the runs.
pub(crate) trait Runs {
    /// The reference result of `workload`, or the stop signal that came
    /// while it was being computed.
    fn reference(&mut self, workload: &Workload, stop: &StopToken) -> Result<u64, Signal>;

    /// One run: `run` is its number from 1, 0 for a warm-up.
    fn measure(
        &mut self,
        workload: &Workload,
        model: Model,
        workers: usize,
        run: usize,
        expected: u64,
    ) -> Result<Measurement, ModelError>;
}

/// How the sweep reacts to failures.
#[derive(Clone, Debug, Default)]
pub(crate) struct Policy {
    /// Go on after a run whose workers failed, keeping it.
    pub(crate) keep_going: bool,
    /// Set when the sweep must stop.
    pub(crate) stop: StopToken,
    /// Iterations of the cpu workload for the Python models, when they get
    /// their own count (CPython runs the loop some 35× slower than Rust).
    pub(crate) python_iters: Option<u64>,
    /// Runs per cell chosen as they go, the plan's `runs` being the
    /// least; `None`: exactly the plan's `runs`.
    pub(crate) adaptive: Option<AdaptiveRuns>,
}

/// How many timed runs a cell gets when the user did not fix the count:
/// at least the plan's `runs` while they fit in `min_time`, more while
/// the runs disagree, never more than `max_runs` nor beyond `budget`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct AdaptiveRuns {
    /// The most timed runs of one cell.
    pub(crate) max_runs: usize,
    /// The time a cell's timed runs may take in all (their wall times
    /// summed), however much they disagree.
    pub(crate) budget: Duration,
    /// The time within which a cell still makes its minimum of runs: a
    /// cell whose runs are long (the 1 s sleep) stops at one when the
    /// next would pass it, unless its runs disagree.
    pub(crate) min_time: Duration,
    /// Runs whose median absolute deviation exceeds this share of their
    /// median ask for another.
    pub(crate) max_spread: f64,
}

impl Default for AdaptiveRuns {
    /// Fits the default plan (cpu and a 1 s sleep, threads and processes,
    /// 1 to 3 workers on 2 CPUs) in about 12 s on an idle machine: three
    /// runs of each cpu cell, one of each sleep cell, more only where the
    /// runs disagree by more than 5 %.
    fn default() -> AdaptiveRuns {
        AdaptiveRuns {
            max_runs: 10,
            budget: Duration::from_secs(2),
            min_time: Duration::from_millis(1500),
            max_spread: 0.05,
        }
    }
}

/// How commands are run, for a command workload (`None` for the others).
fn command_settings(workload: &Workload) -> Option<CommandSettings> {
    matches!(workload, Workload::Command { .. }).then(crate::workload::settings)
}

/// Runs `--prepare`, `--setup` or `--cleanup` for a cell of a command,
/// with its parameters, `{n}` and `{i}` replaced; a failure stops the
/// sweep as a failed run does, naming the option.
fn helper(
    option: &str,
    text: &str,
    workload: &Workload,
    model: Model,
    workers: usize,
    settings: Option<&CommandSettings>,
) -> Result<(), Failure> {
    let (Workload::Command { parameters, .. }, Some(settings)) = (workload, settings) else {
        return Ok(());
    };
    let text = crate::workload::substitute(text, parameters, workers, Some(0));
    crate::workload::run_helper(option, &text, settings).map_err(|why| Failure::Workers {
        label: run_label(workload, model, workers),
        details: vec![why],
    })
}

/// What one run left behind for the cell.
enum Step {
    /// The run was made; its wall time when it was timed and succeeded.
    Measured(Option<f64>),
    /// The model was dropped from the plan: the cell ends.
    Dropped,
}

impl Policy {
    /// Whether a cell that has made `made` timed runs, with the
    /// successful ones' `walls`, makes another: up to the plan's `runs`
    /// when they are fixed; adaptively otherwise.
    fn another_run(&self, made: usize, runs: usize, walls: &[f64]) -> bool {
        let Some(adaptive) = self.adaptive else {
            return made < runs;
        };
        if made == 0 {
            return true;
        }
        if made >= adaptive.max_runs.max(runs) {
            return false;
        }
        let spent: f64 = walls.iter().sum();
        // The next run is expected to last as long as the typical one.
        let next = median(walls).unwrap_or(0.0);
        let after = Duration::from_secs_f64((spent + next).max(0.0));
        if after > adaptive.budget.max(adaptive.min_time) {
            return false;
        }
        let spread = match (mad(walls), median(walls)) {
            (Some(mad), Some(median)) if walls.len() > 1 && median > 0.0 => mad / median,
            _ => 0.0,
        };
        spread > adaptive.max_spread || (made < runs && after <= adaptive.min_time)
    }

    /// The workload `model` runs for the plan's `workload`: the plan's own,
    /// or the cpu loop with the Python models' iteration count.
    fn workload_for(&self, workload: &Workload, model: Model) -> Workload {
        match (workload, self.python_iters) {
            (Workload::Cpu { .. }, Some(iters)) if model.is_python() => Workload::Cpu { iters },
            _ => workload.clone(),
        }
    }
}

/// Walks `plan`: for each worker count, each workload, each model, the
/// warm-ups then the timed runs. Stops at the first failure, keeping every
/// measurement made so far; except that a model that asks to be dropped
/// when it cannot start ([`OnStartFailure::DropModel`], the Python models)
/// is dropped from the rest of the plan and the others go on; the first
/// such failure is then the sweep's failure.
pub(crate) fn sweep(
    plan: &Plan,
    runs: &mut dyn Runs,
    observers: &mut [&mut dyn Observer],
    policy: &Policy,
) -> Results {
    let mut sweep = Sweep {
        runs,
        observers,
        policy,
        measurements: Vec::new(),
        expected: HashMap::new(),
        dropped: Vec::new(),
        dropped_failure: None,
        kept_going: Vec::new(),
        startups: HashMap::new(),
        startup: None,
    };
    let stopped = sweep.walk(plan).err();
    sweep.finish(stopped)
}

struct Sweep<'s, 'o> {
    runs: &'s mut dyn Runs,
    observers: &'s mut [&'o mut dyn Observer],
    policy: &'s Policy,
    measurements: Vec<Measurement>,
    expected: HashMap<Workload, u64>,
    dropped: Vec<Model>,
    dropped_failure: Option<Failure>,
    kept_going: Vec<Failure>,
    /// The shell start-ups measured so far, by (empty command, model,
    /// workers): several commands run by one shell share theirs.
    startups: HashMap<(Workload, Model, usize), Option<ShellStartup>>,
    /// The start-up subtracted from the current cell's runs.
    startup: Option<ShellStartup>,
}

/// The most runs of the empty command that measure a shell's start-up
/// (hyperfine makes 50 of one; a cell of N workers starts N shells a run).
const STARTUP_RUNS: usize = 20;

/// The time those runs may take, after the first three.
const STARTUP_BUDGET: Duration = Duration::from_millis(500);

impl Sweep<'_, '_> {
    /// Every run of the plan; `Err` is the failure that stopped the sweep.
    fn walk(&mut self, plan: &Plan) -> Result<(), Failure> {
        for &workers in &plan.workers {
            for workload in &plan.workloads {
                for &model in &plan.models {
                    if !self.dropped.contains(&model) {
                        let workload = self.policy.workload_for(workload, model);
                        let expected = self.reference(&workload)?;
                        self.cell(plan, &workload, model, workers, expected)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// The reference result of `workload`, computed once.
    fn reference(&mut self, workload: &Workload) -> Result<u64, Failure> {
        if let Some(&value) = self.expected.get(workload) {
            return Ok(value);
        }
        let value = self
            .runs
            .reference(workload, &self.policy.stop)
            .map_err(|signal| Failure::Interrupted { signal })?;
        self.expected.insert(workload.clone(), value);
        Ok(value)
    }

    /// The warm-ups and timed runs of one (workload, model, workers): as
    /// many timed runs as the plan says, or, with adaptive runs, as many
    /// as [`Policy::another_run`] asks for.
    fn cell(
        &mut self,
        plan: &Plan,
        workload: &Workload,
        model: Model,
        workers: usize,
        expected: u64,
    ) -> Result<(), Failure> {
        let settings = command_settings(workload);
        if let Some(setup) = settings.as_ref().and_then(|s| s.setup.as_ref()) {
            helper(
                "--setup",
                setup,
                workload,
                model,
                workers,
                settings.as_ref(),
            )?;
        }
        let runs = self.cell_runs(plan, workload, model, workers, expected, settings.as_ref());
        // Run whatever happened to the runs, as hyperfine does; the runs'
        // failure, if any, is the one reported.
        let cleaned = match settings.as_ref().and_then(|s| s.cleanup.as_ref()) {
            Some(cleanup) => helper(
                "--cleanup",
                cleanup,
                workload,
                model,
                workers,
                settings.as_ref(),
            ),
            None => Ok(()),
        };
        runs.and(cleaned)
    }

    /// The warm-ups and timed runs of a cell, each after `--prepare`.
    fn cell_runs(
        &mut self,
        plan: &Plan,
        workload: &Workload,
        model: Model,
        workers: usize,
        expected: u64,
        settings: Option<&CommandSettings>,
    ) -> Result<(), Failure> {
        self.startup = self.shell_startup(workload, model, workers, settings)?;
        let prepare = |workload: &Workload| match settings.and_then(|s| s.prepare.as_ref()) {
            Some(prepare) => helper("--prepare", prepare, workload, model, workers, settings),
            None => Ok(()),
        };
        for k in 1..=plan.warmup {
            prepare(workload)?;
            let kind = RunKind::Warmup(k, plan.warmup);
            if let Step::Dropped = self.one_run(workload, model, workers, kind, expected)? {
                return Ok(());
            }
        }
        let mut walls = Vec::new();
        let mut k = 0;
        while self.policy.another_run(k, plan.runs, &walls) {
            self.stop_requested()?;
            prepare(workload)?;
            k += 1;
            let kind = RunKind::Timed(k, plan.runs);
            match self.one_run(workload, model, workers, kind, expected)? {
                Step::Dropped => return Ok(()),
                Step::Measured(Some(wall)) => walls.push(wall),
                // A failure kept with --keep-going: repeating it would
                // only repeat the failure (a timeout, a crash), so
                // adaptive runs end the cell there.
                Step::Measured(None) if self.policy.adaptive.is_some() => break,
                Step::Measured(None) => {}
            }
        }
        Ok(())
    }

    /// What the shell that runs a command costs to start, with this model
    /// and this many workers: the medians of up to [`STARTUP_RUNS`] runs
    /// of its empty command, off the record. `None` for a command without
    /// a shell, for the other workloads, and when the empty command itself
    /// fails (the command's own runs then say why).
    fn shell_startup(
        &mut self,
        workload: &Workload,
        model: Model,
        workers: usize,
        settings: Option<&CommandSettings>,
    ) -> Result<Option<ShellStartup>, Failure> {
        let Some(empty) =
            settings.and_then(|s| crate::workload::shell_startup_workload(workload, s))
        else {
            return Ok(None);
        };
        let key = (empty, model, workers);
        if let Some(known) = self.startups.get(&key) {
            return Ok(known.clone());
        }
        let mut runs = Vec::new();
        let mut spent = 0.0;
        while runs.len() < STARTUP_RUNS && (runs.len() < 3 || spent < STARTUP_BUDGET.as_secs_f64())
        {
            self.stop_requested()?;
            match self.runs.measure(&key.0, model, workers, 0, 0) {
                Ok(run) if run.succeeded() => {
                    spent += run.wall_s;
                    runs.push(run);
                }
                _ => break,
            }
        }
        let startup = ShellStartup::of(&runs);
        self.startups.insert(key, startup.clone());
        Ok(startup)
    }

    /// One warm-up or timed run, its measurement kept (a timed one, or a
    /// failed warm-up) and observed.
    fn one_run(
        &mut self,
        workload: &Workload,
        model: Model,
        workers: usize,
        kind: RunKind,
        expected: u64,
    ) -> Result<Step, Failure> {
        self.stop_requested()?;
        for observer in self.observers.iter_mut() {
            observer.run_started(workload, model, workers, kind);
        }
        let run = match kind {
            RunKind::Timed(k, _) => k,
            RunKind::Warmup(..) => 0,
        };
        let mut measurement = match self.runs.measure(workload, model, workers, run, expected) {
            Ok(measurement) => measurement,
            Err(error) => {
                // A refusal caused by the stop itself is the stop.
                self.stop_requested()?;
                let failure = Failure::Model {
                    label: run_label(workload, model, workers),
                    error,
                };
                return match model.on_start_failure() {
                    OnStartFailure::StopSweep => Err(failure),
                    OnStartFailure::DropModel => {
                        self.dropped.push(model);
                        self.dropped_failure.get_or_insert(failure);
                        Ok(Step::Dropped)
                    }
                };
            }
        };
        if let Some(startup) = &self.startup {
            measurement.subtract_shell_startup(startup);
        }
        // A run cut short by a stop is not a result.
        if !measurement.succeeded() {
            self.stop_requested()?;
        }
        let failure = worker_failure(&measurement);
        let left_running = leaves_threads_running(&measurement);
        let wall =
            (matches!(kind, RunKind::Timed(..)) && failure.is_none()).then_some(measurement.wall_s);
        if matches!(kind, RunKind::Timed(..)) || failure.is_some() {
            for observer in self.observers.iter_mut() {
                observer.measured(&measurement);
            }
            self.measurements.push(measurement);
        }
        if let Some(failure) = failure {
            // Threads left running would skew every later run.
            if self.policy.keep_going && !left_running {
                self.kept_going.push(failure);
                return Ok(Step::Measured(None));
            }
            return Err(failure);
        }
        Ok(Step::Measured(wall))
    }

    fn stop_requested(&self) -> Result<(), Failure> {
        match self.policy.stop.requested() {
            Some(signal) => Err(Failure::Interrupted { signal }),
            None => Ok(()),
        }
    }

    /// The results: what was measured, and why the sweep did not finish (the
    /// failure that stopped it), or which runs failed along the way.
    fn finish(self, stopped: Option<Failure>) -> Results {
        let failure = match stopped {
            Some(failure) => Some(failure),
            None if self.kept_going.is_empty() => self.dropped_failure,
            None => {
                let mut failures = self.kept_going;
                failures.extend(self.dropped_failure);
                Some(Failure::KeptGoing { failures })
            }
        };
        Results {
            measurements: self.measurements,
            failure,
        }
    }
}

/// Whether a timeout left threads or tasks of this run running.
fn leaves_threads_running(measurement: &Measurement) -> bool {
    measurement.outcomes.iter().any(|o| {
        matches!(
            o.status,
            WorkerStatus::TimedOut {
                still_running: true
            }
        )
    })
}

/// The failed workers of a run, those that failed the same way grouped:
/// `worker 1 was killed by SIGKILL`, `workers 0, 1, 2 and 47 more: each timed out, …`.
fn worker_failure(measurement: &Measurement) -> Option<Failure> {
    let mut groups: Vec<(String, Vec<usize>)> = Vec::new();
    for outcome in measurement.failures() {
        let status = outcome.status.to_string();
        match groups.iter_mut().find(|(s, _)| *s == status) {
            Some((_, workers)) => workers.push(outcome.worker),
            None => groups.push((status, vec![outcome.worker])),
        }
    }
    let details: Vec<String> = groups
        .into_iter()
        .flat_map(|(status, workers)| {
            if workers.len() <= 3 {
                return workers
                    .iter()
                    .map(|worker| format!("worker {worker} {status}"))
                    .collect::<Vec<_>>();
            }
            let shown: Vec<String> = workers.iter().take(3).map(usize::to_string).collect();
            vec![format!(
                "workers {} and {} more: each {status}",
                shown.join(", "),
                workers.len() - 3
            )]
        })
        .collect();
    let mut details = details;
    // hyperfine's advice, for a program that said no by its exit code.
    if matches!(measurement.workload, Workload::Command { .. })
        && measurement
            .failures()
            .any(|o| matches!(o.status, WorkerStatus::Exited { .. }))
    {
        details.push(
            "-i/--ignore-failure times a command that exits non-zero; --show-output shows what it said"
                .to_string(),
        );
    }
    (!details.is_empty()).then(|| Failure::Workers {
        label: measurement.label(),
        details,
    })
}

#[cfg(test)]
mod tests {
    use std::io;

    use super::*;
    use crate::model::{StartMethod, WorkerOutcome};

    /// What the mock does for one run.
    #[derive(Clone)]
    enum Scripted {
        /// Every worker finishes with the reference result.
        Fine,
        /// Worker 0 is killed by SIGKILL.
        Crash,
        /// Worker 0 timed out and is still running (a thread).
        ThreadLeftRunning,
        /// The OS refuses the second worker.
        Refused,
        /// Sets the stop token, then every worker is interrupted.
        Signal(Signal),
    }

    /// Replays a script, keyed by (model, workers, run); anything not in
    /// the script is `Fine`. Records every call.
    struct MockRuns {
        script: Vec<((Model, usize, usize), Scripted)>,
        stop: StopToken,
        calls: Vec<(Model, usize, usize)>,
        stop_during_reference: Option<Signal>,
        /// The wall time of (workers, run): 0.5 s unless set.
        wall: fn(usize, usize) -> f64,
    }

    impl MockRuns {
        fn new(script: Vec<((Model, usize, usize), Scripted)>, policy: &Policy) -> MockRuns {
            MockRuns {
                script,
                stop: policy.stop.clone(),
                calls: Vec::new(),
                stop_during_reference: None,
                wall: |_, _| 0.5,
            }
        }
    }

    impl Runs for MockRuns {
        fn reference(&mut self, _workload: &Workload, stop: &StopToken) -> Result<u64, Signal> {
            if let Some(signal) = self.stop_during_reference {
                stop.request(signal);
                return Err(signal);
            }
            Ok(42)
        }

        fn measure(
            &mut self,
            workload: &Workload,
            model: Model,
            workers: usize,
            run: usize,
            expected: u64,
        ) -> Result<Measurement, ModelError> {
            self.calls.push((model, workers, run));
            let scripted = self
                .script
                .iter()
                .find(|(key, _)| *key == (model, workers, run))
                .map_or(Scripted::Fine, |(_, s)| s.clone());
            let status = |worker: usize| match &scripted {
                Scripted::Crash if worker == 0 => WorkerStatus::Killed {
                    signal: "SIGKILL".into(),
                },
                Scripted::ThreadLeftRunning if worker == 0 => WorkerStatus::TimedOut {
                    still_running: true,
                },
                Scripted::Signal(signal) => WorkerStatus::Interrupted {
                    signal: signal.as_str().into(),
                },
                _ => WorkerStatus::Finished { result: expected },
            };
            match scripted {
                Scripted::Refused => {
                    return Err(ModelError::Refused {
                        what: "thread",
                        index: 1,
                        workers,
                        cause: io::Error::from_raw_os_error(nix::libc::EAGAIN),
                        limit: "limit hit: RLIMIT_NPROC (ulimit -u) = 1".into(),
                    });
                }
                Scripted::Signal(signal) => {
                    self.stop.request(signal);
                }
                _ => {}
            }
            Ok(Measurement {
                workload: workload.clone(),
                model,
                workers,
                run,
                wall_s: (self.wall)(workers, run),
                outcomes: (0..workers)
                    .map(|worker| WorkerOutcome::failed(worker, status(worker)))
                    .collect(),
                memory: None,
                others_cpus: None,
                steal_cpus: None,
                cpu_pressure: None,
                launch_s: None,
                shell_startup: None,
            })
        }
    }

    fn plan(models: &[Model], workers: &[usize], runs: usize, warmup: usize) -> Plan {
        Plan {
            workloads: vec![Workload::Cpu { iters: 10 }],
            models: models.to_vec(),
            workers: workers.to_vec(),
            runs,
            warmup,
        }
    }

    fn walk(
        plan: &Plan,
        script: Vec<((Model, usize, usize), Scripted)>,
        keep_going: bool,
    ) -> (Results, Vec<(Model, usize, usize)>) {
        let policy = Policy {
            keep_going,
            stop: StopToken::new(),
            python_iters: None,
            adaptive: None,
        };
        let mut runs = MockRuns::new(script, &policy);
        let results = sweep(plan, &mut runs, &mut [], &policy);
        (results, runs.calls)
    }

    const FORK: Model = Model::process(StartMethod::Fork);

    #[test]
    fn every_run_is_made_in_plan_order_and_warmups_are_not_kept() {
        let plan = plan(&[Model::THREAD, FORK], &[1, 2], 2, 1);
        let (results, calls) = walk(&plan, vec![], false);
        assert!(results.failure.is_none());
        // Workers outermost, then models, warm-up (run 0) before timed runs.
        assert_eq!(
            calls,
            vec![
                (Model::THREAD, 1, 0),
                (Model::THREAD, 1, 1),
                (Model::THREAD, 1, 2),
                (FORK, 1, 0),
                (FORK, 1, 1),
                (FORK, 1, 2),
                (Model::THREAD, 2, 0),
                (Model::THREAD, 2, 1),
                (Model::THREAD, 2, 2),
                (FORK, 2, 0),
                (FORK, 2, 1),
                (FORK, 2, 2),
            ]
        );
        assert_eq!(results.measurements.len(), 8);
        assert!(results.measurements.iter().all(|m| m.run > 0));
    }

    #[test]
    fn the_first_failed_run_stops_the_sweep_and_is_kept() {
        let plan = plan(&[Model::THREAD, FORK], &[1, 2], 1, 0);
        let (results, calls) = walk(&plan, vec![((FORK, 1, 1), Scripted::Crash)], false);
        assert_eq!(calls.len(), 2);
        assert_eq!(results.measurements.len(), 2);
        match results.failure {
            Some(Failure::Workers { label, details }) => {
                assert_eq!(label, "cpu · process:fork · 1 worker");
                assert_eq!(details, ["worker 0 was killed by SIGKILL"]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn keep_going_records_failed_runs_and_goes_on() {
        let plan = plan(&[Model::THREAD, FORK], &[1, 2], 1, 0);
        let script = vec![
            ((FORK, 1, 1), Scripted::Crash),
            ((FORK, 2, 1), Scripted::Crash),
        ];
        let (results, calls) = walk(&plan, script, true);
        assert_eq!(calls.len(), 4);
        assert_eq!(results.measurements.len(), 4);
        match results.failure {
            Some(Failure::KeptGoing { failures }) => assert_eq!(failures.len(), 2),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_failed_warmup_is_kept_as_evidence() {
        let plan = plan(&[Model::THREAD], &[1], 1, 1);
        let (results, _) = walk(&plan, vec![((Model::THREAD, 1, 0), Scripted::Crash)], false);
        assert_eq!(results.measurements.len(), 1);
        assert_eq!(results.measurements[0].run, 0);
        assert!(matches!(results.failure, Some(Failure::Workers { .. })));
    }

    #[test]
    fn threads_left_running_stop_the_sweep_even_with_keep_going() {
        let plan = plan(&[Model::THREAD], &[1, 2], 1, 0);
        let script = vec![((Model::THREAD, 1, 1), Scripted::ThreadLeftRunning)];
        let (results, calls) = walk(&plan, script, true);
        assert_eq!(calls.len(), 1);
        assert!(matches!(results.failure, Some(Failure::Workers { .. })));
    }

    #[test]
    fn an_os_refusal_stops_the_sweep_and_keeps_nothing_of_that_run() {
        let plan = plan(&[Model::THREAD], &[1, 2, 3], 1, 0);
        let (results, calls) = walk(
            &plan,
            vec![((Model::THREAD, 2, 1), Scripted::Refused)],
            true,
        );
        assert_eq!(calls.len(), 2);
        assert_eq!(results.measurements.len(), 1);
        match results.failure {
            Some(Failure::Model { label, error }) => {
                assert_eq!(label, "cpu · thread · 2 workers");
                assert!(error.to_string().contains("RLIMIT_NPROC"), "{error}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_python_model_that_cannot_start_is_dropped_and_the_others_go_on() {
        let plan = plan(&[Model::PY_THREAD, Model::THREAD], &[1, 2], 1, 0);
        let (results, calls) = walk(
            &plan,
            vec![((Model::PY_THREAD, 1, 1), Scripted::Refused)],
            false,
        );
        assert_eq!(
            calls,
            vec![
                (Model::PY_THREAD, 1, 1),
                (Model::THREAD, 1, 1),
                (Model::THREAD, 2, 1),
            ]
        );
        assert_eq!(results.measurements.len(), 2);
        assert!(matches!(results.failure, Some(Failure::Model { .. })));
    }

    #[test]
    fn a_stop_ends_the_sweep_and_drops_the_interrupted_run() {
        let plan = plan(&[Model::THREAD], &[1, 2, 3], 1, 0);
        let script = vec![((Model::THREAD, 2, 1), Scripted::Signal(Signal::SIGTERM))];
        let (results, calls) = walk(&plan, script, true);
        assert_eq!(calls.len(), 2);
        assert_eq!(
            results.measurements.len(),
            1,
            "the interrupted run is not kept"
        );
        assert!(matches!(
            results.failure,
            Some(Failure::Interrupted {
                signal: Signal::SIGTERM
            })
        ));
    }

    #[test]
    fn a_stop_while_the_reference_is_computed_runs_nothing() {
        let plan = plan(&[Model::THREAD], &[1], 1, 0);
        let policy = Policy::default();
        let mut runs = MockRuns::new(vec![], &policy);
        runs.stop_during_reference = Some(Signal::SIGINT);
        let results = sweep(&plan, &mut runs, &mut [], &policy);
        assert!(runs.calls.is_empty());
        assert!(matches!(
            results.failure,
            Some(Failure::Interrupted {
                signal: Signal::SIGINT
            })
        ));
    }

    #[test]
    fn observers_see_every_run_start_and_every_kept_measurement() {
        #[derive(Default)]
        struct Count {
            started: usize,
            measured: usize,
        }
        impl Observer for Count {
            fn run_started(&mut self, _: &Workload, _: Model, _: usize, _: RunKind) {
                self.started += 1;
            }
            fn measured(&mut self, _: &Measurement) {
                self.measured += 1;
            }
        }
        let plan = plan(&[Model::THREAD], &[1, 2], 3, 2);
        let policy = Policy::default();
        let mut runs = MockRuns::new(vec![], &policy);
        let mut count = Count::default();
        let results = sweep(&plan, &mut runs, &mut [&mut count], &policy);
        assert_eq!(count.started, 10);
        assert_eq!(count.measured, 6);
        assert_eq!(results.measurements.len(), 6);
    }

    #[test]
    fn python_models_get_their_own_cpu_iterations() {
        let policy = Policy {
            python_iters: Some(10),
            ..Policy::default()
        };
        let cpu = Workload::Cpu { iters: 1000 };
        let sleep = Workload::Sleep {
            duration: std::time::Duration::from_millis(1),
        };
        assert_eq!(policy.workload_for(&cpu, Model::THREAD), cpu);
        assert_eq!(
            policy.workload_for(&cpu, Model::PY_THREAD),
            Workload::Cpu { iters: 10 }
        );
        assert_eq!(policy.workload_for(&sleep, Model::PY_THREAD), sleep);
        assert_eq!(Policy::default().workload_for(&cpu, Model::PY_THREAD), cpu);
    }

    /// The runs the adaptive policy makes per cell (by worker count) when
    /// the cell at `workers` workers takes `wall(workers, run)`.
    fn adaptive_runs(wall: fn(usize, usize) -> f64, workers: &[usize]) -> Vec<usize> {
        let plan = plan(&[Model::THREAD], workers, 3, 0);
        let policy = Policy {
            adaptive: Some(AdaptiveRuns::default()),
            ..Policy::default()
        };
        let mut runs = MockRuns::new(vec![], &policy);
        runs.wall = wall;
        let results = sweep(&plan, &mut runs, &mut [], &policy);
        assert!(results.failure.is_none());
        workers
            .iter()
            .map(|&n| {
                results
                    .measurements
                    .iter()
                    .filter(|m| m.workers == n)
                    .count()
            })
            .collect()
    }

    #[test]
    fn adaptive_runs_stop_at_three_when_the_runs_agree() {
        // 0.25 s runs within 1 % of each other: the minimum, no more.
        let counts = adaptive_runs(|_, run| 0.25 + 0.001 * (run % 3) as f64, &[1, 2]);
        assert_eq!(counts, [3, 3]);
    }

    #[test]
    fn adaptive_runs_make_one_run_of_a_long_cell_that_agrees_with_itself() {
        // A 1 s sleep: a second run would pass the 1.5 s of the minimum.
        assert_eq!(adaptive_runs(|_, _| 1.0, &[1, 2, 3]), [1, 1, 1]);
    }

    #[test]
    fn adaptive_runs_go_on_while_the_runs_disagree_within_the_budget() {
        // Short runs cycling ±30 %: up to the most runs allowed.
        let counts = adaptive_runs(|_, run| [0.1, 0.07, 0.13][run % 3], &[1]);
        assert_eq!(counts, [10]);
        // Long runs that disagree stop at the 2 s budget: 0.4 + 0.6 + 0.5
        // = 1.5 s; a fourth (about 0.5 s more) still fits, a fifth does not.
        let counts = adaptive_runs(|_, run| [0.5, 0.4, 0.6][run % 3], &[1]);
        assert_eq!(counts, [4]);
        // Only the noisy cell gets more runs.
        let counts = adaptive_runs(
            |workers, run| match workers {
                2 => [0.1, 0.07, 0.13][run % 3],
                _ => 0.1,
            },
            &[1, 2],
        );
        assert_eq!(counts, [3, 10]);
    }

    #[test]
    fn adaptive_runs_end_a_cell_at_its_first_kept_failure() {
        let plan = plan(&[Model::THREAD], &[1, 2], 3, 0);
        let policy = Policy {
            keep_going: true,
            adaptive: Some(AdaptiveRuns::default()),
            ..Policy::default()
        };
        let mut runs = MockRuns::new(vec![((Model::THREAD, 1, 1), Scripted::Crash)], &policy);
        runs.wall = |_, _| 0.1;
        let results = sweep(&plan, &mut runs, &mut [], &policy);
        assert_eq!(
            runs.calls,
            vec![
                (Model::THREAD, 1, 1),
                (Model::THREAD, 2, 1),
                (Model::THREAD, 2, 2),
                (Model::THREAD, 2, 3),
            ]
        );
        assert!(matches!(results.failure, Some(Failure::KeptGoing { .. })));
    }

    #[test]
    fn fixed_runs_are_made_exactly() {
        let plan = plan(&[Model::THREAD], &[1], 5, 0);
        let policy = Policy::default();
        let mut runs = MockRuns::new(vec![], &policy);
        runs.wall = |_, run| [0.1, 0.07, 0.13][run % 3];
        let results = sweep(&plan, &mut runs, &mut [], &policy);
        assert_eq!(results.measurements.len(), 5);
    }
}
