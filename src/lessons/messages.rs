//! `messages`: processes talk through pipes, says the notebook; MPI is how
//! processes talk on a cluster. What does a message cost through a pipe,
//! through MPI between two ranks of this host (shared memory, Open MPI's
//! default) and through MPI over TCP (`--mca btl self,tcp`, standing in for
//! a second host)? Round trip and throughput are separate figures with
//! separate verdicts; each is ordered only when the rounds are far enough
//! apart (the pipe lesson's [`order`]), otherwise it is `inconclusive`, with
//! why.
//!
//! The MPI ranks are paralab started again by `mpirun` as the lesson child
//! `messages-rank`; both jobs stay up through the lesson, idle between
//! their turns (rank 0 blocked on its standard input, rank 1 asleep between
//! probes), so that the three ways take turns round by round.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{ChildStdin, ChildStdout, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde::Serialize;

use super::pipe::{Order, order};
use super::{Finding, Lesson, LessonError, Options, Outcome, Verdict, child};
use crate::fmt::{Table, seconds_fine, thousands};
use crate::measure::clock::MonoTime;
use crate::measure::contention::others_over;
use crate::measure::stats::median;
use crate::sys::children::GroupChild;

/// The lesson.
pub(crate) const LESSON: Lesson = Lesson {
    name: "messages",
    summary: "a message's round trip and throughput through a pipe, MPI over shared memory and MPI over TCP: what a second host costs",
    claim: "Processes talk by sending each other messages: through a pipe on one machine, through MPI \
            (over shared memory, or over a network to a second host) on a cluster.",
    notebook: "un processus ne peut pas accéder, en théorie, à l'espace mémoire d'un autre processus … On peut \
               également utiliser un pipe, c'est ce que propose la bibliothèque multiprocessing.",
    plan,
    run,
    children: &[child::ChildKind {
        name: RANK_CHILD,
        play: rank_child,
    }],
};

/// The lesson child each MPI rank plays.
const RANK_CHILD: &str = "messages-rank";

/// The round trip's message: one byte, there and back.
const SMALL: usize = 1;
/// The throughput's message.
const MESSAGE: usize = 1 << 20;

/// How long a far end may take to answer one request (or, for an MPI job,
/// to start) before the way is given up.
const PATIENCE: Duration = Duration::from_secs(60);

/// Timed rounds, after one untimed warm-up round.
fn rounds(options: &Options) -> usize {
    if options.fast { 5 } else { 10 }
}

/// Round trips per round.
fn trips(options: &Options) -> usize {
    if options.fast { 1_000 } else { 10_000 }
}

/// 1 MiB messages per round.
fn messages(options: &Options) -> usize {
    if options.fast { 16 } else { 64 }
}

/// How long the machine is watched, before and after the rounds, for
/// other work that would take the CPUs both ends of a message need.
fn watch(options: &Options) -> Duration {
    Duration::from_millis(if options.fast { 100 } else { 250 })
}

/// Other work may keep this share of a CPU busy before the machine is
/// too busy for two ends that each need a CPU of their own.
const BUSY_CPUS: f64 = 0.5;

fn plan(options: &Options) -> String {
    format!(
        "Three ways between two processes: a pipe (paralab started again at the far end, as in the \
         pipe lesson), MPI between 2 ranks over shared memory (mpirun -n 2, Open MPI's default on one \
         host) and MPI over TCP (mpirun -n 2 --mca btl self,tcp, standing in for a second host). Round \
         trip: {} B there and back, {} times a round, the whole round trip timed (not half of it, as \
         osu_latency reports). Throughput: {} messages of 1 MiB a round, sent one after the other, then \
         a 1-byte acknowledgement; MB/s are 10⁶ bytes a second. {} timed rounds after an untimed one; the \
         ways take turns within each round, so that a busy moment falls on all three. The MPI ranks time \
         themselves with MPI_Wtime; their launch (mpirun's start to both ranks ready, the two jobs starting together) is timed apart and not counted. A way \
         is faster than another only when its median is clearly better and the middle halves of the \
         rounds do not overlap.",
        SMALL,
        thousands(trips(options) as u64),
        messages(options),
        rounds(options),
    )
}

/// The three ways, in the order each round visits them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Way {
    Pipe,
    MpiShared,
    MpiTcp,
}

impl Way {
    const ALL: [Way; 3] = [Way::Pipe, Way::MpiShared, Way::MpiTcp];

    fn name(self) -> &'static str {
        match self {
            Way::Pipe => "pipe",
            Way::MpiShared => "MPI, shared memory",
            Way::MpiTcp => "MPI, TCP (loopback)",
        }
    }

    /// mpirun's arguments for the transport, before the program.
    fn mpirun_args(self) -> &'static [&'static str] {
        match self {
            Way::MpiTcp => &["--mca", "btl", "self,tcp"],
            _ => &[],
        }
    }
}

/// One way, measured (or why not).
#[derive(Clone, Debug, Serialize)]
struct Measured {
    /// `pipe`, `MPI, shared memory`, `MPI, TCP (loopback)`.
    way: &'static str,
    /// Why it was not measured; `None` when it was.
    missing: Option<String>,
    /// Bytes of the round trip's message.
    round_trip_bytes: usize,
    /// Round trips in each round.
    trips_per_round: usize,
    /// Seconds per whole round trip (there and back), one per round.
    round_trip_s: Vec<f64>,
    /// Median of [`round_trip_s`](Measured::round_trip_s).
    round_trip_median_s: Option<f64>,
    /// Bytes of one throughput message.
    message_bytes: usize,
    /// Messages in each round.
    messages_per_round: usize,
    /// Seconds from the first byte sent to the acknowledgement, one per round.
    throughput_s: Vec<f64>,
    /// MB/s (10⁶ bytes a second) of each round.
    throughput_mb_per_s: Vec<f64>,
    /// Median of [`throughput_mb_per_s`](Measured::throughput_mb_per_s).
    throughput_median_mb_per_s: Option<f64>,
    /// MPI: seconds from mpirun's start to both ranks ready (the two jobs
    /// start together), never counted in the figures; `None` for the pipe.
    launch_s: Option<f64>,
    /// Whether every round's data arrived as sent; `None` when not measured.
    intact: Option<bool>,
}

impl Measured {
    fn new(way: Way, options: &Options) -> Measured {
        Measured {
            way: way.name(),
            missing: None,
            round_trip_bytes: SMALL,
            trips_per_round: trips(options),
            round_trip_s: Vec::new(),
            round_trip_median_s: None,
            message_bytes: MESSAGE,
            messages_per_round: messages(options),
            throughput_s: Vec::new(),
            throughput_mb_per_s: Vec::new(),
            throughput_median_mb_per_s: None,
            launch_s: None,
            intact: Some(true),
        }
    }

    fn bytes_per_round(&self) -> usize {
        self.message_bytes * self.messages_per_round
    }

    /// Takes one throughput round: `seconds` for the round's bytes.
    fn push_throughput(&mut self, seconds: f64, intact: bool) {
        self.throughput_s.push(seconds);
        self.throughput_mb_per_s
            .push(self.bytes_per_round() as f64 / seconds.max(1e-9) / 1e6);
        self.intact = self.intact.map(|all| all && intact);
    }

    fn summarise(&mut self) {
        self.round_trip_median_s = median(&self.round_trip_s);
        self.throughput_median_mb_per_s = median(&self.throughput_mb_per_s);
    }

    fn given_up(&mut self, why: String) {
        self.missing = Some(why);
        self.intact = None;
        self.round_trip_s.clear();
        self.throughput_s.clear();
        self.throughput_mb_per_s.clear();
    }
}

/// The evidence, as data.
#[derive(Clone, Debug, Serialize)]
struct Evidence {
    /// Pipe, MPI over shared memory, MPI over TCP.
    ways: Vec<Measured>,
    /// Timed rounds.
    rounds: usize,
    /// This machine's CPUs.
    cpus: usize,
    /// CPUs other work kept busy just before and just after the rounds
    /// (`null` where the kernel does not tell).
    others_cpus: [Option<f64>; 2],
    /// Why the MPI ways are missing, in one line; `None` when they ran.
    mpi_missing: Option<String>,
}

/// The near end of one way.
trait End {
    /// `trips` round trips of [`SMALL`] bytes; seconds per round trip.
    fn round_trips(&mut self, trips: usize) -> Result<f64, String>;
    /// `count` messages of 1 MiB and an acknowledgement; seconds, and
    /// whether the data arrived intact.
    fn throughput(&mut self, count: usize) -> Result<(f64, bool), String>;
    /// Closes the way and waits for its far end.
    fn finish(self: Box<Self>) -> Result<(), String>;
}

/// The data of a throughput message: a pattern that a lost, doubled or
/// torn piece changes the sum of.
fn message() -> Vec<u8> {
    (0..MESSAGE).map(|i| (i % 251) as u8).collect()
}

fn sum(bytes: &[u8]) -> u64 {
    bytes.iter().map(|&b| u64::from(b)).sum()
}

/// Lines of a far end's standard output, read by a thread of their own so
/// that a silent far end is given up after [`PATIENCE`] instead of
/// hanging the lesson.
fn lines_of(output: ChildStdout) -> mpsc::Receiver<String> {
    let (send, receive) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(output).lines() {
            let Ok(line) = line else { break };
            if send.send(line).is_err() {
                break;
            }
        }
    });
    receive
}

/// The next line from a far end, waiting at most [`PATIENCE`].
fn next_line(lines: &mpsc::Receiver<String>, who: &str) -> Result<String, String> {
    lines.recv_timeout(PATIENCE).map_err(|e| match e {
        mpsc::RecvTimeoutError::Timeout => {
            format!("{who} did not answer in {} s", PATIENCE.as_secs())
        }
        mpsc::RecvTimeoutError::Disconnected => format!("{who} ended without answering"),
    })
}

/// Waits for a far end, which must have ended well.
fn ended_well(mut child: GroupChild, who: &str) -> Result<(), String> {
    let status = child.wait();
    if status.as_ref().is_ok_and(|s| s.success()) {
        Ok(())
    } else {
        Err(format!("{who} {}", crate::fmt::child_ended(&status)))
    }
}

/// A pipe: round trips through a `pipe-echo` process, bulk data to a
/// `pipe-sink` one (the pipe lesson's far ends).
struct PipeEnd {
    echo: GroupChild,
    to_echo: ChildStdin,
    from_echo: ChildStdout,
    sink: GroupChild,
    to_sink: ChildStdin,
    from_sink: mpsc::Receiver<String>,
    data: Vec<u8>,
    count: usize,
}

impl PipeEnd {
    fn start(options: &Options) -> Result<PipeEnd, String> {
        let spawn = |kind: &str, args: &[String]| {
            GroupChild::spawn(
                child::command(&options.exe, kind, args)
                    .stdin(Stdio::piped())
                    .stdout(Stdio::piped()),
            )
            .map_err(|e| {
                LessonError::io(
                    &format!(
                        "starting {} again as a pipe's far end",
                        options.exe.display()
                    ),
                    e,
                )
                .0
            })
        };
        let count = messages(options);
        let mut echo = spawn("pipe-echo", &[])?;
        let mut sink = spawn("pipe-sink", &[(count * MESSAGE).to_string()])?;
        Ok(PipeEnd {
            to_echo: echo.child().stdin.take().expect("piped"),
            from_echo: echo.child().stdout.take().expect("piped"),
            echo,
            to_sink: sink.child().stdin.take().expect("piped"),
            from_sink: lines_of(sink.child().stdout.take().expect("piped")),
            sink,
            data: message(),
            count,
        })
    }
}

impl End for PipeEnd {
    fn round_trips(&mut self, trips: usize) -> Result<f64, String> {
        let failed = |e: std::io::Error| format!("bouncing a byte through the pipe: {e}");
        let mut byte = [7u8; SMALL];
        let t0 = MonoTime::now();
        for _ in 0..trips {
            self.to_echo.write_all(&byte).map_err(failed)?;
            self.from_echo.read_exact(&mut byte).map_err(failed)?;
        }
        Ok(MonoTime::now().seconds_since(t0) / trips.max(1) as f64)
    }

    fn throughput(&mut self, count: usize) -> Result<(f64, bool), String> {
        if count != self.count {
            return Err(format!(
                "the pipe's sink counts rounds of {} messages",
                self.count
            ));
        }
        let t0 = MonoTime::now();
        for _ in 0..count {
            self.to_sink
                .write_all(&self.data)
                .map_err(|e| format!("sending data through the pipe: {e}"))?;
        }
        let line = next_line(&self.from_sink, "the pipe's sink")?;
        let seconds = MonoTime::now().seconds_since(t0);
        let expected = format!("{} {}", count * MESSAGE, sum(&self.data) * count as u64);
        Ok((seconds, line.trim() == expected))
    }

    fn finish(self: Box<Self>) -> Result<(), String> {
        let PipeEnd {
            echo,
            to_echo,
            sink,
            to_sink,
            ..
        } = *self;
        drop((to_echo, to_sink));
        ended_well(echo, "the pipe's echo")?;
        ended_well(sink, "the pipe's sink")
    }
}

/// An MPI job of 2 ranks, driven through rank 0's standard input: one
/// request a line (`rt N`, `bw N`), one answer a line.
struct MpiEnd {
    job: GroupChild,
    requests: ChildStdin,
    answers: mpsc::Receiver<String>,
    who: &'static str,
    started: MonoTime,
    /// Seconds from mpirun's start to both ranks ready.
    launch_s: f64,
}

/// Where `mpirun` is, or the one line saying why the MPI ways cannot run.
fn mpirun() -> Result<std::path::PathBuf, String> {
    if !cfg!(feature = "mpi") {
        return Err(format!("MPI part not measured: {}", crate::mpi::NOT_BUILT));
    }
    crate::mpi::launch::chosen().program().map_err(|_| {
        "MPI part not measured: no mpirun on the PATH (Debian: apt-get install openmpi-bin \
         libopenmpi-dev)"
            .to_string()
    })
}

impl MpiEnd {
    /// Starts the job (see [`MpiEnd::ready`]).
    fn start(options: &Options, mpirun: &std::path::Path, way: Way) -> Result<MpiEnd, String> {
        let mut command = crate::mpi::launch::start(
            mpirun,
            2,
            crate::machine::logical_cpus() < 2,
            nix::unistd::geteuid().is_root(),
        );
        command
            .args(way.mpirun_args())
            .arg(&options.exe)
            .arg(child::CHILD_ARG)
            .arg(RANK_CHILD)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped());
        let mut job = GroupChild::spawn(&mut command)
            .map_err(|e| LessonError::io(&format!("starting {}", mpirun.display()), e).0)?;
        let requests = job.child().stdin.take().expect("piped");
        let answers = lines_of(job.child().stdout.take().expect("piped"));
        Ok(MpiEnd {
            job,
            requests,
            answers,
            who: way.name(),
            started: MonoTime::now(),
            launch_s: 0.0,
        })
    }

    /// Waits for rank 0 to say that both ranks are ready.
    fn ready(mut self) -> Result<MpiEnd, String> {
        let ready = self.answer()?;
        if ready != "ready" {
            return Err(format!(
                "{}: rank 0 said {ready:?} instead of ready",
                self.who
            ));
        }
        self.launch_s = MonoTime::now().seconds_since(self.started);
        Ok(self)
    }

    /// The next line rank 0 printed that is an answer (anything else is
    /// mpirun's or a rank's diagnostic, shown on stderr).
    fn answer(&mut self) -> Result<String, String> {
        loop {
            let line = match self.answers.recv_timeout(PATIENCE) {
                Ok(line) => line,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    return Err(format!(
                        "mpirun ({}) did not answer in {} s",
                        self.who,
                        PATIENCE.as_secs()
                    ));
                }
                // Rank 0's output closed: mpirun is ending; say how.
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    return Err(format!(
                        "mpirun ({}) {} without answering (its own message, if any, is above)",
                        self.who,
                        crate::fmt::child_ended(&self.job.wait())
                    ));
                }
            };
            let first = line.split_whitespace().next().unwrap_or("");
            if ["ready", "rt", "bw"].contains(&first) {
                return Ok(line);
            }
            eprintln!("{line}");
        }
    }

    /// Sends `request` and returns the numbers of its answer.
    fn ask(&mut self, request: &str) -> Result<Vec<f64>, String> {
        writeln!(self.requests, "{request}")
            .and_then(|()| self.requests.flush())
            .map_err(|e| format!("{}: could not ask rank 0: {e}", self.who))?;
        let line = self.answer()?;
        let numbers: Option<Vec<f64>> = line
            .split_whitespace()
            .skip(1)
            .map(|n| n.parse().ok())
            .collect();
        numbers
            .filter(|n| n.iter().all(|x| x.is_finite() && *x >= 0.0))
            .ok_or_else(|| format!("{}: rank 0 answered {line:?}", self.who))
    }
}

impl End for MpiEnd {
    fn round_trips(&mut self, trips: usize) -> Result<f64, String> {
        match self.ask(&format!("rt {trips}"))?[..] {
            [seconds] if seconds > 0.0 => Ok(seconds / trips.max(1) as f64),
            ref other => Err(format!("{}: impossible round trip {other:?}", self.who)),
        }
    }

    fn throughput(&mut self, count: usize) -> Result<(f64, bool), String> {
        match self.ask(&format!("bw {count}"))?[..] {
            [bytes, seconds, intact] if seconds > 0.0 => {
                Ok((seconds, intact == 1.0 && bytes == (count * MESSAGE) as f64))
            }
            ref other => Err(format!("{}: impossible throughput {other:?}", self.who)),
        }
    }

    fn finish(self: Box<Self>) -> Result<(), String> {
        let MpiEnd {
            job, requests, who, ..
        } = *self;
        drop(requests);
        ended_well(job, &format!("mpirun ({who})"))
    }
}

fn run(options: &Options) -> Result<Finding, LessonError> {
    let mut measured: Vec<Measured> = Way::ALL
        .iter()
        .map(|&w| Measured::new(w, options))
        .collect();
    let mut ends: Vec<Option<Box<dyn End>>> = Vec::new();
    // The pipe is the lesson: without it there is nothing to compare.
    ends.push(Some(Box::new(
        PipeEnd::start(options).map_err(LessonError)?,
    )));
    let mpi_missing = match mpirun() {
        Ok(mpirun) => {
            // Both jobs start before either is waited for: their launches
            // overlap. (From this thread: a child's death signal follows
            // the thread that started it.)
            let started: Vec<Result<MpiEnd, String>> = [Way::MpiShared, Way::MpiTcp]
                .map(|way| MpiEnd::start(options, &mpirun, way))
                .into_iter()
                .map(|end| end.and_then(MpiEnd::ready))
                .collect();
            for (index, end) in started.into_iter().enumerate() {
                match end {
                    Ok(end) => {
                        measured[index + 1].launch_s = Some(end.launch_s);
                        ends.push(Some(Box::new(end)));
                    }
                    Err(why) => {
                        eprintln!("paralab lesson messages: {why}");
                        measured[index + 1].given_up(why);
                        ends.push(None);
                    }
                }
            }
            None
        }
        Err(why) => {
            eprintln!("paralab lesson messages: {why}");
            for way in &mut measured[1..] {
                way.given_up(why.clone());
            }
            ends.extend([None, None]);
            Some(why)
        }
    };

    let before = others_over(watch(options));
    // Round 0 is an untimed warm-up of every way.
    for round in 0..=rounds(options) {
        for (index, slot) in ends.iter_mut().enumerate() {
            let Some(end) = slot else { continue };
            match end.round_trips(trips(options)) {
                Ok(seconds) if round > 0 => measured[index].round_trip_s.push(seconds),
                Ok(_) => {}
                Err(why) => give_up(slot, &mut measured[index], why)?,
            }
        }
        for (index, slot) in ends.iter_mut().enumerate() {
            let Some(end) = slot else { continue };
            match end.throughput(messages(options)) {
                Ok((seconds, intact)) if round > 0 => {
                    measured[index].push_throughput(seconds, intact)
                }
                Ok((_, intact)) => {
                    measured[index].intact = measured[index].intact.map(|all| all && intact)
                }
                Err(why) => give_up(slot, &mut measured[index], why)?,
            }
        }
    }
    let after = others_over(watch(options));
    for (index, slot) in ends.into_iter().enumerate() {
        if let Some(end) = slot
            && let Err(why) = end.finish()
        {
            if index == 0 {
                return Err(LessonError(why));
            }
            measured[index].given_up(why);
        }
    }
    for way in &mut measured {
        way.summarise();
    }
    Ok(finding(Evidence {
        ways: measured,
        rounds: rounds(options),
        cpus: crate::machine::logical_cpus(),
        others_cpus: [before, after],
        mpi_missing,
    }))
}

/// A way that failed mid-lesson: the pipe's failure ends the lesson, an
/// MPI way's is recorded (its job killed) and the others go on.
fn give_up(
    slot: &mut Option<Box<dyn End>>,
    measured: &mut Measured,
    why: String,
) -> Result<(), LessonError> {
    if measured.way == Way::Pipe.name() {
        return Err(LessonError(why));
    }
    eprintln!("paralab lesson messages: {why}");
    *slot = None;
    measured.given_up(why);
    Ok(())
}

/// The middle half of `samples` in words: `12.1–14.0 µs`.
fn middle(samples: &[f64], show: impl Fn(f64) -> String) -> String {
    let mut sorted: Vec<f64> = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    if sorted.is_empty() {
        return "no rounds".into();
    }
    let at = |q: f64| sorted[((sorted.len() - 1) as f64 * q).round() as usize];
    format!("{}–{}", show(at(0.25)), show(at(0.75)))
}

fn mb_per_s(rate: f64) -> String {
    format!("{} MB/s", thousands(rate.round() as u64))
}

/// A ratio as people say it: `1.1×`, `12×`.
fn times(ratio: f64) -> String {
    if ratio < 10.0 {
        format!("{ratio:.1}×")
    } else {
        format!("{ratio:.0}×")
    }
}

fn finding(evidence: Evidence) -> Finding {
    let mut table = Table::new(
        format!(
            "{} rounds; round trip of {} B there and back, throughput of 1 MiB messages (medians; middle half of the rounds in brackets)",
            evidence.rounds, SMALL
        ),
        &[
            "between 2 processes",
            "arrived intact",
            "round trip",
            "throughput",
        ],
    );
    for way in &evidence.ways {
        if let Some(why) = &way.missing {
            let short = if evidence.mpi_missing.is_some() {
                "not measured (see below)".to_string()
            } else {
                format!("not measured: {why}")
            };
            table.row(vec![way.way.into(), "-".into(), short, "-".into()]);
            continue;
        }
        table.row(vec![
            way.way.into(),
            if way.intact == Some(true) {
                "yes"
            } else {
                "NO"
            }
            .into(),
            format!(
                "{} ({})",
                way.round_trip_median_s.map_or("-".into(), seconds_fine),
                middle(&way.round_trip_s, seconds_fine)
            ),
            format!(
                "{} ({})",
                way.throughput_median_mb_per_s.map_or("-".into(), mb_per_s),
                middle(&way.throughput_mb_per_s, |r| thousands(r.round() as u64))
            ),
        ]);
    }
    let mut notes = vec![
        "A pipe's byte goes through the kernel twice (written into it, read out of it) and wakes the \
         other process each way. MPI over shared memory copies through a segment both ranks map, and a \
         waiting rank spins instead of sleeping; over TCP every message goes through the kernel's network \
         stack. Loopback TCP is the floor of a real network: between two hosts the wire adds its own \
         latency (microseconds on a fast cluster network, tens to hundreds on Ethernet) and its bandwidth \
         caps the throughput. The pipe's sink sums every byte it receives; the MPI receiver checks the \
         last message only, after the timing. Open MPI binds its two ranks to two different cores; the \
         pipe's processes go wherever the scheduler puts them, at times on the same core."
            .to_string(),
    ];
    let launches: Vec<String> = evidence
        .ways
        .iter()
        .filter_map(|w| Some(format!("{} {}", w.way, seconds_fine(w.launch_s?))))
        .collect();
    if !launches.is_empty() {
        notes.push(format!(
            "Launch, not counted above (mpirun's start to both ranks ready, the jobs starting \
             together): {}.",
            launches.join(", ")
        ));
    }
    if let Some(why) = &evidence.mpi_missing {
        notes.push(why.clone());
    }
    Finding {
        tables: vec![table],
        notes,
        verdicts: verdicts(&evidence),
        evidence: serde_json::to_value(&evidence).expect("plain data serialises"),
    }
}

/// Why no comparison can be drawn on this machine now: fewer than the 2
/// CPUs both ends need, or other work that took them.
fn busy(evidence: &Evidence) -> Option<String> {
    if evidence.cpus < 2 {
        return Some(format!(
            "this machine has {} CPU, and both ends of a message need one of their own",
            evidence.cpus
        ));
    }
    let taken = evidence
        .others_cpus
        .iter()
        .flatten()
        .copied()
        .fold(None, |most: Option<f64>, x| {
            Some(most.map_or(x, |m| m.max(x)))
        })?;
    (taken > BUSY_CPUS).then(|| {
        format!(
            "other work kept {taken:.1} of the {} CPUs busy around the rounds, and both ends of a message need a CPU of their own",
            evidence.cpus
        )
    })
}

/// The verdicts: the pipe carried messages (the claim); MPI over shared
/// memory against the pipe, round trip then throughput; and what a second
/// host costs, TCP against shared memory, round trip then throughput.
fn verdicts(evidence: &Evidence) -> Vec<Verdict> {
    let pipe = &evidence.ways[0];
    let claim = match (
        pipe.intact == Some(true),
        pipe.round_trip_median_s,
        pipe.throughput_median_mb_per_s,
    ) {
        (true, Some(trip), Some(rate)) => Verdict::new(
            Outcome::Holds,
            format!(
                "two processes exchanged messages through a pipe, every round intact: a {SMALL} B round trip \
                 took {}, 1 MiB messages went at {}",
                seconds_fine(trip),
                mb_per_s(rate)
            ),
        ),
        (false, ..) => Verdict::new(
            Outcome::DoesNotHold,
            "the data sent through the pipe did not arrive intact",
        ),
        _ => Verdict::new(Outcome::Inconclusive, "the pipe gave no rounds to judge"),
    };
    let (shared, tcp) = (&evidence.ways[1], &evidence.ways[2]);
    let busy = busy(evidence);
    vec![
        claim,
        compare(
            Figure::RoundTrip,
            shared,
            pipe,
            busy.as_deref(),
            "MPI over shared memory's round trip",
            "a pipe's",
        ),
        compare(
            Figure::Throughput,
            shared,
            pipe,
            busy.as_deref(),
            "MPI over shared memory's throughput",
            "a pipe's",
        ),
        compare(
            Figure::RoundTrip,
            shared,
            tcp,
            busy.as_deref(),
            "what a second host costs, round trip",
            "shared memory's",
        ),
        compare(
            Figure::Throughput,
            shared,
            tcp,
            busy.as_deref(),
            "what a second host costs, throughput",
            "shared memory's",
        ),
    ]
}

#[derive(Clone, Copy, PartialEq)]
enum Figure {
    RoundTrip,
    Throughput,
}

impl Figure {
    fn samples(self, way: &Measured) -> &[f64] {
        match self {
            Figure::RoundTrip => &way.round_trip_s,
            Figure::Throughput => &way.throughput_mb_per_s,
        }
    }

    fn show(self, value: f64) -> String {
        match self {
            Figure::RoundTrip => seconds_fine(value),
            Figure::Throughput => mb_per_s(value),
        }
    }

    /// `A (B–C over the middle half of N rounds)`.
    fn figures(self, way: &Measured) -> String {
        let samples = self.samples(way);
        format!(
            "{} {} ({} over the middle half of {} rounds)",
            way.way,
            median(samples).map_or("-".into(), |m| self.show(m)),
            middle(samples, |v| self.show(v)),
            samples.len()
        )
    }
}

/// One comparison, `claimed` against `other`. Holds when `claimed` was
/// clearly better (a shorter round trip, a higher throughput), does not
/// hold when it was clearly worse; inconclusive, with why, when a way is
/// missing or damaged, the machine was busy, the medians are close or
/// the rounds overlap. The text gives the ratio either way.
///
/// `topic` opens the sentence (`MPI over shared memory's round trip`);
/// for the second host the claim is TCP's cost: `claimed` is shared
/// memory, the verdict holds when TCP was clearly worse, and the sentence
/// names TCP after the topic.
fn compare(
    figure: Figure,
    claimed: &Measured,
    other: &Measured,
    busy: Option<&str>,
    topic: &str,
    against: &str,
) -> Verdict {
    let second_host = other.way == Way::MpiTcp.name();
    let inconclusive = |why: String| Verdict::new(Outcome::Inconclusive, format!("{topic}: {why}"));
    for way in [claimed, other] {
        if let Some(why) = &way.missing {
            return inconclusive(why.clone());
        }
        if way.intact != Some(true) {
            return inconclusive(format!(
                "the data did not arrive intact over {}, so its times compare nothing",
                way.way
            ));
        }
    }
    let figures = format!("{}; {}", figure.figures(claimed), figure.figures(other));
    if let Some(why) = busy {
        return inconclusive(format!("{why} ({figures})"));
    }
    let smaller_is_better = figure == Figure::RoundTrip;
    let (shorter, longer) = match figure {
        Figure::RoundTrip => ("shorter", "longer"),
        Figure::Throughput => ("higher", "lower"),
    };
    let (claimed_better, by) = match order(
        figure.samples(claimed),
        figure.samples(other),
        smaller_is_better,
    ) {
        Order::First(by) => (true, by),
        Order::Second(by) => (false, by),
        Order::TooClose(by) => {
            return inconclusive(format!(
                "the medians are within {by:.2}× of each other, too close to call one better ({figures})"
            ));
        }
        Order::TooNoisy(by) => {
            return inconclusive(format!(
                "the medians differ by {}, but the middle halves of the rounds overlap, so other work \
                 on the machine could have made the difference ({figures})",
                times(by)
            ));
        }
        Order::Missing => return inconclusive(format!("a way has no usable rounds ({figures})")),
    };
    let outcome = if claimed_better {
        Outcome::Holds
    } else {
        Outcome::DoesNotHold
    };
    // The sentence is about TCP for the second host, about `claimed` otherwise.
    let subject_better = claimed_better != second_host;
    let comparison = if subject_better { shorter } else { longer };
    let tcp = if second_host { ": MPI over TCP's" } else { "" };
    let why = if second_host {
        " — every message crosses the kernel's TCP stack instead of a shared segment; a real second \
         host adds its wire's latency and bandwidth on top, loopback being the floor"
    } else {
        ""
    };
    Verdict::new(
        outcome,
        format!(
            "{topic}{tcp} is {} {comparison} than {against} ({figures}){why}",
            times(by)
        ),
    )
}

/// The child: one MPI rank of the lesson (`mpirun -n 2 … messages-rank`).
#[cfg(feature = "mpi")]
fn rank_child(_args: &[String]) -> Result<i32, String> {
    rank::serve()
}

/// Without MPI, no rank can run.
#[cfg(not(feature = "mpi"))]
fn rank_child(_args: &[String]) -> Result<i32, String> {
    Err(crate::mpi::NOT_BUILT.into())
}

#[cfg(feature = "mpi")]
mod rank {
    //! The ranks' side: rank 0 reads requests on its standard input (which
    //! mpirun forwards to it alone) and passes each to rank 1 as two
    //! numbers; both measure, rank 0 prints the answer.

    use std::io::{BufRead, Write};
    use std::time::Duration;

    use super::{MESSAGE, SMALL, message, sum};
    use crate::sys::mpi::World;

    const QUIT: u64 = 0;
    const ROUND_TRIP: u64 = 1;
    const THROUGHPUT: u64 = 2;

    /// How long rank 1 sleeps between two looks for a request: it must not
    /// spin (as a rank blocked in MPI does) while the other ways take
    /// their turn; the wait is before the timing starts.
    const NAP: Duration = Duration::from_millis(1);

    pub(super) fn serve() -> Result<i32, String> {
        let world = World::init()?;
        if world.size() != 2 {
            return Err(format!(
                "the messages lesson needs exactly 2 ranks; this job has {}",
                world.size()
            ));
        }
        let rank = world.rank();
        let peer = 1 - rank;
        let data = message();
        let mut buffer = vec![0u8; MESSAGE];
        let mut out = std::io::stdout().lock();
        let mut say = |line: String| {
            writeln!(out, "{line}")
                .and_then(|()| out.flush())
                .map_err(|e| format!("rank 0 could not answer: {e}"))
        };
        if rank == 0 {
            say("ready".into())?;
        }
        let mut requests = std::io::stdin().lock().lines();
        loop {
            let request: [u64; 2] = if rank == 0 {
                let request = match requests.next() {
                    None => [QUIT, 0],
                    Some(line) => parse(&line.map_err(|e| format!("reading a request: {e}"))?)?,
                };
                world.send_words(peer, &request);
                request
            } else {
                while !world.has_message(peer) {
                    std::thread::sleep(NAP);
                }
                let mut request = [0u64; 2];
                world.receive_words(peer, &mut request);
                request
            };
            let count = request[1] as usize;
            match request[0] {
                ROUND_TRIP => {
                    let mut byte = [0u8; SMALL];
                    // A few untimed trips: both ranks are awake and in step.
                    for _ in 0..10 {
                        bounce(&world, &mut byte);
                    }
                    world.barrier();
                    let start = world.time();
                    for _ in 0..count {
                        bounce(&world, &mut byte);
                    }
                    let seconds = world.time() - start;
                    if rank == 0 {
                        say(format!("rt {seconds:e}"))?;
                    }
                }
                THROUGHPUT => {
                    let mut ack = [0u8; 1];
                    world.barrier();
                    let start = world.time();
                    if rank == 0 {
                        for _ in 0..count {
                            world.send(peer, &data);
                        }
                        world.receive(peer, &mut ack);
                    } else {
                        for _ in 0..count {
                            world.receive(peer, &mut buffer);
                        }
                        world.send(peer, &ack);
                    }
                    let seconds = world.time() - start;
                    // Untimed: rank 1 checks the last message and says so.
                    let mut intact = [u8::from(sum(&buffer) == sum(&data) && buffer == data)];
                    if rank == 0 {
                        world.receive(peer, &mut intact);
                        say(format!("bw {} {seconds:e} {}", count * MESSAGE, intact[0]))?;
                    } else {
                        world.send(peer, &intact);
                    }
                }
                _ => return Ok(0),
            }
        }
    }

    /// One round trip: rank 0 sends, rank 1 sends back.
    fn bounce(world: &World, byte: &mut [u8; SMALL]) {
        let peer = 1 - world.rank();
        if world.rank() == 0 {
            world.send(peer, byte);
            world.receive(peer, byte);
        } else {
            world.receive(peer, byte);
            world.send(peer, byte);
        }
    }

    /// `rt N` or `bw N`.
    pub(super) fn parse(line: &str) -> Result<[u64; 2], String> {
        let mut words = line.split_whitespace();
        let op = match words.next() {
            Some("rt") => ROUND_TRIP,
            Some("bw") => THROUGHPUT,
            _ => return Err(format!("unknown request {line:?}")),
        };
        let count = words
            .next()
            .and_then(|n| n.parse().ok())
            .filter(|&n: &u64| n > 0)
            .ok_or_else(|| format!("request {line:?} needs a positive count"))?;
        Ok([op, count])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fast() -> Options {
        Options {
            fast: true,
            ..Options::new("unused")
        }
    }

    /// A way with round trips around `trip` and throughput around `rate`,
    /// each wobbling by `wobble` of itself across 10 rounds.
    fn synthetic(way: Way, trip: f64, rate: f64, wobble: f64) -> Measured {
        let mut m = Measured::new(way, &fast());
        for i in 0..10 {
            let w = 1.0 + wobble * (i as f64 / 9.0 - 0.5);
            m.round_trip_s.push(trip * w);
            m.push_throughput(m.bytes_per_round() as f64 / (rate * w * 1e6), true);
        }
        m.summarise();
        m
    }

    fn evidence(ways: Vec<Measured>, others: f64) -> Evidence {
        Evidence {
            ways,
            rounds: 10,
            cpus: 2,
            others_cpus: [Some(others), Some(0.0)],
            mpi_missing: None,
        }
    }

    #[test]
    fn throughput_times_seconds_is_the_bytes_sent() {
        let way = synthetic(Way::Pipe, 1e-5, 2000.0, 0.2);
        for (rate, seconds) in way.throughput_mb_per_s.iter().zip(&way.throughput_s) {
            let bytes = rate * 1e6 * seconds;
            assert!((bytes / way.bytes_per_round() as f64 - 1.0).abs() < 1e-9);
        }
    }

    #[test]
    fn clear_differences_give_results_with_their_ratio() {
        let verdicts = verdicts(&evidence(
            vec![
                synthetic(Way::Pipe, 20e-6, 2000.0, 0.1),
                synthetic(Way::MpiShared, 2e-6, 8000.0, 0.1),
                synthetic(Way::MpiTcp, 30e-6, 2000.0, 0.1),
            ],
            0.0,
        ));
        assert_eq!(verdicts.len(), 5, "{verdicts:?}");
        assert!(
            verdicts.iter().all(|v| v.outcome == Outcome::Holds),
            "{verdicts:?}"
        );
        assert!(
            verdicts[1].text.contains("10× shorter than a pipe's"),
            "{verdicts:?}"
        );
        assert!(
            verdicts[2].text.contains("4.0× higher than a pipe's"),
            "{verdicts:?}"
        );
        assert!(
            verdicts[3].text.contains("15× longer than shared memory's"),
            "{verdicts:?}"
        );
        assert!(
            verdicts[4].text.contains("4.0× lower than shared memory's"),
            "{verdicts:?}"
        );
        assert!(verdicts[3].text.contains("loopback being the floor"));
    }

    #[test]
    fn a_worse_way_does_not_hold_and_says_so() {
        let verdicts = verdicts(&evidence(
            vec![
                synthetic(Way::Pipe, 2e-6, 8000.0, 0.1),
                synthetic(Way::MpiShared, 20e-6, 2000.0, 0.1),
                synthetic(Way::MpiTcp, 5e-6, 9000.0, 0.1),
            ],
            0.0,
        ));
        assert_eq!(verdicts[1].outcome, Outcome::DoesNotHold, "{verdicts:?}");
        assert!(
            verdicts[1].text.contains("10× longer than a pipe's"),
            "{verdicts:?}"
        );
        assert!(verdicts[2].text.contains("4.0× lower"), "{verdicts:?}");
        assert_eq!(verdicts[3].outcome, Outcome::DoesNotHold, "{verdicts:?}");
        assert!(
            verdicts[3].text.contains("4.0× shorter than shared"),
            "{verdicts:?}"
        );
        assert!(
            verdicts[4].text.contains("higher than shared"),
            "{verdicts:?}"
        );
    }

    #[test]
    fn close_noisy_busy_or_missing_ways_are_inconclusive_with_why() {
        let close = verdicts(&evidence(
            vec![
                synthetic(Way::Pipe, 10e-6, 2000.0, 0.05),
                synthetic(Way::MpiShared, 10.5e-6, 2100.0, 0.05),
                synthetic(Way::MpiTcp, 14e-6, 1600.0, 1.5),
            ],
            0.0,
        ));
        assert!(close[1].text.contains("too close"), "{close:?}");
        assert!(close[1].text.contains("within 1.05×"), "{close:?}");
        assert!(close[3].text.contains("overlap"), "{close:?}");
        assert!(
            close[1..]
                .iter()
                .all(|v| v.outcome == Outcome::Inconclusive)
        );

        let busy = verdicts(&evidence(
            vec![
                synthetic(Way::Pipe, 20e-6, 2000.0, 0.1),
                synthetic(Way::MpiShared, 2e-6, 8000.0, 0.1),
                synthetic(Way::MpiTcp, 30e-6, 2000.0, 0.1),
            ],
            1.2,
        ));
        assert_eq!(busy[0].outcome, Outcome::Holds);
        for v in &busy[1..] {
            assert_eq!(v.outcome, Outcome::Inconclusive, "{v:?}");
            assert!(
                v.text.contains("other work kept 1.2 of the 2 CPUs"),
                "{v:?}"
            );
        }

        let mut shared = Measured::new(Way::MpiShared, &fast());
        shared.given_up("MPI part not measured: no mpirun on the PATH".into());
        let missing = verdicts(&evidence(
            vec![
                synthetic(Way::Pipe, 20e-6, 2000.0, 0.1),
                shared,
                synthetic(Way::MpiTcp, 30e-6, 2000.0, 0.1),
            ],
            0.0,
        ));
        assert_eq!(missing[0].outcome, Outcome::Holds);
        for v in &missing[1..] {
            assert_eq!(v.outcome, Outcome::Inconclusive, "{v:?}");
            assert!(v.text.contains("no mpirun on the PATH"), "{v:?}");
        }
    }

    #[test]
    fn rank_requests_are_checked() {
        #[cfg(feature = "mpi")]
        {
            assert_eq!(rank::parse("rt 5"), Ok([1, 5]));
            assert!(rank::parse("rt 0").is_err() && rank::parse("go 1").is_err());
        }
        assert!(mpirun().is_ok() || mpirun().unwrap_err().starts_with("MPI part not measured"));
    }
}
