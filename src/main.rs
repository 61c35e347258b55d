//! The `paralab` command: parses the arguments and hands them to the library.

mod cli;

fn main() {
    // A spawned worker is this program started again: serve it before
    // anything else, so it costs one exec and no argument parsing.
    paralab::worker::serve_if_requested();
    paralab::lessons::child::serve_if_requested();
    std::process::exit(cli::main());
}
