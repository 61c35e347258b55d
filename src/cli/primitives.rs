//! `paralab primitives`: the cost of each primitive the models use.

use std::io::IsTerminal;

use crate::primitives::{Primitive, Timing, render_table};
use clap::{Args, ValueEnum};

use super::error::{self, CliError, Exit};
use super::output::print_stdout;

/// Options of `paralab primitives`.
#[derive(Debug, Clone, Args)]
pub(crate) struct PrimitivesArgs {
    /// Timed samples per primitive (a tenth as many untimed ones run first)
    #[arg(long, value_name = "N", value_parser = samples, default_value = "1000")]
    samples: usize,

    /// Only these primitives, comma-separated: thread, fork, exec, tokio-task, rayon-job, pipe,
    /// channel, mutex, mutex-contended, context-switch
    #[arg(long, value_name = "LIST", value_delimiter = ',', value_parser = primitive)]
    only: Vec<Primitive>,

    /// What to print on stdout
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

/// Output formats of `primitives`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// One row per primitive: median, spread, fastest
    Table,
    /// Every figure, in nanoseconds per operation
    Json,
}

fn samples(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(n) if (1..=10_000_000).contains(&n) => Ok(n),
        _ => Err(format!(
            "'{text}' is not a number of samples; give a whole number from 1 to 10000000"
        )),
    }
}

fn primitive(text: &str) -> Result<Primitive, String> {
    text.trim().parse()
}

#[derive(serde::Serialize)]
struct JsonReport<'a> {
    paralab_version: &'static str,
    logical_cpus: usize,
    primitives: &'a [Timing],
}

/// Times each chosen primitive; prints what was measured even when one
/// fails, then names the failure.
pub(crate) fn run(args: PrimitivesArgs) -> Result<Exit, CliError> {
    let chosen: Vec<Primitive> = if args.only.is_empty() {
        Primitive::ALL.to_vec()
    } else {
        args.only.clone()
    };
    let mut timings = Vec::new();
    let mut failure = None;
    let progress = std::io::stderr().is_terminal();
    for primitive in chosen {
        if progress {
            error::status(format_args!("timing {} …", primitive.operation()));
        }
        match primitive.measure(args.samples) {
            Ok(timing) => timings.push(timing),
            Err(error) => {
                failure = Some(format!("{}: {error}", primitive.operation()));
                break;
            }
        }
    }
    if progress {
        error::clear_status();
    }
    let text = match args.format {
        Format::Table => render_table(&timings),
        Format::Json => {
            let report = JsonReport {
                paralab_version: env!("CARGO_PKG_VERSION"),
                logical_cpus: crate::machine::logical_cpus(),
                primitives: &timings,
            };
            let mut text = serde_json::to_string_pretty(&report).expect("plain data");
            text.push('\n');
            text
        }
    };
    print_stdout(&text);
    match failure {
        None => Ok(Exit::Success),
        Some(failure) => Err(CliError::Failed(format!(
            "could not time {failure}; the primitives timed before it are printed"
        ))),
    }
}
