//! The bench's verdicts: what N workers of one (workload, model) did
//! compared with one, what the GIL line and the per-iteration speed may
//! claim. Each is a result, or `inconclusive` with the first reason the
//! evidence gives ([`super::evidence`]).

use super::evidence::{
    cores_busy, impossible_speedup, near_threshold, ratio_moved, runs_disagree, short_of_cpu,
    too_short,
};
use super::{Outcome, Verdict};
use crate::experiment::Measurement;
use crate::measure::stats::{bootstrap_ratio, median};
use crate::workload::WorkloadKind;

/// A speedup at or above this share of N: every worker ran at once.
const ALL_AT_ONCE: f64 = 0.8;

/// A speedup at or below this: the workers ran one at a time.
const ONE_AT_A_TIME: f64 = 1.25;

/// The runs of one column (a workload run by a model), successful ones
/// only, by worker count.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Column<'m> {
    /// What each worker did.
    pub kind: WorkloadKind,
    /// The workers' name: `threads`, `processes`, `workers`.
    pub noun: &'m str,
    /// The machine's logical CPUs.
    pub cpus: usize,
    /// Per worker count, its successful runs.
    pub cells: &'m [(usize, Vec<Measurement>)],
}

impl Column<'_> {
    /// The successful runs at `workers` workers (none when not measured).
    pub(crate) fn runs(&self, workers: usize) -> &[Measurement] {
        self.cells
            .iter()
            .find(|(n, _)| *n == workers)
            .map_or(&[], |(_, runs)| runs.as_slice())
    }

    fn walls(&self, workers: usize) -> Vec<f64> {
        walls(self.runs(workers))
    }

    /// The CPUs `workers` workers could keep busy, when the workload is
    /// known to compute: min(N, CPUs) for cpu, and for a program or a
    /// closure that kept a CPU busy alone. `None`: it waits, no CPU needed.
    fn needed(&self, workers: usize) -> Option<f64> {
        let computes = match self.kind {
            WorkloadKind::Cpu => true,
            WorkloadKind::Sleep => false,
            WorkloadKind::Command | WorkloadKind::Custom => {
                cores_busy(self.runs(1)).is_some_and(|busy| busy >= 0.5)
            }
        };
        computes.then(|| workers.min(self.cpus) as f64)
    }

    /// The most workers that can run at once: one per CPU for cpu work,
    /// all of them for waits and for programs that may wait.
    fn possible(&self, workers: usize) -> f64 {
        match self.kind {
            WorkloadKind::Cpu => workers.min(self.cpus) as f64,
            _ => workers as f64,
        }
    }
}

/// The wall times of `runs`.
pub(crate) fn walls(runs: &[Measurement]) -> Vec<f64> {
    runs.iter().map(|m| m.wall_s).collect()
}

/// `N·T(1)/T(N)` with its 95 % bootstrap interval (with two runs or more
/// on both sides).
pub(crate) fn speedup(
    one: &[f64],
    at_n: &[f64],
    workers: usize,
) -> Option<(f64, Option<(f64, f64)>)> {
    let speedup = workers as f64 * median(one)? / median(at_n)?;
    Some((speedup, bootstrap_ratio(one, at_n, workers as f64)))
}

/// Why the runs at one and at `workers` workers of `column` cannot
/// support a verdict, if they cannot: other work took the CPUs, a cell
/// too short, runs that disagree, an impossible speedup. Every verdict
/// about a ratio of two cells asks this first.
pub(crate) fn doubt(column: &Column<'_>, workers: usize) -> Option<String> {
    for n in [workers, 1] {
        if let Some(needed) = column.needed(n)
            && let Some(reason) = short_of_cpu(column.runs(n), needed, column.cpus, column.noun)
        {
            return Some(reason);
        }
    }
    let (one, at_n) = (column.walls(1), column.walls(workers));
    if let Some(reason) = too_short(&one).or_else(|| too_short(&at_n)) {
        return Some(format!("{reason}; use more iterations"));
    }
    if let Some((s, interval)) = speedup(&one, &at_n, workers)
        && let Some(reason) = impossible_speedup(s, interval, workers, column.possible(workers))
    {
        return Some(format!("{reason}; use more iterations or --runs"));
    }
    runs_disagree(&one)
        .or_else(|| runs_disagree(&at_n))
        .map(|reason| format!("{reason}; use more iterations or --runs"))
}

/// What `workers` workers did compared with one, as a verdict: for cpu
/// work `both CPUs used`, `no parallelism…`, `partial parallelism…`; for
/// waits whether they overlapped; for a program or closure the figure
/// alone. Inconclusive, with its reason, whenever [`doubt`] finds one at
/// this or any other measured worker count (an impossible figure
/// anywhere says the timings are noise), or the speedup sits at a
/// threshold between two verdicts. `None` without runs at one and at
/// `workers` workers.
pub(crate) fn scaling(column: &Column<'_>, workers: usize) -> Option<Verdict> {
    let (speedup, interval) = speedup(&column.walls(1), &column.walls(workers), workers)?;
    let inconclusive =
        |reason: String| Verdict::new(Outcome::Inconclusive, format!("inconclusive: {reason}"));
    if let Some(reason) = doubt(column, workers) {
        return Some(inconclusive(reason));
    }
    // An impossible figure at another count discredits the whole column.
    for &(n, _) in column.cells {
        if n != workers
            && n > 1
            && let Some((s, i)) = self::speedup(&column.walls(1), &column.walls(n), n)
            && let Some(reason) = impossible_speedup(s, i, n, column.possible(n))
        {
            return Some(inconclusive(format!(
                "{reason}; use more iterations or --runs"
            )));
        }
    }
    let n = workers as f64;
    let thresholds = [ALL_AT_ONCE * n, ONE_AT_A_TIME];
    if matches!(column.kind, WorkloadKind::Cpu | WorkloadKind::Sleep)
        && let Some(reason) = near_threshold(speedup, interval, &thresholds)
    {
        return Some(inconclusive(format!("{reason}; use --runs 10")));
    }
    let text = match column.kind {
        WorkloadKind::Cpu if speedup >= ALL_AT_ONCE * n => {
            if workers == 2 {
                "both CPUs used".to_string()
            } else {
                format!("{workers} CPUs used")
            }
        }
        WorkloadKind::Cpu if speedup <= ONE_AT_A_TIME => {
            "no parallelism: the workers ran one at a time".to_string()
        }
        WorkloadKind::Cpu => {
            format!("partial parallelism, as if {speedup:.1} of the {workers} workers ran at once")
        }
        WorkloadKind::Sleep if speedup >= ALL_AT_ONCE * n => "the waits overlapped".to_string(),
        WorkloadKind::Sleep if speedup <= ONE_AT_A_TIME => {
            "the waits did not overlap: they ran one after another".to_string()
        }
        WorkloadKind::Sleep => format!(
            "the waits overlapped only in part, as if {speedup:.1} of the {workers} ran at once"
        ),
        // A program or a closure may compute, wait or both: the numbers
        // are given without a claim about CPUs.
        WorkloadKind::Command | WorkloadKind::Custom => {
            format!("as if {speedup:.1} of the {workers} workers ran at once")
        }
    };
    Some(Verdict::new(Outcome::Holds, text))
}

/// Whether the per-iteration comparison of two languages' one-worker cpu
/// runs (`fast`, `slow`) is a result: both cells sound (CPU, length,
/// agreement) and their ratio steady over the runs. The reason when not.
pub(crate) fn per_iteration_doubt(
    fast: &[Measurement],
    slow: &[Measurement],
    cpus: usize,
) -> Option<String> {
    for (runs, noun) in [(fast, "worker"), (slow, "worker")] {
        if let Some(reason) = short_of_cpu(runs, 1.0, cpus, noun) {
            return Some(reason);
        }
    }
    let (fast, slow) = (walls(fast), walls(slow));
    if let Some(reason) = too_short(&fast).or_else(|| too_short(&slow)) {
        return Some(format!("{reason}; use more iterations"));
    }
    if let Some(reason) = runs_disagree(&fast).or_else(|| runs_disagree(&slow)) {
        return Some(format!("{reason}; use more iterations or --runs"));
    }
    let ratio = median(&slow)? / median(&fast)?;
    ratio_moved(
        "the ratio of their times",
        ratio,
        bootstrap_ratio(&slow, &fast, 1.0),
    )
}
