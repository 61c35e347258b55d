//! `paralab compare A B`: two saved runs, cell by cell, with a verdict
//! for each and an exit code for CI (`--threshold`).

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

use crate::dataset::{Record, export};
use crate::report::compare::{Comparison, Input, compare, render_markdown, render_text};

use super::error::{self, CliError, Exit};
use super::output::print_stdout;

/// Options of `paralab compare`.
#[derive(Debug, Clone, Args)]
pub(crate) struct CompareArgs {
    /// The reference: a file written by `bench --save` or `--export-json`
    #[arg(value_name = "A")]
    a: PathBuf,

    /// The file compared with A (B/A above 1 is slower)
    #[arg(value_name = "B")]
    b: PathBuf,

    /// Exit with code 1 when a cell is slower by more than PCT percent
    /// (its whole 95% interval beyond it, on sound evidence), e.g. 10 or 10%
    #[arg(long, value_name = "PCT", value_parser = percent, allow_negative_numbers = true)]
    threshold: Option<f64>,

    /// What to print on stdout
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

/// Output formats of `compare`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// A table of the cells, a line per verdict, the machines if they differ
    Text,
    /// Every figure and verdict
    Json,
    /// The table and verdicts, to paste into a pull request
    Markdown,
}

/// `--threshold`: a percentage from 0 to 1000, `%` optional, as a fraction.
fn percent(text: &str) -> Result<f64, String> {
    let number = text.trim().trim_end_matches('%').trim();
    match number.parse::<f64>() {
        Ok(pct) if (0.0..=1000.0).contains(&pct) => Ok(pct / 100.0),
        _ => Err(format!(
            "'{text}' is not a percentage; give a number from 0 to 1000, e.g. 10 for a slowdown of more than 10%"
        )),
    }
}

/// Reads both files, prints the comparison; exit code 1 for a slowdown
/// beyond `--threshold`.
pub(crate) fn run(args: CompareArgs) -> Result<Exit, CliError> {
    let a = read(&args.a)?;
    let b = read(&args.b)?;
    if same_file(&args.a, &args.b) {
        error::warn(format_args!(
            "A and B are the same file ('{}'): every cell compares with itself",
            args.b.display()
        ));
    }
    let (path_a, path_b) = (args.a.display().to_string(), args.b.display().to_string());
    let comparison = compare(
        Input {
            path: &path_a,
            record: &a,
        },
        Input {
            path: &path_b,
            record: &b,
        },
        args.threshold,
    );
    if comparison.cells.is_empty() {
        return Err(CliError::Usage(no_common_cell(&comparison)));
    }
    let text = match args.format {
        Format::Text => render_text(&comparison),
        Format::Markdown => render_markdown(&comparison),
        Format::Json => {
            let mut text = serde_json::to_string_pretty(&comparison).expect("plain data");
            text.push('\n');
            text
        }
    };
    print_stdout(&text);
    Ok(if comparison.regressions > 0 {
        Exit::Failed
    } else {
        Exit::Success
    })
}

/// The one line for two files with no cell in common.
fn no_common_cell(c: &Comparison) -> String {
    let some = |cells: &[String]| match cells {
        [] => "none".to_string(),
        [one] => one.clone(),
        [first, ..] => format!("{} cells, e.g. {first}", cells.len()),
    };
    format!(
        "'{}' and '{}' have no cell (workload, model, workers) in common (A has {}; B has {}); compare runs of the same workload, model and workers",
        c.a,
        c.b,
        some(&c.only_in_a),
        some(&c.only_in_b),
    )
}

/// The runs in `path`, or the one line that says why there are none.
fn read(path: &Path) -> Result<Record, CliError> {
    let give = super::report::GIVE;
    let saved = export::read_file(path).map_err(|error| {
        CliError::Usage(format!("cannot read '{}': {error}; {give}", path.display()))
    })?;
    if saved.record.measurements.is_empty() {
        let why = match saved.bad_lines.first() {
            Some((line, _)) => format!("line {line} is not a paralab measurement, and no line is"),
            None => "it holds no measurement".to_string(),
        };
        return Err(CliError::Usage(format!(
            "cannot read '{}': {why}; {give}",
            path.display()
        )));
    }
    if !saved.bad_lines.is_empty() {
        error::warn(format_args!(
            "'{}': {} not paralab measurements and left out (first: line {})",
            path.display(),
            match saved.bad_lines.len() {
                1 => "1 line is".to_string(),
                n => format!("{n} lines are"),
            },
            saved.bad_lines[0].0
        ));
    }
    if let Some(line) = saved.cut_last_line {
        error::warn(format_args!(
            "'{}': line {line} was cut short (the run was stopped while writing it) and is left out",
            path.display()
        ));
    }
    if !saved.wrong_results.is_empty() {
        error::warn(format_args!(
            "'{}': {} a wrong result and counted as failed",
            path.display(),
            match saved.wrong_results.len() {
                1 => "1 run holds".to_string(),
                n => format!("{n} runs hold"),
            }
        ));
    }
    Ok(saved.record)
}

/// Whether two paths name one file (the same device and inode).
fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(a), Ok(b)) => (a.dev(), a.ino()) == (b.dev(), b.ino()),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_are_percentages() {
        assert_eq!(percent("10"), Ok(0.1));
        assert_eq!(percent("10%"), Ok(0.1));
        assert_eq!(percent("0"), Ok(0.0));
        for bad in ["-5", "ten", "", "nan", "inf", "1001", "%"] {
            assert!(percent(bad).is_err(), "{bad}");
        }
    }
}
