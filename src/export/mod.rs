//! Outputs: every view of a dataset behind one trait, [`Exporter`], and
//! where its output goes, [`Destination`].
//!
//! A view is a pure function of a [`Record`]: the notebook's table, the
//! terminal table and summary, JSON, CSV, Markdown, the HTML page, the SVG
//! plots. Each is named by a [`Format`]; `--format X` is view X written to
//! stdout, `--export-json FILE`, `--export-csv`, `--export-markdown`,
//! `--html FILE` and `--plot DIR` are views written to files. Adding a
//! view means one [`Exporter`] and one [`Format`] variant.

pub(crate) mod csv;
pub(crate) mod json;
pub(crate) mod views;

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::dataset::Record;

/// One view of a dataset.
pub(crate) trait Exporter {
    /// The view of `record`, from the record alone: one document, or
    /// several named files.
    fn export(&self, record: &Record) -> io::Result<Output>;
}

/// What a view makes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Output {
    /// One document, for stdout or one file.
    Document(Vec<u8>),
    /// Several files, by name, for a directory.
    Files(Vec<NamedFile>),
}

/// One file of a view that makes several.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct NamedFile {
    /// Its name in the directory: `cpu-wall-time.svg`.
    pub name: String,
    /// Its content.
    pub bytes: Vec<u8>,
}

/// The views of a dataset. `--format` accepts the first three, the text
/// views for stdout; the others are written by their own options.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    /// Exactly the notebook's table, numbers as Python's '{:.6e}'
    Notebook,
    /// A readable table with speedup and efficiency, then a plain-language summary
    Table,
    /// The --export-json document: machine, plan, summaries, every measurement and worker
    Json,
    /// One summary row per (workload, model, workers) (`--export-csv`).
    #[value(skip)]
    Csv,
    /// Summary tables and conclusions to paste into a README or an issue
    /// (`--export-markdown`).
    #[value(skip)]
    Markdown,
    /// A self-contained page: machine, plan, plots, tables, conclusions
    /// (`--html`).
    #[value(skip)]
    Html,
    /// SVG plots, two files per workload (`--plot`).
    #[value(skip)]
    Plots,
}

impl Format {
    /// The exporter that makes this view.
    pub(crate) fn exporter(self) -> &'static dyn Exporter {
        match self {
            Format::Notebook => &views::NotebookTable,
            Format::Table => &views::TerminalTable,
            Format::Json => &json::JsonDocument,
            Format::Csv => &csv::CsvRows,
            Format::Markdown => &views::MarkdownReport,
            Format::Html => &views::HtmlPage,
            Format::Plots => &views::SvgPlots,
        }
    }
}

/// Where a view goes: stdout for `-`, a file, or a directory for a view
/// that makes several files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Destination {
    /// Standard output.
    Stdout,
    /// A file, replaced as a whole.
    File(PathBuf),
    /// A directory (created if missing), each file in it replaced as a whole.
    Directory(PathBuf),
}

impl Destination {
    /// `-` is stdout, anything else a file's path.
    pub(crate) fn parse(text: &str) -> Destination {
        if text == "-" {
            Destination::Stdout
        } else {
            Destination::File(PathBuf::from(text))
        }
    }

    /// Writes `output`; a file is written beside its final name and renamed
    /// into place, so that it is never seen half-written.
    pub(crate) fn write(&self, output: &Output) -> io::Result<()> {
        match (self, output) {
            (Destination::Stdout, Output::Document(bytes)) => {
                let mut out = io::stdout().lock();
                out.write_all(bytes)?;
                out.flush()
            }
            (Destination::File(path), Output::Document(bytes)) => write_whole(path, bytes),
            (Destination::Directory(dir), Output::Files(files)) => {
                write_files(dir, files).map(drop)
            }
            (Destination::Directory(_), Output::Document(_)) => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "one document goes to a file, not a directory",
            )),
            (_, Output::Files(_)) => Err(several_files()),
        }
    }
}

fn several_files() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        "this view makes several files; give a directory",
    )
}

/// Writes `path` through a temporary file in the same directory and a
/// rename, so a reader sees the old file or the new one, never a part.
pub(crate) fn write_whole(path: &Path, bytes: &[u8]) -> io::Result<()> {
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

/// Writes each of `files` into `dir` (created if missing) with
/// [`write_whole`], stopping at the first error; returns the paths written.
pub(crate) fn write_files(dir: &Path, files: &[NamedFile]) -> io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    for file in files {
        let path = dir.join(&file.name);
        write_whole(&path, &file.bytes)?;
        written.push(path);
    }
    Ok(written)
}
