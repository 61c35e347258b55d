//! The view of `paralab compare A B`: per cell (workload, model, workers)
//! found in both, the medians, B/A with its interval and the verdict of
//! [`crate::verdict::compare`]; the cells found in one file only; the two
//! machines side by side when they differ. Pure: records in, text out.

use serde::Serialize;

use crate::dataset::Record;
use crate::dataset::jsonl::same_machine;
use crate::experiment::Measurement;
use crate::fmt;
use crate::machine::Machine;
use crate::measure::stats::Summary;
use crate::model::Model;
use crate::verdict::compare::{CellVerdict, Change, Side, judge};
use crate::workload::Workload;

/// One of the two files compared.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Input<'r> {
    /// The path as the user gave it.
    pub path: &'r str,
    /// What it holds.
    pub record: &'r Record,
}

/// The whole comparison: what `--format json` prints.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Comparison {
    /// The file taken as the reference.
    pub a: String,
    /// The file compared with it.
    pub b: String,
    /// `--threshold` in percent, when given.
    pub threshold_percent: Option<f64>,
    /// The cells found in both files, in A's order.
    pub cells: Vec<Cell>,
    /// Cells found in A only.
    pub only_in_a: Vec<String>,
    /// Cells found in B only.
    pub only_in_b: Vec<String>,
    /// The two machines side by side, each line one fact, when any fact
    /// but the command line differs; empty when they agree.
    pub machines: Vec<MachineLine>,
    /// Cells slower beyond the threshold (the exit code is 1 when any).
    pub regressions: usize,
}

/// One cell found in both files.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Cell {
    /// `cpu (1,000 iterations) · thread · 2 workers`.
    pub label: String,
    /// The workload.
    pub workload: Workload,
    /// The model, as named on the command line.
    pub model: String,
    /// How many workers.
    pub workers: usize,
    /// A's successful runs' wall times, when any succeeded.
    pub a: Option<Summary>,
    /// B's.
    pub b: Option<Summary>,
    /// Faster, slower, no difference or inconclusive, and why.
    pub verdict: CellVerdict,
}

/// One fact of the two machines.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct MachineLine {
    /// `CPU`, `kernel`, `paralab`…
    pub fact: String,
    /// A's value.
    pub a: String,
    /// B's value.
    pub b: String,
    /// Whether they differ.
    pub differs: bool,
}

/// A cell's key.
type Key = (Workload, Model, usize);

/// Compares `b` with `a`; `threshold` is `--threshold` as a fraction.
pub(crate) fn compare(a: Input<'_>, b: Input<'_>, threshold: Option<f64>) -> Comparison {
    let (cells_a, cells_b) = (cells(a.record), cells(b.record));
    let machines = machine_lines(a.record.machine.as_ref(), b.record.machine.as_ref());
    // Only the hardware and the system make a difference the machine's:
    // another paralab version or command line is what is being compared.
    let differ = match (&a.record.machine, &b.record.machine) {
        (Some(ma), Some(mb)) if !same_machine(ma, mb) => Some(
            machines
                .iter()
                .filter(|l| l.differs && !matches!(l.fact.as_str(), "paralab" | "command"))
                .map(|l| format!("{}: {} / {}", l.fact, l.a, l.b))
                .collect::<Vec<_>>()
                .join("; "),
        ),
        _ => None,
    };
    let mut compared = Vec::new();
    let mut only_in_a = Vec::new();
    for (key, runs_a) in &cells_a {
        let Some((_, runs_b)) = cells_b.iter().find(|(k, _)| k == key) else {
            only_in_a.push(label(key));
            continue;
        };
        let ok_a = succeeded(runs_a);
        let ok_b = succeeded(runs_b);
        let side = |name, runs, record: &Record| Side {
            name,
            runs,
            cpus: record.cpus(),
        };
        let verdict = judge(
            side("A", &ok_a, a.record),
            side("B", &ok_b, b.record),
            differ.as_deref(),
            threshold,
        );
        compared.push(Cell {
            label: label(key),
            workload: key.0.clone(),
            model: key.1.to_string(),
            workers: key.2,
            a: Summary::of(&walls(&ok_a)),
            b: Summary::of(&walls(&ok_b)),
            verdict,
        });
    }
    let only_in_b = cells_b
        .iter()
        .filter(|(key, _)| !cells_a.iter().any(|(k, _)| k == key))
        .map(|(key, _)| label(key))
        .collect();
    Comparison {
        a: a.path.to_string(),
        b: b.path.to_string(),
        threshold_percent: threshold.map(|t| 100.0 * t),
        regressions: compared.iter().filter(|c| c.verdict.regression).count(),
        cells: compared,
        only_in_a,
        only_in_b,
        machines: if machines.iter().any(|l| l.differs && l.fact != "command") {
            machines
        } else {
            Vec::new()
        },
    }
}

/// The runs of `record` by cell, cells in the order they first ran.
fn cells(record: &Record) -> Vec<(Key, Vec<&Measurement>)> {
    let mut cells: Vec<(Key, Vec<&Measurement>)> = Vec::new();
    for m in &record.measurements {
        let key = (m.workload.clone(), m.model, m.workers);
        match cells.iter_mut().find(|(k, _)| *k == key) {
            Some((_, runs)) => runs.push(m),
            None => cells.push((key, vec![m])),
        }
    }
    cells
}

/// The successful runs, owned (the verdicts take a slice of runs).
fn succeeded(runs: &[&Measurement]) -> Vec<Measurement> {
    runs.iter()
        .filter(|m| m.succeeded())
        .map(|m| (*m).clone())
        .collect()
}

fn walls(runs: &[Measurement]) -> Vec<f64> {
    runs.iter().map(|m| m.wall_s).collect()
}

/// `cpu (1,000 iterations) · thread · 2 workers`.
fn label((workload, model, workers): &Key) -> String {
    format!("{workload} · {model} · {}", fmt::count(*workers, "worker"))
}

/// Each fact of either machine, A's beside B's (`unknown` for a file
/// that does not say).
fn machine_lines(a: Option<&Machine>, b: Option<&Machine>) -> Vec<MachineLine> {
    let (fa, fb) = (
        a.map(Machine::describe).unwrap_or_default(),
        b.map(Machine::describe).unwrap_or_default(),
    );
    let mut facts: Vec<&str> = fa.iter().map(|(f, _)| *f).collect();
    for (fact, _) in &fb {
        if !facts.contains(fact) {
            facts.push(fact);
        }
    }
    let value = |of: &[(&str, String)], fact: &str| {
        of.iter()
            .find(|(f, _)| *f == fact)
            .map_or_else(|| "unknown".to_string(), |(_, v)| v.clone())
    };
    facts
        .into_iter()
        .map(|fact| {
            let (va, vb) = (value(&fa, fact), value(&fb, fact));
            MachineLine {
                fact: fact.to_string(),
                differs: va != vb,
                a: va,
                b: vb,
            }
        })
        .collect()
}

/// The median of a side, or `no successful run`.
fn median(summary: &Option<Summary>) -> String {
    summary.map_or_else(|| "no successful run".into(), |s| fmt::seconds(s.median))
}

/// `×1.492`, or `-` without a ratio.
fn ratio(verdict: &CellVerdict) -> String {
    verdict
        .ratio
        .map_or_else(|| "-".into(), |r| format!("×{r:.3}"))
}

/// `×1.45 to ×1.53`, or `-` without an interval.
fn interval(verdict: &CellVerdict) -> String {
    verdict
        .interval
        .map_or_else(|| "-".into(), |(l, h)| format!("×{l:.3} to ×{h:.3}"))
}

/// The last line: how many cells changed, and what the exit code says.
fn tally(c: &Comparison) -> String {
    let of = |change| {
        c.cells
            .iter()
            .filter(|cell| cell.verdict.change == change)
            .count()
    };
    let mut line = format!(
        "{} compared: {} slower, {} faster, {} no difference, {} inconclusive",
        fmt::count(c.cells.len(), "cell"),
        of(Change::Slower),
        of(Change::Faster),
        of(Change::NoDifference),
        of(Change::Inconclusive),
    );
    if let Some(t) = c.threshold_percent {
        line.push_str(&match c.regressions {
            0 => format!("; no cell is slower beyond the threshold {t}%"),
            n => format!(
                "; {} slower beyond the threshold {t}%",
                fmt::count(n, "cell")
            ),
        });
    }
    line
}

/// The text for a terminal.
pub(crate) fn render_text(c: &Comparison) -> String {
    let mut out = format!(
        "A: {}\nB: {}\nB/A: B's median wall time over A's, with its 95% interval (bootstrap over the runs)\n\n",
        c.a, c.b
    );
    if !c.cells.is_empty() {
        let mut table = fmt::Table::new(
            "cells in both files",
            &[
                "cell",
                "A median",
                "B median",
                "B/A",
                "95% interval",
                "verdict",
            ],
        );
        for cell in &c.cells {
            table.row(vec![
                cell.label.clone(),
                median(&cell.a),
                median(&cell.b),
                ratio(&cell.verdict),
                interval(&cell.verdict),
                cell.verdict.change.to_string(),
            ]);
        }
        out.push_str(&table.render());
        out.push('\n');
        for cell in &c.cells {
            out.push_str(&format!("  {}: {}\n", cell.label, cell.verdict.text));
        }
    }
    for (name, only) in [("A", &c.only_in_a), ("B", &c.only_in_b)] {
        if !only.is_empty() {
            out.push_str(&format!("\n  only in {name} (not compared):\n"));
            for label in only {
                out.push_str(&format!("    {label}\n"));
            }
        }
    }
    if !c.machines.is_empty() {
        let mut table = fmt::Table::new("the machines differ", &["", "A", "B", ""]);
        for line in &c.machines {
            table.row(vec![
                line.fact.clone(),
                line.a.clone(),
                line.b.clone(),
                if line.differs { "≠" } else { "" }.into(),
            ]);
        }
        out.push('\n');
        out.push_str(&table.render());
    }
    out.push('\n');
    out.push_str(&tally(c));
    out.push('\n');
    out
}

/// The Markdown text, to paste into a pull request.
pub(crate) fn render_markdown(c: &Comparison) -> String {
    let cell = |text: &str| text.replace('|', "\\|");
    let mut out = format!(
        "**A**: `{}` · **B**: `{}` · B/A: B's median wall time over A's, with its 95% interval (bootstrap over the runs)\n\n",
        c.a.replace('`', "'"),
        c.b.replace('`', "'")
    );
    if !c.cells.is_empty() {
        out.push_str("| cell | A median | B median | B/A | 95% interval | verdict |\n");
        out.push_str("|:---|---:|---:|---:|---:|:---|\n");
        for c in &c.cells {
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} |\n",
                cell(&c.label),
                median(&c.a),
                median(&c.b),
                ratio(&c.verdict),
                interval(&c.verdict),
                cell(&c.verdict.text),
            ));
        }
        out.push('\n');
    }
    for (name, only) in [("A", &c.only_in_a), ("B", &c.only_in_b)] {
        if !only.is_empty() {
            out.push_str(&format!("Only in {name} (not compared):\n\n"));
            for label in only {
                out.push_str(&format!("- {}\n", cell(label)));
            }
            out.push('\n');
        }
    }
    if !c.machines.is_empty() {
        out.push_str("The machines differ:\n\n| | A | B |\n|:---|:---|:---|\n");
        for line in &c.machines {
            let mark = if line.differs { " **≠**" } else { "" };
            out.push_str(&format!(
                "| {}{mark} | {} | {} |\n",
                line.fact,
                cell(&line.a),
                cell(&line.b)
            ));
        }
        out.push('\n');
    }
    out.push_str(&tally(c));
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(walls: &[(usize, f64)], machine: Option<Machine>) -> Record {
        Record {
            machine,
            measurements: walls
                .iter()
                .map(|&(workers, w)| Measurement::made_up(Model::THREAD, workers, w, w, Some(0.0)))
                .collect(),
            ..Record::default()
        }
    }

    #[test]
    fn cells_in_one_file_are_listed_and_machines_shown_when_they_differ() {
        let machine = Machine::current();
        let a = record(
            &[(1, 0.1), (1, 0.101), (1, 0.099), (2, 0.1)],
            Some(machine.clone()),
        );
        let other = Machine {
            kernel: Some("another kernel".into()),
            ..machine.clone()
        };
        let b = record(&[(1, 0.1), (1, 0.1), (1, 0.1), (3, 0.1)], Some(other));
        let c = compare(
            Input {
                path: "a.jsonl",
                record: &a,
            },
            Input {
                path: "b.jsonl",
                record: &b,
            },
            Some(0.1),
        );
        assert_eq!(c.cells.len(), 1);
        assert_eq!(c.only_in_a.len(), 1);
        assert!(c.only_in_a[0].contains("2 workers"), "{:?}", c.only_in_a);
        assert!(c.only_in_b[0].contains("3 workers"), "{:?}", c.only_in_b);
        assert_eq!(c.cells[0].verdict.change, Change::Inconclusive);
        assert!(c.cells[0].verdict.text.contains("another kernel"));
        let text = render_text(&c);
        assert!(
            text.contains("the machines differ") && text.contains("another kernel"),
            "{text}"
        );
        let markdown = render_markdown(&c);
        assert!(markdown.contains("| cell |"), "{markdown}");
        // The same machine: no machine block, a verdict.
        let b = record(&[(1, 0.1), (1, 0.1), (1, 0.1)], Some(machine));
        let c = compare(
            Input {
                path: "a",
                record: &a,
            },
            Input {
                path: "b",
                record: &b,
            },
            None,
        );
        assert!(c.machines.is_empty());
        assert_eq!(c.cells[0].verdict.change, Change::NoDifference);
    }
}
