//! The outputs `bench` and `report` share: the view printed on stdout,
//! exports, plots, the HTML page, and how quiet stderr is. Every
//! destination is checked before anything runs, so a typo in a path costs
//! nothing; then each output is one view ([`Format`]) written to one
//! [`Destination`].

use std::path::{Path, PathBuf};

use crate::dataset::Record;
use crate::export::{Destination, Format};
use crate::report::rows::{outlier_warnings, rows};
use clap::{Args, ValueEnum};

use super::error::{self, CliError};

/// Files written from the results, after the run.
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct OutputArgs {
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

/// One view written to one place.
struct Target {
    /// What asked for it, as errors name it: `--export-csv`, `--plot DIR`.
    name: String,
    format: Format,
    destination: Destination,
}

/// Outputs whose destinations have been checked.
pub(crate) struct Outputs {
    /// The view printed on stdout; none when an export takes stdout
    /// (machine-readable output never mixes with text).
    stdout: Option<Format>,
    /// Exports, plots and page, in the order they are written.
    targets: Vec<Target>,
    quiet: bool,
}

impl OutputArgs {
    /// Checks every destination: at most one on stdout, each file in an
    /// existing directory and not itself a directory, and no explicit
    /// `--format` beside an export to stdout (both cannot have stdout).
    /// Without `--format`, stdout shows the table.
    pub(crate) fn check(&self, format: Option<Format>) -> Result<Outputs, CliError> {
        let mut targets = Vec::new();
        for (option, format, value) in [
            ("--export-json", Format::Json, &self.export_json),
            ("--export-csv", Format::Csv, &self.export_csv),
            ("--export-markdown", Format::Markdown, &self.export_markdown),
        ] {
            if let Some(value) = value {
                let destination = Destination::parse(value);
                if let Destination::File(path) = &destination {
                    check_file(option, path)?;
                }
                targets.push(Target {
                    name: option.to_string(),
                    format,
                    destination,
                });
            }
        }
        let on_stdout: Vec<&str> = targets
            .iter()
            .filter(|t| t.destination == Destination::Stdout)
            .map(|t| t.name.as_str())
            .collect();
        if on_stdout.len() > 1 {
            return Err(CliError::Usage(format!(
                "{} all write to stdout ('-'); only one export can go to stdout, give the others a file name",
                on_stdout.join(" and ")
            )));
        }
        let export_on_stdout = !on_stdout.is_empty();
        if let Some(html) = &self.html {
            check_file("--html", html)?;
        }
        if let Some(dir) = &self.plot {
            if dir.exists() && !dir.is_dir() {
                return Err(CliError::Usage(format!(
                    "--plot: '{}' is a file, not a directory; give a directory for the SVG files (it is created if missing)",
                    dir.display()
                )));
            }
            if !dir.exists() {
                check_parent("--plot", dir)?;
            }
            targets.push(Target {
                name: format!("--plot {}", dir.display()),
                format: Format::Plots,
                destination: Destination::Directory(dir.clone()),
            });
        }
        if let Some(html) = &self.html {
            targets.push(Target {
                name: format!("--html {}", html.display()),
                format: Format::Html,
                destination: Destination::File(html.clone()),
            });
        }
        let stdout = match format {
            Some(format) if export_on_stdout => {
                return Err(CliError::Usage(format!(
                    "--format {} and an export to '-' both write to stdout; write the export to a file, or leave out --format",
                    format
                        .to_possible_value()
                        .map_or_else(String::new, |v| v.get_name().to_string())
                )));
            }
            _ if export_on_stdout => None,
            format => Some(format.unwrap_or(Format::Table)),
        };
        Ok(Outputs {
            stdout,
            targets,
            quiet: self.quiet,
        })
    }
}

/// Checks that `path` can be created as a file: not a directory, in a
/// directory that exists.
pub(crate) fn check_file(option: &str, path: &Path) -> Result<(), CliError> {
    if path.is_dir() {
        return Err(CliError::Usage(format!(
            "{option}: '{}' is a directory; give a file name",
            path.display()
        )));
    }
    check_parent(option, path)
}

fn check_parent(option: &str, path: &Path) -> Result<(), CliError> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !parent.is_dir() {
        return Err(CliError::Usage(format!(
            "{option}: the directory '{}' of '{}' does not exist; create it first or choose another path",
            parent.display(),
            path.display()
        )));
    }
    Ok(())
}

impl Outputs {
    /// Whether any export, plot or page goes to a file.
    pub(crate) fn writes_files(&self) -> bool {
        self.targets
            .iter()
            .any(|t| t.destination != Destination::Stdout)
    }

    /// Whether progress and warnings are silenced.
    pub(crate) fn quiet(&self) -> bool {
        self.quiet
    }

    /// Prints the stdout view, warns on stderr about outlying runs (unless
    /// quiet), then writes every export, plot and page. Returns one error
    /// per output that could not be written.
    pub(crate) fn write(&self, record: &Record) -> Vec<CliError> {
        if let Some(format) = self.stdout {
            // A closed stdout (`paralab bench | head`) is not worth an error.
            let _ = format
                .exporter()
                .export(record)
                .and_then(|output| Destination::Stdout.write(&output));
        }
        if !self.quiet {
            for warning in outlier_warnings(&rows(&record.measurements)) {
                error::warn(warning);
            }
        }
        self.targets
            .iter()
            .filter_map(|target| {
                let written = target
                    .format
                    .exporter()
                    .export(record)
                    .and_then(|output| target.destination.write(&output));
                written.err().map(|error| CliError::Write {
                    output: target.name.clone(),
                    error,
                })
            })
            .collect()
    }
}

/// Prints `text` on stdout at once; a closed stdout (`paralab lesson all |
/// head`) is not worth a panic.
pub(crate) fn print_stdout(text: &str) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    let _ = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush());
}
