//! Exports, as hyperfine has them: files other programs load. One format
//! per file, each behind [`Exporter`]; adding a format means adding one
//! file and one [`ExportFormat`] variant.

pub mod csv;
pub mod json;
pub mod markdown;

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::report::record::Record;

/// A file format results can be exported to.
pub trait Exporter {
    /// The whole file, from the record alone.
    fn export(&self, record: &Record) -> io::Result<Vec<u8>>;
}

/// The formats paralab exports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    /// Every run and worker outcome, the summaries and the machine.
    Json,
    /// One summary row per (workload, model, workers).
    Csv,
    /// Summary tables to paste into a README or an issue.
    Markdown,
}

impl ExportFormat {
    /// The exporter that writes this format.
    pub fn exporter(self) -> Box<dyn Exporter> {
        match self {
            ExportFormat::Json => Box::new(json::JsonExporter),
            ExportFormat::Csv => Box::new(csv::CsvExporter),
            ExportFormat::Markdown => Box::new(markdown::MarkdownExporter),
        }
    }
}

/// Where an export goes: a file, or stdout for `-`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Destination {
    /// Standard output.
    Stdout,
    /// A file, replaced as a whole.
    File(PathBuf),
}

impl Destination {
    /// `-` is stdout, anything else a path.
    pub fn parse(text: &str) -> Destination {
        if text == "-" {
            Destination::Stdout
        } else {
            Destination::File(PathBuf::from(text))
        }
    }

    /// Writes `bytes`; a file is written beside its final name and renamed
    /// into place, so that it is never seen half-written.
    pub fn write(&self, bytes: &[u8]) -> io::Result<()> {
        match self {
            Destination::Stdout => {
                let mut out = io::stdout().lock();
                out.write_all(bytes)?;
                out.flush()
            }
            Destination::File(path) => write_whole(path, bytes),
        }
    }
}

/// Writes `path` through a temporary file in the same directory and a
/// rename, so a reader sees the old file or the new one, never a part.
pub fn write_whole(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a file name"))?;
    let mut temporary = path.to_path_buf();
    temporary.set_file_name(format!(".{}.paralab-tmp", name.to_string_lossy()));
    let written =
        std::fs::write(&temporary, bytes).and_then(|()| std::fs::rename(&temporary, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written
}
