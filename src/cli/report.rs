//! `paralab report`: every report, from files saved with `--save`, without
//! running anything.

use std::path::PathBuf;

use clap::Args;
use paralab::observe::jsonl;
use paralab::report::record::Record;

use super::bench::{Format, render_stdout};
use super::output::OutputArgs;
use super::{EXIT_FAILED, EXIT_USAGE};

/// Options of `paralab report`.
#[derive(Debug, Clone, Args)]
pub struct ReportArgs {
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
pub fn run(args: ReportArgs) -> i32 {
    let outputs = match args.outputs.check_with_format(args.format) {
        Ok(outputs) => outputs,
        Err(message) => {
            eprintln!("{message}");
            return EXIT_USAGE;
        }
    };
    let mut record = Record::default();
    let mut bad_lines = 0;
    for path in &args.files {
        let saved = match jsonl::read_file(path) {
            Ok(saved) => saved,
            Err(error) => {
                eprintln!(
                    "paralab: cannot read '{}': {error}; give a file written by 'paralab bench --save FILE.jsonl'",
                    path.display()
                );
                return EXIT_USAGE;
            }
        };
        let nothing_read = saved.record.measurements.is_empty()
            && saved.record.machine.is_none()
            && saved.record.plan.is_none();
        if let (true, Some((line, reason))) = (nothing_read, saved.bad_lines.first()) {
            let more = match saved.bad_lines.len() - 1 {
                0 => String::new(),
                n => format!(" (and {n} more lines)"),
            };
            eprintln!(
                "paralab: cannot read '{}': line {line} is not a paralab measurement: {}{more}; give a file written by 'paralab bench --save FILE.jsonl'",
                path.display(),
                clip(reason)
            );
            return EXIT_USAGE;
        }
        if let Some(line) = saved.cut_last_line
            && !outputs.quiet()
        {
            eprintln!(
                "paralab: warning: '{}': line {line} was cut short (the run was stopped while writing it) and is left out",
                path.display()
            );
        }
        for (line, reason) in saved.bad_lines.iter().take(SHOWN_BAD_LINES) {
            eprintln!(
                "paralab: '{}': line {line} is not a paralab measurement and is left out: {}",
                path.display(),
                clip(reason)
            );
        }
        if saved.bad_lines.len() > SHOWN_BAD_LINES {
            eprintln!(
                "paralab: '{}': {} more lines are not paralab measurements and are left out",
                path.display(),
                saved.bad_lines.len() - SHOWN_BAD_LINES
            );
        }
        bad_lines += saved.bad_lines.len();
        if record.machine.is_none() && record.plan.is_none() {
            record.machine = saved.record.machine;
            record.plan = saved.record.plan;
        }
        record.measurements.extend(saved.record.measurements);
    }
    if record.measurements.is_empty() {
        eprintln!(
            "paralab: the files hold no measurements; the run saved into them stopped before its first one finished"
        );
        return EXIT_FAILED;
    }
    if !outputs.takes_stdout() {
        super::output::print_stdout(&render_stdout(
            args.format.unwrap_or(Format::Table),
            &record,
        ));
    }
    let errors = outputs.write(&record);
    for error in &errors {
        eprintln!("paralab: could not write {error}");
    }
    if errors.is_empty() && bad_lines == 0 {
        0
    } else {
        EXIT_FAILED
    }
}

/// How many corrupt lines are named one by one, per file.
const SHOWN_BAD_LINES: usize = 10;

/// A reason cut to a readable length, on one line.
fn clip(reason: &str) -> String {
    let line = reason.replace(['\n', '\r'], " ");
    match line.char_indices().nth(200) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line,
    }
}
