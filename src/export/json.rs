//! `--export-json`: everything — every run with every worker's outcome,
//! the summary of each (workload, model, workers), the plan and the machine.

use std::io;

use serde::{Deserialize, Serialize};

use super::{Exporter, Output};
use crate::dataset::Record;
use crate::experiment::{Measurement, Plan};
use crate::machine::Machine;
use crate::report::rows::{Row, rows};
use crate::verdict::scaling::{ScalingFit, fits};

/// The exported document.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct JsonExport {
    /// The version of paralab that wrote the file.
    pub paralab_version: String,
    /// Where the measurements were made, when known.
    pub machine: Option<Machine>,
    /// What was asked for, when known.
    pub plan: Option<Plan>,
    /// One per (workload, model, workers), with min, median, mean,
    /// standard deviation and max of the wall times.
    pub summaries: Vec<Row>,
    /// The scalability fit of each (workload, model): the worker counts it
    /// used (up to the CPUs for work that computes), Karp–Flatt's serial
    /// fraction per count, Amdahl's serial fraction and the Universal
    /// Scalability Law's contention and coherency with 95 % intervals, each
    /// `{"outcome": "fit", …}` or `{"outcome": "inconclusive", "reason":
    /// "…"}`; the full schema is [`ScalingFit`]'s. Empty when the runs come
    /// from several machines; absent in files written before paralab
    /// fitted.
    #[serde(default)]
    pub scaling: Vec<ScalingFit>,
    /// Every timed run, in the order they ran.
    pub measurements: Vec<Measurement>,
    /// The other machines the runs came from (files of several machines
    /// reported together), each kept whole.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other_machines: Vec<Machine>,
}

impl JsonExport {
    /// The document for `record`.
    pub(crate) fn new(record: &Record) -> JsonExport {
        JsonExport {
            paralab_version: env!("CARGO_PKG_VERSION").to_string(),
            machine: record.machine.clone(),
            plan: record.plan.clone(),
            summaries: rows(&record.measurements),
            scaling: fits(record),
            measurements: record.measurements.clone(),
            other_machines: record.other_machines.clone(),
        }
    }
}

/// [`JsonExport`], pretty-printed: `--format json` and `--export-json`.
pub(crate) struct JsonDocument;

impl Exporter for JsonDocument {
    fn export(&self, record: &Record) -> io::Result<Output> {
        let mut bytes = serde_json::to_vec_pretty(&JsonExport::new(record))?;
        bytes.push(b'\n');
        Ok(Output::Document(bytes))
    }
}
