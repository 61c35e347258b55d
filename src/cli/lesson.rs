//! `paralab lesson`: the notebook's claims, each tested by a short guided
//! experiment.

use crate::lessons::{self, CrashHow, Lesson, Options, Record};
use crate::measure::clock::MonoTime;
use clap::{Args, ValueEnum};
use std::path::PathBuf;

use super::error::{self, CliError, Exit};
use super::output::print_stdout as print;

/// Options of `paralab lesson`.
#[derive(Debug, Clone, Args)]
pub(crate) struct LessonArgs {
    /// The lesson: interleave, race, memory, pipe, crash, parallelism, or all
    /// (every one, in that order); with none, the list of lessons
    #[arg(value_name = "NAME")]
    name: Option<String>,

    /// Small sizes and short pauses: each lesson in about a second (for tests)
    #[arg(long)]
    fast: bool,

    /// Seed of interleave's random pauses, to repeat a run exactly [default: a random one, printed]
    #[arg(long, value_name = "N", value_parser = parse_seed, allow_negative_numbers = true)]
    seed: Option<u64>,

    /// How crash's worker dies: segfault, abort or panic
    #[arg(long, value_name = "HOW", value_parser = parse_how, default_value = "segfault")]
    how: CrashHow,

    /// The Python interpreter for race's CPython part [default: python3 on PATH,
    /// the part skipped when there is none]
    #[arg(long, value_name = "PATH")]
    python_exe: Option<PathBuf>,

    /// What to print on stdout
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

/// Output formats of `lesson`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// Claim, plan, evidence tables and verdicts, for reading
    Text,
    /// The evidence and verdicts as data: one object per lesson, an array for `all`
    Json,
}

fn parse_seed(text: &str) -> Result<u64, String> {
    text.trim().parse().map_err(|_| {
        format!(
            "'{text}' is not a seed; give a whole number from 0 to {}",
            u64::MAX
        )
    })
}

fn parse_how(text: &str) -> Result<CrashHow, String> {
    text.trim().parse()
}

/// Lists, runs one lesson, or runs them all.
pub(crate) fn run(args: LessonArgs) -> Result<Exit, CliError> {
    let Some(name) = args.name.as_deref() else {
        match args.format {
            Format::Text => print(&lessons::render_list()),
            Format::Json => {
                let list: Vec<serde_json::Value> = lessons::LESSONS
                    .iter()
                    .map(|l| serde_json::json!({"name": l.name, "summary": l.summary, "claim": l.claim}))
                    .collect();
                print(&format!("{}\n", serde_json::Value::Array(list)));
            }
        }
        return Ok(Exit::Success);
    };
    let chosen: Vec<&'static Lesson> = if name == "all" {
        lessons::LESSONS.to_vec()
    } else if let Some(lesson) = lessons::find(name) {
        vec![lesson]
    } else {
        return Err(CliError::Usage(format!(
            "unknown lesson '{name}'; accepted: {}, all (run 'paralab lesson' to list them)",
            lessons::names()
        )));
    };
    // An interpreter the user named must work: checked before any lesson
    // runs, rather than found broken after a minute of other lessons.
    // The race lesson runs on it, found here once.
    let python = match &args.python_exe {
        None => None,
        Some(exe) => {
            use crate::model::python::{Python, PythonError};
            let wanted = "give the path of a CPython 3.8 or newer, or leave --python-exe out to use python3 on PATH";
            match Python::find(Some(exe)) {
                Ok(python) => Some(std::sync::Arc::new(python)),
                Err(PythonError::NotFound { exe, cause }) => {
                    return Err(CliError::Usage(format!(
                        "--python-exe '{exe}' cannot be run ({cause}); {wanted}"
                    )));
                }
                // Its message already says what to give instead.
                Err(error) => {
                    return Err(CliError::Usage(format!(
                        "--python-exe: {error}; or leave --python-exe out to use python3 on PATH"
                    )));
                }
            }
        }
    };
    let exe = std::env::current_exe().map_err(|error| {
        CliError::Failed(format!(
            "cannot find paralab's own program to start its child processes: {error}"
        ))
    })?;
    let options = Options {
        fast: args.fast,
        seed: args.seed,
        how: args.how,
        python,
        ..Options::new(exe)
    };
    let mut records = Vec::new();
    let mut failed = Vec::new();
    for (index, lesson) in chosen.iter().enumerate() {
        if args.format == Format::Text {
            if index > 0 {
                print("\n");
            }
            print(&lessons::render_intro(lesson, &options));
        }
        error::say(format_args!("running lesson {}…", lesson.name));
        let t0 = MonoTime::now();
        match (lesson.run)(&options) {
            Ok(finding) => {
                let seconds = t0.elapsed().as_secs_f64();
                match args.format {
                    Format::Text => print(&lessons::render_finding(&finding)),
                    Format::Json => records.push(Record::new(lesson, &options, &finding, seconds)),
                }
            }
            Err(error) => {
                // Keep going: one lesson's trouble should not hide the others.
                error::say(format_args!(
                    "lesson {} could not run: {error}",
                    lesson.name
                ));
                failed.push(lesson.name);
            }
        }
    }
    if args.format == Format::Json {
        let json = if name == "all" {
            serde_json::to_string_pretty(&records)
        } else {
            records
                .first()
                .map_or(Ok(String::new()), serde_json::to_string_pretty)
        };
        match json {
            Ok(text) if !text.is_empty() => print(&format!("{text}\n")),
            Ok(_) => {}
            Err(error) => {
                return Err(CliError::Failed(format!(
                    "could not write the evidence as JSON: {error}"
                )));
            }
        }
    }
    if failed.is_empty() {
        Ok(Exit::Success)
    } else {
        Err(CliError::Failed(format!(
            "{} of {} lessons could not run: {}",
            failed.len(),
            chosen.len(),
            failed.join(", ")
        )))
    }
}
