//! The `paralab` command: parses the arguments and hands them to the library.

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    // A spawned worker is this program started again: serve it before
    // anything else, so it costs one exec and no argument parsing.
    paralab::worker::serve_if_requested();
    paralab::lessons::child::serve_if_requested();
    // Before any other thread starts, so that every thread inherits the
    // blocked SIGINT and SIGTERM and only paralab's signal thread sees them.
    if let Err(error) = paralab::sys::signals::install() {
        cli::error::warn(format_args!(
            "Ctrl-C will end paralab without saving what finished: {error}"
        ));
    }
    cli::main().into()
}
