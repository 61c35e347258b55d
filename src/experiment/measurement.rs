//! What one timed run yields.

use serde::{Deserialize, Serialize};

use crate::fmt::count;
use crate::measure::memory::MemoryUse;
use crate::model::{Model, WorkerOutcome};
use crate::workload::Workload;

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
    /// CPUs that other work (everything outside paralab's own process
    /// tree) kept busy on average during the run, from `/proc/stat`
    /// (absent for runs under 50 ms, too short for its 10 ms ticks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub others_cpus: Option<f64>,
    /// CPUs the hypervisor took from this VM on average during the run
    /// (steal time; 0 on bare metal).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steal_cpus: Option<f64>,
    /// The share of the run during which some runnable task waited for a
    /// CPU (`/proc/pressure/cpu`, "some"), from 0 to 1, where the kernel
    /// has it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_pressure: Option<f64>,
    /// What starting the workers cost before the timed part, when the
    /// model measures it apart (MPI's launch: mpirun's start to every rank
    /// past `MPI_Init`), in seconds; never in `wall_s`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launch_s: Option<f64>,
    /// The shell's own start-up, already subtracted from `wall_s` and from
    /// each worker's user and system time, for a command run through a
    /// shell (hyperfine subtracts it too; `-N` runs without one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shell_startup: Option<ShellStartup>,
}

/// What starting the shell alone costs (`sh -c ''`), measured by the same
/// model with the same number of workers just before a cell's runs:
/// medians over the calibration runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ShellStartup {
    /// The run's wall time.
    pub wall_s: f64,
    /// One worker's user time, when the model measures it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_s: Option<f64>,
    /// One worker's system time, when the model measures it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_s: Option<f64>,
    /// How many runs of the empty command these medians are of.
    pub runs: usize,
}

impl ShellStartup {
    /// The medians of `calibration`, the runs of the empty command that
    /// succeeded; `None` without one.
    pub(crate) fn of(calibration: &[Measurement]) -> Option<ShellStartup> {
        use crate::measure::stats::median;
        let runs: Vec<&Measurement> = calibration.iter().filter(|m| m.succeeded()).collect();
        let per_worker = |figure: fn(&WorkerOutcome) -> Option<f64>| {
            let values: Option<Vec<f64>> =
                runs.iter().flat_map(|m| &m.outcomes).map(figure).collect();
            median(&values?)
        };
        Some(ShellStartup {
            wall_s: median(&runs.iter().map(|m| m.wall_s).collect::<Vec<_>>())?,
            user_s: per_worker(|o| o.user_s),
            system_s: per_worker(|o| o.system_s),
            runs: runs.len(),
        })
    }
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

    /// Cores busy: the workers' CPU time summed, over the wall time; 2.0
    /// when two workers computed all the time. `None` when a worker's CPU
    /// time is unknown or the wall time is not positive.
    pub fn cores_busy(&self) -> Option<f64> {
        (self.wall_s > 0.0).then_some(self.cpu_s()? / self.wall_s)
    }

    /// The workers' user time summed: what `time` calls `user`; `None`
    /// when a worker's is unknown (a model or an older file that did not
    /// split CPU time).
    pub fn user_s(&self) -> Option<f64> {
        self.outcomes.iter().map(|o| o.user_s).sum()
    }

    /// The workers' system (kernel) time summed; `None` when a worker's is
    /// unknown.
    pub fn system_s(&self) -> Option<f64> {
        self.outcomes.iter().map(|o| o.system_s).sum()
    }

    /// The workers' CPU time summed (user + system); `None` when a
    /// worker's is unknown.
    pub fn cpu_s(&self) -> Option<f64> {
        self.outcomes.iter().map(|o| o.cpu_s).sum()
    }

    /// Takes the shell's start-up out of this run's times, as hyperfine
    /// does: no figure goes below zero, and CPU time is user plus system
    /// again.
    pub(crate) fn subtract_shell_startup(&mut self, startup: &ShellStartup) {
        let less = |figure: &mut Option<f64>, by: Option<f64>| {
            if let (Some(value), Some(by)) = (figure.as_mut(), by) {
                *value = (*value - by).max(0.0);
            }
        };
        self.wall_s = (self.wall_s - startup.wall_s).max(0.0);
        for outcome in &mut self.outcomes {
            less(&mut outcome.user_s, startup.user_s);
            less(&mut outcome.system_s, startup.system_s);
            if let (Some(user), Some(system)) = (outcome.user_s, outcome.system_s) {
                outcome.cpu_s = Some(user + system);
            }
        }
        self.shell_startup = Some(startup.clone());
    }

    /// `cpu · process:fork · 3 workers`.
    pub fn label(&self) -> String {
        run_label(&self.workload, self.model, self.workers)
    }
}

/// `cpu · process:fork · 3 workers`, `sleep · thread · 1 worker`,
/// `command (gzip -9) · process:fork · 2 workers`.
pub(crate) fn run_label(workload: &Workload, model: Model, workers: usize) -> String {
    format!(
        "{} · {model} · {}",
        workload.line_label(),
        count(workers, "worker")
    )
}

#[cfg(test)]
impl Measurement {
    /// A successful cpu run made up for the verdicts' tests: `workers`
    /// workers of `model` that took `wall_s`, each busy `cpu_each`
    /// seconds, beside `others` CPUs of other work (no steal).
    pub(crate) fn made_up(
        model: Model,
        workers: usize,
        wall_s: f64,
        cpu_each: f64,
        others: Option<f64>,
    ) -> Measurement {
        use crate::model::WorkerStatus;
        Measurement {
            workload: Workload::Cpu { iters: 1000 },
            model,
            workers,
            run: 1,
            wall_s,
            outcomes: (0..workers)
                .map(|w| WorkerOutcome {
                    cpu_s: Some(cpu_each),
                    ..WorkerOutcome::failed(w, WorkerStatus::Finished { result: 1 })
                })
                .collect(),
            memory: None,
            others_cpus: others,
            steal_cpus: others.map(|_| 0.0),
            cpu_pressure: None,
            launch_s: None,
            shell_startup: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Model;

    #[test]
    fn the_shells_start_up_is_the_medians_and_leaves_no_figure_below_zero() {
        let calibration: Vec<Measurement> = [0.002, 0.001, 0.009]
            .iter()
            .map(|&wall| {
                let mut run = Measurement::made_up(Model::THREAD, 2, wall, 0.0, None);
                for (o, user) in run.outcomes.iter_mut().zip([0.0004, 0.0002]) {
                    (o.user_s, o.system_s) = (Some(user), Some(0.0001));
                }
                run
            })
            .collect();
        let startup = ShellStartup::of(&calibration).unwrap();
        assert_eq!(startup.wall_s, 0.002);
        assert_eq!(startup.runs, 3);
        // Six workers' user times, 0.0002 three times and 0.0004 three
        // times: their median is halfway.
        assert!((startup.user_s.unwrap() - 0.0003).abs() < 1e-12);
        let mut run = Measurement::made_up(Model::THREAD, 2, 0.010, 0.0, None);
        for (o, user) in run.outcomes.iter_mut().zip([0.005, 0.0001]) {
            (o.user_s, o.system_s) = (Some(user), Some(0.002));
        }
        run.subtract_shell_startup(&startup);
        assert!((run.wall_s - 0.008).abs() < 1e-12);
        assert!((run.outcomes[0].user_s.unwrap() - 0.0047).abs() < 1e-12);
        assert_eq!(run.outcomes[1].user_s, Some(0.0));
        assert!((run.outcomes[0].cpu_s.unwrap() - (0.0047 + 0.0019)).abs() < 1e-12);
        assert_eq!(run.shell_startup, Some(startup.clone()));
        let mut fast = Measurement::made_up(Model::THREAD, 1, 0.001, 0.0, None);
        fast.subtract_shell_startup(&startup);
        assert_eq!(fast.wall_s, 0.0);
        assert_eq!(ShellStartup::of(&[]), None);
    }
}
