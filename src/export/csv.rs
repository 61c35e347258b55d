//! `--export-csv`: one summary row per (workload, model, workers), times in
//! seconds, for spreadsheets and data frames.

use std::io;

use super::{Exporter, Output};
use crate::dataset::Record;
use crate::report::rows::rows;
use crate::workload::Workload;

/// The header row.
pub(crate) const HEADER: [&str; 16] = [
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
            ])?;
        }
        out.into_inner()
            .map(Output::Document)
            .map_err(|e| e.into_error())
    }
}
