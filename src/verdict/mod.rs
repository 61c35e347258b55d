//! Verdicts: the rules that turn measurements into sentences, each a
//! result or `inconclusive` with its reason. The bench summary, the Python
//! lines and the lessons all draw their verdicts from here.

pub(crate) mod bench;
pub(crate) mod compare;
pub(crate) mod evidence;
pub(crate) mod scaling;

use std::fmt;

use serde::Serialize;

/// Whether a claim held, and the numbers that say so.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct Verdict {
    /// The outcome.
    pub outcome: Outcome,
    /// One line, with the numbers.
    pub text: String,
}

impl Verdict {
    /// A verdict with its outcome and its line.
    pub(crate) fn new(outcome: Outcome, text: impl Into<String>) -> Verdict {
        Verdict {
            outcome,
            text: text.into(),
        }
    }
}

/// What a measurement said about a claim.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Outcome {
    /// The numbers agree with the claim.
    Holds,
    /// The numbers contradict the claim on this machine.
    DoesNotHold,
    /// The effect depends on timing and did not show up in this run; it
    /// is reported, not assumed.
    NotShown,
    /// The claim could not be measured here (a model missing, one CPU).
    NotMeasured,
    /// The numbers cannot decide: other work took the CPUs, the runs
    /// disagree, a figure is impossible, a cell is too short to time. The
    /// verdict's text says which, in words.
    Inconclusive,
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Outcome::Holds => "holds",
            Outcome::DoesNotHold => "does not hold here",
            Outcome::NotShown => "not shown this time",
            Outcome::NotMeasured => "not measured",
            Outcome::Inconclusive => "inconclusive",
        })
    }
}
