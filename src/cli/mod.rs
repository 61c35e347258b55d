//! The command line: clap definitions, one handler per subcommand, and the
//! mapping of errors to exit codes.

mod bench;
mod lesson;
mod output;
mod parse;
mod primitives;
mod report;

use clap::error::ErrorKind;
use clap::{CommandFactory, Parser, Subcommand};

/// Exit code of a run that failed part-way (its finished results printed).
pub const EXIT_FAILED: i32 = 1;
/// Exit code of bad input.
pub const EXIT_USAGE: i32 = 2;

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
    Bench(bench::BenchArgs),
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

/// Runs the command line; returns the process exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return parse_failure(error),
    };
    match cli.command {
        Some(Command::Bench(args)) => bench::run(args),
        Some(Command::Lesson(args)) => lesson::run(args),
        Some(Command::Report(args)) => report::run(args),
        Some(Command::Primitives(args)) => primitives::run(args),
        None => bench::run(cli.bench),
    }
}

/// Help and version go to stdout with code 0; anything else is bad input:
/// one line on stderr, code 2.
fn parse_failure(error: clap::Error) -> i32 {
    match error.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = error.print();
            0
        }
        _ => {
            // Each subcommand has its own help; bench's is the default one.
            let line = one_line(&error.render().to_string());
            let first = std::env::args().nth(1).unwrap_or_default();
            let own_help = Cli::command()
                .get_subcommands()
                .any(|c| c.get_name() == first);
            if own_help && first != "bench" {
                eprintln!(
                    "{}",
                    line.replace(
                        "'paralab bench --help'",
                        &format!("'paralab {first} --help'")
                    )
                );
            } else {
                eprintln!("{line}");
            }
            EXIT_USAGE
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
    format!("paralab: {message} (see 'paralab bench --help')")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clap_errors_become_one_line() {
        let rendered = "error: unexpected argument '-f' found\n\n  tip: to pass '-f' as a value, use '-- -f'\n\nUsage: paralab [OPTIONS] [ITERS]\n       paralab <COMMAND>\n\nFor more information, try '--help'.\n";
        assert_eq!(
            one_line(rendered),
            "paralab: unexpected argument '-f' found; tip: to pass '-f' as a value, use '-- -f' (see 'paralab bench --help')"
        );
    }

    #[test]
    fn the_command_line_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
