//! The JSON report: every measurement, with the plan's context.

use serde::Serialize;

use crate::experiment::Measurement;

/// The document `--format json` prints.
#[derive(Serialize)]
pub struct JsonReport<'a> {
    /// paralab's version, so a file says what wrote it.
    pub paralab_version: &'static str,
    /// Logical CPUs the run had.
    pub logical_cpus: usize,
    /// Every timed run, in the order they ran.
    pub measurements: &'a [Measurement],
}

/// Pretty-printed JSON of every measurement.
pub fn render(measurements: &[Measurement], logical_cpus: usize) -> String {
    let report = JsonReport {
        paralab_version: env!("CARGO_PKG_VERSION"),
        logical_cpus,
        measurements,
    };
    let mut text = serde_json::to_string_pretty(&report).expect("measurements are plain data");
    text.push('\n');
    text
}
