//! What to run: the plain, serialisable description of a sweep.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::machine::logical_cpus;
use crate::model::{Model, StartMethod};
use crate::workload::{DEFAULT_ITERS, DEFAULT_SLEEP, Workload};

/// What to run: every workload, with every model, at every worker count,
/// `runs` times after `warmup` untimed runs.
///
/// ```
/// use paralab::{Model, Plan, Workload};
/// let plan = Plan {
///     workloads: vec![Workload::Cpu { iters: 1000 }],
///     models: vec![Model::THREAD],
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
            models: vec![Model::THREAD, Model::process(StartMethod::Fork)],
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
