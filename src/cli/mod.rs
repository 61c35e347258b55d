//! The `paralab` command line: clap definitions, one handler per
//! subcommand, and the mapping of errors to exit codes (`error`).

mod bench;
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
}

/// Runs the `paralab` command with this process's arguments; the binary's
/// `main` is this function and nothing else. An error is printed here, and
/// only here.
pub fn main() -> std::process::ExitCode {
    // A spawned worker, or a lesson's child, is this program started again:
    // serve it before anything else, so it costs one exec and no argument
    // parsing.
    crate::worker::serve_if_requested();
    crate::lessons::child::serve_if_requested();
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
        Some(Command::Bench(args)) => bench::run(*args),
        Some(Command::Lesson(args)) => lesson::run(args),
        Some(Command::Report(args)) => report::run(args),
        Some(Command::Primitives(args)) => primitives::run(args),
        None => bench::run(cli.bench),
    }
}

/// Help and version go to stdout with code 0; anything else is bad input:
/// one line on stderr, code 2.
fn parse_failure(error: clap::Error) -> Result<Exit, CliError> {
    match error.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = error.print();
            Ok(Exit::Success)
        }
        _ => {
            // Each subcommand has its own help; bench's is the default one.
            let line = one_line(&error.render().to_string());
            let first = std::env::args().nth(1).unwrap_or_default();
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
