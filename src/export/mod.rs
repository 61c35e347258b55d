//! Outputs: every view of a dataset behind one trait, [`Exporter`], and
//! where its output goes, [`Destination`].
//!
//! A view is a pure function of a [`Record`]: the notebook's table, the
//! terminal table and summary, JSON, CSV, Markdown, the HTML page, the SVG
//! plots. Each is named by a [`Format`]; `--format X` is view X written to
//! stdout, `--export-json FILE`, `--export-csv`, `--export-markdown`,
//! `--export-hyperfine`,
//! `--export-hyperfine`, `--html FILE` and `--plot DIR` are views written to files. Adding a
//! view means one [`Exporter`] and one [`Format`] variant.

pub(crate) mod csv;
pub(crate) mod file;
pub(crate) mod hyperfine;
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
    /// hyperfine's JSON schema, one result per (workload, model, workers)
    /// (`--export-hyperfine`).
    #[value(skip)]
    Hyperfine,
}

impl Format {
    /// The exporter that makes this view.
    pub(crate) fn exporter(self) -> &'static dyn Exporter {
        match self {
            Format::Notebook => &views::NotebookTable,
            Format::Table => &views::TerminalTable { unit: None },
            Format::Json => &json::JsonDocument,
            Format::Csv => &csv::CsvRows,
            Format::Markdown => &views::MarkdownReport,
            Format::Html => &views::HtmlPage,
            Format::Plots => &views::SvgPlots,
            Format::Hyperfine => &hyperfine::HyperfineJson,
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
        self.write_unless(output, &|| false)
    }

    /// [`Destination::write`], leaving a file that is not yet in place as
    /// it was once `interrupted` says so (a signal during the exports).
    pub(crate) fn write_unless(
        &self,
        output: &Output,
        interrupted: &dyn Fn() -> bool,
    ) -> io::Result<()> {
        match (self, output) {
            (Destination::Stdout, Output::Document(bytes)) => write_stdout(bytes),
            (Destination::File(path), Output::Document(bytes)) => {
                file::write_whole_unless(path, bytes, interrupted)
            }
            (Destination::Directory(dir), Output::Files(files)) => {
                write_files_unless(dir, files, interrupted).map(drop)
            }
            (Destination::Directory(_), Output::Document(_)) => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "one document goes to a file, not a directory",
            )),
            (_, Output::Files(_)) => Err(several_files()),
        }
    }
}

/// Writes `bytes` on stdout and flushes them. A stdout that the shell
/// closed (`paralab >&-`) is an error, although Rust's runtime put
/// `/dev/null` in its place: nothing written there would be seen.
pub(crate) fn write_stdout(bytes: &[u8]) -> io::Result<()> {
    if crate::sys::stdio::stdout_closed_at_start() {
        return Err(io::Error::other(
            "stdout is closed; give paralab a stdout (a terminal, a file or a pipe)",
        ));
    }
    let mut out = io::stdout().lock();
    out.write_all(bytes)?;
    out.flush()
}

fn several_files() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        "this view makes several files; give a directory",
    )
}

/// Writes each of `files` into `dir` (created if missing) with
/// [`file::write_whole_unless`], stopping at the first error; returns the
/// paths written.
#[cfg(test)]
pub(crate) fn write_files(dir: &Path, files: &[NamedFile]) -> io::Result<Vec<PathBuf>> {
    write_files_unless(dir, files, &|| false)
}

/// [`write_files`], stopping before the next file once `interrupted` says so.
fn write_files_unless(
    dir: &Path,
    files: &[NamedFile],
    interrupted: &dyn Fn() -> bool,
) -> io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    for file in files {
        if Path::new(&file.name).file_name() != Some(std::ffi::OsStr::new(&file.name)) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("'{}' is not a plain file name", file.name),
            ));
        }
        let path = dir.join(&file.name);
        file::write_whole_unless(&path, &file.bytes, interrupted)?;
        written.push(path);
    }
    Ok(written)
}
