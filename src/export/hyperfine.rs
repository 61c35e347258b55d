//! `--export-hyperfine`: hyperfine's `--export-json` schema, so that the
//! scripts people wrote for hyperfine (`plot_whisker.py`,
//! `plot_parametrized.py`, their own) read paralab's runs.
//!
//! One result per (workload, model, workers), in the order measured; its
//! `command` says which (`cpu (1,000,000 iterations) · thread · 2
//! workers`) and its `parameters` name the three as strings, as
//! hyperfine's `--parameter-scan` does, so `plot_parametrized.py` can plot
//! against `workers`. Every run is in `times` and `exit_codes`, failed
//! ones too, and `mean` … `max` are of `times`, as hyperfine computes them
//! with `--ignore-failure`. Times are in seconds, whatever `--time-unit`
//! says, as in hyperfine's files.

use std::collections::BTreeMap;
use std::io;

use serde::Serialize;

use super::{Exporter, Output};
use crate::dataset::Record;
use crate::experiment::Measurement;
use crate::fmt::count;
use crate::measure::stats::Summary;
use crate::model::Model;
use crate::workload::Workload;

/// The document: `{"results": [...]}`.
#[derive(Debug, Serialize)]
pub(crate) struct HyperfineExport {
    /// One per (workload, model, workers).
    pub results: Vec<HyperfineResult>,
}

/// One of hyperfine's benchmark results, field for field.
#[derive(Debug, Serialize)]
pub(crate) struct HyperfineResult {
    /// What ran: `cpu (1,000,000 iterations) · thread · 2 workers`.
    pub command: String,
    /// Mean wall time of `times`, in seconds.
    pub mean: f64,
    /// Their sample standard deviation; null for one run, as hyperfine
    /// writes it.
    pub stddev: Option<f64>,
    /// Their median.
    pub median: f64,
    /// Mean over the runs of the workers' user time summed; null where a
    /// model does not split CPU time (hyperfine always knows its child's).
    pub user: Option<f64>,
    /// Mean over the runs of the workers' system time summed; null where
    /// unknown.
    pub system: Option<f64>,
    /// The shortest of `times`.
    pub min: f64,
    /// The longest of `times`.
    pub max: f64,
    /// Every timed run's wall time, in the order they ran.
    pub times: Vec<f64>,
    /// Per run: 0 when every worker succeeded, the first failed worker's
    /// exit code, or null when it has none (killed by a signal, a panic,
    /// a wrong result, lost, timed out), as hyperfine writes a signal.
    pub exit_codes: Vec<Option<i32>>,
    /// `workload`, `model` and `workers`, as strings.
    pub parameters: BTreeMap<String, String>,
}

impl HyperfineExport {
    /// The document for `record`.
    pub(crate) fn new(record: &Record) -> HyperfineExport {
        let mut cells: Vec<(&Workload, Model, usize)> = Vec::new();
        for m in &record.measurements {
            if !cells.contains(&(&m.workload, m.model, m.workers)) {
                cells.push((&m.workload, m.model, m.workers));
            }
        }
        let results = cells
            .into_iter()
            .filter_map(|(workload, model, workers)| {
                let runs: Vec<&Measurement> = record
                    .measurements
                    .iter()
                    .filter(|m| &m.workload == workload && m.model == model && m.workers == workers)
                    .collect();
                result(workload, model, workers, &runs)
            })
            .collect();
        HyperfineExport { results }
    }
}

/// The result of one cell's `runs`; `None` without runs.
fn result(
    workload: &Workload,
    model: Model,
    workers: usize,
    runs: &[&Measurement],
) -> Option<HyperfineResult> {
    let times: Vec<f64> = runs.iter().map(|m| m.wall_s).collect();
    let summary = Summary::of(&times)?;
    let mean_of = |figure: fn(&Measurement) -> Option<f64>| {
        let values: Option<Vec<f64>> = runs.iter().map(|m| figure(m)).collect();
        crate::measure::stats::mean(&values?)
    };
    let command = format!("{workload} · {model} · {}", count(workers, "worker"));
    let parameters = BTreeMap::from([
        ("workload".to_string(), workload.kind().to_string()),
        ("model".to_string(), model.to_string()),
        ("workers".to_string(), workers.to_string()),
    ]);
    Some(HyperfineResult {
        command,
        mean: summary.mean,
        stddev: summary.stddev,
        median: summary.median,
        user: mean_of(Measurement::user_s),
        system: mean_of(Measurement::system_s),
        min: summary.min,
        max: summary.max,
        times,
        exit_codes: runs.iter().map(|m| exit_code(m)).collect(),
        parameters,
    })
}

/// The run's exit code as hyperfine would write it: 0, or the first
/// worker's non-zero code (kept under `-i` too); `None` when a worker ended
/// without an exit code (killed, lost, a wrong result).
fn exit_code(run: &Measurement) -> Option<i32> {
    run.outcomes.iter().try_fold(0, |first, outcome| {
        let code = outcome.status.exit_code()?;
        Some(if first == 0 { code } else { first })
    })
}

/// [`HyperfineExport`], pretty-printed as hyperfine writes it.
pub(crate) struct HyperfineJson;

impl Exporter for HyperfineJson {
    fn export(&self, record: &Record) -> io::Result<Output> {
        let mut bytes = serde_json::to_vec_pretty(&HyperfineExport::new(record))?;
        bytes.push(b'\n');
        Ok(Output::Document(bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{WorkerOutcome, WorkerStatus};

    #[test]
    fn one_result_per_cell_with_every_run() {
        let mut ok = Measurement::made_up(Model::THREAD, 2, 1.0, 0.9, Some(0.0));
        for o in &mut ok.outcomes {
            o.user_s = Some(0.8);
            o.system_s = Some(0.1);
        }
        let mut second = ok.clone();
        second.run = 2;
        second.wall_s = 2.0;
        second.outcomes[1] = WorkerOutcome::failed(1, WorkerStatus::Exited { code: 3 });
        let mut ignored = ok.clone();
        ignored.run = 3;
        ignored.outcomes[0].status = WorkerStatus::IgnoredExit { code: 1 };
        ignored.outcomes[1].status = WorkerStatus::IgnoredExit { code: 2 };
        let mut killed = ok.clone();
        killed.run = 4;
        killed.outcomes[1].status = WorkerStatus::Killed {
            signal: "SIGKILL".into(),
        };
        let alone = Measurement::made_up(Model::GIL, 1, 0.5, 0.5, None);
        let record = Record {
            measurements: vec![ok, second, ignored, killed, alone],
            ..Record::default()
        };
        let export = HyperfineExport::new(&record);
        assert_eq!(export.results.len(), 2);
        let thread = &export.results[0];
        assert_eq!(
            thread.command,
            "cpu (1,000 iterations) · thread · 2 workers"
        );
        assert_eq!(thread.times, [1.0, 2.0, 1.0, 1.0]);
        assert_eq!(thread.exit_codes, [Some(0), Some(3), Some(1), None]);
        assert_eq!((thread.mean, thread.median), (1.25, 1.0));
        // The failed run's second worker has no user time: not known.
        assert_eq!(thread.user, None);
        assert_eq!(thread.parameters["workers"], "2");
        let gil = &export.results[1];
        assert_eq!(gil.stddev, None);
        assert_eq!(gil.parameters["model"], "gil");
    }
}
