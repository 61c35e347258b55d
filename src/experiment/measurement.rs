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
pub(crate) fn run_label(workload: &Workload, model: Model, workers: usize) -> String {
    format!(
        "{} · {model} · {}",
        workload.kind(),
        count(workers, "worker")
    )
}
