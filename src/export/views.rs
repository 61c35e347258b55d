//! The views that [`crate::report`] renders as text, behind [`Exporter`].

use std::io;

use super::{Exporter, NamedFile, Output};
use crate::dataset::Record;
use crate::report::{html, markdown, notebook, plot, summary, table};

/// The notebook's table (`--format notebook`).
pub(crate) struct NotebookTable;

impl Exporter for NotebookTable {
    fn export(&self, record: &Record) -> io::Result<Output> {
        Ok(document(notebook::render(&record.measurements)))
    }
}

/// The terminal table, a blank line, then the plain-language summary
/// (`--format table`); nothing at all without measurements.
pub(crate) struct TerminalTable;

impl Exporter for TerminalTable {
    fn export(&self, record: &Record) -> io::Result<Output> {
        let measurements = &record.measurements;
        if measurements.is_empty() {
            return Ok(document(String::new()));
        }
        Ok(document(format!(
            "{}\n{}",
            table::render(measurements),
            summary::render(
                measurements,
                record.cpus(),
                record.machine.as_ref().and_then(|m| m.python.as_ref())
            )
        )))
    }
}

/// The Markdown report (`--export-markdown`).
pub(crate) struct MarkdownReport;

impl Exporter for MarkdownReport {
    fn export(&self, record: &Record) -> io::Result<Output> {
        Ok(document(markdown::render(record)))
    }
}

/// The self-contained HTML page (`--html`).
pub(crate) struct HtmlPage;

impl Exporter for HtmlPage {
    fn export(&self, record: &Record) -> io::Result<Output> {
        Ok(document(html::render(record)))
    }
}

/// The SVG plots, two files per workload (`--plot`).
pub(crate) struct SvgPlots;

impl SvgPlots {
    /// Every plot of `record` as a file: its name and its SVG.
    pub(crate) fn files(record: &Record) -> Vec<NamedFile> {
        plot::plots(record)
            .into_iter()
            .map(|plot| NamedFile {
                name: plot.file_name,
                bytes: plot.svg.into_bytes(),
            })
            .collect()
    }
}

impl Exporter for SvgPlots {
    fn export(&self, record: &Record) -> io::Result<Output> {
        Ok(Output::Files(SvgPlots::files(record)))
    }
}

fn document(text: String) -> Output {
    Output::Document(text.into_bytes())
}
