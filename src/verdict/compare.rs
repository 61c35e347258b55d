//! The verdict of `paralab compare`: did one cell (workload, model,
//! workers) get faster or slower from run A to run B, or can the evidence
//! not tell? Each claim is drawn only when the shared checks of
//! [`super::evidence`] find the runs sound; otherwise the cell is
//! `inconclusive` with the first reason found.

use serde::Serialize;

use super::evidence::{
    cores_busy, near_threshold, ratio_moved, runs_disagree, short_of_cpu, starved, too_short,
};
use crate::experiment::Measurement;
use crate::measure::stats::{bootstrap_ratio, median};
use crate::workload::WorkloadKind;

/// What became of one cell from A to B.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Change {
    /// B's runs are faster: the whole 95 % interval of B/A is below 1.
    Faster,
    /// B's runs are slower: the whole 95 % interval of B/A is above 1.
    Slower,
    /// The interval holds 1 and is narrow: no difference the runs can see.
    NoDifference,
    /// The evidence does not support a claim; the text says why.
    Inconclusive,
}

impl std::fmt::Display for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Change::Faster => "faster",
            Change::Slower => "slower",
            Change::NoDifference => "no difference",
            Change::Inconclusive => "inconclusive",
        })
    }
}

/// The verdict on one cell.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct CellVerdict {
    /// Faster, slower, no difference or inconclusive.
    pub change: Change,
    /// B's median wall time over A's, when both have one.
    pub ratio: Option<f64>,
    /// The 95 % interval of [`CellVerdict::ratio`], when both sides have
    /// two runs or more.
    pub interval: Option<(f64, f64)>,
    /// A slowdown whose whole interval lies beyond `--threshold`: the
    /// regression that makes `compare` exit 1.
    pub regression: bool,
    /// One line, with the numbers, or the reason for `inconclusive`.
    pub text: String,
}

/// One side of a comparison: a cell's successful runs, and the logical
/// CPUs of the machine that made them.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Side<'m> {
    /// `A` or `B`.
    pub name: &'m str,
    /// The successful runs of the cell.
    pub runs: &'m [Measurement],
    /// The machine's logical CPUs.
    pub cpus: usize,
}

/// Judges one cell from A to B. `machines_differ` names how the two
/// machines differ, when they do; `threshold` is `--threshold` as a
/// fraction (0.1 for 10 %).
///
/// The interval is the percentile bootstrap of the ratio of medians
/// ([`bootstrap_ratio`]), resampling each side's runs independently: it
/// assumes nothing of the shape of the times (run times are skewed, with
/// a long tail of slow runs, where a Welch interval's normality is
/// wrong for the few runs a bench keeps), it is about the median the
/// tables show, and it is the interval of the bench's speedups, so both
/// commands judge noise alike. Its seed is fixed: the same files always
/// give the same interval and the same verdict.
pub(crate) fn judge(
    a: Side<'_>,
    b: Side<'_>,
    machines_differ: Option<&str>,
    threshold: Option<f64>,
) -> CellVerdict {
    let (walls_a, walls_b) = (walls(a.runs), walls(b.runs));
    let ratio = match (median(&walls_a), median(&walls_b)) {
        (Some(ta), Some(tb)) if ta > 0.0 => Some(tb / ta),
        _ => None,
    };
    let interval = bootstrap_ratio(&walls_b, &walls_a, 1.0);
    let inconclusive = |text: String| CellVerdict {
        change: Change::Inconclusive,
        ratio,
        interval,
        regression: false,
        text: format!("inconclusive, because {text}"),
    };
    for side in [a, b] {
        if side.runs.is_empty() {
            return inconclusive(format!("no run of this cell succeeded in {}", side.name));
        }
    }
    if let Some(how) = machines_differ {
        return inconclusive(format!(
            "A and B were measured on different machines ({how}): a difference may be the machine's"
        ));
    }
    // Too short first: the CPU times of runs of a few milliseconds are
    // counted in ticks, so what they say of a busy machine is noise too.
    for (side, walls) in [(a, &walls_a), (b, &walls_b)] {
        if let Some(reason) = too_short(walls) {
            return inconclusive(format!("in {}, {reason}", side.name));
        }
    }
    for side in [a, b] {
        if let Some(reason) = busy(side) {
            return inconclusive(format!("in {}, {reason}", side.name));
        }
    }
    for (side, walls) in [(a, &walls_a), (b, &walls_b)] {
        if let Some(reason) = runs_disagree(walls) {
            return inconclusive(format!("in {}, {reason}", side.name));
        }
    }
    let Some(ratio) = ratio else {
        return inconclusive("a median wall time is zero".into());
    };
    let Some((low, high)) = interval else {
        let one = if a.runs.len() < 2 { a.name } else { b.name };
        return inconclusive(format!(
            "{one} has one run, which gives no interval; save two runs or more (--runs 5)"
        ));
    };
    if let Some(reason) = ratio_moved("B/A", ratio, interval) {
        return inconclusive(format!("{reason}, too wide to tell a change from noise"));
    }
    let figures = format!("B/A ×{ratio:.3} (95% interval ×{low:.3} to ×{high:.3})");
    let (change, mut text) = if low > 1.0 {
        (
            Change::Slower,
            format!(
                "slower: B takes {} more time, {figures}",
                percent(ratio - 1.0)
            ),
        )
    } else if high < 1.0 {
        (
            Change::Faster,
            format!(
                "faster: B takes {} less time, {figures}",
                percent(1.0 - ratio)
            ),
        )
    } else {
        (
            Change::NoDifference,
            format!("no difference: the interval holds ×1, {figures}"),
        )
    };
    let mut regression = false;
    if let Some(threshold) = threshold
        && change == Change::Slower
    {
        let limit = 1.0 + threshold;
        if near_threshold(ratio, interval, &[limit]).is_some() {
            text.push_str(&format!(
                "; whether beyond the threshold ×{limit:.3} is inconclusive, because the interval straddles it"
            ));
        } else if low > limit {
            regression = true;
            text.push_str(&format!("; beyond the threshold ×{limit:.3}"));
        }
    }
    CellVerdict {
        change,
        ratio: Some(ratio),
        interval,
        regression,
        text,
    }
}

/// Why other work may have slowed the runs of `side`, if it may have:
/// for work that computes, others took CPUs its workers needed (or,
/// where the file did not record the others, the workers got less than
/// one CPU). Work that waits needs no CPU and is not judged.
fn busy(side: Side<'_>) -> Option<String> {
    let first = side.runs.first()?;
    let computes = match first.workload.kind() {
        WorkloadKind::Cpu => true,
        WorkloadKind::Sleep => false,
        WorkloadKind::Command | WorkloadKind::Custom => cores_busy(side.runs)
            .is_some_and(|busy| busy >= 0.5 * first.workers.min(side.cpus) as f64),
    };
    if !computes {
        return None;
    }
    let needed = first.workers.min(side.cpus) as f64;
    let noun = first.model.workers_noun();
    short_of_cpu(side.runs, needed, side.cpus, noun).or_else(|| starved(side.runs, noun))
}

/// The wall times of `runs`.
fn walls(runs: &[Measurement]) -> Vec<f64> {
    runs.iter().map(|m| m.wall_s).collect()
}

/// A fraction as a percentage with one decimal: `12.3%`.
fn percent(fraction: f64) -> String {
    format!("{:.1}%", 100.0 * fraction)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Model;

    /// Quiet cpu runs of one thread that took `walls`.
    fn runs(walls: &[f64]) -> Vec<Measurement> {
        walls
            .iter()
            .map(|&w| Measurement::made_up(Model::THREAD, 1, w, w, Some(0.0)))
            .collect()
    }

    fn side<'m>(name: &'m str, runs: &'m [Measurement]) -> Side<'m> {
        Side {
            name,
            runs,
            cpus: 2,
        }
    }

    #[test]
    fn a_planted_slowdown_is_slower_and_a_regression_beyond_the_threshold() {
        let a = runs(&[0.100, 0.101, 0.099, 0.100, 0.102]);
        let b = runs(&[0.150, 0.151, 0.149, 0.152, 0.150]);
        let verdict = judge(side("A", &a), side("B", &b), None, Some(0.1));
        assert_eq!(verdict.change, Change::Slower, "{}", verdict.text);
        assert!(verdict.regression, "{}", verdict.text);
        let (low, high) = verdict.interval.unwrap();
        assert!(low > 1.4 && high < 1.6, "{low} {high}");
        // Beyond a 60 % threshold it is slower, not a regression.
        let lenient = judge(side("A", &a), side("B", &b), None, Some(0.6));
        assert_eq!(lenient.change, Change::Slower);
        assert!(!lenient.regression);
        // The other way round it is faster.
        let back = judge(side("A", &b), side("B", &a), None, Some(0.1));
        assert_eq!(back.change, Change::Faster, "{}", back.text);
        assert!(!back.regression);
    }

    #[test]
    fn the_same_runs_are_no_difference() {
        let a = runs(&[0.100, 0.101, 0.099, 0.100, 0.102]);
        let verdict = judge(side("A", &a), side("B", &a), None, Some(0.0));
        assert_eq!(verdict.change, Change::NoDifference, "{}", verdict.text);
        assert_eq!(verdict.ratio, Some(1.0));
        assert!(!verdict.regression);
    }

    #[test]
    fn each_doubt_makes_the_cell_inconclusive() {
        let a = runs(&[0.100, 0.101, 0.099]);
        let slow = runs(&[0.150, 0.151, 0.149]);
        let check = |verdict: CellVerdict, words: &str| {
            assert_eq!(verdict.change, Change::Inconclusive, "{}", verdict.text);
            assert!(!verdict.regression);
            assert!(
                verdict.text.starts_with("inconclusive, because ") && verdict.text.contains(words),
                "{words}: {}",
                verdict.text
            );
        };
        check(
            judge(side("A", &a), side("B", &slow), Some("CPU x, y"), None),
            "different machines",
        );
        let noisy = runs(&[0.1, 0.2, 0.13, 0.25, 0.1]);
        check(
            judge(side("A", &a), side("B", &noisy), None, None),
            "in B, the runs of a cell typically differ",
        );
        let short = runs(&[0.001, 0.001, 0.001]);
        check(
            judge(side("A", &short), side("B", &short), None, None),
            "too short",
        );
        let one = runs(&[0.1]);
        check(
            judge(side("A", &one), side("B", &slow), None, None),
            "A has one run",
        );
        check(
            judge(side("A", &[]), side("B", &slow), None, None),
            "no run",
        );
        let busy: Vec<Measurement> = [0.15, 0.151, 0.149]
            .iter()
            .map(|&w| Measurement::made_up(Model::THREAD, 2, w, 0.3 * w, Some(1.4)))
            .collect();
        let two = |walls: &[f64]| -> Vec<Measurement> {
            walls
                .iter()
                .map(|&w| Measurement::made_up(Model::THREAD, 2, w, w, Some(0.0)))
                .collect()
        };
        check(
            judge(
                side("A", &two(&[0.1, 0.1, 0.1])),
                side("B", &busy),
                None,
                None,
            ),
            "in B, other processes kept 1.4",
        );
    }

    #[test]
    fn an_interval_across_the_threshold_is_no_regression() {
        // About ×1.10 with a few percent of noise either way.
        let a = runs(&[0.100, 0.097, 0.103, 0.100, 0.099, 0.101]);
        let b = runs(&[0.110, 0.106, 0.114, 0.110, 0.108, 0.112]);
        let verdict = judge(side("A", &a), side("B", &b), None, Some(0.1));
        assert_eq!(verdict.change, Change::Slower, "{}", verdict.text);
        assert!(!verdict.regression, "{}", verdict.text);
        assert!(verdict.text.contains("straddles"), "{}", verdict.text);
    }
}
