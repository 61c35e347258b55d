//! Experiments: a [`Plan`] walked run by run, each [`Measurement`] streamed
//! to the observers as it arrives.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::machine::logical_cpus;
use crate::measure::clock::MonoTime;
use crate::measure::memory::{MemorySampler, MemoryUse, Snapshot};
use crate::model::{
    Model, ModelError, RunContext, RunOutput, StartMethod, WorkerOutcome, WorkerStatus,
};
use crate::python::Python;
use crate::sys::signals as interrupt;
use crate::sys::stop::StopToken;
use crate::workload::{DEFAULT_ITERS, DEFAULT_SLEEP, Workload, WorkloadFn};

/// What to run: every workload, with every model, at every worker count,
/// `runs` times after `warmup` untimed runs.
///
/// ```
/// use paralab::{Model, Plan, Workload};
/// let plan = Plan {
///     workloads: vec![Workload::Cpu { iters: 1000 }],
///     models: vec![Model::Thread],
///     workers: vec![1, 2],
///     runs: 1,
///     warmup: 0,
/// };
/// let results = paralab::Experiment::new(plan).run();
/// assert!(results.failure.is_none());
/// assert_eq!(results.measurements.len(), 2);
/// assert!(results.measurements.iter().all(|m| m.results() == vec![9_707_240; m.workers]));
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// What each worker does, in column order.
    pub workloads: Vec<Workload>,
    /// How the workers are run, in column order.
    pub models: Vec<Model>,
    /// How many workers run at once, one row each.
    pub workers: Vec<usize>,
    /// Timed runs per (workload, model, workers).
    pub runs: usize,
    /// Untimed runs before them.
    pub warmup: usize,
}

impl Plan {
    /// The notebook's experiment: cpu and sleep, threads and processes,
    /// 1 ..= 2×CPUs−1 workers, one run each.
    pub fn notebook(iters: u64, sleep: Duration) -> Plan {
        Plan {
            workloads: vec![Workload::Cpu { iters }, Workload::Sleep { duration: sleep }],
            models: vec![Model::Thread, Model::Process(StartMethod::Fork)],
            workers: default_workers(logical_cpus()),
            runs: 1,
            warmup: 0,
        }
    }

    /// How many runs the plan makes, warm-ups included.
    pub fn total_runs(&self) -> usize {
        self.workloads.len() * self.models.len() * self.workers.len() * (self.runs + self.warmup)
    }
}

impl Default for Plan {
    fn default() -> Plan {
        Plan::notebook(DEFAULT_ITERS, DEFAULT_SLEEP)
    }
}

/// The notebook's worker counts, `range(1, 2 * cpus)`.
pub fn default_workers(cpus: usize) -> Vec<usize> {
    (1..2 * cpus.max(1)).collect()
}

/// One timed run of (workload, model, workers).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Measurement {
    /// What each worker did.
    pub workload: Workload,
    /// How the workers were run.
    #[serde(flatten)]
    pub model: Model,
    /// How many workers ran at once.
    pub workers: usize,
    /// Which timed run this was, from 1.
    pub run: usize,
    /// From before the first worker was started to after the last was
    /// joined or reaped, as the notebook measures it.
    pub wall_s: f64,
    /// One per worker, in worker order.
    pub outcomes: Vec<WorkerOutcome>,
    /// The memory the run used, sampled from `/proc` while it ran (absent
    /// in files written before paralab measured it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<MemoryUse>,
}

impl Measurement {
    /// Every worker's result, in worker order (failed workers left out).
    pub fn results(&self) -> Vec<u64> {
        self.outcomes
            .iter()
            .filter_map(|o| o.status.result())
            .collect()
    }

    /// The workers that did not finish with the right result.
    pub fn failures(&self) -> impl Iterator<Item = &WorkerOutcome> {
        self.outcomes.iter().filter(|o| !o.status.is_success())
    }

    /// Whether every worker finished with the right result.
    pub fn succeeded(&self) -> bool {
        self.failures().next().is_none()
    }

    /// `cpu · process:fork · 3 workers`.
    pub fn label(&self) -> String {
        run_label(&self.workload, self.model, self.workers)
    }
}

/// `cpu · process:fork · 3 workers`, `sleep · thread · 1 worker`.
pub fn run_label(workload: &Workload, model: Model, workers: usize) -> String {
    format!(
        "{} · {model} · {}",
        workload.kind(),
        count(workers, "worker")
    )
}

/// `1 worker`, `3 workers`.
pub fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// Why an experiment stopped before the end of its plan.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// Workers failed in a run; the run's measurement is kept.
    #[error("{}: {}", .label, .details.join("; "))]
    Workers { label: String, details: Vec<String> },
    /// The model could not start its workers; nothing of that run is kept.
    #[error("{label}: {error}")]
    Model { label: String, error: ModelError },
    /// SIGINT or SIGTERM asked paralab to stop; the run it interrupted is
    /// not kept (its workers were killed), every run finished before is.
    #[error("interrupted by {signal}")]
    Interrupted { signal: nix::sys::signal::Signal },
    /// With [`Experiment::keep_going`], runs whose workers failed: each is
    /// kept (and its failure recorded in its outcomes), and the sweep went on.
    #[error("{} runs had failed workers: {}", .failures.len(), .failures.iter().map(|f| f.to_string()).collect::<Vec<_>>().join(" | "))]
    KeptGoing { failures: Vec<Failure> },
}

/// An observer of an experiment: a progress display, a file written as
/// results arrive. Every method has a default that does nothing.
pub trait Observer {
    /// Before anything runs.
    fn plan_started(&mut self, _plan: &Plan) {}
    /// Before each run, timed or warm-up.
    fn run_started(&mut self, _workload: &Workload, _model: Model, _workers: usize, _run: RunKind) {
    }
    /// After each timed run, failed or not.
    fn measured(&mut self, _measurement: &Measurement) {}
}

/// Whether a run is timed or a warm-up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunKind {
    /// Warm-up `k` of `n`, not recorded.
    Warmup(usize, usize),
    /// Timed run `k` of `n`.
    Timed(usize, usize),
}

/// What an experiment produced: every measurement it finished, and the
/// failure that stopped it, if one did.
#[derive(Debug)]
pub struct Results {
    /// Every timed run, in the order they ran.
    pub measurements: Vec<Measurement>,
    /// Why the plan was not finished.
    pub failure: Option<Failure>,
}

/// A plan, the program that spawned workers run, and its observers.
pub struct Experiment<'o> {
    plan: Plan,
    worker_exe: Option<PathBuf>,
    observers: Vec<&'o mut dyn Observer>,
    closures: Vec<WorkloadFn>,
    python: Option<Arc<Python>>,
    timeout: Option<Duration>,
    keep_going: bool,
    stop: StopToken,
}

impl<'o> Experiment<'o> {
    /// An experiment with no observers.
    pub fn new(plan: Plan) -> Experiment<'o> {
        Experiment {
            plan,
            worker_exe: None,
            observers: Vec::new(),
            closures: Vec::new(),
            python: None,
            timeout: None,
            keep_going: false,
            stop: interrupt::stop_token(),
        }
    }

    /// The interpreter the plan's Python models run in. Without one, a
    /// Python model's run fails with a message saying so.
    pub fn python(mut self, python: Python) -> Self {
        self.python = Some(Arc::new(python));
        self
    }

    /// Limits each run to `timeout`: worker processes still running then
    /// are killed and reaped; threads and tasks cannot be killed, so they
    /// are reported and the experiment stops (see
    /// [`WorkerStatus::TimedOut`]).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Goes on after a run whose workers failed (crashed, exited non-zero,
    /// timed out and were killed), keeping its measurement, instead of
    /// stopping there. A refusal by the OS, a stop signal, or a thread left
    /// running by a timeout still stop the sweep.
    pub fn keep_going(mut self, keep_going: bool) -> Self {
        self.keep_going = keep_going;
        self
    }

    /// Stops the sweep when `stop` is set, instead of on paralab's own
    /// SIGINT and SIGTERM (the default token, [`interrupt::stop_token`]).
    pub fn stop_token(mut self, stop: StopToken) -> Self {
        self.stop = stop;
        self
    }

    /// Registers the closure behind the plan's [`Workload::Custom`] of the
    /// same name (see [`WorkloadFn`]).
    pub fn workload_fn(mut self, closure: WorkloadFn) -> Self {
        self.closures.retain(|c| c.name() != closure.name());
        self.closures.push(closure);
        self
    }

    /// The program the `spawn` start method runs (default: this program).
    pub fn worker_exe(mut self, exe: impl Into<PathBuf>) -> Self {
        self.worker_exe = Some(exe.into());
        self
    }

    /// Adds an observer.
    pub fn observe(mut self, observer: &'o mut dyn Observer) -> Self {
        self.observers.push(observer);
        self
    }

    /// Walks the plan: for each worker count, each workload, each model,
    /// the warm-ups then the timed runs. Stops at the first failure,
    /// keeping every measurement made so far; except that a Python model
    /// that fails (a crash of the interpreter, a broken `python3`) is
    /// dropped from the rest of the plan and the Rust models go on; the
    /// first such failure is then the experiment's failure.
    pub fn run(mut self) -> Results {
        let plan = self.plan.clone();
        self.each_observer(|o| o.plan_started(&plan));
        let worker_exe = self
            .worker_exe
            .take()
            .or_else(|| std::env::current_exe().ok())
            .unwrap_or_else(|| PathBuf::from("paralab"));
        let mut expected: HashMap<Workload, u64> = HashMap::new();
        let mut measurements = Vec::new();
        let mut python_failure = None;
        let mut failed_python_models: Vec<Model> = Vec::new();
        let mut kept_going = Vec::new();
        for &workers in &plan.workers {
            for workload in &plan.workloads {
                let expected = match expected.get(workload) {
                    Some(&value) => value,
                    None => match reference(workload, &self.stop) {
                        Ok(value) => *expected.entry(workload.clone()).or_insert(value),
                        Err(signal) => {
                            return Results {
                                measurements,
                                failure: Some(Failure::Interrupted { signal }),
                            };
                        }
                    },
                };
                for &model in &plan.models {
                    if failed_python_models.contains(&model) {
                        continue;
                    }
                    let kinds = (1..=plan.warmup)
                        .map(|k| RunKind::Warmup(k, plan.warmup))
                        .chain((1..=plan.runs).map(|k| RunKind::Timed(k, plan.runs)));
                    for kind in kinds {
                        if let Some(signal) = self.stop.requested() {
                            return Results {
                                measurements,
                                failure: Some(Failure::Interrupted { signal }),
                            };
                        }
                        self.each_observer(|o| o.run_started(workload, model, workers, kind));
                        let custom = match workload {
                            Workload::Custom { name, .. } => {
                                self.closures.iter().find(|c| c.name() == name).cloned()
                            }
                            _ => None,
                        };
                        let context = RunContext::new(worker_exe.clone())
                            .with_closure(custom)
                            .with_python(self.python.clone())
                            .with_timeout(self.timeout)
                            .with_stop(self.stop.clone());
                        let run = match kind {
                            RunKind::Timed(k, _) => k,
                            RunKind::Warmup(..) => 0,
                        };
                        let measurement =
                            match measure(workload, model, workers, run, expected, &context) {
                                Ok(measurement) => measurement,
                                Err(_) if let Some(signal) = self.stop.requested() => {
                                    return Results {
                                        measurements,
                                        failure: Some(Failure::Interrupted { signal }),
                                    };
                                }
                                Err(error) => {
                                    let label = run_label(workload, model, workers);
                                    if model.is_python() {
                                        failed_python_models.push(model);
                                        python_failure
                                            .get_or_insert(Failure::Model { label, error });
                                        break;
                                    }
                                    return Results {
                                        measurements,
                                        failure: Some(Failure::Model { label, error }),
                                    };
                                }
                            };
                        // A run cut short by a stop is not a result.
                        if let Some(signal) = self.stop.requested()
                            && !measurement.succeeded()
                        {
                            return Results {
                                measurements,
                                failure: Some(Failure::Interrupted { signal }),
                            };
                        }
                        let failure = worker_failure(&measurement);
                        let left_running = measurement.outcomes.iter().any(|o| {
                            matches!(
                                o.status,
                                WorkerStatus::TimedOut {
                                    still_running: true
                                }
                            )
                        });
                        if matches!(kind, RunKind::Timed(..)) || failure.is_some() {
                            self.each_observer(|o| o.measured(&measurement));
                            measurements.push(measurement);
                        }
                        if let Some(failure) = failure {
                            // Threads left running would skew every later run.
                            if self.keep_going && !left_running {
                                kept_going.push(failure);
                                continue;
                            }
                            return Results {
                                measurements,
                                failure: Some(failure),
                            };
                        }
                    }
                }
            }
        }
        let failure = match (python_failure, kept_going.is_empty()) {
            (python_failure, true) => python_failure,
            (python_failure, false) => {
                kept_going.extend(python_failure);
                Some(Failure::KeptGoing {
                    failures: kept_going,
                })
            }
        };
        Results {
            measurements,
            failure,
        }
    }

    fn each_observer(&mut self, mut call: impl FnMut(&mut dyn Observer)) {
        for observer in &mut self.observers {
            call(&mut **observer);
        }
    }
}

/// The reference result of `workload`, computed once before its runs. A
/// big cpu workload takes as long as one worker; when signals are
/// handled (see [`interrupt::install`]) it is computed on its own thread,
/// so a Ctrl-C meanwhile is not kept waiting for it.
fn reference(workload: &Workload, stop: &StopToken) -> Result<u64, nix::sys::signal::Signal> {
    if !interrupt::installed() || !matches!(workload, Workload::Cpu { .. }) {
        return Ok(workload.expected_result());
    }
    let (sender, value) = std::sync::mpsc::channel();
    let owned = workload.clone();
    let computing = std::thread::Builder::new()
        .name("paralab-reference".into())
        .spawn(move || sender.send(owned.expected_result()));
    if computing.is_err() {
        return Ok(workload.expected_result());
    }
    loop {
        if let Some(signal) = stop.requested() {
            return Err(signal);
        }
        if let Ok(value) = value.recv_timeout(Duration::from_millis(50)) {
            return Ok(value);
        }
    }
}

/// One run: starts the clock, runs the model, stops the clock, and checks
/// every result against the reference.
fn measure(
    workload: &Workload,
    model: Model,
    workers: usize,
    run: usize,
    expected: u64,
    context: &RunContext,
) -> Result<Measurement, ModelError> {
    // Workers of the in-process models live in this process: reading
    // /proc/self is enough, and cheap enough to sample often. Process
    // workers need a scan of /proc for children, so less often.
    let children = model.runs_programs();
    let before = if children {
        Snapshot::now()
    } else {
        Snapshot::own()
    };
    let interval = Duration::from_millis(if children { 50 } else { 10 });
    let sampler = MemorySampler::start_with(interval, children);
    let context = &context.starting_now();
    let ran = model.run(workload, workers, context);
    let clock_wall_s = MonoTime::now().seconds_since(context.t0);
    let peak = sampler.stop();
    let RunOutput {
        mut outcomes,
        own_wall_s,
    } = ran?;
    let wall_s = own_wall_s.unwrap_or(clock_wall_s);
    // A run shorter than two sampling intervals may have been missed by
    // every sample: no figure rather than a wrong one.
    // A Python model's figure would be the interpreter's own memory, not
    // its workers': none is given.
    let memory = before
        .ok()
        .filter(|_| !model.is_python() && wall_s >= 2.0 * interval.as_secs_f64())
        .map(|before| MemoryUse::between(&before, &peak, workers));
    for outcome in &mut outcomes {
        if let WorkerStatus::Finished { result } = outcome.status
            && result != expected
        {
            outcome.status = WorkerStatus::WrongResult { result, expected };
        }
    }
    Ok(Measurement {
        workload: workload.clone(),
        model,
        workers,
        run,
        wall_s,
        outcomes,
        memory,
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
    (!details.is_empty()).then(|| Failure::Workers {
        label: measurement.label(),
        details,
    })
}
