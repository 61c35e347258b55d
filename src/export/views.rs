//! The views that [`crate::report`] renders as text, behind [`Exporter`].

use std::io;

use super::{Exporter, NamedFile, Output};
use crate::dataset::Record;
use crate::fmt::TimeUnit;
use crate::report::{html, markdown, notebook, plot, summary, table, timeline};

/// The notebook's table (`--format notebook`).
pub(crate) struct NotebookTable;

impl Exporter for NotebookTable {
    fn export(&self, record: &Record) -> io::Result<Output> {
        Ok(terminal_document(notebook::render(&record.measurements)))
    }
}

/// The terminal table, a blank line, then the plain-language summary
/// (`--format table`); nothing at all without measurements.
pub(crate) struct TerminalTable {
    /// `--time-unit`: every time in this unit; by default each column's
    /// own.
    pub unit: Option<TimeUnit>,
}

impl Exporter for TerminalTable {
    fn export(&self, record: &Record) -> io::Result<Output> {
        let measurements = &record.measurements;
        if measurements.is_empty() {
            return Ok(document(String::new()));
        }
        Ok(terminal_document(format!(
            "{}\n{}",
            table::render_in(measurements, self.unit),
            summary::of_record(record)
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

/// The SVG plots (`--plot`): the headline chart, two files per workload,
/// and the timelines.
pub(crate) struct SvgPlots;

impl SvgPlots {
    /// Every plot of `record` as a file: its name and its SVG.
    pub(crate) fn files(record: &Record) -> Vec<NamedFile> {
        plot::headline(record)
            .into_iter()
            .chain(plot::plots(record))
            .chain(timeline::timelines(record))
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

/// A text view for a terminal: text read from a saved file (a model
/// name, a command, an error) may hold escape sequences or bidirectional
/// overrides that would rewrite the screen; each such character is shown
/// as `\u{1b}` instead. Line breaks and tabs stay.
fn terminal_document(text: String) -> Output {
    document(terminal_safe(&text))
}

/// `text` with every control or bidirectional-override character other
/// than a line break or tab written as `\u{…}`.
pub(crate) fn terminal_safe(text: &str) -> String {
    let unsafe_char = |c: char| {
        (c.is_control() && c != '\n' && c != '\t')
            || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if !text.chars().any(unsafe_char) {
        return text.to_string();
    }
    text.chars()
        .map(|c| {
            if unsafe_char(c) {
                format!("\\u{{{:x}}}", u32::from(c))
            } else {
                c.to_string()
            }
        })
        .collect()
}

fn document(text: String) -> Output {
    Output::Document(text.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::terminal_safe;

    #[test]
    fn escape_sequences_never_reach_the_terminal() {
        assert_eq!(
            terminal_safe("a\x1b[2Jb\r\u{202e}c\n\td"),
            "a\\u{1b}[2Jb\\u{d}\\u{202e}c\n\td"
        );
        assert_eq!(terminal_safe("plain | text\n"), "plain | text\n");
    }
}
