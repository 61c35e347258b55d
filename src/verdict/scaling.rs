//! The scalability fit: from a sweep of one (workload, model), how much of
//! the work behaves as if it were serial (Amdahl's serial fraction, and
//! Karp–Flatt's experimentally determined serial fraction at each worker
//! count), and the Universal Scalability Law's contention `α` and
//! coherency `β`, each with a 95 % interval, or `inconclusive` with the
//! reason the points cannot support it.
//!
//! paralab runs N copies of one workload at once, so the figure fitted is
//! the relative capacity `C(N) = N·T(1)/T(N)` (the speedup of the
//! summary): the quantity the USL describes, `C(N) = N / (1 + α(N−1) +
//! βN(N−1))`, of which Amdahl's law is the case `β = 0` with `α = σ`.
//!
//! Only worker counts up to the machine's CPUs are fitted for work that
//! computes: beyond them the workers take turns on the CPUs, and `T(N)`
//! measures the kernel's time-sharing (`C(N)` flat at the CPU count), not
//! anything the model does; fitting those points would read the machine's
//! size as contention.

use fastrand::Rng;
use serde::{Deserialize, Serialize};

use super::bench::{self, doubt};
use super::evidence::cores_busy;
use crate::dataset::Grid;
use crate::dataset::Record;
use crate::experiment::Measurement;
use crate::measure::stats::{bootstrap_ratio, median};
use crate::model::Model;
use crate::workload::{Workload, WorkloadKind};

/// Resamples of the runs behind each interval: the percentiles 2.5 and
/// 97.5 of 1000 fits are stable to a few parts in a hundred, enough for
/// parameters given to two significant figures.
const RESAMPLES: usize = 1000;

/// A serial fraction, or a USL term's share of the work at the largest
/// count fitted, whose whole 95 % interval lies below this is reported
/// as negligible (an upper bound) rather than judged on its relative
/// width: a perfectly parallel model has `σ ≈ 0`, and an interval
/// `0–3 %` is then the result, not a failure to measure it.
const NEGLIGIBLE: f64 = 0.05;

/// A lower bound of an interval this close to 0 does not tell the value
/// from none.
const INDISTINGUISHABLE: f64 = 0.005;

/// The fit of one (workload, model)'s sweep, as `--export-json` writes
/// it under `scaling`.
///
/// ```json
/// { "workload": {"kind": "cpu", "iters": 3000000}, "model": "thread",
///   "model_label": "thread",
///   "fit_workers": [1, 2], "left_out_workers": [3],
///   "karp_flatt": [{"workers": 2, "serial_fraction": 0.012,
///                   "interval": [0.0, 0.03]}],
///   "amdahl": {"outcome": "fit", "serial_fraction": 0.012,
///              "interval": [0.0, 0.03], "points": 1},
///   "usl": {"outcome": "inconclusive", "reason": "…"} }
/// ```
///
/// A USL fit reads `{"outcome": "fit", "contention": α,
/// "contention_interval": [low, high], "coherency": β,
/// "coherency_interval": [low, high], "peak_workers": N* or null,
/// "points": n}`. Intervals are 95 % percentile-bootstrap intervals over
/// the runs; `points` counts the worker counts above one that were fitted.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct ScalingFit {
    /// What each worker did.
    pub workload: Workload,
    /// How the workers were run.
    #[serde(flatten)]
    pub model: Model,
    /// The model's name as tables show it.
    pub model_label: String,
    /// The worker counts the fit used, in increasing order.
    pub fit_workers: Vec<usize>,
    /// The worker counts measured but left out: beyond the CPUs, where the
    /// workers time-share them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub left_out_workers: Vec<usize>,
    /// Karp–Flatt's `e(N) = (N/C(N) − 1)/(N − 1)` at each count fitted
    /// above one.
    #[serde(default)]
    pub karp_flatt: Vec<SerialFraction>,
    /// Amdahl's serial fraction fitted over every count used.
    pub amdahl: AmdahlFit,
    /// The Universal Scalability Law's two parameters.
    pub usl: UslFit,
}

/// Karp–Flatt's serial fraction at one worker count.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct SerialFraction {
    /// How many workers ran at once.
    pub workers: usize,
    /// `e(N)` from the median wall times.
    pub serial_fraction: f64,
    /// Its 95 % bootstrap interval over the runs (absent with one run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<[f64; 2]>,
}

/// Amdahl's serial fraction, or why it cannot be given.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub(crate) enum AmdahlFit {
    /// `σ` in `C(N) = N / (1 + σ(N − 1))`, with its 95 % interval.
    Fit {
        serial_fraction: f64,
        interval: [f64; 2],
        points: usize,
    },
    /// The points cannot support it; `reason` says why, in words.
    Inconclusive { reason: String },
}

/// The USL's contention and coherency, or why they cannot be given.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub(crate) enum UslFit {
    /// `α` and `β` with their 95 % intervals, and where the throughput
    /// peaks (`√((1 − α)/β)`) when `β > 0`.
    Fit {
        contention: f64,
        contention_interval: [f64; 2],
        coherency: f64,
        coherency_interval: [f64; 2],
        peak_workers: Option<f64>,
        points: usize,
    },
    /// The points cannot support it; `reason` says why, in words.
    Inconclusive { reason: String },
}

/// `C(N) = N / (1 + α(N−1) + βN(N−1))`.
pub(crate) fn usl_capacity(workers: f64, contention: f64, coherency: f64) -> f64 {
    workers / (1.0 + contention * (workers - 1.0) + coherency * workers * (workers - 1.0))
}

/// Karp–Flatt's experimentally determined serial fraction at `workers`
/// (≥ 2) for the capacity `capacity`: `(1/C − 1/N)/(1 − 1/N)`, which is
/// `(N/C − 1)/(N − 1)`; constant and equal to `σ` on Amdahl's curve, so a
/// trend over N shows a cost Amdahl's law lacks (the USL's `β`).
pub(crate) fn karp_flatt(workers: f64, capacity: f64) -> f64 {
    (workers / capacity - 1.0) / (workers - 1.0)
}

/// Amdahl's `σ ≥ 0` by least squares on the linearised form
/// `N/C(N) − 1 = σ(N − 1)` (a line through the origin), over `points`
/// `(N, C(N))` with `N ≥ 2`.
///
/// Why this form: it is Gunther's linearisation with `β = 0`, so the two
/// fits agree by construction, and it needs no iterative solver. Its
/// uncertainty comes from resampling the runs ([`bootstrap`]), not from
/// the residuals: with the two or three counts a small machine allows,
/// residuals have no degrees of freedom left, while the runs' spread is
/// always there to resample.
pub(crate) fn fit_amdahl(points: &[(f64, f64)]) -> Option<f64> {
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for &(n, c) in points {
        let (x, y) = (n - 1.0, n / c - 1.0);
        sxy += x * y;
        sxx += x * x;
    }
    // A negative σ (better than linear) is noise: the bound is the answer.
    (sxx > 0.0 && sxy.is_finite()).then(|| (sxy / sxx).max(0.0))
}

/// The USL's `(α, β)`, both `≥ 0`, by Gunther's method: least squares of
/// `N/C(N) − 1` on `(N − 1)` and `N(N − 1)` (the quadratic in `N − 1`
/// through the origin), over `points` `(N, C(N))` with `N ≥ 2`.
///
/// The constraints are handled exactly (a two-variable non-negative least
/// squares): when the unconstrained optimum has a negative parameter, the
/// best fit with that parameter at 0 is taken, so a bound is reported as
/// the bound it is, never as a negative contention.
pub(crate) fn fit_usl(points: &[(f64, f64)]) -> Option<(f64, f64)> {
    let (mut s11, mut s12, mut s22, mut s1y, mut s2y) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for &(n, c) in points {
        let (x1, x2, y) = (n - 1.0, n * (n - 1.0), n / c - 1.0);
        s11 += x1 * x1;
        s12 += x1 * x2;
        s22 += x2 * x2;
        s1y += x1 * y;
        s2y += x2 * y;
    }
    if !(s1y.is_finite() && s2y.is_finite()) || s11 <= 0.0 {
        return None;
    }
    // The residual sum of squares up to the constant Σy², for comparing
    // candidates: −2(a·s1y + b·s2y) + a²s11 + 2ab·s12 + b²s22.
    let cost =
        |a: f64, b: f64| -2.0 * (a * s1y + b * s2y) + a * a * s11 + 2.0 * a * b * s12 + b * b * s22;
    let det = s11 * s22 - s12 * s12;
    let mut candidates = vec![(0.0, 0.0), ((s1y / s11).max(0.0), 0.0)];
    if s22 > 0.0 {
        candidates.push((0.0, (s2y / s22).max(0.0)));
    }
    // Relative to its terms, a determinant this small means one distinct
    // count: the two columns are proportional and β is not identified.
    if det > 1e-12 * s11 * s22 {
        let a = (s22 * s1y - s12 * s2y) / det;
        let b = (s11 * s2y - s12 * s1y) / det;
        if a >= 0.0 && b >= 0.0 {
            candidates.push((a, b));
        }
    }
    candidates
        .into_iter()
        .min_by(|p, q| cost(p.0, p.1).total_cmp(&cost(q.0, q.1)))
}

/// The capacities `(N, N·median(T(1))/median(T(N)))` of `cells` (wall
/// times by worker count, the count 1 among them), for every count
/// above one.
fn capacities(cells: &[(usize, Vec<f64>)]) -> Option<Vec<(f64, f64)>> {
    let one = median(&cells.iter().find(|(n, _)| *n == 1)?.1)?;
    cells
        .iter()
        .filter(|(n, _)| *n > 1)
        .map(|(n, walls)| {
            let tn = median(walls).filter(|&t| t > 0.0)?;
            Some((*n as f64, *n as f64 * one / tn))
        })
        .collect()
}

/// `fit` over `RESAMPLES` resamplings of `cells`: each cell's runs drawn
/// with replacement, independently, from a fixed seed so that the same
/// runs always give the same interval. `None` when a cell has fewer than
/// two runs (no spread to resample) or a resample cannot be fitted.
fn bootstrap<T>(
    cells: &[(usize, Vec<f64>)],
    fit: impl Fn(&[(f64, f64)]) -> Option<T>,
) -> Option<Vec<T>> {
    if cells.iter().any(|(_, walls)| walls.len() < 2) {
        return None;
    }
    let mut rng = Rng::with_seed(0x0000_5CA1_AB1E_0F17_u64);
    let mut drawn: Vec<(usize, Vec<f64>)> = cells.to_vec();
    (0..RESAMPLES)
        .map(|_| {
            for ((_, out), (_, walls)) in drawn.iter_mut().zip(cells) {
                for slot in out.iter_mut() {
                    *slot = walls[rng.usize(..walls.len())];
                }
            }
            fit(&capacities(&drawn)?)
        })
        .collect()
}

/// The 2.5 % and 97.5 % percentiles of `values`.
fn interval(mut values: Vec<f64>) -> [f64; 2] {
    values.sort_by(f64::total_cmp);
    let at =
        |q: f64| values[((q * (values.len() - 1) as f64).round() as usize).min(values.len() - 1)];
    [at(0.025), at(0.975)]
}

/// Why a parameter with this `value` and 95 % `interval` says nothing,
/// if it does not: its interval's half-width is as large as the value,
/// unless the whole interval lies below `negligible` (then the upper
/// bound is the result).
fn unsettled(what: &str, value: f64, [low, high]: [f64; 2], negligible: f64) -> Option<String> {
    if high <= negligible {
        return None;
    }
    ((high - low) / 2.0 >= value).then(|| {
        format!("{what} is {value:.3} but its 95% interval over the runs, {low:.3} to {high:.3}, is as wide as the value; use more --runs")
    })
}

/// The fits of `cells`: wall times of successful runs by worker count
/// (the count 1 among them), all of them to be fitted; the checks of the
/// runs themselves (a busy machine, too short) are the caller's.
pub(crate) fn fit_cells(cells: &[(usize, Vec<f64>)]) -> (Vec<SerialFraction>, AmdahlFit, UslFit) {
    let inconclusive = |reason: String| {
        (
            Vec::new(),
            AmdahlFit::Inconclusive {
                reason: reason.clone(),
            },
            UslFit::Inconclusive { reason },
        )
    };
    let mut cells: Vec<(usize, Vec<f64>)> = cells
        .iter()
        .filter(|(_, walls)| !walls.is_empty())
        .cloned()
        .collect();
    cells.sort_by_key(|(n, _)| *n);
    cells.dedup_by_key(|(n, _)| *n);
    if !cells.iter().any(|(n, _)| *n == 1) {
        return inconclusive("no successful run at 1 worker, the baseline of every ratio".into());
    }
    let Some(points) = capacities(&cells) else {
        return inconclusive("a cell's median wall time is not positive".into());
    };
    if points.is_empty() {
        return inconclusive("only 1 worker was measured; the fit needs 2 workers or more".into());
    }
    let one = cells[0].1.clone();
    let karp_flatt = cells[1..]
        .iter()
        .zip(&points)
        .map(|((n, walls), &(_, c))| SerialFraction {
            workers: *n,
            serial_fraction: karp_flatt(*n as f64, c),
            // e falls as C rises: the interval's ends swap.
            interval: bootstrap_ratio(&one, walls, *n as f64)
                .map(|(low, high)| [karp_flatt(*n as f64, high), karp_flatt(*n as f64, low)]),
        })
        .collect();
    let resamples_needed =
        "one run per cell leaves no spread to give the fit an uncertainty; use --runs 3 or more";
    let amdahl = match (fit_amdahl(&points), bootstrap(&cells, fit_amdahl)) {
        (None, _) => AmdahlFit::Inconclusive {
            reason: "the speedups cannot be fitted (a zero or infinite figure)".into(),
        },
        (Some(_), None) => AmdahlFit::Inconclusive {
            reason: resamples_needed.into(),
        },
        (Some(sigma), Some(draws)) => {
            let range = interval(draws);
            match unsettled("the serial fraction", sigma, range, NEGLIGIBLE) {
                Some(reason) => AmdahlFit::Inconclusive { reason },
                None => AmdahlFit::Fit {
                    serial_fraction: sigma,
                    interval: range,
                    points: points.len(),
                },
            }
        }
    };
    let usl = if points.len() < 2 {
        UslFit::Inconclusive {
            reason: format!(
                "it has two parameters and needs 3 worker counts or more; these are {}",
                counts(&cells)
            ),
        }
    } else {
        match (fit_usl(&points), bootstrap(&cells, fit_usl)) {
            (None, _) => UslFit::Inconclusive {
                reason: "the speedups cannot be fitted (a zero or infinite figure)".into(),
            },
            (Some(_), None) => UslFit::Inconclusive {
                reason: resamples_needed.into(),
            },
            (Some((alpha, beta)), Some(draws)) => {
                let largest = points.iter().map(|p| p.0).fold(1.0, f64::max);
                let alphas = interval(draws.iter().map(|d| d.0).collect());
                let betas = interval(draws.iter().map(|d| d.1).collect());
                // Each term judged by its share of the work at the largest
                // count fitted, so that a β of 1e-4 is not "small" by
                // itself: at 100 workers it is half the work.
                let share_alpha = largest - 1.0;
                let share_beta = largest * (largest - 1.0);
                let scaled = |[low, high]: [f64; 2], by: f64| [low * by, high * by];
                let doubt = unsettled(
                    "the contention α's share of the work",
                    alpha * share_alpha,
                    scaled(alphas, share_alpha),
                    NEGLIGIBLE,
                )
                .or_else(|| {
                    unsettled(
                        "the coherency β's share of the work",
                        beta * share_beta,
                        scaled(betas, share_beta),
                        NEGLIGIBLE,
                    )
                });
                match doubt {
                    Some(reason) => UslFit::Inconclusive { reason },
                    None => UslFit::Fit {
                        contention: alpha,
                        contention_interval: alphas,
                        coherency: beta,
                        coherency_interval: betas,
                        peak_workers: (beta > 0.0 && alpha < 1.0)
                            .then(|| ((1.0 - alpha) / beta).sqrt()),
                        points: points.len(),
                    },
                }
            }
        }
    };
    (karp_flatt, amdahl, usl)
}

/// `N = 1, 2, 3` for the counts of `cells`.
fn counts(cells: &[(usize, Vec<f64>)]) -> String {
    let counts: Vec<String> = cells.iter().map(|(n, _)| n.to_string()).collect();
    format!("N = {}", counts.join(", "))
}

/// The fit of column `column` of `grid` (built from `measurements`) on a
/// machine of `cpus` logical CPUs.
pub(crate) fn fit_column(
    grid: &Grid,
    column: usize,
    measurements: &[Measurement],
    cpus: usize,
) -> ScalingFit {
    let c = &grid.columns[column];
    let cells: Vec<(usize, Vec<Measurement>)> = grid
        .successful_runs(column, measurements)
        .into_iter()
        .filter(|(_, runs)| !runs.is_empty())
        .collect();
    let judged = bench::Column {
        kind: c.workload.kind(),
        noun: c.model.workers_noun(),
        cpus,
        cells: &cells,
    };
    let kind = c.workload.kind();
    let computes = match kind {
        WorkloadKind::Cpu => true,
        WorkloadKind::Sleep => false,
        WorkloadKind::Command | WorkloadKind::Custom => {
            cores_busy(judged.runs(1)).is_some_and(|busy| busy >= 0.5)
        }
    };
    let mut measured: Vec<usize> = cells.iter().map(|(n, _)| *n).collect();
    measured.sort_unstable();
    let (fit_workers, left_out_workers): (Vec<usize>, Vec<usize>) =
        measured.iter().partition(|&&n| n <= cpus);
    let mut fit = ScalingFit {
        workload: c.workload.clone(),
        model: c.model,
        model_label: grid.model_label(column),
        fit_workers: fit_workers.clone(),
        left_out_workers,
        karp_flatt: Vec::new(),
        amdahl: AmdahlFit::Inconclusive {
            reason: String::new(),
        },
        usl: UslFit::Inconclusive {
            reason: String::new(),
        },
    };
    let refuse = |fit: &mut ScalingFit, reason: String| {
        fit.amdahl = AmdahlFit::Inconclusive {
            reason: reason.clone(),
        };
        fit.usl = UslFit::Inconclusive { reason };
    };
    if !computes {
        fit.fit_workers = Vec::new();
        fit.left_out_workers = Vec::new();
        let what = if kind == WorkloadKind::Sleep {
            "sleep waits, it does not compute".to_string()
        } else {
            "the workload kept less than half a CPU busy alone, so it mostly waits".to_string()
        };
        refuse(
            &mut fit,
            format!(
                "{what}: a serial fraction is a property of work that needs CPUs; the speedup lines show how many waits overlapped instead"
            ),
        );
        return fit;
    }
    // Every checked count, not just the last: a busy machine at N = 2
    // bends the curve as surely as one at N = CPUs.
    if let Some(reason) = fit_workers
        .iter()
        .filter(|&&n| n > 1)
        .find_map(|&n| doubt(&judged, n).map(|r| format!("at {n} workers, {r}")))
    {
        refuse(&mut fit, reason);
        // A sweep too short for the USL stays so on an idle machine: that
        // reason comes first.
        if let Some(reason) = too_few_for_usl(&fit_workers, cpus) {
            fit.usl = UslFit::Inconclusive { reason };
        }
        return fit;
    }
    let walls: Vec<(usize, Vec<f64>)> = cells
        .iter()
        .filter(|(n, _)| fit_workers.contains(n))
        .map(|(n, runs)| (*n, bench::walls(runs)))
        .collect();
    let (karp_flatt, amdahl, usl) = fit_cells(&walls);
    fit.karp_flatt = karp_flatt;
    fit.amdahl = amdahl;
    fit.usl = usl;
    if let Some(reason) = too_few_for_usl(&fit_workers, cpus) {
        fit.usl = UslFit::Inconclusive { reason };
    }
    fit
}

/// Why the USL cannot be fitted on `fit_workers` whatever their timings:
/// fewer than 3 counts (two parameters, and 1 is the baseline), with the
/// remedy, which on a machine of `cpus` < 3 is a larger machine.
fn too_few_for_usl(fit_workers: &[usize], cpus: usize) -> Option<String> {
    if fit_workers.len() >= 3 {
        return None;
    }
    let counts: Vec<String> = fit_workers.iter().map(|n| n.to_string()).collect();
    let had = format!(
        "its two parameters need 3 worker counts or more within the CPUs, and within them this sweep has {} (N = {})",
        fit_workers.len(),
        counts.join(", ")
    );
    Some(if cpus < 3 {
        format!(
            "{had}: this machine's {cpus} CPUs allow no more, as workers beyond the CPUs time-share them; run the sweep on a machine with 4 CPUs or more"
        )
    } else {
        format!("{had}; add worker counts up to {cpus} (--workers)")
    })
}

/// The fit of every (workload, model) of `record`; none when its runs
/// come from several machines (a fit over a 2-CPU laptop's and a server's
/// runs describes neither).
pub(crate) fn fits(record: &Record) -> Vec<ScalingFit> {
    if !record.other_machines.is_empty() {
        return Vec::new();
    }
    let grid = Grid::new(&record.measurements);
    (0..grid.columns.len())
        .map(|c| fit_column(&grid, c, &record.measurements, record.cpus()))
        .collect()
}

/// A fraction as a percentage with one decimal: `0.0123` → `1.2%`.
fn pct(fraction: f64) -> String {
    format!("{:.1}%", fraction * 100.0)
}

/// The summary's lines for `fit`: one for the serial fraction, one for
/// the USL, each a result with its interval or `inconclusive` and why.
pub(crate) fn fit_lines(fit: &ScalingFit, cpus: usize) -> Vec<String> {
    let name = format!("{} · {}", fit.workload.line_label(), fit.model_label);
    let range = match (fit.fit_workers.first(), fit.fit_workers.last()) {
        (Some(first), Some(last)) if first != last => format!("N = {first}–{last}"),
        (Some(only), _) => format!("N = {only}"),
        _ => String::new(),
    };
    let left_out = if fit.left_out_workers.is_empty() {
        String::new()
    } else {
        let counts: Vec<String> = fit.left_out_workers.iter().map(|n| n.to_string()).collect();
        format!(
            "; N = {} left out: beyond the {cpus} CPUs workers time-share them, which measures the kernel, not the model",
            counts.join(", ")
        )
    };
    let serial = match &fit.amdahl {
        AmdahlFit::Fit {
            serial_fraction,
            interval: [low, high],
            points,
        } => {
            let karp_flatt: Vec<String> = fit
                .karp_flatt
                .iter()
                .map(|e| format!("e({}) = {}", e.workers, pct(e.serial_fraction)))
                .collect();
            let shape = if *points == 1 {
                " (one count above 1: Amdahl's curve is not tested, only its value there)"
            } else {
                ""
            };
            // Near zero, the interval is the claim: at most its top.
            let bound = if *low <= INDISTINGUISHABLE && *high <= NEGLIGIBLE {
                format!(", no serial part to be seen (at most {})", pct(*high))
            } else if *serial_fraction > 1.0 {
                ", above 100%: together the workers took longer than one after another".to_string()
            } else {
                String::new()
            };
            format!(
                "{name}: serial fraction (Amdahl, fitted on {range}) σ = {}{bound}, 95% interval {}–{}{shape}; Karp–Flatt {}{left_out}",
                pct(*serial_fraction),
                pct(*low),
                pct(*high),
                karp_flatt.join(", ")
            )
        }
        AmdahlFit::Inconclusive { reason } => {
            format!("{name}: serial fraction (Amdahl) inconclusive: {reason}{left_out}")
        }
    };
    // One reason for both (a workload that waits, a busy machine) is
    // said once.
    if let (AmdahlFit::Inconclusive { reason: serial }, UslFit::Inconclusive { reason: usl }) =
        (&fit.amdahl, &fit.usl)
        && serial == usl
    {
        let what = if fit.fit_workers.is_empty() {
            "no scalability fit"
        } else {
            "scalability fit (Amdahl, USL) inconclusive"
        };
        return vec![format!("{name}: {what}: {serial}{left_out}")];
    }
    let usl = match &fit.usl {
        UslFit::Fit {
            contention,
            contention_interval: [al, ah],
            coherency,
            coherency_interval: [bl, bh],
            peak_workers,
            points,
        } => {
            let peak = peak_workers.map_or_else(
                || "; no coherency cost: throughput never peaks".to_string(),
                |p| format!("; throughput would peak near N = {p:.0}"),
            );
            let exact = if *points == 2 {
                " (2 parameters from 2 counts above 1: the curve passes through them, its shape is not tested)"
            } else {
                ""
            };
            format!(
                "{name}: USL over {range}: contention α = {contention:.4} (95% interval {al:.4}–{ah:.4}), coherency β = {coherency:.5} ({bl:.5}–{bh:.5}){peak}{exact}"
            )
        }
        UslFit::Inconclusive { reason } => format!("{name}: USL inconclusive: {reason}"),
    };
    vec![serial, usl]
}

/// The summary's scalability lines for `measurements` on a machine of
/// `cpus` logical CPUs: two per (workload, model) with a run at one
/// worker and at another count.
// Called by `report::summary`, whose owner wires it in.
pub(crate) fn scaling_lines(measurements: &[Measurement], cpus: usize) -> Vec<String> {
    let grid = Grid::new(measurements);
    let fits: Vec<ScalingFit> = (0..grid.columns.len())
        .filter(|&c| {
            grid.median(c, 1).is_some()
                && grid
                    .workers
                    .iter()
                    .any(|&n| n > 1 && grid.median(c, n).is_some())
        })
        .map(|c| fit_column(&grid, c, measurements, cpus))
        // Waits have no serial fraction: the JSON says so, the summary
        // need not say it once per model.
        .filter(|fit| fit.workload.kind() != crate::workload::WorkloadKind::Sleep)
        .collect();
    // A reason every model's USL shares (this machine has too few CPUs) is
    // said once, not once per model.
    let usl_reason = |fit: &ScalingFit| match &fit.usl {
        UslFit::Inconclusive { reason } => Some(reason.clone()),
        UslFit::Fit { .. } => None,
    };
    let shared = fits.first().and_then(usl_reason).filter(|reason| {
        fits.len() > 1 && fits.iter().all(|f| usl_reason(f).as_ref() == Some(reason))
    });
    let mut lines: Vec<String> = fits
        .iter()
        .flat_map(|fit| {
            let mut lines = fit_lines(fit, cpus);
            if shared.is_some() && lines.len() == 2 {
                lines.pop();
            }
            lines
        })
        .collect();
    if let Some(reason) = shared {
        lines.push(format!(
            "every model's USL (contention, coherency) inconclusive: {reason}"
        ));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Wall times of `runs` runs at each of `workers`, for one unit of
    /// work per worker on a machine whose capacity follows the USL with
    /// `alpha`, `beta`, each run off by up to `noise` (a fraction) from a
    /// seeded generator.
    fn usl_sweep(
        workers: &[usize],
        alpha: f64,
        beta: f64,
        runs: usize,
        noise: f64,
        seed: u64,
    ) -> Vec<(usize, Vec<f64>)> {
        let mut rng = fastrand::Rng::with_seed(seed);
        workers
            .iter()
            .map(|&n| {
                let t = n as f64 / usl_capacity(n as f64, alpha, beta);
                let walls = (0..runs)
                    .map(|_| t * (1.0 + noise * (2.0 * rng.f64() - 1.0)))
                    .collect();
                (n, walls)
            })
            .collect()
    }

    #[test]
    fn karp_flatt_is_amdahls_fraction_on_amdahls_curve() {
        for n in 2..10 {
            let c = usl_capacity(n as f64, 0.2, 0.0);
            assert!((karp_flatt(n as f64, c) - 0.2).abs() < 1e-12);
        }
        assert_eq!(karp_flatt(4.0, 4.0), 0.0);
        assert!((karp_flatt(4.0, 1.0) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn a_usl_sweep_with_noise_gives_back_its_parameters_within_their_intervals() {
        let (alpha, beta) = (0.05, 0.002);
        let workers: Vec<usize> = (1..=16).collect();
        let cells = usl_sweep(&workers, alpha, beta, 7, 0.01, 42);
        let (karp_flatt, amdahl, usl) = fit_cells(&cells);
        assert_eq!(karp_flatt.len(), 15);
        let UslFit::Fit {
            contention,
            contention_interval: [al, ah],
            coherency,
            coherency_interval: [bl, bh],
            peak_workers,
            points,
        } = usl
        else {
            panic!("expected a fit, got {usl:?}");
        };
        assert_eq!(points, 15);
        assert!(
            al <= alpha && alpha <= ah,
            "α {alpha} outside {al}–{ah} (fit {contention})"
        );
        assert!(
            bl <= beta && beta <= bh,
            "β {beta} outside {bl}–{bh} (fit {coherency})"
        );
        assert!((contention - alpha).abs() < 0.02 && (coherency - beta).abs() < 0.001);
        let peak = peak_workers.expect("β > 0 gives a peak");
        assert!((peak - ((1.0 - alpha) / beta).sqrt()).abs() < 5.0, "{peak}");
        // Amdahl, which has no coherency term, must put the loss in σ.
        let AmdahlFit::Fit {
            serial_fraction, ..
        } = amdahl
        else {
            panic!("{amdahl:?}");
        };
        assert!(serial_fraction > alpha, "{serial_fraction}");
    }

    #[test]
    fn amdahl_data_is_fitted_by_amdahl_with_no_coherency() {
        let cells = usl_sweep(&[1, 2, 3, 4, 6, 8], 0.1, 0.0, 5, 0.005, 7);
        let (_, amdahl, usl) = fit_cells(&cells);
        let AmdahlFit::Fit {
            serial_fraction,
            interval: [low, high],
            ..
        } = amdahl
        else {
            panic!("{amdahl:?}");
        };
        assert!(
            low <= 0.1 && 0.1 <= high && (serial_fraction - 0.1).abs() < 0.01,
            "{amdahl:?}"
        );
        let UslFit::Fit {
            coherency,
            coherency_interval: [_, bh],
            ..
        } = usl
        else {
            panic!("{usl:?}");
        };
        assert!(coherency < 1e-3 && bh < 2e-3, "{usl:?}");
    }

    #[test]
    fn two_cpus_are_too_few_counts_for_the_usl() {
        let cells = usl_sweep(&[1, 2], 0.05, 0.01, 5, 0.01, 3);
        let (karp_flatt, amdahl, usl) = fit_cells(&cells);
        assert_eq!(karp_flatt.len(), 1);
        assert!(
            matches!(amdahl, AmdahlFit::Fit { points: 1, .. }),
            "{amdahl:?}"
        );
        let UslFit::Inconclusive { reason } = usl else {
            panic!("{usl:?}");
        };
        assert!(reason.contains("needs 3 worker counts"), "{reason}");
    }

    #[test]
    fn noisy_runs_make_the_fit_inconclusive() {
        // ±40 % per run: the intervals are as wide as the values.
        let cells = usl_sweep(&[1, 2, 3, 4], 0.1, 0.01, 3, 0.4, 11);
        let (_, amdahl, usl) = fit_cells(&cells);
        assert!(
            matches!(&usl, UslFit::Inconclusive { reason } if reason.contains("as wide as")),
            "{usl:?}"
        );
        // One parameter over three counts may still be given, but then
        // with an interval that shows the noise.
        match amdahl {
            AmdahlFit::Inconclusive { reason } => {
                assert!(reason.contains("as wide as"), "{reason}")
            }
            AmdahlFit::Fit {
                interval: [low, high],
                ..
            } => assert!(high - low > 0.1, "{low}–{high}"),
        }
    }

    #[test]
    fn one_run_per_cell_gives_no_interval_and_no_fit() {
        let cells = usl_sweep(&[1, 2, 3, 4], 0.1, 0.01, 1, 0.0, 1);
        let (karp_flatt, amdahl, usl) = fit_cells(&cells);
        assert!(karp_flatt.iter().all(|e| e.interval.is_none()));
        for reason in [
            match amdahl {
                AmdahlFit::Inconclusive { reason } => reason,
                other => panic!("{other:?}"),
            },
            match usl {
                UslFit::Inconclusive { reason } => reason,
                other => panic!("{other:?}"),
            },
        ] {
            assert!(reason.contains("--runs"), "{reason}");
        }
    }

    #[test]
    fn superlinear_noise_is_held_at_the_bound_not_made_negative() {
        // C(N) above N: the unconstrained fit would give α < 0.
        let points = [(2.0, 2.1), (3.0, 3.2), (4.0, 4.3)];
        let (alpha, beta) = fit_usl(&points).unwrap();
        assert_eq!((alpha, beta), (0.0, 0.0));
        assert_eq!(fit_amdahl(&points), Some(0.0));
        // Strong coherency with no contention: α held at 0, β positive.
        let points: Vec<(f64, f64)> = (2..8)
            .map(|n| {
                (
                    n as f64,
                    usl_capacity(n as f64, 0.0, 0.05) * if n % 2 == 0 { 1.02 } else { 0.98 },
                )
            })
            .collect();
        let (alpha, beta) = fit_usl(&points).unwrap();
        assert!(alpha >= 0.0 && beta > 0.03, "{alpha} {beta}");
    }

    #[test]
    fn without_a_run_at_one_worker_nothing_is_fitted() {
        let cells = usl_sweep(&[2, 3, 4], 0.1, 0.0, 3, 0.01, 5);
        let (_, amdahl, _) = fit_cells(&cells);
        assert!(
            matches!(amdahl, AmdahlFit::Inconclusive { reason } if reason.contains("1 worker"))
        );
    }

    #[test]
    fn the_summary_says_a_shared_reason_once_and_a_fit_with_its_interval() {
        let fit = |amdahl, usl| ScalingFit {
            workload: Workload::Cpu { iters: 1 },
            model: Model::THREAD,
            model_label: "thread".into(),
            fit_workers: vec![1, 2],
            left_out_workers: vec![3],
            karp_flatt: vec![SerialFraction {
                workers: 2,
                serial_fraction: 0.02,
                interval: Some([0.0, 0.04]),
            }],
            amdahl,
            usl,
        };
        let busy = || "other processes kept 1.7 of the 2 CPUs busy".to_string();
        let lines = fit_lines(
            &fit(
                AmdahlFit::Inconclusive { reason: busy() },
                UslFit::Inconclusive { reason: busy() },
            ),
            2,
        );
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(
            lines[0].contains("inconclusive: other processes")
                && lines[0].contains("N = 3 left out")
        );
        let lines = fit_lines(
            &fit(
                AmdahlFit::Fit {
                    serial_fraction: 0.02,
                    interval: [0.0, 0.04],
                    points: 1,
                },
                UslFit::Inconclusive {
                    reason: too_few_for_usl(&[1, 2], 2).unwrap(),
                },
            ),
            2,
        );
        assert!(
            lines[0].contains("σ = 2.0%") && lines[0].contains("at most 4.0%"),
            "{lines:?}"
        );
        assert!(
            lines[0].contains("e(2) = 2.0%") && lines[0].contains("not tested"),
            "{lines:?}"
        );
        assert!(
            lines[1].contains("USL inconclusive") && lines[1].contains("4 CPUs or more"),
            "{lines:?}"
        );
    }

    proptest! {
        /// Exact USL capacities (no noise) give back their parameters.
        #[test]
        fn exact_usl_points_are_recovered(alpha in 0.0f64..0.9, beta in 0.0f64..0.05, top in 3usize..40) {
            let points: Vec<(f64, f64)> = (2..=top)
                .map(|n| (n as f64, usl_capacity(n as f64, alpha, beta)))
                .collect();
            let (a, b) = fit_usl(&points).unwrap();
            prop_assert!((a - alpha).abs() < 1e-6, "α {} for {}", a, alpha);
            prop_assert!((b - beta).abs() < 1e-7, "β {} for {}", b, beta);
            let sigma = fit_amdahl(&points[..1]).unwrap();
            prop_assert!((sigma - karp_flatt(2.0, points[0].1)).abs() < 1e-9);
        }

        /// Whatever the capacities, the parameters are finite and never negative.
        #[test]
        fn fitted_parameters_are_never_negative(caps in proptest::collection::vec(0.05f64..50.0, 1..12)) {
            let points: Vec<(f64, f64)> = caps.iter().enumerate().map(|(i, &c)| ((i + 2) as f64, c)).collect();
            let (a, b) = fit_usl(&points).unwrap();
            prop_assert!(a >= 0.0 && b >= 0.0 && a.is_finite() && b.is_finite());
            let sigma = fit_amdahl(&points).unwrap();
            prop_assert!(sigma >= 0.0 && sigma.is_finite());
        }
    }
}
