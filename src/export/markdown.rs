//! `--export-markdown`: the summary tables and conclusions, to paste into a
//! README, an issue or a lab report.

use std::io;

use super::Exporter;
use crate::report::record::Record;
use crate::report::rows::{Row, rows};
use crate::report::{human_seconds, summary};
use crate::workload::Workload;

/// One table per workload, rows by model then workers, then the
/// plain-language conclusions and the machine.
pub struct MarkdownExporter;

impl Exporter for MarkdownExporter {
    fn export(&self, record: &Record) -> io::Result<Vec<u8>> {
        Ok(render(record).into_bytes())
    }
}

/// The Markdown text.
pub fn render(record: &Record) -> String {
    let rows = rows(&record.measurements);
    let mut out = String::new();
    let mut workloads: Vec<&Workload> = Vec::new();
    for row in &rows {
        if !workloads.contains(&&row.workload) {
            workloads.push(&row.workload);
        }
    }
    for workload in workloads {
        out.push_str(&format!("### {workload}\n\n"));
        out.push_str(
            "| model | workers | median | mean ± σ | min | max | speedup | efficiency | runs |\n",
        );
        out.push_str("|:---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for row in rows.iter().filter(|r| &r.workload == workload) {
            out.push_str(&line(row));
        }
        out.push('\n');
    }
    let conclusions = summary::render(&record.measurements, record.cpus());
    if !conclusions.is_empty() {
        out.push_str("### Conclusions\n\n");
        for line in conclusions.lines() {
            out.push_str(&format!("- {}\n", escape(line)));
        }
        out.push('\n');
    }
    if let Some(machine) = &record.machine {
        out.push_str("### Machine\n\n");
        for (name, value) in machine.describe() {
            let value = if name == "command" {
                format!("`{value}`")
            } else {
                escape(&value)
            };
            out.push_str(&format!("- {name}: {value}\n"));
        }
    }
    out
}

fn line(row: &Row) -> String {
    let dash = || "-".to_string();
    let cells: Vec<String> = match row.wall_s {
        Some(s) => vec![
            human_seconds(s.median),
            match s.stddev {
                Some(sd) => format!("{} ± {}", human_seconds(s.mean), human_seconds(sd)),
                None => human_seconds(s.mean),
            },
            human_seconds(s.min),
            human_seconds(s.max),
            row.speedup.map_or_else(dash, |x| format!("×{x:.2}")),
            row.efficiency
                .map_or_else(dash, |e| format!("{:.0} %", e * 100.0)),
            if row.failed_runs > 0 {
                format!("{} ({} failed)", s.runs, row.failed_runs)
            } else {
                s.runs.to_string()
            },
        ],
        None => {
            let mut cells = vec!["failed".to_string()];
            cells.extend((0..5).map(|_| dash()));
            cells.push(format!("0 ({} failed)", row.failed_runs));
            cells
        }
    };
    format!(
        "| {} | {} | {} |\n",
        escape(&row.model_label),
        row.workers,
        cells.join(" | ")
    )
}

/// Keeps `|` and `*` in text from being read as Markdown.
fn escape(text: &str) -> String {
    text.replace('|', "\\|").replace('*', "\\*")
}
