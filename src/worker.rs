//! The worker side of the process models, and the record a worker sends
//! its parent.
//!
//! A process worker, forked or spawned, reports through one pipe shared by
//! all workers of a run: one fixed-size [`WorkerRecord`] of
//! [`RECORD_LEN`] bytes, written with a single `write`. Records are shorter
//! than `PIPE_BUF`, so the kernel never interleaves two of them, and their
//! size is fixed, so the parent never reads a length it would have to trust.
//!
//! A spawned worker is this same program started again as
//! `PROGRAM __paralab-worker INDEX cpu ITERS` or
//! `PROGRAM __paralab-worker INDEX sleep NANOSECONDS`, with the pipe as its
//! standard output. [`serve_if_requested`] recognises that command line.

use std::ffi::OsString;
use std::os::fd::{AsFd, BorrowedFd};
use std::time::Duration;

use crate::measure::clock::MonoTime;
use crate::workload::{Workload, nanos};

/// The first argument that turns a paralab process into a spawned worker.
pub const WORKER_ARG: &str = "__paralab-worker";

/// The environment variable that tells a spawned worker its parent's pid,
/// so that it can ask to die with it (and refuse to run if it is already gone).
pub const PARENT_ENV: &str = "PARALAB_WORKER_PARENT";

/// Size of one record on the wire.
pub const RECORD_LEN: usize = 32;

const MAGIC: [u8; 4] = *b"PLW1";

/// What a process worker tells its parent: who it is, what it computed,
/// and when (on `CLOCK_MONOTONIC`) it started and ended its workload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WorkerRecord {
    /// The worker's number in its run.
    pub worker: u32,
    /// The workload's result.
    pub result: u64,
    /// When the workload started.
    pub start: MonoTime,
    /// When the workload ended.
    pub end: MonoTime,
}

impl WorkerRecord {
    /// Runs `workload` as worker `worker` and records it.
    pub fn measure(worker: u32, workload: &Workload) -> WorkerRecord {
        Self::measure_with(worker, || workload.run())
    }

    /// Runs `work` as worker `worker` and records it.
    pub fn measure_with(worker: u32, work: impl FnOnce() -> u64) -> WorkerRecord {
        let start = MonoTime::now();
        let result = work();
        let end = MonoTime::now();
        WorkerRecord {
            worker,
            result,
            start,
            end,
        }
    }

    /// The wire form: magic, worker, result, start, end; little-endian.
    pub fn encode(&self) -> [u8; RECORD_LEN] {
        let mut bytes = [0u8; RECORD_LEN];
        bytes[0..4].copy_from_slice(&MAGIC);
        bytes[4..8].copy_from_slice(&self.worker.to_le_bytes());
        bytes[8..16].copy_from_slice(&self.result.to_le_bytes());
        bytes[16..24].copy_from_slice(&self.start.0.to_le_bytes());
        bytes[24..32].copy_from_slice(&self.end.0.to_le_bytes());
        bytes
    }

    /// Reads the wire form back; refuses bytes that do not start with the magic.
    pub fn decode(bytes: &[u8; RECORD_LEN]) -> Result<WorkerRecord, String> {
        if bytes[0..4] != MAGIC {
            return Err(format!(
                "a record did not start with the worker magic: {:02x?}",
                &bytes[0..4]
            ));
        }
        let u64_at = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"));
        Ok(WorkerRecord {
            worker: u32::from_le_bytes(bytes[4..8].try_into().expect("4 bytes")),
            result: u64_at(8),
            start: MonoTime(u64_at(16)),
            end: MonoTime(u64_at(24)),
        })
    }

    /// Writes the record with one `write`, which a pipe keeps whole.
    /// Allocates nothing, so it is safe in a child right after `fork`.
    pub fn send(&self, out: BorrowedFd<'_>) -> Result<(), nix::Error> {
        let bytes = self.encode();
        match nix::unistd::write(out, &bytes)? {
            RECORD_LEN => Ok(()),
            _ => Err(nix::Error::EIO),
        }
    }
}

/// The arguments that make a spawned program worker `worker` of `workload`.
pub fn spawn_args(worker: usize, workload: &Workload) -> Vec<String> {
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
pub fn parse_spawn_args(args: &[OsString]) -> Result<(u32, Workload), String> {
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
    let _ = nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL);
    if nix::unistd::getppid().as_raw() != named {
        return Err(format!("its parent {named} is gone"));
    }
    Ok(())
}

/// The result goes to standard output, which must be the pipe the parent
/// reads: 32 binary bytes are no use on a terminal or in a file.
fn check_result_pipe() -> Result<(), String> {
    let stat = nix::sys::stat::fstat(std::io::stdout().as_fd())
        .map_err(|e| format!("its standard output cannot be examined: {e}"))?;
    if stat.st_mode & nix::libc::S_IFMT != nix::libc::S_IFIFO {
        return Err("its standard output is not the result pipe a worker writes to".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_survives_the_wire() {
        let record = WorkerRecord {
            worker: 7,
            result: 9_707_240,
            start: MonoTime(1),
            end: MonoTime(u64::MAX),
        };
        assert_eq!(WorkerRecord::decode(&record.encode()), Ok(record));
    }

    #[test]
    fn a_record_without_magic_is_refused() {
        let mut bytes = WorkerRecord {
            worker: 0,
            result: 0,
            start: MonoTime(0),
            end: MonoTime(0),
        }
        .encode();
        bytes[0] = b'X';
        assert!(WorkerRecord::decode(&bytes).unwrap_err().contains("magic"));
    }

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
