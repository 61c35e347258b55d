//! The record a process worker sends its parent, and the parent's reading
//! of them.
//!
//! A process worker, forked or spawned, reports through one pipe shared by
//! all workers of a run: one fixed-size [`WorkerRecord`] of
//! [`RECORD_LEN`] bytes, written with a single `write`. Records are shorter
//! than `PIPE_BUF`, so the kernel never interleaves two of them, and their
//! size is fixed, so the parent never reads a length it would have to trust.

use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{BorrowedFd, OwnedFd};

use crate::measure::clock::MonoTime;
use crate::workload::Workload;

/// Size of one record on the wire.
pub(crate) const RECORD_LEN: usize = 32;

const MAGIC: [u8; 4] = *b"PLW1";

/// What a process worker tells its parent: who it is, what it computed,
/// and when (on `CLOCK_MONOTONIC`) it started and ended its workload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct WorkerRecord {
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
    pub(crate) fn measure(worker: u32, workload: &Workload) -> WorkerRecord {
        Self::measure_with(worker, || workload.run())
    }

    /// Runs `work` as worker `worker` and records it.
    pub(crate) fn measure_with(worker: u32, work: impl FnOnce() -> u64) -> WorkerRecord {
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
    pub(crate) fn encode(&self) -> [u8; RECORD_LEN] {
        let mut bytes = [0u8; RECORD_LEN];
        bytes[0..4].copy_from_slice(&MAGIC);
        bytes[4..8].copy_from_slice(&self.worker.to_le_bytes());
        bytes[8..16].copy_from_slice(&self.result.to_le_bytes());
        bytes[16..24].copy_from_slice(&self.start.0.to_le_bytes());
        bytes[24..32].copy_from_slice(&self.end.0.to_le_bytes());
        bytes
    }

    /// Reads the wire form back; refuses bytes that do not start with the magic.
    pub(crate) fn decode(bytes: &[u8; RECORD_LEN]) -> Result<WorkerRecord, String> {
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
    pub(crate) fn send(&self, out: BorrowedFd<'_>) -> Result<(), nix::Error> {
        let bytes = self.encode();
        match nix::unistd::write(out, &bytes)? {
            RECORD_LEN => Ok(()),
            _ => Err(nix::Error::EIO),
        }
    }
}

/// What the workers of a run reported: the first valid record of each
/// worker, and what was wrong with the rest.
pub(super) struct Reports {
    /// Indexed by worker.
    pub records: Vec<Option<WorkerRecord>>,
    /// Every record that could not be used, and why.
    pub problems: Vec<String>,
}

/// Reads records until every worker has closed the pipe.
pub(super) fn read_records(reader: OwnedFd, workers: usize) -> Reports {
    let mut records = vec![None; workers];
    let mut problems = Vec::new();
    let mut pipe = File::from(reader);
    let mut record = [0u8; RECORD_LEN];
    let mut filled = 0;
    let mut chunk = [0u8; 4096];
    loop {
        let read = match pipe.read(&mut chunk) {
            Ok(0) => break,
            Ok(read) => read,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => {
                problems.push(format!("reading the result pipe failed: {error}"));
                break;
            }
        };
        for &byte in &chunk[..read] {
            record[filled] = byte;
            filled += 1;
            if filled == RECORD_LEN {
                filled = 0;
                match WorkerRecord::decode(&record) {
                    Ok(valid) if (valid.worker as usize) < workers => {
                        let slot = &mut records[valid.worker as usize];
                        match slot {
                            None => *slot = Some(valid),
                            Some(_) => {
                                problems.push(format!("worker {} reported twice", valid.worker))
                            }
                        }
                    }
                    Ok(valid) => problems.push(format!(
                        "a record named worker {}, which does not exist",
                        valid.worker
                    )),
                    Err(problem) => problems.push(problem),
                }
            }
        }
    }
    if filled != 0 {
        problems.push(format!(
            "the pipe ended in the middle of a record ({filled} of {RECORD_LEN} bytes)"
        ));
    }
    Reports { records, problems }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn record(worker: u32) -> WorkerRecord {
        WorkerRecord {
            worker,
            result: 9_707_240,
            start: MonoTime(1),
            end: MonoTime(u64::MAX),
        }
    }

    #[test]
    fn a_record_survives_the_wire() {
        assert_eq!(WorkerRecord::decode(&record(7).encode()), Ok(record(7)));
    }

    #[test]
    fn a_record_without_magic_is_refused() {
        let mut bytes = record(0).encode();
        bytes[0] = b'X';
        assert!(WorkerRecord::decode(&bytes).unwrap_err().contains("magic"));
    }

    #[test]
    fn records_are_read_back_with_their_problems() {
        let (reader, writer) = std::io::pipe().unwrap();
        let mut writer = File::from(OwnedFd::from(writer));
        for worker in [1, 0, 1, 5] {
            writer.write_all(&record(worker).encode()).unwrap();
        }
        writer.write_all(&[0; 3]).unwrap();
        drop(writer);
        let reports = read_records(OwnedFd::from(reader), 3);
        assert_eq!(reports.records, [Some(record(0)), Some(record(1)), None]);
        assert_eq!(
            reports.problems,
            [
                "worker 1 reported twice",
                "a record named worker 5, which does not exist",
                "the pipe ended in the middle of a record (3 of 32 bytes)"
            ]
        );
    }
}
