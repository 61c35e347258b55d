//! The dataset every report is made from: the measurements, and what is
//! known of the plan and the machine that produced them ([`Record`]), and
//! the `--save` file that keeps them as they are made ([`jsonl`]).

pub(crate) mod export;
mod grid;
pub(crate) mod jsonl;
#[cfg(test)]
mod robustness;

use serde::{Deserialize, Serialize};

pub(crate) use grid::Grid;

use crate::experiment::{Measurement, Plan};
use crate::machine::Machine;
use crate::machine::logical_cpus;

/// Measurements with their context. A live run knows its plan and machine;
/// a saved file may have lost them (a JSON Lines file of measurements
/// only), so both are optional and every report copes without them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Record {
    /// Where the measurements were made.
    pub machine: Option<Machine>,
    /// What was asked for.
    pub plan: Option<Plan>,
    /// Every timed run, in the order they ran.
    pub measurements: Vec<Measurement>,
    /// The machines of files read beside the first one's, when they
    /// differ from it (`paralab report a.jsonl b.jsonl`): each is kept,
    /// and no verdict is drawn from runs that mix them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other_machines: Vec<Machine>,
}

impl Record {
    /// The logical CPUs of the machine that made the measurements (this
    /// machine's when the record does not say).
    pub(crate) fn cpus(&self) -> usize {
        self.machine
            .as_ref()
            .map_or_else(logical_cpus, |m| m.logical_cpus)
    }

    /// Timed runs per (workload, model, workers): the plan's, or the most
    /// seen in the measurements.
    pub(crate) fn runs(&self) -> usize {
        self.plan.as_ref().map_or_else(
            || self.measurements.iter().map(|m| m.run).max().unwrap_or(0),
            |p| p.runs,
        )
    }

    /// Adds `other`'s measurements after this record's; the machine and
    /// plan stay this record's, or are `other`'s when this one knows
    /// neither (several saved files read as one).
    pub(crate) fn append(&mut self, other: Record) {
        if self.machine.is_none() && self.plan.is_none() {
            self.machine = other.machine;
            self.plan = other.plan;
        } else if let (Some(first), Some(machine)) = (&self.machine, other.machine) {
            let known = |m: &Machine| jsonl::same_machine(m, &machine);
            if !known(first) && !self.other_machines.iter().any(known) {
                self.other_machines.push(machine);
            }
        }
        self.measurements.extend(other.measurements);
        for machine in other.other_machines {
            self.append(Record {
                machine: Some(machine),
                ..Record::default()
            });
        }
    }

    /// Whether the record holds nothing at all: no measurement, no
    /// machine, no plan.
    pub(crate) fn is_empty(&self) -> bool {
        self.measurements.is_empty() && self.machine.is_none() && self.plan.is_none()
    }
}
