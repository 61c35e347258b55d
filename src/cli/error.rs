//! What the command line tells the user on stderr, and how it exits: the
//! typed [`CliError`], the one function that prints a line on stderr
//! ([`say`], which adds the `paralab: ` prefix: no message carries it),
//! and [`Exit`], the only source of exit codes.

use std::fmt::Display;
use std::io;

use crate::sys::signals;
use nix::sys::signal::Signal;

/// What every line paralab writes on stderr begins with.
const PREFIX: &str = "paralab: ";

/// How paralab exits; every exit code comes from here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Exit {
    /// 0: everything asked for was done.
    Success,
    /// 1: a run, a lesson or an output failed; what finished was printed.
    Failed,
    /// 2: bad input; nothing was run.
    Usage,
    /// 128 + the signal's number (130 for SIGINT, 143 for SIGTERM):
    /// stopped by a signal, after keeping what finished.
    Interrupted(Signal),
}

impl Exit {
    /// The process exit code.
    pub(crate) fn code(self) -> u8 {
        match self {
            Exit::Success => 0,
            Exit::Failed => 1,
            Exit::Usage => 2,
            Exit::Interrupted(signal) => {
                u8::try_from(signals::exit_code(signal)).unwrap_or(u8::MAX)
            }
        }
    }
}

/// What paralab says as a signal ends it at once (a second signal, or a
/// first one outside a run), just before it exits.
pub(crate) fn stopped_at_once(signal: Signal, again: bool) {
    if again {
        say(format_args!(
            "a second signal ({signal}): stopped at once; every worker was killed and reaped (a --save file keeps each finished measurement)"
        ));
    } else {
        say(format_args!(
            "interrupted by {signal}; every child process was killed and reaped"
        ));
    }
}

/// Why a command did not do all it was asked. The message is one line and
/// does not begin with `paralab: `: [`report`] adds it.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CliError {
    /// Bad input, found before anything ran: the message names the bad
    /// value and what is accepted.
    #[error("{0}")]
    Usage(String),
    /// Something failed part-way (a run, a lesson, a file read); what
    /// finished was printed.
    #[error("{0}")]
    Failed(String),
    /// An output could not be written; `output` names the option (and the
    /// path when the option's value does not say it).
    #[error("could not write {output}: {error}{}", crate::sys::limits::write_limit(error).map(|limit| format!("; {limit}")).unwrap_or_default())]
    Write { output: String, error: io::Error },
    /// A signal stopped the sweep; the finished measurements were kept
    /// where `kept` says.
    #[error(
        "interrupted by {signal}: {}; the run in progress was dropped and no worker is left running",
        kept_sentence(*finished, kept)
    )]
    Interrupted {
        signal: Signal,
        finished: usize,
        kept: String,
    },
}

/// "kept the 3 finished measurements (printed above)", or, when none had
/// finished, a sentence that says so instead of "kept the 0 …".
fn kept_sentence(finished: usize, kept: &str) -> String {
    match finished {
        0 => "no measurement had finished yet".to_string(),
        1 => format!("kept the 1 finished measurement ({kept})"),
        n => format!("kept the {n} finished measurements ({kept})"),
    }
}

/// The last line after a failed run stopped the sweep, a sentence for
/// any count: "no measurement had finished before it", never "the 0
/// measurements finished before it are printed above".
pub(crate) fn stopped_after(finished: usize) -> String {
    let kept = match finished {
        0 => "no measurement had finished before it".to_string(),
        1 => "the 1 measurement finished before it is printed above".to_string(),
        n => format!("the {n} measurements finished before it are printed above"),
    };
    format!("{kept}; the sweep stopped there")
}

/// The last line after `--keep-going` recorded failed runs: "1 run
/// failed and was recorded", never "1 runs failed".
pub(crate) fn kept_going(failed: usize, finished: usize) -> String {
    let failed = match failed {
        1 => "1 run failed and was recorded".to_string(),
        n => format!("{n} runs failed and were recorded"),
    };
    let finished = match finished {
        0 => "no run finished".to_string(),
        n => format!("{} finished, printed above", crate::fmt::count(n, "run")),
    };
    format!("{failed} (--keep-going); {finished}")
}

impl CliError {
    /// How paralab exits after this error.
    pub(crate) fn exit(&self) -> Exit {
        match self {
            CliError::Usage(_) => Exit::Usage,
            CliError::Failed(_) | CliError::Write { .. } => Exit::Failed,
            CliError::Interrupted { signal, .. } => Exit::Interrupted(*signal),
        }
    }
}

/// Prints `message` as one line on stderr after `paralab: `. Every error,
/// warning and notice of the command line goes through here.
pub(crate) fn say(message: impl Display) {
    eprintln!("{PREFIX}{message}");
}

/// Prints a warning: `paralab: warning: …`.
pub(crate) fn warn(message: impl Display) {
    say(format_args!("warning: {message}"));
}

/// Prints an error.
pub(crate) fn report(error: &CliError) {
    say(error);
}

/// Shows `message` on a terminal's stderr in place of the previous status
/// line, until [`clear_status`] or the next status.
pub(crate) fn status(message: impl Display) {
    eprint!("\x1b[2K{PREFIX}{message}\r");
}

/// Clears the status line.
pub(crate) fn clear_status() {
    eprint!("\x1b[2K");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_of_kept_measurements_read_as_sentences() {
        assert_eq!(
            stopped_after(0),
            "no measurement had finished before it; the sweep stopped there"
        );
        assert!(stopped_after(1).starts_with("the 1 measurement finished before it is printed"));
        assert!(stopped_after(7).starts_with("the 7 measurements finished before it are printed"));
        assert_eq!(
            kept_going(1, 1),
            "1 run failed and was recorded (--keep-going); 1 run finished, printed above"
        );
        assert_eq!(
            kept_going(2, 0),
            "2 runs failed and were recorded (--keep-going); no run finished"
        );
        for n in 0..3 {
            for text in [stopped_after(n), kept_going(n.max(1), n)] {
                assert!(!text.contains(" 0 ") && !text.contains("1 runs"), "{text}");
            }
        }
    }

    #[test]
    fn exit_codes() {
        assert_eq!(Exit::Success.code(), 0);
        assert_eq!(Exit::Failed.code(), 1);
        assert_eq!(Exit::Usage.code(), 2);
        assert_eq!(Exit::Interrupted(Signal::SIGINT).code(), 130);
        assert_eq!(Exit::Interrupted(Signal::SIGTERM).code(), 143);
        let usage = CliError::Usage("bad".into());
        assert_eq!(
            (usage.to_string(), usage.exit()),
            ("bad".into(), Exit::Usage)
        );
    }
}
