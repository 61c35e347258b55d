//! Reports: views of measurements as text. Every report is a pure
//! function of the measurements it is given; none runs anything, none
//! writes anything (the crate's `export` module turns each into an output).
//!
//! ```
//! use paralab::{Experiment, Model, Plan, Workload};
//!
//! let plan = Plan {
//!     workloads: vec![Workload::Cpu { iters: 10_000 }],
//!     models: vec![Model::THREAD],
//!     workers: vec![1, 2],
//!     runs: 1,
//!     warmup: 0,
//! };
//! let results = Experiment::new(plan.clone()).run();
//! let table = paralab::report::notebook(&results.measurements);
//! assert!(table.starts_with("nthreads CpuThread\n"));
//! assert!(paralab::report::html(&plan, &results.measurements).contains("<svg"));
//! ```

pub(crate) mod compare;
pub(crate) mod html;
pub(crate) mod markdown;
pub(crate) mod notebook;
pub(crate) mod plot;
pub(crate) mod rows;
pub(crate) mod summary;
pub(crate) mod table;
pub(crate) mod timeline;

use crate::dataset::Record;
use crate::experiment::{Measurement, Plan};
use crate::machine::{Machine, logical_cpus};

/// The notebook's table, as pandas prints it: one row per worker count,
/// one column of median seconds per (workload, model), `CpuThread`,
/// `IoProcess`… (`--format notebook`).
pub fn notebook(measurements: &[Measurement]) -> String {
    notebook::render(measurements)
}

/// The terminal table: one row per (workload, model, workers) with the
/// median, spread, speed-up, efficiency and memory (`--format table`).
pub fn table(measurements: &[Measurement]) -> String {
    table::render(measurements)
}

/// The conclusions in plain sentences, one per workload and model, judged
/// against this machine's logical CPUs.
pub fn summary(measurements: &[Measurement]) -> String {
    summary::render(measurements, logical_cpus(), None)
}

/// The Markdown report: the tables and the conclusions
/// (`--export-markdown`).
pub fn markdown(measurements: &[Measurement]) -> String {
    markdown::render(&this_machine(None, measurements))
}

/// The HTML report: one self-contained page with this machine, `plan`,
/// the conclusions, the plots and the tables (`--html`).
pub fn html(plan: &Plan, measurements: &[Measurement]) -> String {
    html::render(&this_machine(Some(plan.clone()), measurements))
}

fn this_machine(plan: Option<Plan>, measurements: &[Measurement]) -> Record {
    Record {
        machine: Some(Machine::current()),
        plan,
        measurements: measurements.to_vec(),
        other_machines: Vec::new(),
    }
}
