//! `paralab report`: every report, from files saved with `--save`, without
//! running anything.

use std::path::PathBuf;

use crate::dataset::{Record, jsonl};
use crate::export::Format;
use crate::sys::signals;
use clap::Args;

use super::error::{self, CliError, Exit};
use super::output::OutputArgs;

/// Options of `paralab report`.
#[derive(Debug, Clone, Args)]
pub(crate) struct ReportArgs {
    /// JSON Lines files written by `paralab bench --save`; several are merged
    /// in order (the machine and plan are the first file's)
    #[arg(value_name = "FILE.jsonl", required = true)]
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
    for path in &args.files {
        let saved = jsonl::read_file(path).map_err(|error| {
            CliError::Usage(format!(
                "cannot read '{}': {error}; give a file written by 'paralab bench --save FILE.jsonl'",
                path.display()
            ))
        })?;
        if let (true, Some((line, reason))) = (saved.record.is_empty(), saved.bad_lines.first()) {
            let more = match saved.bad_lines.len() - 1 {
                0 => String::new(),
                n => format!(" (and {n} more lines)"),
            };
            return Err(CliError::Usage(format!(
                "cannot read '{}': line {line} is not a paralab measurement: {}{more}; give a file written by 'paralab bench --save FILE.jsonl'",
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
        bad_lines += saved.bad_lines.len();
        record.append(saved.record);
    }
    if record.measurements.is_empty() {
        return Err(CliError::Failed(
            "the files hold no measurements; the run saved into them stopped before its first one finished".into(),
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
