//! The outputs `bench` and `report` share: exports, plots, the HTML page,
//! and how quiet stderr is. Every destination is checked before anything
//! runs, so a typo in a path costs nothing.

use std::path::{Path, PathBuf};

use clap::Args;
use clap::ValueEnum;
use paralab::export::{Destination, ExportFormat};
use paralab::report::record::Record;
use paralab::report::rows::{outlier_warnings, rows};
use paralab::report::{html, plot};

/// Files written from the results, after the run.
#[derive(Debug, Clone, Default, Args)]
pub struct OutputArgs {
    /// Write every run, the summaries and the machine as JSON to FILE ('-' for stdout)
    #[arg(long, value_name = "FILE", allow_hyphen_values = true)]
    export_json: Option<String>,

    /// Write one summary row per (workload, model, workers) as CSV to FILE ('-' for stdout)
    #[arg(long, value_name = "FILE", allow_hyphen_values = true)]
    export_csv: Option<String>,

    /// Write the summary tables and conclusions as Markdown to FILE ('-' for stdout)
    #[arg(long, value_name = "FILE", allow_hyphen_values = true)]
    export_markdown: Option<String>,

    /// Write SVG plots (wall time and speedup against workers, per workload) into DIR
    #[arg(long, value_name = "DIR")]
    plot: Option<PathBuf>,

    /// Write a self-contained HTML report (machine, plan, plots, tables, conclusions) to FILE
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,

    /// No progress bar and no warnings on stderr (errors are still reported)
    #[arg(long, short)]
    pub quiet: bool,
}

/// Outputs whose destinations have been checked.
pub struct Outputs {
    exports: Vec<(&'static str, ExportFormat, Destination)>,
    plot: Option<PathBuf>,
    html: Option<PathBuf>,
    quiet: bool,
}

impl OutputArgs {
    /// [`OutputArgs::check`], and refuses an explicit `--format` beside an
    /// export to stdout: both cannot have stdout.
    pub fn check_with_format(
        &self,
        format: Option<super::bench::Format>,
    ) -> Result<Outputs, String> {
        let outputs = self.check()?;
        match format {
            Some(format) if outputs.takes_stdout() => Err(format!(
                "paralab: --format {} and an export to '-' both write to stdout; write the export to a file, or leave out --format",
                format
                    .to_possible_value()
                    .map_or_else(String::new, |v| v.get_name().to_string())
            )),
            _ => Ok(outputs),
        }
    }

    /// Checks every destination: at most one on stdout, each file in an
    /// existing directory and not itself a directory. The error is one
    /// line for stderr.
    pub fn check(&self) -> Result<Outputs, String> {
        let mut exports = Vec::new();
        for (option, format, value) in [
            ("--export-json", ExportFormat::Json, &self.export_json),
            ("--export-csv", ExportFormat::Csv, &self.export_csv),
            (
                "--export-markdown",
                ExportFormat::Markdown,
                &self.export_markdown,
            ),
        ] {
            if let Some(value) = value {
                let destination = Destination::parse(value);
                if let Destination::File(path) = &destination {
                    check_file(option, path)?;
                }
                exports.push((option, format, destination));
            }
        }
        let on_stdout: Vec<&str> = exports
            .iter()
            .filter(|(_, _, d)| *d == Destination::Stdout)
            .map(|(option, _, _)| *option)
            .collect();
        if on_stdout.len() > 1 {
            return Err(format!(
                "paralab: {} all write to stdout ('-'); only one export can go to stdout, give the others a file name",
                on_stdout.join(" and ")
            ));
        }
        if let Some(html) = &self.html {
            check_file("--html", html)?;
        }
        if let Some(dir) = &self.plot {
            if dir.exists() && !dir.is_dir() {
                return Err(format!(
                    "paralab: --plot: '{}' is a file, not a directory; give a directory for the SVG files (it is created if missing)",
                    dir.display()
                ));
            }
            if !dir.exists() {
                check_parent("--plot", dir)?;
            }
        }
        Ok(Outputs {
            exports,
            plot: self.plot.clone(),
            html: self.html.clone(),
            quiet: self.quiet,
        })
    }
}

/// Checks that `path` can be created as a file: not a directory, in a
/// directory that exists.
pub fn check_file(option: &str, path: &Path) -> Result<(), String> {
    if path.is_dir() {
        return Err(format!(
            "paralab: {option}: '{}' is a directory; give a file name",
            path.display()
        ));
    }
    check_parent(option, path)
}

fn check_parent(option: &str, path: &Path) -> Result<(), String> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !parent.is_dir() {
        return Err(format!(
            "paralab: {option}: the directory '{}' of '{}' does not exist; create it first or choose another path",
            parent.display(),
            path.display()
        ));
    }
    Ok(())
}

impl Outputs {
    /// Whether an export takes stdout, in which case the usual report is
    /// not printed there (machine-readable output never mixes with text).
    pub fn takes_stdout(&self) -> bool {
        self.exports
            .iter()
            .any(|(_, _, d)| *d == Destination::Stdout)
    }

    /// Whether any export, plot or page goes to a file.
    pub fn writes_files(&self) -> bool {
        self.plot.is_some()
            || self.html.is_some()
            || self
                .exports
                .iter()
                .any(|(_, _, d)| *d != Destination::Stdout)
    }

    /// Whether progress and warnings are silenced.
    pub fn quiet(&self) -> bool {
        self.quiet
    }

    /// Warns on stderr about outlying runs (unless quiet), then writes
    /// every export, plot and page. Returns one line per output that could
    /// not be written.
    pub fn write(&self, record: &Record) -> Vec<String> {
        if !self.quiet {
            for warning in outlier_warnings(&rows(&record.measurements)) {
                eprintln!("paralab: warning: {warning}");
            }
        }
        let mut errors = Vec::new();
        for (option, format, destination) in &self.exports {
            let written = format
                .exporter()
                .export(record)
                .and_then(|bytes| destination.write(&bytes));
            if let Err(e) = written {
                errors.push(format!("{option}: {e}"));
            }
        }
        if let Some(dir) = &self.plot
            && let Err(e) = plot::write_dir(dir, record)
        {
            errors.push(format!("--plot {}: {e}", dir.display()));
        }
        if let Some(path) = &self.html
            && let Err(e) = paralab::export::write_whole(path, html::render(record).as_bytes())
        {
            errors.push(format!("--html {}: {e}", path.display()));
        }
        errors
    }
}

/// Prints `text` on stdout; a closed stdout (`paralab bench | head`) is not
/// worth a panic.
pub fn print_stdout(text: &str) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    let _ = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush());
}
