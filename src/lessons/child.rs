//! The child side of the lessons: paralab started again as
//! `PROGRAM __paralab-lesson KIND ARGS…` plays one of the processes a lesson
//! needs (a worker that crashes, a process appending to a file, the far end
//! of a pipe). Re-executing the program keeps the lessons free of `fork`
//! and of `unsafe`.

use std::ffi::OsString;
use std::path::Path;
use std::process::Command;

/// The first argument that turns a paralab process into a lesson's child.
pub const CHILD_ARG: &str = "__paralab-lesson";

/// A command that runs `exe` as the lesson child `kind` with `args`.
pub fn command(exe: &Path, kind: &str, args: &[String]) -> Command {
    let mut command = Command::new(exe);
    command.arg(CHILD_ARG).arg(kind).args(args);
    command
}

/// Call this first thing in `main`: when the program was started as a
/// lesson's child, it plays that child and exits; otherwise it returns.
///
/// ```no_run
/// // first lines of main():
/// paralab::worker::serve_if_requested();
/// paralab::lessons::child::serve_if_requested();
/// ```
pub fn serve_if_requested() {
    let mut args = std::env::args_os().skip(1);
    if args.next().is_none_or(|first| first != CHILD_ARG) {
        return;
    }
    let words: Result<Vec<String>, OsString> = args.map(OsString::into_string).collect();
    let code = match words {
        Ok(words) => match serve(&words) {
            Ok(code) => code,
            Err(problem) => {
                eprintln!(
                    "paralab lesson child: {problem} (this command line is paralab's own; run 'paralab lesson')"
                );
                2
            }
        },
        Err(arg) => {
            eprintln!("paralab lesson child: argument {arg:?} is not UTF-8");
            2
        }
    };
    std::process::exit(code);
}

/// Plays the child named by `words[0]`; returns its exit code.
fn serve(words: &[String]) -> Result<i32, String> {
    let (kind, args) = words
        .split_first()
        .ok_or("expected a child kind after the lesson argument")?;
    match kind.as_str() {
        "interleave" => super::interleave::child(args),
        "memory" => super::memory::child(args),
        "append" => super::race::append_child(args),
        "pipe-sink" => super::pipe::sink_child(args),
        "pipe-echo" => super::pipe::echo_child(args),
        "crash-worker" => super::crash::worker_child(args),
        "crash-threads" => super::crash::threads_child(args),
        other => Err(format!("unknown lesson child '{other}'")),
    }
}

/// Parses argument `index` of a child's command line.
pub(crate) fn arg<T: std::str::FromStr>(
    args: &[String],
    index: usize,
    what: &str,
) -> Result<T, String> {
    let text = args
        .get(index)
        .ok_or_else(|| format!("missing argument {} ({what})", index + 1))?;
    text.parse()
        .map_err(|_| format!("'{text}' is not a valid {what}"))
}
