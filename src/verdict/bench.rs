//! The bench's verdicts: what N workers of one (workload, model) did
//! compared with one, what the GIL line and the per-iteration speed may
//! claim. Each is a result, or `inconclusive` with the first reason the
//! evidence gives ([`super::evidence`]).

use super::evidence::{
    cores_busy, elsewhere, impossible_speedup, near_threshold, ratio_moved, runs_disagree,
    short_of_cpu, starved, too_short, waited_for_cpu,
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

    /// What gives a run more to time, for this workload: more
    /// iterations of a loop, more work for a program or a closure.
    fn more_work(&self) -> &'static str {
        match self.kind {
            WorkloadKind::Cpu => "use more iterations",
            WorkloadKind::Sleep => "use a longer --sleep",
            WorkloadKind::Command => "give the command more work per run",
            WorkloadKind::Custom => "give the closure more work per run",
        }
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
        if let Some(reason) = elsewhere(column.runs(n), column.noun) {
            return Some(reason);
        }
        if let Some(needed) = column.needed(n)
            && let Some(reason) = short_of_cpu(column.runs(n), needed, column.cpus, column.noun)
        {
            return Some(reason);
        }
        if column.kind == WorkloadKind::Cpu
            && let Some(reason) = starved(column.runs(n), column.noun).or_else(|| {
                // /proc/stat sees other work only to a 10 ms tick: workers
                // that nothing holds back yet kept fewer CPUs busy than they
                // could use were waiting for one, whatever it saw. Only up
                // to one worker per CPU: beyond, a pool's or a runtime's
                // last round leaves CPUs idle by design.
                column
                    .needed(n)
                    .filter(|_| n <= column.cpus)
                    .and_then(|needed| waited_for_cpu(column.runs(n), needed, column.noun))
            })
        {
            return Some(reason);
        }
    }
    let (one, at_n) = (column.walls(1), column.walls(workers));
    if let Some(reason) = too_short(&one).or_else(|| too_short(&at_n)) {
        return Some(format!("{reason}; {}", column.more_work()));
    }
    if let Some((s, interval)) = speedup(&one, &at_n, workers)
        && let Some(reason) = impossible_speedup(s, interval, workers, column.possible(workers))
    {
        return Some(format!("{reason}; {} or --runs", column.more_work()));
    }
    runs_disagree(&one)
        .or_else(|| runs_disagree(&at_n))
        .map(|reason| format!("{reason}; {} or --runs", column.more_work()))
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
                "{reason}; {} or --runs",
                column.more_work()
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
        // are given without a claim about CPUs. Above N (never an
        // impossible figure beyond its noise: checked above), all ran at
        // once, and no more than all.
        WorkloadKind::Command | WorkloadKind::Custom if (speedup * 10.0).round() / 10.0 >= n => {
            format!("as if all {workers} workers ran at once")
        }
        WorkloadKind::Command | WorkloadKind::Custom => {
            format!("as if {speedup:.1} of the {workers} workers ran at once")
        }
    };
    Some(Verdict::new(Outcome::Holds, text))
}

/// How far from fair sharing a time may lie and still be called near it:
/// the scheduler's time slices and the workers' uneven starts.
const NEAR_FAIR: f64 = 0.1;

/// What `workers` CPU-bound workers, more than the CPUs, did with them:
/// sharing `cpus` CPUs fairly, they take `workers / cpus` times as long
/// as one. A result says whether their time was near that, or how far
/// above it and what it looks like (in rounds of `cpus` at a time, one at
/// a time). Inconclusive when [`doubt`] finds a reason (other work took
/// CPUs, the runs disagree, a time below fair sharing beyond its noise,
/// which only more CPUs than exist could give), or when the time is below
/// fair sharing by more than [`NEAR_FAIR`] within its noise. `None` for
/// other workloads, `workers ≤ cpus`, or cells not measured.
pub(crate) fn sharing(column: &Column<'_>, workers: usize) -> Option<Verdict> {
    if column.kind != WorkloadKind::Cpu || workers <= column.cpus {
        return None;
    }
    let one = median(&column.walls(1))?;
    let ratio = median(&column.walls(workers))? / one;
    let inconclusive =
        |reason: String| Verdict::new(Outcome::Inconclusive, format!("inconclusive: {reason}"));
    if let Some(reason) = doubt(column, workers) {
        return Some(inconclusive(reason));
    }
    let fair = workers as f64 / column.cpus as f64;
    let off = ratio / fair - 1.0;
    if off < -NEAR_FAIR {
        return Some(inconclusive(format!(
            "{} less time than sharing {} CPUs fairly allows, which only more CPUs could give, though within the runs' noise; {} or --runs",
            crate::fmt::percent(-off),
            column.cpus,
            column.more_work()
        )));
    }
    if off <= NEAR_FAIR {
        return Some(Verdict::new(Outcome::Holds, "near fair sharing"));
    }
    // Above fair sharing: say what the time looks like, when it looks
    // like something a model does.
    let rounds = workers.div_ceil(column.cpus) as f64;
    let near = |x: f64| (ratio / x - 1.0).abs() <= NEAR_FAIR;
    let shape = if near(workers as f64) {
        ": as if one ran at a time".to_string()
    } else if rounds > fair * (1.0 + NEAR_FAIR) && near(rounds) {
        format!(
            ": as if they ran in {rounds:.0} rounds of {} at a time",
            column.cpus
        )
    } else {
        String::new()
    };
    Some(Verdict::new(
        Outcome::Holds,
        format!(
            "{} longer than fair sharing{shape}",
            crate::fmt::percent(off)
        ),
    ))
}

/// Whether the per-iteration comparison of two languages' one-worker cpu
/// runs (`fast`, Rust's; `slow`, Python's) is a result: both cells sound (CPU, length,
/// agreement) and their ratio steady over the runs. The reason when not.
pub(crate) fn per_iteration_doubt(
    fast: &[Measurement],
    slow: &[Measurement],
    cpus: usize,
) -> Option<String> {
    for (runs, noun) in [(fast, "worker"), (slow, "worker")] {
        if let Some(reason) = short_of_cpu(runs, 1.0, cpus, noun).or_else(|| starved(runs, noun)) {
            return Some(reason);
        }
    }
    let (fast_runs, slow_runs) = (fast, slow);
    let (fast, slow) = (walls(fast), walls(slow));
    if let Some(reason) = too_short(&fast).or_else(|| too_short(&slow)) {
        return Some(format!("{reason}; use more iterations"));
    }
    if let Some(reason) = runs_disagree(&fast).or_else(|| runs_disagree(&slow)) {
        return Some(format!("{reason}; use more iterations or --runs"));
    }
    // Per iteration, as the line prints it: each language has its own
    // iteration count, so the ratio of their cells' times is scaled by
    // the ratio of their counts.
    let iters = |runs: &[Measurement]| match runs.first()?.workload {
        crate::workload::Workload::Cpu { iters } if iters > 0 => Some(iters as f64),
        _ => None,
    };
    let per_iteration = iters(fast_runs)? / iters(slow_runs)?;
    let ratio = median(&slow)? / median(&fast)? * per_iteration;
    let interval = bootstrap_ratio(&slow, &fast, 1.0)
        .map(|(low, high)| (low * per_iteration, high * per_iteration));
    ratio_moved("Python's time per iteration over Rust's", ratio, interval)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Model;

    /// A run of `workers` workers that took `wall_s`, each worker busy for
    /// `cpu_each` seconds, with `others` CPUs taken by other work.
    fn run(workers: usize, wall_s: f64, cpu_each: f64, others: Option<f64>) -> Measurement {
        run_as(Model::THREAD, workers, wall_s, cpu_each, others)
    }

    /// [`run`] of `model`'s workers.
    fn run_as(
        model: Model,
        workers: usize,
        wall_s: f64,
        cpu_each: f64,
        others: Option<f64>,
    ) -> Measurement {
        Measurement::made_up(model, workers, wall_s, cpu_each, others)
    }

    /// The verdict for 1 and `n` workers of a thread column on `cpus`
    /// CPUs, each cell's runs given as (wall, cpu per worker, others).
    fn judge(
        cpus: usize,
        one: &[(f64, f64, Option<f64>)],
        n: usize,
        at_n: &[(f64, f64, Option<f64>)],
    ) -> Verdict {
        judge_as(Model::THREAD, cpus, one, n, at_n)
    }

    /// [`judge`] for a column of `model`: the gil model for the verdicts
    /// only a model that holds its workers back can earn (Rust threads
    /// that kept fewer CPUs busy than they could were waiting for one).
    fn judge_as(
        model: Model,
        cpus: usize,
        one: &[(f64, f64, Option<f64>)],
        n: usize,
        at_n: &[(f64, f64, Option<f64>)],
    ) -> Verdict {
        let cells = vec![
            (
                1,
                one.iter()
                    .map(|&(w, c, o)| run_as(model, 1, w, c, o))
                    .collect(),
            ),
            (
                n,
                at_n.iter()
                    .map(|&(w, c, o)| run_as(model, n, w, c, o))
                    .collect(),
            ),
        ];
        let column = Column {
            kind: WorkloadKind::Cpu,
            noun: "threads",
            cpus,
            cells: &cells,
        };
        scaling(&column, n).unwrap()
    }

    const QUIET: Option<f64> = Some(0.02);

    #[test]
    fn a_clean_parallel_run_is_a_result() {
        let v = judge(
            2,
            &[
                (0.25, 0.25, QUIET),
                (0.251, 0.25, QUIET),
                (0.249, 0.25, QUIET),
            ],
            2,
            &[
                (0.255, 0.25, QUIET),
                (0.256, 0.25, QUIET),
                (0.254, 0.25, QUIET),
            ],
        );
        assert_eq!(v.outcome, Outcome::Holds, "{}", v.text);
        assert_eq!(v.text, "both CPUs used");
        // Older files have no contention figures: still a result.
        let v = judge_as(
            Model::GIL,
            2,
            &[(0.25, 0.25, None)],
            2,
            &[(0.5, 0.25, None)],
        );
        assert_eq!(v.outcome, Outcome::Holds, "{}", v.text);
        assert!(v.text.starts_with("no parallelism"), "{}", v.text);
        // Rust threads that kept one CPU busy where they could use two
        // waited for a CPU, seen or not: never "no parallelism".
        let v = judge(2, &[(0.25, 0.25, None)], 2, &[(0.5, 0.25, None)]);
        assert_eq!(v.outcome, Outcome::Inconclusive, "{}", v.text);
        assert!(v.text.contains("waited for a CPU"), "{}", v.text);
        // But CPU-bound workers that got half a CPU between them waited
        // for the machine, whatever the model.
        let v = judge(2, &[(0.25, 0.25, None)], 2, &[(1.0, 0.25, None)]);
        assert_eq!(v.outcome, Outcome::Inconclusive, "{}", v.text);
        assert!(
            v.text.contains("got only 0.50 CPUs between them"),
            "{}",
            v.text
        );
    }

    #[test]
    fn a_busy_machine_never_gets_no_or_partial_parallelism() {
        // Other work kept 1.7 of 2 CPUs busy; the 2 threads got the 0.3
        // left (each computed 0.25 s in 1.6 s: 0.31 CPUs between them).
        let busy = Some(1.7);
        let v = judge(2, &[(0.8, 0.25, busy)], 2, &[(1.6, 0.25, busy)]);
        assert_eq!(v.outcome, Outcome::Inconclusive);
        assert!(
            !v.text.contains("parallelism:") && !v.text.contains("partial"),
            "{}",
            v.text
        );
        assert!(
            v.text
                .starts_with("inconclusive: other processes kept 1.7 of the 2 CPUs busy"),
            "{}",
            v.text
        );
        assert!(
            v.text.contains(
                "kept 0.3 CPUs busy, all that was left to them: they ran in parallel whenever they could"
            ),
            "{}",
            v.text
        );
        // Half a CPU taken: 1.5 left, the threads took 1.4 of them.
        let half = Some(0.5);
        let v = judge(2, &[(0.25, 0.25, QUIET)], 2, &[(0.357, 0.25, half)]);
        assert_eq!(v.outcome, Outcome::Inconclusive, "{}", v.text);
        assert!(!v.text.contains("partial parallelism"), "{}", v.text);
    }

    #[test]
    fn runs_that_disagree_are_inconclusive() {
        let v = judge(
            2,
            &[(0.25, 0.25, QUIET), (0.4, 0.25, QUIET), (0.18, 0.25, QUIET)],
            2,
            &[
                (0.26, 0.25, QUIET),
                (0.26, 0.25, QUIET),
                (0.26, 0.25, QUIET),
            ],
        );
        assert_eq!(v.outcome, Outcome::Inconclusive, "{}", v.text);
        assert!(
            v.text.contains("runs of a cell typically differ by 28%"),
            "{}",
            v.text
        );
    }

    #[test]
    fn an_impossible_speedup_is_inconclusive() {
        // The issue's ×2.69 at 3 workers on 2 CPUs, beside a plausible ×1.9 at 2.
        let cells = vec![
            (1, vec![run(1, 0.25, 0.25, QUIET)]),
            (2, vec![run(2, 0.263, 0.25, QUIET)]),
            (3, vec![run(3, 0.279, 0.25, QUIET)]),
        ];
        let column = Column {
            kind: WorkloadKind::Cpu,
            noun: "threads",
            cpus: 2,
            cells: &cells,
        };
        let v = scaling(&column, 2).unwrap();
        assert_eq!(v.outcome, Outcome::Inconclusive, "{}", v.text);
        assert!(
            v.text.contains("×2.69") && v.text.contains("at 3 workers"),
            "{}",
            v.text
        );
        // Efficiency above 100 % at 2 workers.
        let v = judge(2, &[(0.25, 0.25, QUIET)], 2, &[(0.2, 0.25, QUIET)]);
        assert_eq!(v.outcome, Outcome::Inconclusive, "{}", v.text);
        assert!(v.text.contains("efficiency 125%"), "{}", v.text);
    }

    #[test]
    fn a_cell_too_short_to_time_is_inconclusive() {
        let v = judge(2, &[(0.004, 0.004, QUIET)], 2, &[(0.0041, 0.004, QUIET)]);
        assert_eq!(v.outcome, Outcome::Inconclusive, "{}", v.text);
        assert!(v.text.contains("too short to time honestly"), "{}", v.text);
    }

    #[test]
    fn a_run_near_a_threshold_is_inconclusive() {
        // Speedup 1.58: 0.8 × 2 = 1.6 is 1.3 % away, one run.
        let v = judge_as(
            Model::GIL,
            2,
            &[(0.25, 0.25, QUIET)],
            2,
            &[(0.3165, 0.25, QUIET)],
        );
        assert_eq!(v.outcome, Outcome::Inconclusive, "{}", v.text);
        assert!(v.text.contains("within 3% of ×1.60"), "{}", v.text);
        // Well away from it, the same single run is a result.
        let v = judge_as(
            Model::GIL,
            2,
            &[(0.25, 0.25, QUIET)],
            2,
            &[(0.36, 0.25, QUIET)],
        );
        assert_eq!(v.outcome, Outcome::Holds, "{}", v.text);
        assert!(
            v.text.starts_with("partial parallelism, as if 1.4"),
            "{}",
            v.text
        );
    }

    #[test]
    fn a_ratio_between_languages_that_moves_is_inconclusive() {
        let rust: Vec<Measurement> = [0.25, 0.25, 0.25].map(|w| run(1, w, w, QUIET)).to_vec();
        let steady: Vec<Measurement> = [5.0, 5.05, 4.95].map(|w| run(1, w, w, QUIET)).to_vec();
        assert_eq!(per_iteration_doubt(&rust, &steady, 2), None);
        let fast: Vec<Measurement> = [0.1, 0.25, 0.26, 0.27, 0.1]
            .map(|w| run(1, w, w, QUIET))
            .to_vec();
        let doubt = per_iteration_doubt(&fast, &steady, 2).unwrap();
        assert!(
            doubt.contains("differ by") || doubt.contains("moved"),
            "{doubt}"
        );
        // The ratio is given per iteration: Python ran 10 times fewer
        // iterations here, so its cell's ×20 is ×200 an iteration.
        let python = |w: f64| Measurement {
            workload: crate::workload::Workload::Cpu { iters: 100 },
            ..run(1, w, w, QUIET)
        };
        let moving: Vec<Measurement> = [3.0, 4.0, 4.1, 4.2, 5.5].map(python).to_vec();
        let doubt = per_iteration_doubt(&rust, &moving, 2).unwrap();
        assert!(
            doubt.starts_with("Python's time per iteration over Rust's moved from 1"),
            "{doubt}"
        );
        let short: Vec<Measurement> = [0.004].map(|w| run(1, w, w, QUIET)).to_vec();
        assert!(
            per_iteration_doubt(&short, &steady, 2)
                .unwrap()
                .contains("too short")
        );
    }

    /// A thread column on 2 CPUs at 1 and 3 workers, each cell's runs
    /// given as (wall, cpu per worker, others).
    fn judge_sharing(one: &[(f64, f64, Option<f64>)], at_3: &[(f64, f64, Option<f64>)]) -> Verdict {
        let cells = vec![
            (1, one.iter().map(|&(w, c, o)| run(1, w, c, o)).collect()),
            (3, at_3.iter().map(|&(w, c, o)| run(3, w, c, o)).collect()),
        ];
        let column = Column {
            kind: WorkloadKind::Cpu,
            noun: "threads",
            cpus: 2,
            cells: &cells,
        };
        sharing(&column, 3).unwrap()
    }

    #[test]
    fn more_workers_than_cpus_are_judged_against_fair_sharing() {
        let one = [
            (0.25, 0.25, QUIET),
            (0.251, 0.25, QUIET),
            (0.249, 0.25, QUIET),
        ];
        // 3 × 0.25 s of work on 2 CPUs: 0.375 s when shared fairly.
        let fair = [
            (0.38, 0.25, QUIET),
            (0.381, 0.25, QUIET),
            (0.379, 0.25, QUIET),
        ];
        let v = judge_sharing(&one, &fair);
        assert_eq!(
            (v.outcome, v.text.as_str()),
            (Outcome::Holds, "near fair sharing")
        );
        // A pool of 2: two rounds, 0.5 s.
        let rounds = [
            (0.5, 0.25, QUIET),
            (0.502, 0.25, QUIET),
            (0.499, 0.25, QUIET),
        ];
        let v = judge_sharing(&one, &rounds);
        assert_eq!(v.outcome, Outcome::Holds, "{}", v.text);
        assert!(
            v.text.starts_with("33% longer than fair sharing"),
            "{}",
            v.text
        );
        assert!(v.text.ends_with("in 2 rounds of 2 at a time"), "{}", v.text);
        // One global lock: 0.75 s.
        let serial = [
            (0.75, 0.25, QUIET),
            (0.751, 0.25, QUIET),
            (0.749, 0.25, QUIET),
        ];
        let v = judge_sharing(&one, &serial);
        assert!(v.text.ends_with("as if one ran at a time"), "{}", v.text);
        // Between the two: the distance alone.
        let slow = [
            (0.43, 0.25, QUIET),
            (0.431, 0.25, QUIET),
            (0.429, 0.25, QUIET),
        ];
        let v = judge_sharing(&one, &slow);
        assert_eq!(v.text, "15% longer than fair sharing", "{}", v.text);
    }

    #[test]
    fn sharing_that_the_machine_or_the_noise_decided_is_inconclusive() {
        let one = [
            (0.25, 0.25, QUIET),
            (0.251, 0.25, QUIET),
            (0.249, 0.25, QUIET),
        ];
        // Other work kept a CPU busy: the 3 threads had one between them.
        let busy = Some(1.0);
        let v = judge_sharing(&one, &[(0.75, 0.25, busy), (0.76, 0.25, busy)]);
        assert_eq!(v.outcome, Outcome::Inconclusive, "{}", v.text);
        assert!(
            v.text
                .contains("other processes kept 1.0 of the 2 CPUs busy"),
            "{}",
            v.text
        );
        // Runs that disagree.
        let noisy = [(0.38, 0.25, QUIET), (0.6, 0.25, QUIET), (0.3, 0.25, QUIET)];
        let v = judge_sharing(&one, &noisy);
        assert_eq!(v.outcome, Outcome::Inconclusive, "{}", v.text);
        assert!(
            v.text.contains("runs of a cell typically differ"),
            "{}",
            v.text
        );
        // Faster than 2 CPUs can go, beyond the noise: impossible.
        let impossible = [
            (0.28, 0.25, QUIET),
            (0.281, 0.25, QUIET),
            (0.279, 0.25, QUIET),
        ];
        let v = judge_sharing(&one, &impossible);
        assert_eq!(v.outcome, Outcome::Inconclusive, "{}", v.text);
        assert!(
            v.text.contains("which this machine cannot do"),
            "{}",
            v.text
        );
        // Below fair sharing by 12 % but within the noise of one run.
        let v = judge_sharing(&[(0.25, 0.25, QUIET)], &[(0.33, 0.25, QUIET)]);
        assert_eq!(v.outcome, Outcome::Inconclusive, "{}", v.text);
        assert!(
            v.text
                .contains("less time than sharing 2 CPUs fairly allows"),
            "{}",
            v.text
        );
        // Fewer workers than CPUs are not judged against sharing.
        let cells = vec![
            (1, vec![run(1, 0.25, 0.25, QUIET)]),
            (2, vec![run(2, 0.25, 0.25, QUIET)]),
        ];
        let column = Column {
            kind: WorkloadKind::Cpu,
            noun: "threads",
            cpus: 2,
            cells: &cells,
        };
        assert_eq!(sharing(&column, 2), None);
    }

    /// Workers that left free CPUs unused (one global lock lets one of two
    /// compute) were held back by their model, not by the others' work:
    /// a little other work does not make their figure inconclusive.
    #[test]
    fn workers_that_left_free_cpus_unused_are_judged() {
        let alone = [(1.0, 1.0, Some(0.4)); 3];
        let serial = [(2.0, 0.95, Some(0.4)); 3];
        let short = short_of_cpu(&serial.map(|(w, c, o)| run(2, w, c, o)), 2.0, 2, "threads");
        assert_eq!(short, None);
        let verdict = judge_as(Model::GIL, 2, &alone, 2, &serial);
        assert!(verdict.text.contains("one at a time"), "{verdict:?}");
    }
}
