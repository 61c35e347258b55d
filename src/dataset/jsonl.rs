//! The JSON Lines file of `--save`: one line per measurement, written and
//! flushed as soon as it is made, so that a run killed part-way (even by
//! `SIGKILL`) leaves every finished measurement on disk.
//!
//! The first line holds the machine and the plan:
//!
//! ```text
//! {"paralab":"0.1.0","machine":{…},"plan":{…}}
//! {"workload":{"kind":"cpu","iters":1000},"model":"thread","workers":1,"run":1,"wall_s":0.0012,"outcomes":[…]}
//! ```
//!
//! A file of measurement lines only (cut from a bigger one, or written by
//! another program) is still read: reports then do without the plan and the
//! machine.

use std::fs::File;
use std::io::{self, BufRead, Read, Write};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::Record;
use crate::experiment::{Measurement, Observer, Plan};
use crate::machine::Machine;
use crate::model::WorkerStatus;
use crate::workload::Workload;

/// The first line of a saved file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Header {
    /// The version of paralab that wrote the file.
    pub paralab: String,
    /// Where the measurements were made.
    pub machine: Option<Machine>,
    /// What was asked for.
    pub plan: Option<Plan>,
}

/// An observer that writes each measurement as one JSON line and flushes it.
///
/// Write errors do not stop the experiment (the measurements are still
/// printed); the first one is kept for [`JsonLines::into_error`].
pub(crate) struct JsonLines<W: Write> {
    out: W,
    machine: Option<Machine>,
    error: Option<io::Error>,
    /// The saved file again (a regular file only), to cut a line that a
    /// write error left half-written back off.
    file: Option<File>,
}

impl JsonLines<File> {
    /// Opens `path` for appending, creating it if needed: runs saved into
    /// one file add up (each begins with its own header line), and
    /// `paralab report` reads them all. Call it before the run, so that a
    /// path that cannot be written is reported before anything runs.
    ///
    /// A file that holds something else is refused (its first line is
    /// not a paralab header or measurement), so that `--save` never
    /// appends to a file it did not write; a FIFO nobody reads is refused
    /// rather than waited for.
    pub(crate) fn create(path: &Path, machine: Machine) -> io::Result<JsonLines<File>> {
        let is_fifo = std::fs::metadata(path).is_ok_and(|m| m.file_type().is_fifo());
        let ends_cut = if is_fifo {
            false
        } else {
            check_appendable(path)?
        };
        let mut options = std::fs::OpenOptions::new();
        options.create(true).append(true);
        if is_fifo {
            options.custom_flags(nix::libc::O_NONBLOCK);
        }
        let mut file = options.open(path).map_err(|error| {
            if error.raw_os_error() == Some(nix::libc::ENXIO) {
                io::Error::new(
                    io::ErrorKind::WouldBlock,
                    "it is a FIFO that no program reads; start its reader first",
                )
            } else {
                error
            }
        })?;
        if is_fifo {
            use nix::fcntl::{FcntlArg, OFlag, fcntl};
            let flags = OFlag::from_bits_truncate(fcntl(&file, FcntlArg::F_GETFL)?);
            fcntl(&file, FcntlArg::F_SETFL(flags - OFlag::O_NONBLOCK))?;
        }
        if ends_cut {
            // A run killed mid-line left it unfinished: the new header
            // starts on its own line instead of gluing onto it.
            file.write_all(b"\n")?;
        }
        let is_regular = file.metadata()?.is_file();
        let again = if is_regular {
            file.try_clone().ok()
        } else {
            None
        };
        Ok(JsonLines {
            file: again,
            ..JsonLines::new(file, machine)
        })
    }
}

/// Checks that `path`, if it is a regular file with something in it,
/// begins with a paralab line, so that appending to it is safe; returns
/// whether its last line is cut short (no final newline).
fn check_appendable(path: &Path) -> io::Result<bool> {
    use std::io::{Seek, SeekFrom};
    let mut file = match File::open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(error) => return Err(error),
    };
    let status = file.metadata()?;
    if !status.is_file() || status.len() == 0 {
        return Ok(false);
    }
    let mut first = Vec::new();
    Read::take(io::BufReader::new(&file), MAX_LINE_BYTES).read_until(b'\n', &mut first)?;
    let text = String::from_utf8_lossy(&first);
    if let Err(reason) = parse_line(text.trim_end()) {
        let reason: String = reason
            .chars()
            .take(120)
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "it is not a file written by 'paralab bench --save' (line 1: {reason}), and paralab appends only to its own"
            ),
        ));
    }
    let mut last = [0u8];
    file.seek(SeekFrom::End(-1))?;
    file.read_exact(&mut last)?;
    Ok(last[0] != b'\n')
}

impl<W: Write> JsonLines<W> {
    /// Writes to `out`, which should not buffer (a `File`, not a
    /// `BufWriter`): each line must reach the OS when it is written.
    pub(crate) fn new(out: W, machine: Machine) -> JsonLines<W> {
        JsonLines {
            out,
            machine: Some(machine),
            error: None,
            file: None,
        }
    }

    /// The first write error, if any, once the writer is done with.
    pub(crate) fn into_error(self) -> Option<io::Error> {
        self.error
    }

    fn write_line(&mut self, value: &impl Serialize) {
        if self.error.is_some() {
            return;
        }
        let mut line = serde_json::to_vec(value).expect("measurements are plain data");
        line.push(b'\n');
        let before = self
            .file
            .as_ref()
            .and_then(|f| f.metadata().ok())
            .map(|m| m.len());
        // One write per line: a reader never sees half a measurement
        // unless the disk is full or the power fails.
        if let Err(e) = self.out.write_all(&line).and_then(|()| self.out.flush()) {
            // A full disk or `ulimit -f` may have let part of the line
            // through: cut it off, so the file ends with a whole line.
            if let (Some(file), Some(before)) = (&self.file, before)
                && file.metadata().is_ok_and(|m| m.len() > before)
            {
                let _ = file.set_len(before);
            }
            self.error = Some(e);
        }
    }
}

impl<W: Write> Observer for JsonLines<W> {
    fn plan_started(&mut self, plan: &Plan) {
        let header = Header {
            paralab: env!("CARGO_PKG_VERSION").to_string(),
            machine: self.machine.take(),
            plan: Some(plan.clone()),
        };
        self.write_line(&header);
    }

    fn measured(&mut self, measurement: &Measurement) {
        self.write_line(measurement);
    }
}

/// Why a saved file could not be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ReadError {
    /// The file could not be read at all.
    #[error("{0}")]
    Io(#[from] io::Error),
    /// The input is not a saved file at all: a line longer than any
    /// measurement, or many bad lines and not one good one (say
    /// `/dev/zero` or `/dev/urandom`, which would otherwise never end).
    #[error("this is not a file paralab wrote: {0}")]
    NotSaved(String),
}

/// The longest line [`read`] accepts: a measurement of the most workers
/// paralab runs (1,000,000, about 150 bytes each) fits.
pub(crate) const MAX_LINE_BYTES: u64 = 256 << 20;

/// How many bad lines [`read`] reads before any good one before it gives up.
pub(crate) const MAX_BAD_LINES_BEFORE_ANY_GOOD: usize = 1000;

/// What [`read`] found.
#[derive(Debug, Default)]
pub(crate) struct Saved {
    /// The measurements, with the machine and plan of the first header.
    pub record: Record,
    /// A last line cut short (the run was killed while writing it), which
    /// was left out.
    pub cut_last_line: Option<usize>,
    /// Lines that are neither a header nor a measurement, left out: their
    /// number (from 1) and what is wrong with them.
    pub bad_lines: Vec<(usize, String)>,
    /// Measurements whose saved result is not the reference for their
    /// workload: read, but as failed runs.
    pub wrong_results: Vec<WrongResult>,
    /// Every distinct machine the headers name, in order.
    pub machines: Vec<Machine>,
}

/// Reads a saved file. Blank lines are skipped; a last line without its
/// newline that does not parse is left out (and reported in
/// [`Saved::cut_last_line`]); any other bad line is left out and listed in
/// [`Saved::bad_lines`], so one corrupt line does not cost the others.
/// Only a failure to read the input is an error.
pub(crate) fn read(mut input: impl BufRead) -> Result<Saved, ReadError> {
    let mut saved = Saved::default();
    let mut line = Vec::new();
    let mut number = 0;
    let mut cpus = None;
    let mut references = Vec::new();
    loop {
        line.clear();
        if Read::take(&mut input, MAX_LINE_BYTES).read_until(b'\n', &mut line)? == 0 {
            return Ok(saved);
        }
        number += 1;
        if line.len() as u64 >= MAX_LINE_BYTES && line.last() != Some(&b'\n') {
            return Err(ReadError::NotSaved(format!(
                "line {number} is longer than {} MiB",
                MAX_LINE_BYTES >> 20
            )));
        }
        if saved.record.is_empty() && saved.bad_lines.len() >= MAX_BAD_LINES_BEFORE_ANY_GOOD {
            return Err(ReadError::NotSaved(format!(
                "its first {MAX_BAD_LINES_BEFORE_ANY_GOOD} lines are all unreadable"
            )));
        }
        let finished = line.last() == Some(&b'\n');
        let text = String::from_utf8_lossy(&line);
        if text.trim().is_empty() {
            continue;
        }
        match parse_line(&text) {
            Ok(Line::Header(header)) => {
                if let Some(machine) = &header.machine {
                    cpus = Some(machine.logical_cpus);
                    if !saved.machines.iter().any(|m| same_machine(m, machine)) {
                        saved.machines.push(machine.clone());
                    }
                }
                saved.record.append(Record {
                    machine: header.machine,
                    plan: header.plan,
                    measurements: Vec::new(),
                    other_machines: Vec::new(),
                });
            }
            Ok(Line::Measurement(mut m)) => match check(&m, cpus) {
                Ok(()) => {
                    if let Some(wrong) = recheck(&mut m, &mut references) {
                        saved.wrong_results.push(WrongResult {
                            line: number,
                            ..wrong
                        });
                    }
                    saved.record.measurements.push(*m);
                }
                Err(reason) => saved.bad_lines.push((number, reason)),
            },
            Err(_) if !finished => saved.cut_last_line = Some(number),
            Err(reason) => saved.bad_lines.push((number, reason)),
        }
    }
}

/// A saved result that is not the reference for its workload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct WrongResult {
    /// The line of the file, from 1.
    pub line: usize,
    /// `cpu · thread · 1 worker, run 1`.
    pub run: String,
    /// The first wrong worker.
    pub worker: usize,
    /// What the file says it returned.
    pub result: u64,
    /// What the reference computation gives.
    pub expected: u64,
}

/// Checks every result the file calls right against the reference for
/// its workload (computed here, never taken from the file), marking the
/// wrong ones [`WorkerStatus::WrongResult`] so that no report calls them
/// checked; returns the first wrong one. `references` keeps each
/// workload's reference, computed once.
pub(crate) fn recheck(
    m: &mut Measurement,
    references: &mut Vec<(Workload, u64)>,
) -> Option<WrongResult> {
    let expected = match references.iter().find(|(w, _)| *w == m.workload) {
        Some((_, expected)) => *expected,
        None => {
            let expected = m.workload.expected_result();
            references.push((m.workload.clone(), expected));
            expected
        }
    };
    let mut first = None;
    for outcome in &mut m.outcomes {
        match outcome.status {
            WorkerStatus::Finished { result } if result != expected => {
                outcome.status = WorkerStatus::WrongResult { result, expected };
                first.get_or_insert((outcome.worker, result));
            }
            // The file's own "expected" is not trusted either.
            WorkerStatus::WrongResult { result, .. } => {
                outcome.status = if result == expected {
                    WorkerStatus::Finished { result }
                } else {
                    WorkerStatus::WrongResult { result, expected }
                };
            }
            _ => {}
        }
    }
    first.map(|(worker, result)| WrongResult {
        line: 0,
        run: format!("{}, run {}", m.label(), m.run),
        worker,
        result,
        expected,
    })
}

/// Whether two headers describe one machine: the same hardware and
/// system, whatever the load or the command line.
pub(crate) fn same_machine(a: &Machine, b: &Machine) -> bool {
    (
        &a.cpu_model,
        a.logical_cpus,
        a.physical_cores,
        a.memory_bytes,
        &a.kernel,
        &a.os,
    ) == (
        &b.cpu_model,
        b.logical_cpus,
        b.physical_cores,
        b.memory_bytes,
        &b.kernel,
        &b.os,
    )
}

/// Reads a saved file from disk. A FIFO or socket is read only once a
/// program writes to it: paralab waits [`FIFO_WAIT`] for its first
/// bytes, then refuses it rather than hang.
pub(crate) fn read_file(path: &Path) -> Result<Saved, ReadError> {
    let is_pipe =
        std::fs::metadata(path).is_ok_and(|m| m.file_type().is_fifo() || m.file_type().is_socket());
    if !is_pipe {
        return read(io::BufReader::new(File::open(path)?));
    }
    // Opening a FIFO for reading blocks until a writer opens it;
    // O_NONBLOCK makes the open return at once, and poll bounds the wait.
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NONBLOCK)
        .open(path)?;
    wait_for_writer(&file)?;
    use nix::fcntl::{FcntlArg, OFlag, fcntl};
    let flags =
        OFlag::from_bits_truncate(fcntl(&file, FcntlArg::F_GETFL).map_err(io::Error::from)?);
    fcntl(&file, FcntlArg::F_SETFL(flags - OFlag::O_NONBLOCK)).map_err(io::Error::from)?;
    read(io::BufReader::new(file))
}

/// How long `report` waits for a program to write to a FIFO it is given.
pub(crate) const FIFO_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

/// Waits up to [`FIFO_WAIT`] for `file`, a FIFO, to have something to
/// read or to be closed by its writer.
fn wait_for_writer(file: &File) -> io::Result<()> {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    use std::os::fd::AsFd;
    let deadline = std::time::Instant::now() + FIFO_WAIT;
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let timeout = PollTimeout::try_from(left).unwrap_or(PollTimeout::ZERO);
        let mut fds = [PollFd::new(file.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, timeout) {
            Ok(0) => {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!(
                        "it is a FIFO and no program wrote to it in {} s; start its writer first",
                        FIFO_WAIT.as_secs()
                    ),
                ));
            }
            Ok(_) => return Ok(()),
            Err(nix::errno::Errno::EINTR) if !left.is_zero() => continue,
            Err(error) => return Err(error.into()),
        }
    }
}

enum Line {
    Header(Box<Header>),
    Measurement(Box<Measurement>),
}

fn parse_line(text: &str) -> Result<Line, String> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let is_header = value.get("wall_s").is_none()
        && (value.get("machine").is_some() || value.get("plan").is_some());
    if is_header {
        let header: Header = serde_json::from_value(value).map_err(|e| e.to_string())?;
        if let Some(machine) = &header.machine
            && !(1..=MAX_CPUS).contains(&machine.logical_cpus)
        {
            return Err(format!(
                "logical_cpus {} is not a number of CPUs from 1 to {MAX_CPUS}",
                machine.logical_cpus
            ));
        }
        Ok(Line::Header(Box::new(header)))
    } else {
        let measurement: Measurement = serde_json::from_value(value).map_err(|e| e.to_string())?;
        Ok(Line::Measurement(Box::new(measurement)))
    }
}

/// Refuses what no run can measure, so that reports never see it: a
/// wall time that is negative, not finite or longer than any run; no
/// workers, more than a million, or a number of outcomes other than the
/// number of workers; a worker's time that is negative or absurd; more
/// cores busy than `cpus` (the machine of the last header) can give; CPU
/// shares and pressures outside what the kernel reports.
fn check(measurement: &Measurement, cpus: Option<usize>) -> Result<(), String> {
    let wall = measurement.wall_s;
    if !seconds(wall) {
        return Err(format!("wall_s {wall:?} is not a duration in seconds"));
    }
    if !(1..=MAX_WORKERS).contains(&measurement.workers) {
        return Err(format!(
            "workers {} is not a worker count from 1 to {MAX_WORKERS}",
            measurement.workers
        ));
    }
    if measurement.outcomes.len() != measurement.workers {
        return Err(format!(
            "{} outcomes for {} workers",
            measurement.outcomes.len(),
            measurement.workers
        ));
    }
    for outcome in &measurement.outcomes {
        for (name, value) in [
            ("start_s", outcome.start_s),
            ("end_s", outcome.end_s),
            ("cpu_s", outcome.cpu_s),
            ("user_s", outcome.user_s),
            ("system_s", outcome.system_s),
        ] {
            if let Some(value) = value
                && !seconds(value)
            {
                return Err(format!(
                    "worker {}: {name} {value:?} is not a duration in seconds",
                    outcome.worker
                ));
            }
        }
    }
    for (name, value) in [
        ("others_cpus", measurement.others_cpus),
        ("steal_cpus", measurement.steal_cpus),
    ] {
        if let Some(value) = value
            && !(value.is_finite()
                && value >= 0.0
                && value <= cpus.unwrap_or(MAX_CPUS) as f64 * 1.5)
        {
            return Err(format!(
                "{name} {value:?} is not a number of CPUs on this machine"
            ));
        }
    }
    if let Some(pressure) = measurement.cpu_pressure
        && !(0.0..=1.0).contains(&pressure)
    {
        return Err(format!(
            "cpu_pressure {pressure:?} is not a share from 0 to 1"
        ));
    }
    if let (Some(cpus), Some(cpu)) = (
        cpus,
        measurement
            .outcomes
            .iter()
            .map(|o| o.cpu_s)
            .sum::<Option<f64>>(),
    ) {
        // CPU time is counted in clock ticks (10 ms) per worker: a short
        // run may show a little more than its wall time allows.
        let most = cpus as f64 * wall * 1.25 + TICK_S * 2.0 * measurement.workers as f64;
        if cpu > most {
            return Err(format!(
                "the workers' CPU time, {cpu:?} s in {wall:?} s, is more than {cpus} CPUs can give"
            ));
        }
    }
    Ok(())
}

/// Whether `value` can be a duration paralab measured: finite, not
/// negative, shorter than [`MAX_SECONDS`].
fn seconds(value: f64) -> bool {
    value.is_finite() && (0.0..=MAX_SECONDS).contains(&value)
}

/// The longest time a saved run may claim: a year.
const MAX_SECONDS: f64 = 365.0 * 24.0 * 3600.0;

/// The most CPUs a machine may claim when its header is lost.
const MAX_CPUS: usize = 1 << 16;

/// The kernel's accounting tick for CPU times, in seconds.
const TICK_S: f64 = 0.01;

/// The most workers a saved run may claim (what `paralab bench` accepts).
const MAX_WORKERS: usize = 1_000_000;

#[cfg(test)]
mod tests {

    /// Endless input: `line` again and again, like a device file.
    struct Endless(&'static [u8], usize);

    impl io::Read for Endless {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            for byte in buf.iter_mut() {
                *byte = self.0[self.1 % self.0.len()];
                self.1 += 1;
            }
            Ok(buf.len())
        }
    }

    /// Saved times must read back to the same bits, or `paralab report`
    /// would print other digits than the live run (serde_json's default
    /// float parser is not exact; the `float_roundtrip` feature is).
    #[test]
    fn floats_read_back_bit_for_bit() {
        for value in [
            0.00041200000000000004_f64,
            0.000412,
            0.1 + 0.2,
            1e-300,
            123456.789e-7,
        ] {
            let text = serde_json::to_string(&value).unwrap();
            let back: f64 = serde_json::from_str(&text).unwrap();
            assert_eq!(back.to_bits(), value.to_bits(), "{text}");
        }
    }

    #[test]
    fn endless_garbage_is_refused_instead_of_read_forever() {
        let error = read(io::BufReader::new(Endless(b"not json\n", 0))).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("first 1000 lines are all unreadable"),
            "{error}"
        );
    }

    #[test]
    fn a_line_longer_than_any_measurement_is_refused() {
        let error = read(io::BufReader::new(Endless(b"0", 0))).unwrap_err();
        assert!(error.to_string().contains("longer than 256 MiB"), "{error}");
    }

    use super::*;
    use crate::{Experiment, Model, Workload};

    fn plan() -> Plan {
        Plan {
            workloads: vec![Workload::Cpu { iters: 1000 }],
            models: vec![Model::THREAD],
            workers: vec![1, 2],
            runs: 2,
            warmup: 1,
        }
    }

    #[test]
    fn a_saved_run_reads_back_the_same() {
        let machine = Machine::this(vec!["paralab".into()]);
        let mut writer = JsonLines::new(Vec::new(), machine.clone());
        let results = Experiment::new(plan()).observe(&mut writer).run();
        assert!(writer.error.is_none());
        let text = String::from_utf8(writer.out).unwrap();
        assert_eq!(text.lines().count(), 1 + 4, "{text}");
        let saved = read(text.as_bytes()).unwrap();
        assert_eq!(saved.cut_last_line, None);
        assert_eq!(saved.record.machine, Some(machine));
        assert_eq!(saved.record.plan, Some(plan()));
        assert_eq!(saved.record.measurements, results.measurements);
    }

    #[test]
    fn measurement_lines_alone_are_read_and_a_cut_line_is_left_out() {
        let mut writer = JsonLines::new(Vec::new(), Machine::this(vec![]));
        let results = Experiment::new(plan()).observe(&mut writer).run();
        let text = String::from_utf8(writer.out).unwrap();
        let body: String = text.lines().skip(1).map(|l| format!("{l}\n")).collect();
        let first = text.lines().nth(1).unwrap();
        let cut = format!("{body}{}", &first[..first.len() / 2]);
        let saved = read(cut.as_bytes()).unwrap();
        assert_eq!(saved.record.machine, None);
        assert_eq!(saved.record.measurements, results.measurements);
        assert_eq!(saved.cut_last_line, Some(5));
    }

    #[test]
    fn bad_lines_are_listed_with_their_numbers_and_the_rest_is_read() {
        let mut writer = JsonLines::new(Vec::new(), Machine::this(vec![]));
        let results = Experiment::new(plan()).observe(&mut writer).run();
        let text = String::from_utf8(writer.out).unwrap();
        let mut lines: Vec<&str> = text.lines().collect();
        lines.insert(2, "{\"wall_s\": \"no\"}");
        lines.insert(4, "\u{1}garbage");
        let saved = read(format!("{}\n", lines.join("\n")).as_bytes()).unwrap();
        let numbers: Vec<usize> = saved.bad_lines.iter().map(|(n, _)| *n).collect();
        assert_eq!(numbers, [3, 5]);
        assert_eq!(saved.record.measurements, results.measurements);
        assert_eq!(saved.cut_last_line, None);
    }
}
