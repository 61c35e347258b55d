//! The `paralab` command line: clap definitions, one handler per
//! subcommand, and the mapping of errors to exit codes (`error`).

mod bench;
mod compare;
mod completions;
mod error;
mod lesson;
mod output;
mod parse;
mod primitives;
mod progress;
mod report;

use clap::error::ErrorKind;
use clap::{CommandFactory, Parser, Subcommand};

use error::{CliError, Exit};

/// A laboratory for parallelism: threads vs processes, measured.
///
/// With no subcommand, paralab runs `paralab bench` with its defaults: the
/// experiment of the notebook "threading vs multiprocessing", in Rust.
#[derive(Debug, Parser)]
#[command(name = "paralab", version, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    bench: bench::BenchArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run N copies of a workload under each model, for each N, and time them
    /// (the notebook's experiment).
    Bench(Box<bench::BenchArgs>),
    /// Test the notebook's claims, one short guided experiment each
    /// (paralab lesson lists them).
    Lesson(lesson::LessonArgs),
    /// Render every report (tables, exports, plots, HTML) from files saved
    /// with `bench --save`, without running anything.
    Report(report::ReportArgs),
    /// Time the primitives the models are built from: thread, fork, exec, task, pool job,
    /// pipe and channel round trips, mutex, context switch.
    Primitives(primitives::PrimitivesArgs),
    /// Compare two saved runs (files of `bench --save` or `--export-json`) cell by
    /// cell: B/A with its 95% interval and a verdict; `--threshold` makes a
    /// slowdown exit 1 for CI.
    Compare(compare::CompareArgs),
    /// Print the completion script for a shell (bash, zsh, fish, elvish, powershell).
    Completions(completions::CompletionsArgs),
    /// Print paralab's manual page (roff), e.g. `paralab man > ~/.local/share/man/man1/paralab.1`.
    Man(completions::ManArgs),
}

/// Runs the `paralab` command with this process's arguments; the binary's
/// `main` is this function and nothing else. An error is printed here, and
/// only here.
pub fn main() -> std::process::ExitCode {
    crate::sys::limits::with_enough_stack(main_body)
}

fn main_body() -> std::process::ExitCode {
    // A spawned worker, or a lesson's child, is this program started again:
    // serve it before anything else, so it costs one exec and no argument
    // parsing.
    crate::worker::serve_if_requested();
    crate::lessons::child::serve_if_requested();
    crate::mpi::serve_if_requested();
    crate::primitives::mpi::serve_rank_if_requested();
    // Before any other thread starts, so that every thread inherits the
    // blocked SIGINT and SIGTERM and only paralab's signal thread sees them.
    if let Err(error) = crate::sys::signals::install(error::stopped_at_once) {
        error::warn(format_args!(
            "Ctrl-C will end paralab without saving what finished: {error}"
        ));
    }
    let exit = match run() {
        Ok(exit) => exit,
        Err(error) => {
            error::report(&error);
            error.exit()
        }
    };
    std::process::ExitCode::from(exit.code())
}

fn run() -> Result<Exit, CliError> {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return parse_failure(error),
    };
    match cli.command {
        Some(Command::Bench(args)) => {
            check_worker_counts(&args.plan())?;
            bench::run(*args)
        }
        Some(Command::Lesson(args)) => lesson::run(args),
        Some(Command::Report(args)) => report::run(args),
        Some(Command::Primitives(args)) => primitives::run(args),
        Some(Command::Compare(args)) => compare::run(args),
        Some(Command::Completions(args)) => completions::completions(args),
        Some(Command::Man(args)) => completions::man(args),
        None => {
            check_worker_counts(&cli.bench.plan())?;
            bench::run(cli.bench)
        }
    }
}

/// Refuses, before anything runs, a plan with more worker counts than
/// paralab could ever get through (see `MAX_WORKER_COUNTS`).
fn check_worker_counts(plan: &crate::Plan) -> Result<(), CliError> {
    let most = crate::experiment::max_worker_counts();
    let given = plan.workers.len();
    if given <= most {
        return Ok(());
    }
    Err(CliError::Usage(format!(
        "--workers gives {} worker counts; at most {} are accepted, each a row run in turn: give a list, e.g. --workers 1,2,4,8,16,32,64",
        crate::fmt::thousands(given as u64),
        crate::fmt::thousands(most as u64),
    )))
}

/// Help and version go to stdout with code 0; anything else is bad input:
/// one line on stderr, code 2.
fn parse_failure(error: clap::Error) -> Result<Exit, CliError> {
    match error.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            // Help into a full stdout is an error like any other output;
            // into a closed pipe (`| head`) it ends quietly.
            match error.print() {
                Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => {
                    Err(CliError::Write {
                        output: "stdout".into(),
                        error,
                    })
                }
                _ => Ok(Exit::Success),
            }
        }
        _ if let Some(message) = not_a_subcommand(&error, &arguments()) => {
            Err(CliError::Usage(message))
        }
        _ => {
            // Each subcommand has its own help; bench's is the default one.
            let line = one_line(&error.render().to_string());
            let first = std::env::args_os()
                .nth(1)
                .map(|arg| arg.to_string_lossy().into_owned())
                .unwrap_or_default();
            let own_help = Cli::command()
                .get_subcommands()
                .any(|c| c.get_name() == first);
            Err(CliError::Usage(if own_help && first != "bench" {
                line.replace(
                    "'paralab bench --help'",
                    &format!("'paralab {first} --help'"),
                )
            } else {
                line
            }))
        }
    }
}

/// The message for a word given where paralab takes a subcommand or its
/// optional ITERS: clap, finding no subcommand of that name, offers the
/// word to ITERS, whose "is not a whole number" (or, with a second word,
/// a conflict with a subcommand) would hide the mistake. The word is the
/// first argument (`paralab lesso`), or ITERS's invalid value after
/// options (`paralab --workers 2 lesso`). `None` for any other error, and
/// for values that look like numbers (`-5`, `1.5`, `1e6`), which ITERS's
/// own message explains.
fn not_a_subcommand(error: &clap::Error, args: &[String]) -> Option<String> {
    use clap::error::{ContextKind, ContextValue};
    let names: Vec<String> = Cli::command()
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .collect();
    let is_word = |text: &str| {
        text.chars().next().is_some_and(char::is_alphabetic) && !names.iter().any(|n| n == text)
    };
    let string = |kind| match error.get(kind) {
        Some(ContextValue::String(text)) => Some(text.as_str()),
        _ => None,
    };
    let word = match args.first() {
        Some(first) if is_word(first) => first.as_str(),
        // Under `bench`, ITERS is bench's own: no subcommand is expected.
        _ if error.kind() == ErrorKind::ValueValidation
            && string(ContextKind::InvalidArg) == Some("[ITERS]")
            && !args.iter().any(|arg| names.contains(arg)) =>
        {
            string(ContextKind::InvalidValue).filter(|value| is_word(value))?
        }
        _ => return None,
    };
    Some(match closest_name(word, &names) {
        Some(name) => format!(
            "'{word}' is not a subcommand; did you mean '{name}'? (subcommands: {}; see 'paralab --help')",
            names.join(", ")
        ),
        None => format!(
            "'{word}' is neither a subcommand ({}) nor a whole number of iterations (ITERS); see 'paralab --help'",
            names.join(", ")
        ),
    })
}

/// The name `word` most likely mistypes: the nearest by edit distance
/// (a swap of two neighbours counts as one edit) within two edits, or
/// the one `word` begins (`prim` → `primitives`).
fn closest_name<'n>(word: &str, names: &'n [String]) -> Option<&'n str> {
    let word = word.to_lowercase();
    names
        .iter()
        .map(|name| (edit_distance(&word, name), name))
        .filter(|&(distance, name)| {
            distance <= 2 || (word.chars().count() >= 3 && name.starts_with(&word))
        })
        .min_by_key(|&(distance, _)| distance)
        .map(|(_, name)| name.as_str())
}

/// Edits (insert, delete, replace, swap of neighbours) that turn `a` into
/// `b`: the optimal string alignment distance.
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    // rows[i][j]: the distance between a[..i] and b[..j].
    let mut rows = vec![vec![0; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let replace = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + replace);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = best;
        }
    }
    rows[a.len()][b.len()]
}

/// This process's arguments after the program's name, as text (a
/// non-UTF-8 byte becomes U+FFFD: they are only compared with names).
fn arguments() -> Vec<String> {
    std::env::args_os()
        .skip(1)
        .map(|arg| arg.to_string_lossy().into_owned())
        .collect()
}

/// Folds clap's several-line error into one line: the error, the accepted
/// values or tip that clap gives, and where to read more.
fn one_line(rendered: &str) -> String {
    // clap's usage block runs from "Usage:" to the next blank line.
    let mut in_usage = false;
    let mut parts: Vec<&str> = Vec::new();
    for line in rendered.lines().map(str::trim) {
        in_usage = line.starts_with("Usage:") || (in_usage && !line.is_empty());
        if !in_usage && !line.is_empty() && !line.starts_with("For more information") {
            parts.push(line);
        }
    }
    let message = parts.join("; ");
    let message = message.strip_prefix("error: ").unwrap_or(&message);
    format!("{message} (see 'paralab bench --help')")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What paralab says of these arguments when they name no subcommand.
    fn suggestion(args: &[&str]) -> Option<String> {
        let argv = std::iter::once("paralab").chain(args.iter().copied());
        let error = Cli::try_parse_from(argv).unwrap_err();
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        not_a_subcommand(&error, &args)
    }

    #[test]
    fn a_mistyped_subcommand_is_named_with_its_likely_meaning() {
        for (typed, meant) in [
            (&["lesso"][..], "lesson"),
            (&["reprot", "x.jsonl"][..], "report"),
            (&["primitive"][..], "primitives"),
            (&["bnech"][..], "bench"),
            (&["prim"][..], "primitives"),
            (&["--workers", "2", "Lesson"][..], "lesson"),
        ] {
            let message = suggestion(typed).unwrap();
            assert!(
                message.contains(&format!("is not a subcommand; did you mean '{meant}'?")),
                "{typed:?}: {message}"
            );
            assert!(!message.contains("whole number"), "{message}");
        }
        let far = suggestion(&["xyzzy", "x.jsonl"]).unwrap();
        assert!(
            far.contains("neither a subcommand") && !far.contains("did you mean"),
            "{far}"
        );
    }

    #[test]
    fn numbers_keep_the_message_of_iters() {
        for bad in ["-5", "1.5", "1e6", "18446744073709551616"] {
            assert_eq!(suggestion(&[bad]), None, "{bad}");
        }
        // An option's bad value is that option's error, not a subcommand's.
        assert_eq!(suggestion(&["--iters", "lesso"]), None);
        assert_eq!(suggestion(&["lesson", "--no-such-option"]), None);
        assert_eq!(suggestion(&["bench", "lesso"]), None);
        assert!(Cli::try_parse_from(["paralab", "1000"]).is_ok());
    }

    #[test]
    fn edit_distance_counts_a_swap_as_one() {
        assert_eq!(edit_distance("reprot", "report"), 1);
        assert_eq!(edit_distance("lesso", "lesson"), 1);
        assert_eq!(edit_distance("", "bench"), 5);
        assert_eq!(edit_distance("bench", "bench"), 0);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn clap_errors_become_one_line() {
        let rendered = "error: unexpected argument '-f' found\n\n  tip: to pass '-f' as a value, use '-- -f'\n\nUsage: paralab [OPTIONS] [ITERS]\n       paralab <COMMAND>\n\nFor more information, try '--help'.\n";
        assert_eq!(
            one_line(rendered),
            "unexpected argument '-f' found; tip: to pass '-f' as a value, use '-- -f' (see 'paralab bench --help')"
        );
    }

    /// Words a hostile command line is made of: every subcommand and
    /// option, values at and beyond their limits, and odd text.
    const WORDS: &[&str] = &[
        "bench",
        "lesson",
        "report",
        "primitives",
        "compare",
        "completions",
        "man",
        "bash",
        "zsh",
        "--threshold",
        "10%",
        "markdown",
        "all",
        "race",
        "crash",
        "--workers",
        "--models",
        "--workloads",
        "--cmd",
        "--sleep",
        "--iters",
        "--runs",
        "--warmup",
        "--format",
        "--timeout",
        "--keep-going",
        "--save",
        "--export-json",
        "--export-csv",
        "--export-markdown",
        "--plot",
        "--html",
        "--start-method",
        "--switch-interval",
        "--fast",
        "--seed",
        "--how",
        "-q",
        "--help",
        "--version",
        "--",
        "-",
        "0",
        "1",
        "-1",
        "2",
        "1..4",
        "1..=0",
        "4..1",
        "1,,2",
        "0..=1000000",
        "1..",
        "..",
        ",",
        "18446744073709551616",
        "99999999999999999999",
        "1e999",
        "nan",
        "inf",
        "-0",
        "0.0000001",
        "5ms",
        "gil:0",
        "gil:-1ms",
        "process:",
        "process:fork",
        "process:vfork",
        "thread",
        "async",
        "pool",
        "cpu",
        "sleep",
        "table",
        "json",
        "notebook",
        "text",
        "'",
        "\"",
        "sh -c 'exit 3'",
        "",
        " ",
        "\u{0}",
        "é",
        "\u{202e}",
        "/",
        "/nonexistent/x.jsonl",
    ];

    fn argv() -> impl Strategy<Value = Vec<String>> {
        prop::collection::vec(
            prop_oneof![
                4 => prop::sample::select(WORDS).prop_map(str::to_string),
                1 => any::<String>(),
                1 => (prop::sample::select(WORDS), prop::sample::select(WORDS))
                    .prop_map(|(a, b)| format!("{a}={b}")),
            ],
            0..8,
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

        /// Any argument vector: the parser never panics, an error is one
        /// line, and a bench command line always gives a plan.
        #[test]
        fn no_argument_vector_makes_the_parser_panic(args in argv()) {
            let argv = std::iter::once("paralab".to_string()).chain(args);
            match Cli::try_parse_from(argv) {
                Ok(Cli { command: Some(Command::Bench(args)), .. }) => {
                    let _ = args.plan().total_runs();
                }
                Ok(Cli { command: None, bench: args }) => {
                    let _ = args.plan().total_runs();
                }
                Ok(_) => {}
                Err(error) => {
                    let line = one_line(&error.render().to_string());
                    prop_assert!(!line.contains('\n'), "{}", line);
                    prop_assert!(!line.starts_with("paralab: "), "{}", line);
                }
            }
        }
    }

    #[test]
    fn the_command_line_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
