//! `paralab report`: every report, from files saved with `--save`, without
//! running anything.

use std::path::PathBuf;

use crate::dataset::{Record, export, jsonl};
use crate::export::Format;
use crate::machine::Machine;
use crate::sys::signals;
use clap::Args;

use super::error::{self, CliError, Exit};
use super::output::OutputArgs;

/// What a file must be, said after every reason it cannot be read.
pub(super) const GIVE: &str =
    "give a file written by 'paralab bench --save FILE.jsonl' or '--export-json FILE.json'";

/// Options of `paralab report`.
#[derive(Debug, Clone, Args)]
pub(crate) struct ReportArgs {
    /// Files written by `paralab bench --save` (JSON Lines) or `--export-json`;
    /// several are merged in order (the machine and plan are the first file's)
    #[arg(value_name = "FILE", required = true)]
    files: Vec<PathBuf>,

    /// What to print on stdout [default: table]
    #[arg(long, value_enum)]
    format: Option<Format>,

    #[command(flatten)]
    outputs: OutputArgs,
}

/// Reads the files, prints the chosen report and writes the outputs.
pub(crate) fn run(args: ReportArgs) -> Result<Exit, CliError> {
    let inputs: Vec<(&str, &std::path::Path)> = args
        .files
        .iter()
        .map(|path| ("the input", path.as_path()))
        .collect();
    let outputs = args.outputs.check_with(args.format, &inputs)?;
    let mut record = Record::default();
    let mut bad_lines = 0;
    let mut machines: Vec<(Machine, &std::path::Path)> = Vec::new();
    for path in distinct_files(&args.files, outputs.quiet()) {
        let saved = export::read_file(path).map_err(|error| {
            CliError::Usage(format!("cannot read '{}': {error}; {GIVE}", path.display()))
        })?;
        if saved.record.is_empty() && saved.bad_lines.is_empty() && saved.cut_last_line.is_none() {
            return Err(CliError::Usage(format!(
                "cannot read '{}': it is empty; {GIVE}",
                path.display()
            )));
        }
        if let (true, Some((line, reason))) = (saved.record.is_empty(), saved.bad_lines.first()) {
            let more = match saved.bad_lines.len() - 1 {
                0 => String::new(),
                n => format!(" (and {n} more lines)"),
            };
            return Err(CliError::Usage(format!(
                "cannot read '{}': line {line} is not a paralab measurement: {}{more}; {GIVE}",
                path.display(),
                clip(reason)
            )));
        }
        if let Some(line) = saved.cut_last_line
            && !outputs.quiet()
        {
            error::warn(format_args!(
                "'{}': line {line} was cut short (the run was stopped while writing it) and is left out",
                path.display()
            ));
        }
        for (line, reason) in saved.bad_lines.iter().take(SHOWN_BAD_LINES) {
            error::say(format_args!(
                "'{}': line {line} is not a paralab measurement and is left out: {}",
                path.display(),
                clip(reason)
            ));
        }
        if saved.bad_lines.len() > SHOWN_BAD_LINES {
            error::say(format_args!(
                "'{}': {} more lines are not paralab measurements and are left out",
                path.display(),
                saved.bad_lines.len() - SHOWN_BAD_LINES
            ));
        }
        for wrong in saved.wrong_results.iter().take(SHOWN_BAD_LINES) {
            error::say(format_args!(
                "'{}': line {} ({}): worker {} returned {}, but the reference for this workload is {}; the run is counted as failed",
                path.display(),
                wrong.line,
                wrong.run,
                wrong.worker,
                crate::fmt::thousands(wrong.result),
                crate::fmt::thousands(wrong.expected)
            ));
        }
        if saved.wrong_results.len() > SHOWN_BAD_LINES {
            error::say(format_args!(
                "'{}': {} more runs hold a wrong result and are counted as failed",
                path.display(),
                saved.wrong_results.len() - SHOWN_BAD_LINES
            ));
        }
        bad_lines += saved.bad_lines.len() + saved.wrong_results.len();
        for machine in saved.machines {
            if !machines
                .iter()
                .any(|(m, _)| jsonl::same_machine(m, &machine))
            {
                machines.push((machine, path));
            }
        }
        record.append(saved.record);
    }
    if record.measurements.is_empty() {
        return Err(CliError::Failed(if bad_lines > 0 {
            "no measurement in the files could be read (the lines named above are left out); give files written by 'paralab bench --save FILE.jsonl'".into()
        } else {
            "the files hold no measurements; the run saved into them stopped before its first one finished".into()
        }));
    }
    if machines.len() > 1 && !outputs.quiet() {
        let named: Vec<String> = machines
            .iter()
            .map(|(m, path)| {
                format!(
                    "{} CPUs{} ('{}')",
                    m.logical_cpus,
                    m.cpu_model
                        .as_deref()
                        .map(|c| format!(", {}", clip(c)))
                        .unwrap_or_default(),
                    path.display()
                )
            })
            .collect();
        error::warn(format_args!(
            "these figures come from {} machines: {}; the tables mix them, and no conclusion is drawn from them",
            machines.len(),
            named.join("; ")
        ));
    }
    // A first signal while the outputs are written stops them between
    // files, leaving the one in progress as it was.
    let graceful = signals::Graceful::begin();
    let errors = outputs.write(&record);
    drop(graceful);
    for error in &errors {
        error::report(error);
    }
    if let Some(signal) = outputs.interrupted() {
        return Ok(Exit::Interrupted(signal));
    }
    if errors.is_empty() && bad_lines == 0 {
        Ok(Exit::Success)
    } else {
        Ok(Exit::Failed)
    }
}

/// The files in the order given, each once: a file given twice (the same
/// device and inode, under any name) is read once, with a warning.
fn distinct_files(files: &[PathBuf], quiet: bool) -> Vec<&std::path::Path> {
    use std::os::unix::fs::MetadataExt;
    let mut seen: Vec<((u64, u64), &std::path::Path)> = Vec::new();
    let mut distinct = Vec::new();
    for path in files {
        // A path that cannot be read is kept: reading it will say why.
        if let Ok(status) = std::fs::metadata(path) {
            let id = (status.dev(), status.ino());
            if let Some((_, first)) = seen.iter().find(|(seen, _)| *seen == id) {
                if !quiet {
                    error::warn(format_args!(
                        "'{}' is the same file as '{}', given before; it is read once",
                        path.display(),
                        first.display()
                    ));
                }
                continue;
            }
            seen.push((id, path));
        }
        distinct.push(path.as_path());
    }
    distinct
}

/// How many corrupt lines are named one by one, per file.
const SHOWN_BAD_LINES: usize = 10;

/// A reason cut to a readable length, on one line.
fn clip(reason: &str) -> String {
    // Text from the file: no control character reaches the terminal.
    let line: String = reason
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    match line.char_indices().nth(200) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line,
    }
}
