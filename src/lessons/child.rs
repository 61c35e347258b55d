//! The child side of the lessons: paralab started again as
//! `PROGRAM __paralab-lesson KIND ARGS…` plays one of the processes a lesson
//! needs (a worker that crashes, a process appending to a file, the far end
//! of a pipe). Re-executing the program keeps the lessons free of `fork`.
//!
//! Each lesson names the children it plays in its [`super::Lesson::children`];
//! [`serve_if_requested`] looks the kind up there. The children are started
//! in process groups of their own and are killed and reaped whatever
//! happens to the lesson ([`crate::sys::children`]).

use std::ffi::OsString;
use std::path::Path;
use std::process::Command;

/// The first argument that turns a paralab process into a lesson's child.
pub(crate) const CHILD_ARG: &str = "__paralab-lesson";

/// One kind of child process a lesson plays: its name on the command line
/// (`PROGRAM __paralab-lesson NAME ARGS…`) and what it does with `ARGS`,
/// returning its exit code.
pub(crate) struct ChildKind {
    /// The kind, right after [`CHILD_ARG`].
    pub name: &'static str,
    /// Plays the child; an `Err` is a malformed command line.
    pub play: fn(&[String]) -> Result<i32, String>,
}

/// A command that runs `exe` as the lesson child `kind` with `args`.
pub(crate) fn command(exe: &Path, kind: &str, args: &[String]) -> Command {
    let mut command = Command::new(exe);
    command.arg(CHILD_ARG).arg(kind).args(args);
    command
}

/// Call this first thing in `main`: when the program was started as a
/// lesson's child, it plays that child and exits; otherwise it returns
/// (`paralab::cli::main` calls it).
pub(crate) fn serve_if_requested() {
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
    let child = find(kind).ok_or_else(|| format!("unknown lesson child '{kind}'"))?;
    (child.play)(args)
}

/// The child kind called `name`, among every lesson's.
fn find(name: &str) -> Option<&'static ChildKind> {
    super::LESSONS
        .into_iter()
        .flat_map(|lesson| lesson.children)
        .find(|child| child.name == name)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_child_kind_is_found_once_by_its_name() {
        let names: Vec<&str> = super::super::LESSONS
            .into_iter()
            .flat_map(|lesson| lesson.children)
            .map(|child| child.name)
            .collect();
        assert_eq!(
            names,
            [
                "interleave",
                "append",
                "memory",
                "pipe-sink",
                "pipe-echo",
                "crash-worker",
                "crash-threads",
                "messages-rank"
            ]
        );
        for name in names {
            assert_eq!(find(name).map(|child| child.name), Some(name));
        }
        assert!(find("crash").is_none());
    }

    #[test]
    fn an_unknown_kind_is_refused_by_name() {
        let words = ["nope".to_string()];
        assert_eq!(serve(&words), Err("unknown lesson child 'nope'".into()));
        assert!(serve(&[]).unwrap_err().contains("expected a child kind"));
    }
}
