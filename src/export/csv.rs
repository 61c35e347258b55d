//! `--export-csv`: one summary row per (workload, model, workers), times in
//! seconds, for spreadsheets and data frames.
//!
//! The columns after `cpus` are medians over the cell's successful runs of
//! each run's figure: cores busy (Σ worker CPU / wall), the CPUs other
//! work kept busy, steal, CPU pressure (0..1), and the workers' user and
//! system seconds and context switches summed over the run's workers.

use std::io;

use super::{Exporter, Output};
use crate::dataset::Record;
use crate::experiment::Measurement;
use crate::measure::stats::median;
use crate::model::WorkerOutcome;
use crate::report::rows::rows;
use crate::workload::Workload;

/// The header row.
pub(crate) const HEADER: [&str; 24] = [
    "workload",
    "iters",
    "sleep_s",
    "model",
    "workers",
    "runs",
    "failed_runs",
    "min_s",
    "median_s",
    "mean_s",
    "stddev_s",
    "max_s",
    "speedup",
    "efficiency",
    "outliers",
    "cpus",
    "cores_busy",
    "others_cpus",
    "steal_cpus",
    "cpu_pressure",
    "user_s",
    "system_s",
    "voluntary_switches",
    "involuntary_switches",
];

/// Writes the summary rows with the `csv` crate (quoting and escaping done
/// right). Unknown values (a single run's deviation, a failed cell) are
/// empty fields.
pub(crate) struct CsvRows;

impl Exporter for CsvRows {
    fn export(&self, record: &Record) -> io::Result<Output> {
        let mut out = csv::Writer::from_writer(Vec::new());
        out.write_record(HEADER)?;
        let number = |x: Option<f64>| x.map_or_else(String::new, |x| x.to_string());
        let cpus = record.cpus().to_string();
        for row in rows(&record.measurements) {
            // `if let`, not `match`: a new kind of workload leaves both empty.
            let iters = if let Workload::Cpu { iters } = &row.workload {
                iters.to_string()
            } else {
                String::new()
            };
            let sleep = if let Workload::Sleep { duration } = &row.workload {
                duration.as_secs_f64().to_string()
            } else {
                String::new()
            };
            let s = row.wall_s;
            let runs: Vec<&Measurement> = record
                .measurements
                .iter()
                .filter(|m| {
                    m.workload == row.workload
                        && m.model == row.model
                        && m.workers == row.workers
                        && m.succeeded()
                })
                .collect();
            let median_of = |per_run: &dyn Fn(&Measurement) -> Option<f64>| {
                let values: Vec<f64> = runs.iter().filter_map(|m| per_run(m)).collect();
                number(median(&values))
            };
            out.write_record([
                row.workload.kind().to_string(),
                iters,
                sleep,
                row.model.to_string(),
                row.workers.to_string(),
                s.map_or(0, |s| s.runs).to_string(),
                row.failed_runs.to_string(),
                number(s.map(|s| s.min)),
                number(s.map(|s| s.median)),
                number(s.map(|s| s.mean)),
                number(s.and_then(|s| s.stddev)),
                number(s.map(|s| s.max)),
                number(row.speedup),
                number(row.efficiency),
                row.outliers.to_string(),
                cpus.clone(),
                median_of(&Measurement::cores_busy),
                median_of(&|m| m.others_cpus),
                median_of(&|m| m.steal_cpus),
                median_of(&|m| m.cpu_pressure),
                median_of(&|m| m.outcomes.iter().map(|o| o.user_s).sum()),
                median_of(&|m| m.outcomes.iter().map(|o| o.system_s).sum()),
                median_of(&|m| summed(m, |o| o.voluntary_switches)),
                median_of(&|m| summed(m, |o| o.involuntary_switches)),
            ])?;
        }
        out.into_inner()
            .map(Output::Document)
            .map_err(|e| e.into_error())
    }
}

/// A count summed over the run's workers; `None` when a worker's is unknown.
/// Summed as floats: a saved file may hold any count, and a sum of u64s
/// could overflow.
fn summed(m: &Measurement, count: impl Fn(&WorkerOutcome) -> Option<u64>) -> Option<f64> {
    m.outcomes.iter().map(|o| count(o).map(|n| n as f64)).sum()
}
