//! The outputs `bench` and `report` share: the view printed on stdout,
//! exports, plots, the HTML page, and how quiet stderr is. Every
//! destination is checked before anything runs, so a typo in a path costs
//! nothing; then each output is one view ([`Format`]) written to one
//! [`Destination`].

use std::cell::Cell;
use std::io;
use std::path::{Path, PathBuf};

use crate::dataset::Record;
use crate::export::Exporter;
use crate::export::file::{self, Identity, Resolved};
use crate::export::views::TerminalTable;
use crate::export::{Destination, Format};
use crate::fmt::TimeUnit;
use crate::report::rows::{outlier_warnings, rows, time_warnings};
use crate::sys::signals;
use clap::{Args, ValueEnum};
use nix::sys::signal::Signal;
use nix::unistd::AccessFlags;

use super::error::{self, CliError, Exit};
use super::progress::{self, Style};

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

    /// Write hyperfine's JSON (results[] with command, mean, stddev, median, user, system, min, max, times, exit_codes, parameters), one result per (workload, model, workers), to FILE ('-' for stdout)
    #[arg(long, value_name = "FILE", allow_hyphen_values = true)]
    export_hyperfine: Option<String>,

    /// The unit of every time in the table: microsecond, millisecond or second [default: each column the unit its times suit]; files keep seconds
    #[arg(long, short = 'u', value_name = "UNIT")]
    time_unit: Option<TimeUnit>,

    /// How progress is shown on stderr: basic (one line per finished cell, no colours), full (the bar), nocolor (the bar, no colours), color (lines, coloured), none [default: the bar on a terminal]
    #[arg(long, value_name = "STYLE")]
    style: Option<Style>,

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
    /// `--time-unit`, for the table.
    time_unit: Option<TimeUnit>,
    /// The signal that arrived while the outputs were written, if one did.
    interrupted: Cell<Option<Signal>>,
}

impl OutputArgs {
    /// Checks every destination before anything runs: at most one on
    /// stdout, each file writable (in a directory that exists and can be
    /// written, not itself a directory), no two outputs the same file (by
    /// device and inode, symlinks followed), and none the same file as one
    /// of `others` (a `report` input, `bench --save`), each given as what
    /// names it and its path. No explicit `--format` beside an export to
    /// stdout (both cannot have stdout). Without `--format`, stdout shows
    /// the table.
    pub(crate) fn check_with(
        &self,
        format: Option<Format>,
        others: &[(&str, &Path)],
    ) -> Result<Outputs, CliError> {
        let mut targets = Vec::new();
        // Every file written, with what names it, to find duplicates.
        let mut files: Vec<(String, PathBuf)> = Vec::new();
        for (option, format, value) in [
            ("--export-json", Format::Json, &self.export_json),
            ("--export-csv", Format::Csv, &self.export_csv),
            ("--export-markdown", Format::Markdown, &self.export_markdown),
            (
                "--export-hyperfine",
                Format::Hyperfine,
                &self.export_hyperfine,
            ),
        ] {
            if let Some(value) = value {
                let destination = Destination::parse(value);
                if let Destination::File(path) = &destination {
                    check_file(option, path)?;
                    files.push((option.to_string(), path.clone()));
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
            files.push(("--html".to_string(), html.clone()));
        }
        if let Some(dir) = &self.plot {
            check_directory("--plot", dir)?;
            files.push(("--plot".to_string(), dir.clone()));
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
        check_distinct(&files, others)?;
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
        progress::choose(self.style.unwrap_or_default());
        Ok(Outputs {
            stdout,
            targets,
            quiet: self.quiet,
            time_unit: self.time_unit,
            interrupted: Cell::new(None),
        })
    }
}

/// Checks that `path` can be written as a file, as [`file::write_whole_unless`]
/// will write it: symlinks followed, not a directory, a device or FIFO
/// that can be opened for writing, or a regular file (existing or not) in
/// a directory that exists and can be written.
pub(crate) fn check_file(option: &str, path: &Path) -> Result<(), CliError> {
    if path.as_os_str().is_empty() {
        return Err(CliError::Usage(format!(
            "{option}: the path is empty; give a file name"
        )));
    }
    match file::resolve(path) {
        Err(error) => Err(CliError::Usage(format!(
            "{option}: cannot use '{}': {error}; choose another path",
            path.display()
        ))),
        Ok(Resolved::Directory(_)) => Err(CliError::Usage(format!(
            "{option}: '{}' is a directory; give a file name",
            path.display()
        ))),
        Ok(Resolved::InPlace(target)) => {
            writable(option, path, &target, AccessFlags::W_OK, "cannot write to")
        }
        Ok(Resolved::Replace(target)) => check_parent(option, path, &target),
    }
}

/// Checks that `dir` is, or can be created as, a directory files can be
/// written into.
fn check_directory(option: &str, dir: &Path) -> Result<(), CliError> {
    match std::fs::metadata(dir) {
        Ok(status) if status.is_dir() => writable(
            option,
            dir,
            dir,
            AccessFlags::W_OK | AccessFlags::X_OK,
            "cannot write files into",
        ),
        Ok(_) => Err(CliError::Usage(format!(
            "{option}: '{}' is a file, not a directory; give a directory for the SVG files (it is created if missing)",
            dir.display()
        ))),
        Err(_) if std::fs::symlink_metadata(dir).is_ok() => Err(CliError::Usage(format!(
            "{option}: '{}' is a symlink to something that does not exist; create the directory it names or choose another path",
            dir.display()
        ))),
        Err(_) => match file::resolve(dir) {
            Ok(Resolved::Replace(target)) => check_parent(option, dir, &target),
            _ => Err(CliError::Usage(format!(
                "{option}: cannot use '{}' as a directory; choose another path",
                dir.display()
            ))),
        },
    }
}

/// Checks that the directory of `target` (what `path` resolves to) exists
/// and can be written.
fn check_parent(option: &str, path: &Path, target: &Path) -> Result<(), CliError> {
    let parent = file::directory_of(target);
    if !parent.is_dir() {
        return Err(CliError::Usage(format!(
            "{option}: the directory '{}' of '{}' does not exist; create it first or choose another path",
            parent.display(),
            path.display()
        )));
    }
    writable(
        option,
        path,
        parent,
        AccessFlags::W_OK | AccessFlags::X_OK,
        "cannot create files in the directory of",
    )
}

/// Whether this process may `access` `target`; the error names `path`,
/// what the user gave.
fn writable(
    option: &str,
    path: &Path,
    target: &Path,
    access: AccessFlags,
    what: &str,
) -> Result<(), CliError> {
    nix::unistd::access(target, access).map_err(|errno| {
        CliError::Usage(format!(
            "{option}: {what} '{}': {}; choose another path",
            path.display(),
            errno.desc()
        ))
    })
}

/// An output's name, path, and identity with whether it is a device.
type Identified<'a> = (&'a str, &'a Path, Option<(Identity, bool)>);

/// Refuses two outputs that are the same file, or an output that is one
/// of `others`. Character devices (`/dev/null`) may be shared.
fn check_distinct(files: &[(String, PathBuf)], others: &[(&str, &Path)]) -> Result<(), CliError> {
    let identified: Vec<Identified<'_>> = files
        .iter()
        .map(|(name, path)| (name.as_str(), path.as_path(), Identity::of(path)))
        .collect();
    for (i, (name, path, identity)) in identified.iter().enumerate() {
        let Some((identity, device)) = identity else {
            continue;
        };
        let earlier = identified[..i]
            .iter()
            .map(|(n, p, id)| (*n, *p, id.clone()))
            .chain(others.iter().map(|(n, p)| (*n, *p, Identity::of(p))));
        for (other, other_path, other_identity) in earlier {
            if let Some((other_identity, other_device)) = other_identity
                && other_identity == *identity
                && !(*device && other_device)
            {
                return Err(CliError::Usage(format!(
                    "{name} '{}' and {other} '{}' are the same file; give each output its own file",
                    path.display(),
                    other_path.display()
                )));
            }
        }
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

    /// The signal that stopped [`Outputs::write`] part-way, if one did:
    /// the outputs written before it are whole, the others as they were.
    pub(crate) fn interrupted(&self) -> Option<Signal> {
        self.interrupted.get()
    }

    /// Prints the stdout view, warns on stderr about outlying runs (unless
    /// quiet), then writes every export, plot and page. Returns one error
    /// per output that could not be written; a full or closed stdout is
    /// one, a closed pipe (`paralab bench | head`) is not. A signal that
    /// arrives meanwhile (not one that stopped the run before) stops the
    /// writing: the output being written is left as it was, and
    /// [`Outputs::interrupted`] says which signal.
    pub(crate) fn write(&self, record: &Record) -> Vec<CliError> {
        let mut errors = Vec::new();
        let stopped_before = signals::requested().is_some();
        let interrupted = || !stopped_before && signals::requested().is_some();
        if let Some(format) = self.stdout {
            let table = TerminalTable {
                unit: self.time_unit,
            };
            let exporter: &dyn Exporter = match format {
                Format::Table => &table,
                other => other.exporter(),
            };
            let written = exporter
                .export(record)
                .and_then(|output| Destination::Stdout.write(&output));
            if let Some(error) = written.err().and_then(stdout_failure) {
                errors.push(error);
            }
        }
        if !self.quiet {
            for warning in outlier_warnings(&rows(&record.measurements)) {
                error::warn(warning);
            }
            for warning in time_warnings(&record.measurements, record.cpus()) {
                error::warn(warning);
            }
        }
        let mut written = Vec::new();
        for (i, target) in self.targets.iter().enumerate() {
            if interrupted() {
                self.stop_writing(&written, &self.targets[i..], &mut errors);
                break;
            }
            let result = target
                .format
                .exporter()
                .export(record)
                .and_then(|output| target.destination.write_unless(&output, &interrupted));
            match result {
                Ok(()) => written.push(target.name.as_str()),
                Err(error) if error.kind() == io::ErrorKind::Interrupted && interrupted() => {
                    self.stop_writing(&written, &self.targets[i..], &mut errors);
                    break;
                }
                // `--export-csv /dev/stdout | head`, or a FIFO's reader
                // that had enough: as quiet as stdout's closed pipe.
                Err(error) if error.kind() == io::ErrorKind::BrokenPipe => {}
                Err(error) => errors.push(CliError::Write {
                    output: target.name.clone(),
                    error,
                }),
            }
        }
        errors
    }

    /// Records the signal that stops the writing, and says what was
    /// written and what was left as it was.
    fn stop_writing(&self, written: &[&str], left: &[Target], errors: &mut Vec<CliError>) {
        let Some(signal) = signals::requested() else {
            return;
        };
        self.interrupted.set(Some(signal));
        let left: Vec<&str> = left.iter().map(|t| t.name.as_str()).collect();
        let wrote = if written.is_empty() {
            "nothing was written".to_string()
        } else {
            format!("{} written whole", written.join(", "))
        };
        errors.push(CliError::Failed(format!(
            "interrupted by {signal} while writing the outputs: {wrote}; {} left as before",
            left.join(", ")
        )));
    }
}

/// What a failed write to stdout means: nothing for a closed pipe (the
/// reader had enough, as with `| head`), an error otherwise (a full disk,
/// a closed stdout).
fn stdout_failure(error: io::Error) -> Option<CliError> {
    (error.kind() != io::ErrorKind::BrokenPipe).then(|| CliError::Write {
        output: "stdout".into(),
        error,
    })
}

/// Prints `text` on stdout at once. A closed pipe (`paralab lesson all |
/// head`) ends paralab quietly, as nobody reads what follows; any other
/// failure (a full disk, a closed stdout) ends it with one line and exit
/// code 1, since what it would print is lost. Called between pieces of
/// work, never while a child runs.
pub(crate) fn print_stdout(text: &str) {
    if let Err(error) = crate::export::write_stdout(text.as_bytes()) {
        let exit = match stdout_failure(error) {
            None => Exit::Success,
            Some(error) => {
                error::report(&error);
                error.exit()
            }
        };
        std::process::exit(i32::from(exit.code()));
    }
}
