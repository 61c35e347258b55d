//! The summary rows every export shares: one per (workload, model,
//! workers), with the statistics of its runs.

use serde::{Deserialize, Serialize};

use crate::dataset::Grid;
use crate::experiment::Measurement;
use crate::fmt::{self, TimeUnit};
use crate::measure::stats::{Summary, outliers};
use crate::model::Model;
use crate::verdict::evidence::{self, cores_busy};
use crate::workload::Workload;

/// The runs of one (workload, model, workers), summarised.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Row {
    /// What each worker did.
    pub workload: Workload,
    /// How the workers were run.
    #[serde(flatten)]
    pub model: Model,
    /// The model's name as tables show it (`thread`, `process (fork)`).
    pub model_label: String,
    /// How many workers ran at once.
    pub workers: usize,
    /// Wall times of the successful runs, in seconds; `None` when every
    /// run failed.
    pub wall_s: Option<Summary>,
    /// Runs in which a worker failed (not in `wall_s`).
    pub failed_runs: usize,
    /// `N·T(1)/T(N)` from the medians.
    pub speedup: Option<f64>,
    /// The 95 % bootstrap interval of `speedup` over the runs, `[low,
    /// high]`; absent with one run on either side.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speedup_interval: Option<[f64; 2]>,
    /// `T(1)/T(N)` from the medians.
    pub efficiency: Option<f64>,
    /// The 95 % bootstrap interval of `efficiency`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub efficiency_interval: Option<[f64; 2]>,
    /// Cores busy (the workers' CPU time over the wall time), median over
    /// the successful runs; absent where CPU time was not measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cores_busy: Option<f64>,
    /// The workers' user time summed per run, median over the successful
    /// runs, in seconds; absent where a model did not split CPU time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_s: Option<f64>,
    /// The workers' system time summed per run, median over the successful
    /// runs, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_s: Option<f64>,
    /// Runs whose modified z-score marks them as outliers.
    pub outliers: usize,
}

impl Row {
    /// The row's statistics as the summary tables of documents show them
    /// (Markdown, HTML), every time in `unit`: the rows of one table take
    /// one unit, `TimeUnit::for_times(rows.iter().flat_map(Row::times))`,
    /// so that a column never mixes ms and s.
    pub(crate) fn text_in(&self, unit: TimeUnit) -> RowText {
        self.text_with(&|t| unit.format(t))
    }

    fn text_with(&self, time: &dyn Fn(f64) -> String) -> RowText {
        let dash = || "-".to_string();
        let (timings, runs) = match self.wall_s {
            Some(s) => (
                Some([
                    time(s.median),
                    match s.stddev {
                        Some(sd) => format!("{} ± {}", time(s.mean), time(sd)),
                        None => time(s.mean),
                    },
                    time(s.min),
                    time(s.max),
                    self.speedup.map_or_else(dash, |x| format!("×{x:.2}")),
                    self.efficiency.map_or_else(dash, fmt::percent_spaced),
                ]),
                if self.failed_runs > 0 {
                    format!("{} ({} failed)", s.runs, self.failed_runs)
                } else {
                    s.runs.to_string()
                },
            ),
            None => (None, format!("0 ({} failed)", self.failed_runs)),
        };
        RowText {
            model: self.model_label.clone(),
            workers: self.workers.to_string(),
            timings,
            runs,
        }
    }
}

impl Row {
    /// The wall times this row shows (median, mean, min, max).
    pub(crate) fn times(&self) -> Vec<f64> {
        self.wall_s
            .map(|s| vec![s.median, s.mean, s.min, s.max])
            .unwrap_or_default()
    }
}

/// The columns of a summary table, in order, as [`Row::text`] fills them.
pub(crate) const COLUMNS: [&str; 9] = [
    "model",
    "workers",
    "median",
    "mean ± σ",
    "min",
    "max",
    "speedup",
    "efficiency",
    "runs",
];

/// A [`Row`] as text, one field per column of [`COLUMNS`] (unescaped: each
/// document escapes it its own way).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RowText {
    /// The model's label: `thread`, `process (fork)`.
    pub model: String,
    /// How many workers ran at once.
    pub workers: String,
    /// Median, mean ± σ, min, max, speedup, efficiency; `None` when every
    /// run failed.
    pub timings: Option<[String; 6]>,
    /// Timed runs: `5`, or `4 (1 failed)`.
    pub runs: String,
}

/// One row per (workload, model, workers) that was tried: workloads
/// outermost, then models, then worker counts, in the order measured.
pub(crate) fn rows(measurements: &[Measurement]) -> Vec<Row> {
    let grid = Grid::new(measurements);
    let mut rows = Vec::new();
    for (c, column) in grid.columns.iter().enumerate() {
        for &workers in &grid.workers {
            let tried: Vec<&Measurement> = measurements
                .iter()
                .filter(|m| {
                    m.workload == column.workload && m.model == column.model && m.workers == workers
                })
                .collect();
            if tried.is_empty() {
                continue;
            }
            let walls = grid.walls(c, workers);
            rows.push(Row {
                workload: column.workload.clone(),
                model: column.model,
                model_label: grid.model_label(c),
                workers,
                wall_s: Summary::of(walls),
                failed_runs: tried.iter().filter(|m| !m.succeeded()).count(),
                speedup: grid.speedup(c, workers),
                speedup_interval: grid
                    .speedup_interval(c, workers)
                    .map(|(low, high)| [low, high]),
                efficiency: grid.efficiency(c, workers),
                efficiency_interval: grid
                    .efficiency_interval(c, workers)
                    .map(|(low, high)| [low, high]),
                cores_busy: cores_busy(
                    &tried
                        .iter()
                        .filter(|m| m.succeeded())
                        .map(|m| (*m).clone())
                        .collect::<Vec<_>>(),
                ),
                user_s: median_of(&tried, Measurement::user_s),
                system_s: median_of(&tried, Measurement::system_s),
                outliers: outliers(walls).len(),
            });
        }
    }
    rows
}

/// The median over the successful ones of `runs` of a figure each run may
/// lack; `None` unless every successful run has it.
fn median_of(runs: &[&Measurement], figure: fn(&Measurement) -> Option<f64>) -> Option<f64> {
    let figures: Option<Vec<f64>> = runs
        .iter()
        .filter(|m| m.succeeded())
        .map(|m| figure(m))
        .collect();
    crate::measure::stats::median(&figures?)
}

/// One warning per (workload, model, workers) whose times contradict
/// each other: work that computes whose wall time far exceeds its CPU
/// time (the workers waited), or CPU time beyond wall × `cpus` (a
/// measurement error). For stderr and the summary.
pub(crate) fn time_warnings(measurements: &[Measurement], cpus: usize) -> Vec<String> {
    let mut cells: Vec<(&Workload, Model, usize)> = Vec::new();
    for m in measurements {
        if !cells.contains(&(&m.workload, m.model, m.workers)) {
            cells.push((&m.workload, m.model, m.workers));
        }
    }
    let mut warnings = Vec::new();
    for (workload, model, workers) in cells {
        let runs: Vec<Measurement> = measurements
            .iter()
            .filter(|m| {
                &m.workload == workload && m.model == model && m.workers == workers && m.succeeded()
            })
            .cloned()
            .collect();
        let waited = matches!(workload, Workload::Cpu { .. })
            .then(|| evidence::waited_more_than_computed(&runs))
            .flatten();
        for reason in [waited, evidence::impossible_cpu_time(&runs, cpus)]
            .into_iter()
            .flatten()
        {
            warnings.push(format!(
                "{}: {reason}",
                crate::experiment::run_label(workload, model, workers)
            ));
        }
    }
    warnings
}

/// [`time_warnings`] as lines of the summary, each `warning: …`.
pub(crate) fn time_notes(measurements: &[Measurement], cpus: usize) -> String {
    time_warnings(measurements, cpus)
        .into_iter()
        .map(|w| format!("warning: {w}\n"))
        .collect()
}

/// One warning per (workload, model, workers) with outlying runs, as
/// hyperfine words it, for stderr.
pub(crate) fn outlier_warnings(rows: &[Row]) -> Vec<String> {
    rows.iter()
        .filter(|r| r.outliers > 0)
        .filter_map(|r| {
            let s = r.wall_s?;
            Some(format!(
                "{} · {} · {} workers: {} of {} runs {} (min {}, median {}, max {}); \
                 another program may have been using the CPUs. Close it, or add --warmup 1 and more --runs",
                r.workload.kind(),
                r.model,
                r.workers,
                r.outliers,
                s.runs,
                if r.outliers == 1 {
                    "is a statistical outlier"
                } else {
                    "are statistical outliers"
                },
                fmt::seconds(s.min),
                fmt::seconds(s.median),
                fmt::seconds(s.max),
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{StartMethod, WorkerStatus};

    /// Built from JSON rather than a struct literal, so that fields other
    /// parts of paralab add to measurements (with serde defaults) need no
    /// change here.
    fn measurement(model: Model, workers: usize, run: usize, wall_s: f64, ok: bool) -> Measurement {
        let status = if ok {
            WorkerStatus::Finished { result: 9_349_050 }
        } else {
            WorkerStatus::Exited { code: 1 }
        };
        let outcomes: Vec<serde_json::Value> = (0..workers)
            .map(|worker| {
                let mut outcome = serde_json::to_value(&status).unwrap();
                outcome["worker"] = worker.into();
                outcome["start_s"] = 0.0.into();
                outcome["end_s"] = wall_s.into();
                outcome
            })
            .collect();
        let mut value = serde_json::to_value(model).unwrap();
        value["workload"] = serde_json::to_value(Workload::Cpu { iters: 10 }).unwrap();
        value["workers"] = workers.into();
        value["run"] = run.into();
        value["wall_s"] = wall_s.into();
        value["outcomes"] = outcomes.into();
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn one_row_per_cell_with_its_statistics() {
        let fork = Model::process(StartMethod::Fork);
        let mut ms = Vec::new();
        for (run, (one, two)) in [(1.0, 1.1), (1.2, 1.0), (1.1, 1.2)].into_iter().enumerate() {
            ms.push(measurement(Model::THREAD, 1, run + 1, one, true));
            ms.push(measurement(Model::THREAD, 2, run + 1, two, true));
        }
        ms.push(measurement(fork, 1, 1, 2.0, true));
        ms.push(measurement(fork, 2, 1, 9.0, false));
        let rows = rows(&ms);
        assert_eq!(rows.len(), 4);
        let r = &rows[1];
        assert_eq!((r.model, r.workers), (Model::THREAD, 2));
        let s = r.wall_s.unwrap();
        assert_eq!((s.runs, s.min, s.median, s.max), (3, 1.0, 1.1, 1.2));
        assert!((r.speedup.unwrap() - 2.0).abs() < 1e-12);
        assert_eq!(rows[2].model_label, "process (fork)");
        assert_eq!((rows[3].wall_s, rows[3].failed_runs), (None, 1));
        assert_eq!(rows[3].speedup, None);
        assert!(outlier_warnings(&rows).is_empty());
    }

    #[test]
    fn a_table_of_rows_can_keep_one_unit() {
        let ms: Vec<Measurement> = [(1, 0.0717), (2, 0.188)]
            .into_iter()
            .map(|(workers, wall)| measurement(Model::THREAD, workers, 1, wall, true))
            .collect();
        let rows = rows(&ms);
        let unit = TimeUnit::chosen_or(None, rows.iter().flat_map(Row::times));
        let medians: Vec<String> = rows
            .iter()
            .map(|r| r.text_in(unit).timings.unwrap()[0].clone())
            .collect();
        assert_eq!(medians, ["0.072 s", "0.188 s"]);
    }

    #[test]
    fn an_outlier_is_warned_about() {
        let ms: Vec<Measurement> = [0.2501, 0.2503, 0.2502, 0.2504, 0.41]
            .into_iter()
            .enumerate()
            .map(|(i, wall)| measurement(Model::THREAD, 1, i + 1, wall, true))
            .collect();
        let warnings = outlier_warnings(&rows(&ms));
        assert_eq!(warnings.len(), 1);
        assert!(
            warnings[0]
                .starts_with("cpu · thread · 1 workers: 1 of 5 runs is a statistical outlier")
        );
    }
}
