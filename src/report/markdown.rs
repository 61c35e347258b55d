//! The Markdown report (`--export-markdown`): the summary tables and
//! conclusions, to paste into a README, an issue or a lab report.

use super::rows::{COLUMNS, Row, rows};
use super::summary;
use crate::dataset::Record;
use crate::fmt::TimeUnit;
use crate::workload::Workload;

/// The Markdown text: one table per workload, rows by model then workers,
/// then the plain-language conclusions and the machine.
pub(crate) fn render(record: &Record) -> String {
    let rows = rows(&record.measurements);
    let mut out = String::new();
    let mut workloads: Vec<&Workload> = Vec::new();
    for row in &rows {
        if !workloads.contains(&&row.workload) {
            workloads.push(&row.workload);
        }
    }
    for workload in workloads {
        out.push_str(&format!("### {}\n\n", escape(&workload.to_string())));
        out.push_str(&format!("| {} |\n", COLUMNS.join(" | ")));
        out.push_str("|:---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        // One unit per column: the one the table's times suit.
        let unit = TimeUnit::for_times(
            rows.iter()
                .filter(|r| &r.workload == workload)
                .flat_map(Row::times),
        );
        for row in rows.iter().filter(|r| &r.workload == workload) {
            out.push_str(&line(row, unit));
        }
        out.push('\n');
    }
    let conclusions = summary::of_record(record);
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
            out.push_str(&format!("- {name}: {}\n", escape(&value)));
        }
    }
    out
}

fn line(row: &Row, unit: TimeUnit) -> String {
    let text = row.text_in(unit);
    let mut cells: Vec<String> = match text.timings {
        Some(timings) => timings.to_vec(),
        None => std::iter::once("failed".to_string())
            .chain((0..5).map(|_| "-".to_string()))
            .collect(),
    };
    cells.push(text.runs);
    format!(
        "| {} | {} | {} |\n",
        escape(&text.model),
        text.workers,
        cells.join(" | ")
    )
}

/// Keeps text (a model name or command from a saved file) from being read
/// as Markdown or HTML: every inline punctuation mark Markdown gives a
/// meaning is backslash-escaped, `<`, `>` and `&` become entities (GitHub renders
/// inline HTML), and line breaks and other control characters become
/// spaces, so a value stays inside its table cell or list item.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            // Each value is written after `- ` or `| `, never at the start
            // of a line, so `#`, `-` and `+` cannot start a block there.
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '~' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}
