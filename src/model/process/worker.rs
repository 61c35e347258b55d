//! The worker side of the process model's `spawn` start method.
//!
//! A spawned worker is this same program started again as
//! `PROGRAM __paralab-worker INDEX cpu ITERS` or
//! `PROGRAM __paralab-worker INDEX sleep NANOSECONDS`, with the pipe as its
//! standard output, to which it sends its `WorkerRecord`.
//! [`serve_if_requested`] recognises that command line.

use std::ffi::OsString;
use std::os::fd::AsFd;
use std::time::Duration;

use nix::sys::stat::{SFlag, fstat};
use nix::unistd::Pid;

use super::record::WorkerRecord;
use crate::sys::fork::die_with_parent;
use crate::workload::{Workload, nanos};

/// The first argument that turns a paralab process into a spawned worker.
pub(crate) const WORKER_ARG: &str = "__paralab-worker";

/// The environment variable that tells a spawned worker its parent's pid,
/// so that it can ask to die with it (and refuse to run if it is already gone).
pub(crate) const PARENT_ENV: &str = "PARALAB_WORKER_PARENT";

/// The arguments that make a spawned program worker `worker` of `workload`.
pub(crate) fn spawn_args(worker: usize, workload: &Workload) -> Vec<String> {
    let (kind, amount) = match workload {
        Workload::Cpu { iters } => ("cpu", *iters),
        Workload::Sleep { duration } => ("sleep", nanos(*duration)),
        // The process model runs these itself; a worker refuses this kind.
        Workload::Command { .. } | Workload::Custom { .. } => ("not-a-worker-workload", 0),
    };
    vec![
        WORKER_ARG.to_string(),
        worker.to_string(),
        kind.to_string(),
        amount.to_string(),
    ]
}

/// Reads the spawned-worker command line (without the program name and
/// [`WORKER_ARG`]): `INDEX cpu ITERS` or `INDEX sleep NANOSECONDS`.
pub(crate) fn parse_spawn_args(args: &[OsString]) -> Result<(u32, Workload), String> {
    let words: Vec<&str> = args
        .iter()
        .map(|arg| {
            arg.to_str()
                .ok_or_else(|| format!("argument {arg:?} is not UTF-8"))
        })
        .collect::<Result<_, _>>()?;
    let [index, kind, amount] = words[..] else {
        return Err(format!(
            "expected 3 arguments (INDEX cpu|sleep AMOUNT), got {}: {words:?}",
            words.len()
        ));
    };
    let index: u32 = index
        .parse()
        .map_err(|_| format!("worker index '{index}' is not a whole number"))?;
    let amount: u64 = amount
        .parse()
        .map_err(|_| format!("amount '{amount}' is not a whole number"))?;
    let workload = match kind {
        "cpu" => Workload::Cpu { iters: amount },
        "sleep" => Workload::Sleep {
            duration: Duration::from_nanos(amount),
        },
        other => return Err(format!("unknown workload '{other}'; expected cpu or sleep")),
    };
    Ok((index, workload))
}

/// Call this first thing in `main` of any program that runs the `spawn`
/// start method: when the program was started as a worker, it does the
/// work, reports, and exits; otherwise it returns at once.
///
/// ```no_run
/// // first line of main():
/// paralab::worker::serve_if_requested();
/// ```
pub fn serve_if_requested() {
    let mut args = std::env::args_os().skip(1);
    if args.next().is_none_or(|first| first != WORKER_ARG) {
        return;
    }
    let rest: Vec<OsString> = args.collect();
    if let Err(problem) = check_parent().and_then(|()| check_result_pipe()) {
        eprintln!(
            "paralab worker: {problem} (this command line is paralab's own; run 'paralab --help')"
        );
        std::process::exit(2);
    }
    let code = match parse_spawn_args(&rest) {
        Ok((index, workload)) => {
            match WorkerRecord::measure(index, &workload).send(std::io::stdout().as_fd()) {
                Ok(()) => 0,
                Err(error) => {
                    eprintln!(
                        "paralab worker {index}: could not send the result to the parent: {error}"
                    );
                    1
                }
            }
        }
        Err(problem) => {
            eprintln!(
                "paralab worker: {problem} (this command line is paralab's own; run 'paralab --help')"
            );
            2
        }
    };
    std::process::exit(code);
}

/// Asks the kernel to kill this worker when its parent dies (even by
/// SIGKILL), and checks that the parent named in [`PARENT_ENV`] is still
/// the parent, so a worker whose paralab is gone does not run on.
fn check_parent() -> Result<(), String> {
    let Some(named) = std::env::var_os(PARENT_ENV) else {
        return Ok(());
    };
    let named: i32 = named
        .to_str()
        .and_then(|text| text.parse().ok())
        .ok_or_else(|| format!("{PARENT_ENV}={named:?} is not a process id"))?;
    if !die_with_parent(Pid::from_raw(named)) {
        return Err(format!("its parent {named} is gone"));
    }
    Ok(())
}

/// The result goes to standard output, which must be the pipe the parent
/// reads: 32 binary bytes are no use on a terminal or in a file.
fn check_result_pipe() -> Result<(), String> {
    let stat = fstat(std::io::stdout().as_fd())
        .map_err(|e| format!("its standard output cannot be examined: {e}"))?;
    if SFlag::from_bits_truncate(stat.st_mode) & SFlag::S_IFMT != SFlag::S_IFIFO {
        return Err("its standard output is not the result pipe a worker writes to".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spawn_args_parse_back_to_the_same_workload() {
        for workload in [
            Workload::Cpu { iters: 123 },
            Workload::Sleep {
                duration: Duration::from_millis(50),
            },
        ] {
            let args: Vec<OsString> = spawn_args(4, &workload)
                .into_iter()
                .skip(1)
                .map(OsString::from)
                .collect();
            assert_eq!(parse_spawn_args(&args), Ok((4, workload)));
        }
    }

    #[test]
    fn malformed_spawn_args_are_refused_with_a_reason() {
        let parse = |words: &[&str]| {
            parse_spawn_args(&words.iter().map(OsString::from).collect::<Vec<_>>())
        };
        assert!(parse(&[]).unwrap_err().contains("expected 3 arguments"));
        assert!(
            parse(&["1", "cpu"])
                .unwrap_err()
                .contains("expected 3 arguments")
        );
        assert!(parse(&["x", "cpu", "5"]).unwrap_err().contains("'x'"));
        assert!(parse(&["1", "gpu", "5"]).unwrap_err().contains("'gpu'"));
        assert!(parse(&["1", "cpu", "-5"]).unwrap_err().contains("'-5'"));
        assert!(parse(&["1", "cpu", "99999999999999999999"]).is_err());
        assert!(parse(&["1", "cpu", "5", "extra"]).is_err());
    }
}
