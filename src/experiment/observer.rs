//! Observers: what watches measurements as they arrive (a progress bar, a
//! file written run by run), while reports only read finished ones.

use super::{Measurement, Plan};
use crate::model::Model;
use crate::workload::Workload;

/// An observer of an experiment: a progress display, a file written as
/// results arrive. Every method has a default that does nothing.
pub trait Observer {
    /// Before anything runs.
    fn plan_started(&mut self, _plan: &Plan) {}
    /// Before each run, timed or warm-up.
    fn run_started(&mut self, _workload: &Workload, _model: Model, _workers: usize, _run: RunKind) {
    }
    /// After each timed run, failed or not.
    fn measured(&mut self, _measurement: &Measurement) {}
}

/// Whether a run is timed or a warm-up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunKind {
    /// Warm-up `k` of `n`, not recorded.
    Warmup(usize, usize),
    /// Timed run `k` of `n`.
    Timed(usize, usize),
}
