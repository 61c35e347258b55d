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

    /// Python interpreters, comma-separated or repeated: race runs its CPython part
    /// on the first [default: python3 on PATH, the part skipped when there is none];
    /// parallelism runs CPython's own threads in each, side by side [default: none]
    #[arg(long, value_name = "PATHS", value_delimiter = ',')]
    python_exe: Vec<PathBuf>,

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

/// The interpreters the user named, each checked before any lesson runs
/// (rather than found broken after a minute of other lessons): one that
/// cannot be run, or one named twice (the same program under two names),
/// is bad input.
fn find_pythons(exes: &[PathBuf]) -> Result<Vec<crate::model::python::Python>, CliError> {
    use crate::model::python::{Python, PythonError};
    let wanted =
        "give the path of a CPython 3.8 or newer, or leave --python-exe out to use python3 on PATH";
    let mut found: Vec<Python> = Vec::new();
    for exe in exes {
        let python = match Python::find(Some(exe)) {
            Ok(python) => python,
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
        };
        if let Some(same) = found.iter().find(|p| p.executable() == python.executable()) {
            return Err(CliError::Usage(format!(
                "--python-exe: '{}' and '{}' are the same interpreter ({}); name it once",
                same.exe().display(),
                exe.display(),
                python.executable()
            )));
        }
        found.push(python);
    }
    Ok(found)
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
    let pythons = find_pythons(&args.python_exe)?;
    if pythons.len() > 1 && chosen.iter().any(|l| l.name == "race") {
        error::say(format_args!(
            "race runs its CPython part on the first of --python-exe, '{}'",
            pythons[0].exe().display()
        ));
    }
    let exes: Vec<PathBuf> = pythons.iter().map(|p| p.exe().to_path_buf()).collect();
    let python = pythons.into_iter().next().map(std::sync::Arc::new);
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
        // Only parallelism compares interpreters: it is handed all of them.
        let outcome = if lesson.name == lessons::parallelism::LESSON.name {
            lessons::parallelism::run_in(&options, &exes)
        } else {
            (lesson.run)(&options)
        };
        match outcome {
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
