//! `pipe`: processes do not share memory, so they can talk through pipes.
//! Do they? And what does it cost, next to threads, which can pass data
//! through a channel or copy it into memory they share? Latency (a round
//! trip of one byte) and throughput (bulk data) are separate questions
//! with separate verdicts; each is ordered only when the samples are far
//! enough apart, otherwise it is `inconclusive`, with why.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};

use serde::Serialize;

use super::{Finding, Lesson, LessonError, Options, Outcome, Verdict, child};
use crate::fmt::{Table, seconds_fine, thousands};
use crate::measure::clock::MonoTime;
use crate::measure::stats::median;
use crate::sys::children::GroupChild;

/// The lesson.
pub(crate) const LESSON: Lesson = Lesson {
    name: "pipe",
    summary: "processes talk through a pipe: its round-trip time and throughput beside two threads over a channel or a shared buffer",
    claim: "Processes cannot read each other's memory, but they can exchange data through a pipe (as \
            multiprocessing.Pipe does).",
    notebook: "un processus ne peut pas accéder, en théorie, à l'espace mémoire d'un autre processus … On peut \
               également utiliser un pipe, c'est ce que propose la bibliothèque multiprocessing.",
    plan,
    run,
    children: &[
        child::ChildKind {
            name: "pipe-sink",
            play: sink_child,
        },
        child::ChildKind {
            name: "pipe-echo",
            play: echo_child,
        },
    ],
};

/// Size of one write, or one message.
pub(crate) const CHUNK: usize = 64 * 1024;

/// The shared buffers of the shared-memory way: this many, each this big.
const BUFFERS: usize = 4;
/// Size of one shared buffer.
const BUFFER: usize = 1 << 20;

/// Bulk data is sent in this many segments, each timed from its first
/// byte to the receiver's acknowledgement of its last; the segments are
/// the samples the throughput verdict orders.
const SEGMENTS: usize = 8;

/// Bytes in one segment. Even under `--fast` a segment lasts milliseconds
/// at the few GB/s a pipe or a memory copy reaches, so one scheduler tick
/// (1–4 ms) stolen by another program does not decide it.
fn segment(options: &Options) -> usize {
    if options.fast { 8 << 20 } else { 32 << 20 }
}

fn volume(options: &Options) -> usize {
    SEGMENTS * segment(options)
}

fn round_trips(options: &Options) -> usize {
    if options.fast { 4_000 } else { 20_000 }
}

/// Round trips are timed in this many batches: the batch means are the
/// samples the latency verdict orders.
const BATCHES: usize = 10;

/// Two ways are ordered only when the slower one's median is this many
/// times the faster one's…
const CLEAR_RATIO: f64 = 1.25;

fn plan(options: &Options) -> String {
    format!(
        "Throughput: one side sends {} MiB in {SEGMENTS} segments of {} MiB, the other receives them, checks \
         their sum and acknowledges each segment; each segment is timed. Round trip: one side sends 1 byte, \
         the other sends it back, {} times in {BATCHES} timed batches. Three ways: two processes over a pipe \
         (paralab started again at the far end; every byte copied into the kernel and out), two threads over \
         a channel (std::sync::mpsc: each {} KiB piece copied into a new message), and two threads through \
         shared memory ({BUFFERS} buffers of {} MiB: the sender copies data into a free buffer and hands it \
         over, the receiver reads it in place and hands it back; for the round trip, one atomic word both \
         threads watch). A way is faster than another only when its median is at least {CLEAR_RATIO}× \
         better and the middle halves of their samples do not overlap. The ways take turns, one sample each \
         (segment 1 of each, then segment 2 of each, …; the same for the batches), so that a change in \
         what else the machine runs falls on all of them alike.",
        volume(options) >> 20,
        segment(options) >> 20,
        thousands(round_trips(options) as u64),
        CHUNK / 1024,
        BUFFER >> 20,
    )
}

/// The sum of the bytes, the check that everything arrived.
fn checksum(bytes: &[u8]) -> u64 {
    bytes.iter().map(|&b| u64::from(b)).sum()
}

/// The data sent: a pattern that makes a lost or doubled chunk change the sum.
fn payload() -> Vec<u8> {
    (0..CHUNK).map(|i| (i % 251) as u8).collect()
}

/// The child: `pipe-sink SEGMENT_BYTES`: reads standard input to its end,
/// and after every `SEGMENT_BYTES` bytes prints `BYTES CHECKSUM` of that
/// segment.
pub(crate) fn sink_child(args: &[String]) -> Result<i32, String> {
    let segment: u64 = child::arg(args, 0, "segment size in bytes")?;
    let mut input = std::io::stdin().lock();
    let mut output = std::io::stdout().lock();
    let mut buffer = vec![0u8; CHUNK];
    let (mut bytes, mut sum) = (0u64, 0u64);
    loop {
        let want = (segment - bytes).min(CHUNK as u64) as usize;
        match input.read(&mut buffer[..want]) {
            Ok(0) => return Ok(0),
            Ok(read) => {
                bytes += read as u64;
                sum += checksum(&buffer[..read]);
                if bytes == segment {
                    if writeln!(output, "{bytes} {sum}")
                        .and_then(|()| output.flush())
                        .is_err()
                    {
                        return Ok(1);
                    }
                    (bytes, sum) = (0, 0);
                }
            }
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
            Err(error) => return Err(format!("reading the pipe failed: {error}")),
        }
    }
}

/// The child: `pipe-echo`: sends back every byte it reads, one at a time.
pub(crate) fn echo_child(_args: &[String]) -> Result<i32, String> {
    let mut input = std::io::stdin().lock();
    let mut output = std::io::stdout().lock();
    let mut byte = [0u8; 1];
    loop {
        match input.read(&mut byte) {
            Ok(0) => return Ok(0),
            Ok(_) => {
                if output
                    .write_all(&byte)
                    .and_then(|()| output.flush())
                    .is_err()
                {
                    return Ok(1);
                }
            }
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
            Err(error) => return Err(format!("reading the pipe failed: {error}")),
        }
    }
}

/// One way of talking, measured.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Channel {
    /// `2 processes, pipe`, `2 threads, channel`, `2 threads, shared memory`.
    pub name: &'static str,
    /// Whether the two ends are processes (else threads).
    pub processes: bool,
    /// Bytes sent.
    pub bytes: u64,
    /// Whether every segment's count and sum matched what was sent.
    pub intact: bool,
    /// Megabytes (10⁶ bytes) per second of each segment.
    pub segment_mb_per_s: Vec<f64>,
    /// The median of [`segment_mb_per_s`](Channel::segment_mb_per_s).
    pub mb_per_s: f64,
    /// Round trips of one byte.
    pub round_trips: usize,
    /// Seconds per round trip of each timed batch (its mean).
    pub batch_round_trip_s: Vec<f64>,
    /// The median of [`batch_round_trip_s`](Channel::batch_round_trip_s).
    pub round_trip_s: f64,
}

impl Channel {
    fn new(
        name: &'static str,
        processes: bool,
        segments: Vec<(u64, f64)>,
        intact: bool,
        round_trips: usize,
        batch_round_trip_s: Vec<f64>,
    ) -> Channel {
        let segment_mb_per_s: Vec<f64> = segments
            .iter()
            .map(|&(bytes, s)| bytes as f64 / s.max(1e-9) / 1e6)
            .collect();
        Channel {
            name,
            processes,
            bytes: segments.iter().map(|&(bytes, _)| bytes).sum(),
            intact,
            mb_per_s: median(&segment_mb_per_s).unwrap_or(f64::NAN),
            segment_mb_per_s,
            round_trips,
            round_trip_s: median(&batch_round_trip_s).unwrap_or(f64::NAN),
            batch_round_trip_s,
        }
    }
}

/// One step of the schedule: which way gave which sample, in the order
/// they were taken.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Step {
    /// `throughput` (one segment) or `round trip` (one batch).
    pub measure: &'static str,
    /// The way's name.
    pub way: &'static str,
    /// The sample's number within its way, from 1.
    pub sample: usize,
}

/// The evidence, as data.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Evidence {
    /// Process pipe, thread channel, thread shared memory.
    pub channels: Vec<Channel>,
    /// The order the samples were taken in: round-robin, one sample of
    /// each way in turn, so that a change in the machine's load falls on
    /// every way alike.
    pub schedule: Vec<Step>,
}

/// The three ways of talking, in the order each round visits them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Way {
    /// Two processes over a pipe.
    ProcessPipe,
    /// Two threads over a channel.
    ThreadChannel,
    /// Two threads through shared buffers.
    ThreadSharedMemory,
}

impl Way {
    /// Every way, in the order each round visits them.
    pub(crate) const ALL: [Way; 3] = [
        Way::ProcessPipe,
        Way::ThreadChannel,
        Way::ThreadSharedMemory,
    ];

    fn name(self) -> &'static str {
        match self {
            Way::ProcessPipe => "2 processes, pipe",
            Way::ThreadChannel => "2 threads, channel",
            Way::ThreadSharedMemory => "2 threads, shared memory",
        }
    }

    /// Sets the way up for bulk data.
    fn bulk(self, options: &Options) -> Result<Box<dyn BulkEnd>, LessonError> {
        Ok(match self {
            Way::ProcessPipe => Box::new(PipeBulk::start(options)?),
            Way::ThreadChannel => Box::new(ChannelBulk::start(segment(options))?),
            Way::ThreadSharedMemory => Box::new(SharedBulk::start(segment(options))?),
        })
    }

    /// Sets the way up for round trips.
    fn bounce(self, options: &Options) -> Result<Box<dyn BounceEnd>, LessonError> {
        Ok(match self {
            Way::ProcessPipe => Box::new(PipeBounce::start(options)?),
            Way::ThreadChannel => Box::new(ChannelBounce::start()?),
            Way::ThreadSharedMemory => Box::new(SharedBounce::start()?),
        })
    }
}

/// The sending end of a way set up for bulk data.
trait BulkEnd {
    /// Sends one segment; returns the receiver's `(bytes, sum)` of it.
    fn send_segment(&mut self) -> std::io::Result<(u64, u64)>;
    /// Closes the way and waits for its far end.
    fn finish(self: Box<Self>) -> Result<(), LessonError>;
}

/// The near end of a way set up for round trips.
trait BounceEnd {
    /// Readies the far end for `trips` round trips (untimed): a far end
    /// that spins while it waits is asleep between batches, so that it
    /// takes no CPU from the other ways' batches.
    fn prepare(&mut self, trips: usize);
    /// One round trip of one byte.
    fn bounce(&mut self) -> std::io::Result<()>;
    /// Closes the way and waits for its far end.
    fn finish(self: Box<Self>) -> Result<(), LessonError>;
}

/// Measures `ways` round-robin: segment 1 of each way in turn, then
/// segment 2 of each, …; then round-trip batch 1 of each, batch 2 of
/// each, …. A burst of other work lands on one sample of every way
/// rather than on all the samples of one.
pub(crate) fn measure(
    options: &Options,
    ways: &[Way],
) -> Result<(Vec<Channel>, Vec<Step>), LessonError> {
    let (segment_bytes, trips) = (segment(options), round_trips(options));
    let expected = (
        segment_bytes as u64,
        checksum(&payload()) * (segment_bytes / CHUNK) as u64,
    );
    let mut schedule = Vec::new();

    let mut bulk = Vec::new();
    for &way in ways {
        bulk.push(way.bulk(options)?);
    }
    let mut segments: Vec<Vec<(u64, f64)>> = vec![Vec::new(); ways.len()];
    let mut intact = vec![true; ways.len()];
    for sample in 1..=SEGMENTS {
        for (index, end) in bulk.iter_mut().enumerate() {
            let t0 = MonoTime::now();
            let got = end.send_segment().map_err(|e| {
                LessonError::io(&format!("sending data, {}", ways[index].name()), e)
            })?;
            segments[index].push((got.0, MonoTime::now().seconds_since(t0)));
            intact[index] &= got == expected;
            schedule.push(Step {
                measure: "throughput",
                way: ways[index].name(),
                sample,
            });
        }
    }
    for end in bulk {
        end.finish()?;
    }

    let mut bouncers = Vec::new();
    for &way in ways {
        bouncers.push(way.bounce(options)?);
    }
    let per_batch = (trips / BATCHES).max(1);
    let mut batches: Vec<Vec<f64>> = vec![Vec::new(); ways.len()];
    // Batch 0 is an untimed warm-up of each way.
    for sample in 0..=BATCHES {
        for (index, end) in bouncers.iter_mut().enumerate() {
            let failed =
                |e| LessonError::io(&format!("bouncing a byte, {}", ways[index].name()), e);
            end.prepare(per_batch + 1);
            // One untimed trip wakes the far end up.
            end.bounce().map_err(failed)?;
            let t0 = MonoTime::now();
            for _ in 0..per_batch {
                end.bounce().map_err(failed)?;
            }
            let seconds = MonoTime::now().seconds_since(t0) / per_batch as f64;
            if sample > 0 {
                batches[index].push(seconds);
                schedule.push(Step {
                    measure: "round trip",
                    way: ways[index].name(),
                    sample,
                });
            }
        }
    }
    for end in bouncers {
        end.finish()?;
    }

    let channels = ways
        .iter()
        .zip(segments)
        .zip(batches)
        .zip(intact)
        .map(|(((way, segments), batches), intact)| {
            Channel::new(
                way.name(),
                *way == Way::ProcessPipe,
                segments,
                intact,
                trips,
                batches,
            )
        })
        .collect();
    Ok((channels, schedule))
}

/// Starts the far end `kind`; it is killed and reaped if the lesson
/// returns before waiting for it.
fn start(options: &Options, kind: &str, args: &[String]) -> Result<GroupChild, LessonError> {
    GroupChild::spawn(
        child::command(&options.exe, kind, args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped()),
    )
    .map_err(|e| {
        LessonError::io(
            &format!(
                "starting {} again as the pipe's far end",
                options.exe.display()
            ),
            e,
        )
    })
}

/// Waits for a far-end process, which must have ended well.
fn wait_far_end(mut child: GroupChild) -> Result<(), LessonError> {
    let status = child.wait();
    if status.as_ref().is_ok_and(|s| s.success()) {
        Ok(())
    } else {
        Err(LessonError(format!(
            "the pipe's far end {}",
            crate::fmt::child_ended(&status)
        )))
    }
}

/// Bulk data to a `pipe-sink` process.
struct PipeBulk {
    sink: GroupChild,
    to_sink: std::process::ChildStdin,
    from_sink: BufReader<std::process::ChildStdout>,
    data: Vec<u8>,
    chunks: usize,
}

impl PipeBulk {
    fn start(options: &Options) -> Result<PipeBulk, LessonError> {
        let segment_bytes = segment(options);
        let mut sink = start(options, "pipe-sink", &[segment_bytes.to_string()])?;
        let to_sink = sink.child().stdin.take().expect("piped");
        let from_sink = BufReader::new(sink.child().stdout.take().expect("piped"));
        Ok(PipeBulk {
            sink,
            to_sink,
            from_sink,
            data: payload(),
            chunks: segment_bytes / CHUNK,
        })
    }
}

impl BulkEnd for PipeBulk {
    fn send_segment(&mut self) -> std::io::Result<(u64, u64)> {
        for _ in 0..self.chunks {
            self.to_sink.write_all(&self.data)?;
        }
        let mut line = String::new();
        self.from_sink.read_line(&mut line)?;
        let mut numbers = line.split_whitespace().map(|n| n.parse::<u64>().ok());
        match (numbers.next().flatten(), numbers.next().flatten()) {
            (Some(bytes), Some(sum)) => Ok((bytes, sum)),
            _ => Err(std::io::Error::other(format!("the sink answered {line:?}"))),
        }
    }

    fn finish(self: Box<Self>) -> Result<(), LessonError> {
        let PipeBulk { sink, to_sink, .. } = *self;
        drop(to_sink);
        wait_far_end(sink)
    }
}

/// Round trips through a `pipe-echo` process.
struct PipeBounce {
    echo: GroupChild,
    to_echo: std::process::ChildStdin,
    from_echo: std::process::ChildStdout,
}

impl PipeBounce {
    fn start(options: &Options) -> Result<PipeBounce, LessonError> {
        let mut echo = start(options, "pipe-echo", &[])?;
        let to_echo = echo.child().stdin.take().expect("piped");
        let from_echo = echo.child().stdout.take().expect("piped");
        Ok(PipeBounce {
            echo,
            to_echo,
            from_echo,
        })
    }
}

impl BounceEnd for PipeBounce {
    fn prepare(&mut self, _trips: usize) {}

    fn bounce(&mut self) -> std::io::Result<()> {
        let mut byte = [7u8; 1];
        self.to_echo.write_all(&byte)?;
        self.from_echo.read_exact(&mut byte)
    }

    fn finish(self: Box<Self>) -> Result<(), LessonError> {
        let PipeBounce { echo, to_echo, .. } = *self;
        drop(to_echo);
        wait_far_end(echo)
    }
}

/// Bulk data over a channel to a receiving thread.
struct ChannelBulk {
    tx: mpsc::SyncSender<Vec<u8>>,
    ack_rx: mpsc::Receiver<(u64, u64)>,
    receiver: std::thread::JoinHandle<()>,
    data: Vec<u8>,
    chunks: usize,
}

impl ChannelBulk {
    fn start(segment_bytes: usize) -> Result<ChannelBulk, LessonError> {
        let (tx, rx) = mpsc::sync_channel::<Vec<u8>>(16);
        let (ack_tx, ack_rx) = mpsc::channel::<(u64, u64)>();
        let receiver = std::thread::Builder::new()
            .spawn(move || {
                let (mut bytes, mut sum) = (0u64, 0u64);
                for piece in rx {
                    bytes += piece.len() as u64;
                    sum += checksum(&piece);
                    if bytes == segment_bytes as u64 {
                        if ack_tx.send((bytes, sum)).is_err() {
                            return;
                        }
                        (bytes, sum) = (0, 0);
                    }
                }
            })
            .map_err(|e| LessonError::io("starting the channel's receiving thread", e))?;
        Ok(ChannelBulk {
            tx,
            ack_rx,
            receiver,
            data: payload(),
            chunks: segment_bytes / CHUNK,
        })
    }
}

impl BulkEnd for ChannelBulk {
    fn send_segment(&mut self) -> std::io::Result<(u64, u64)> {
        for _ in 0..self.chunks {
            self.tx
                .send(self.data.to_vec())
                .map_err(std::io::Error::other)?;
        }
        self.ack_rx.recv().map_err(std::io::Error::other)
    }

    fn finish(self: Box<Self>) -> Result<(), LessonError> {
        let ChannelBulk { tx, receiver, .. } = *self;
        drop(tx);
        receiver
            .join()
            .map_err(|_| LessonError("the channel's receiving thread panicked".into()))
    }
}

/// Round trips over two channels with an echoing thread.
struct ChannelBounce {
    ping_tx: mpsc::Sender<u8>,
    pong_rx: mpsc::Receiver<u8>,
    echo: std::thread::JoinHandle<()>,
}

impl ChannelBounce {
    fn start() -> Result<ChannelBounce, LessonError> {
        let (ping_tx, ping_rx) = mpsc::channel::<u8>();
        let (pong_tx, pong_rx) = mpsc::channel::<u8>();
        let echo = std::thread::Builder::new()
            .spawn(move || {
                for byte in ping_rx {
                    if pong_tx.send(byte).is_err() {
                        break;
                    }
                }
            })
            .map_err(|e| LessonError::io("starting the channel's echo thread", e))?;
        Ok(ChannelBounce {
            ping_tx,
            pong_rx,
            echo,
        })
    }
}

impl BounceEnd for ChannelBounce {
    fn prepare(&mut self, _trips: usize) {}

    fn bounce(&mut self) -> std::io::Result<()> {
        self.ping_tx.send(7).map_err(std::io::Error::other)?;
        self.pong_rx.recv().map(drop).map_err(std::io::Error::other)
    }

    fn finish(self: Box<Self>) -> Result<(), LessonError> {
        let ChannelBounce { ping_tx, echo, .. } = *self;
        drop(ping_tx);
        echo.join()
            .map_err(|_| LessonError("the channel's echo thread panicked".into()))
    }
}

/// Bulk data through [`BUFFERS`] buffers both threads can reach. The
/// sender copies the data into a free buffer (one copy, as a program
/// filling shared memory does) and passes its number; the receiver reads
/// the buffer where it lies and passes the number back. The handshake
/// costs one message per MiB, not one per word.
struct SharedBulk {
    buffers: Arc<Vec<Mutex<Vec<u8>>>>,
    full_tx: mpsc::Sender<usize>,
    free_rx: mpsc::Receiver<usize>,
    ack_rx: mpsc::Receiver<(u64, u64)>,
    receiver: std::thread::JoinHandle<()>,
    data: Vec<u8>,
    fills: usize,
}

impl SharedBulk {
    fn start(segment_bytes: usize) -> Result<SharedBulk, LessonError> {
        let buffers: Arc<Vec<Mutex<Vec<u8>>>> = Arc::new(
            (0..BUFFERS)
                .map(|_| Mutex::new(vec![0u8; BUFFER]))
                .collect(),
        );
        let (full_tx, full_rx) = mpsc::channel::<usize>();
        let (free_tx, free_rx) = mpsc::channel::<usize>();
        let (ack_tx, ack_rx) = mpsc::channel::<(u64, u64)>();
        for index in 0..BUFFERS {
            let _ = free_tx.send(index);
        }
        let shared = Arc::clone(&buffers);
        let receiver = std::thread::Builder::new()
            .spawn(move || {
                let (mut bytes, mut sum) = (0u64, 0u64);
                for index in full_rx {
                    {
                        let buffer = shared[index].lock().unwrap_or_else(|e| e.into_inner());
                        bytes += buffer.len() as u64;
                        sum += checksum(&buffer);
                    }
                    if free_tx.send(index).is_err() {
                        return;
                    }
                    if bytes == segment_bytes as u64 {
                        if ack_tx.send((bytes, sum)).is_err() {
                            return;
                        }
                        (bytes, sum) = (0, 0);
                    }
                }
            })
            .map_err(|e| LessonError::io("starting the shared buffers' receiving thread", e))?;
        Ok(SharedBulk {
            buffers,
            full_tx,
            free_rx,
            ack_rx,
            receiver,
            data: payload(),
            fills: segment_bytes / BUFFER,
        })
    }
}

impl BulkEnd for SharedBulk {
    fn send_segment(&mut self) -> std::io::Result<(u64, u64)> {
        for _ in 0..self.fills {
            let index = self.free_rx.recv().map_err(std::io::Error::other)?;
            {
                let mut buffer = self.buffers[index]
                    .lock()
                    .unwrap_or_else(|e| e.into_inner());
                for piece in buffer.chunks_exact_mut(CHUNK) {
                    piece.copy_from_slice(&self.data);
                }
            }
            self.full_tx.send(index).map_err(std::io::Error::other)?;
        }
        self.ack_rx.recv().map_err(std::io::Error::other)
    }

    fn finish(self: Box<Self>) -> Result<(), LessonError> {
        let SharedBulk {
            full_tx, receiver, ..
        } = *self;
        drop(full_tx);
        receiver
            .join()
            .map_err(|_| LessonError("the shared buffers' receiving thread panicked".into()))
    }
}

/// Round trips through one atomic word: the main thread writes an odd
/// number, the echo thread answers with the next even one. Between
/// batches the echo thread sleeps on a channel, not on the word.
struct SharedBounce {
    flag: Arc<AtomicU64>,
    batch_tx: mpsc::Sender<u64>,
    echo: std::thread::JoinHandle<()>,
    k: u64,
}

impl SharedBounce {
    fn start() -> Result<SharedBounce, LessonError> {
        let flag = Arc::new(AtomicU64::new(0));
        let echo_flag = Arc::clone(&flag);
        let (batch_tx, batch_rx) = mpsc::channel::<u64>();
        let echo = std::thread::Builder::new()
            .spawn(move || {
                let mut k = 0u64;
                for trips in batch_rx {
                    for _ in 0..trips {
                        wait_until(|| echo_flag.load(Ordering::Acquire) == 2 * k + 1);
                        echo_flag.store(2 * k + 2, Ordering::Release);
                        k += 1;
                    }
                }
            })
            .map_err(|e| LessonError::io("starting the shared word's echo thread", e))?;
        Ok(SharedBounce {
            flag,
            batch_tx,
            echo,
            k: 0,
        })
    }
}

impl BounceEnd for SharedBounce {
    fn prepare(&mut self, trips: usize) {
        let _ = self.batch_tx.send(trips as u64);
    }

    fn bounce(&mut self) -> std::io::Result<()> {
        let k = self.k;
        self.flag.store(2 * k + 1, Ordering::Release);
        wait_until(|| self.flag.load(Ordering::Acquire) == 2 * k + 2);
        self.k += 1;
        Ok(())
    }

    fn finish(self: Box<Self>) -> Result<(), LessonError> {
        let SharedBounce { batch_tx, echo, .. } = *self;
        drop(batch_tx);
        echo.join()
            .map_err(|_| LessonError("the shared word's echo thread panicked".into()))
    }
}

/// Waits, spinning briefly then yielding the CPU, until `ready()`: on a
/// busy machine with few CPUs, pure spinning could hold the CPU the other
/// side needs.
fn wait_until(ready: impl Fn() -> bool) {
    let mut spins = 0u32;
    while !ready() {
        if spins < 2_000 {
            std::hint::spin_loop();
            spins += 1;
        } else {
            std::thread::yield_now();
        }
    }
}

fn run(options: &Options) -> Result<Finding, LessonError> {
    let (channels, schedule) = measure(options, &Way::ALL)?;
    Ok(finding(Evidence { channels, schedule }))
}

/// The lower and upper quartiles of `samples` (sorted copies; for the
/// ten samples here, the 3rd and 8th).
fn quartiles(samples: &[f64]) -> Option<(f64, f64)> {
    let mut sorted: Vec<f64> = samples.iter().copied().filter(|x| x.is_finite()).collect();
    if sorted.is_empty() {
        return None;
    }
    sorted.sort_by(f64::total_cmp);
    let at = |q: f64| sorted[((sorted.len() - 1) as f64 * q).round() as usize];
    Some((at(0.25), at(0.75)))
}

/// Which of two sets of samples is better: of seconds the smaller, of
/// rates the larger.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Order {
    /// The first is clearly better, by this ratio of medians.
    First(f64),
    /// The second is clearly better, by this ratio of medians.
    Second(f64),
    /// The medians are within [`CLEAR_RATIO`] of each other (their ratio).
    TooClose(f64),
    /// The medians differ, but the middle halves of the samples overlap.
    TooNoisy(f64),
    /// A side has no samples.
    Missing,
}

/// Orders two sets of samples: by the ratio of their medians, and only
/// when the middle halves (quartiles) of the samples do not overlap.
pub(crate) fn order(first: &[f64], second: &[f64], smaller_is_better: bool) -> Order {
    let (Some(a), Some(b), Some((a1, a3)), Some((b1, b3))) = (
        median(first),
        median(second),
        quartiles(first),
        quartiles(second),
    ) else {
        return Order::Missing;
    };
    if !(a > 0.0 && b > 0.0) {
        return Order::Missing;
    }
    // "better" oriented so that a larger ratio favours the first.
    let (ratio, apart) = if smaller_is_better {
        (b / a, a3 < b1 || b3 < a1)
    } else {
        (a / b, a3 < b1 || b3 < a1)
    };
    let (better, by) = if ratio >= 1.0 {
        (true, ratio)
    } else {
        (false, 1.0 / ratio)
    };
    if by < CLEAR_RATIO {
        Order::TooClose(by)
    } else if !apart {
        Order::TooNoisy(by)
    } else if better {
        Order::First(by)
    } else {
        Order::Second(by)
    }
}

/// Samples' spread in words: `12.1–14.0 µs over the middle half`.
fn spread(samples: &[f64], show: impl Fn(f64) -> String) -> String {
    quartiles(samples).map_or_else(
        || "no samples".into(),
        |(low, high)| format!("{}–{}", show(low), show(high)),
    )
}

/// `2 threads, shared memory` → `the threads (shared memory)`.
fn threads_label(name: &str) -> String {
    format!("the threads ({})", name.rsplit(", ").next().unwrap_or(name))
}

fn mb_per_s(rate: f64) -> String {
    format!("{} MB/s", thousands(rate.round() as u64))
}

fn finding(evidence: Evidence) -> Finding {
    let first = &evidence.channels[0];
    let mut table = Table::new(
        format!(
            "{} MiB one way in {SEGMENTS} segments, then {} round trips of 1 byte (medians; middle half in brackets)",
            first.bytes >> 20,
            thousands(first.round_trips as u64)
        ),
        &["between", "arrived intact", "throughput", "round trip"],
    );
    for channel in &evidence.channels {
        table.row(vec![
            channel.name.into(),
            if channel.intact { "yes" } else { "NO" }.into(),
            format!(
                "{} ({})",
                mb_per_s(channel.mb_per_s),
                spread(&channel.segment_mb_per_s, |r| thousands(r.round() as u64))
            ),
            format!(
                "{} ({})",
                seconds_fine(channel.round_trip_s),
                spread(&channel.batch_round_trip_s, seconds_fine)
            ),
        ]);
    }
    let notes = vec![
        "A pipe copies every byte twice (into the kernel, out of it) and each round trip wakes the other \
         process through the kernel. A channel between threads moves a pointer to a message the sender \
         filled; the shared buffers are filled once and read where they lie. How these compare depends on \
         the machine: on some, a pipe's two copies run at memory speed and it keeps up with threads. \
         A thread waiting on shared memory spins, then yields its CPU: its round trips are fast only while \
         both threads have a CPU of their own, and on a busy machine can be slower than a pipe."
            .to_string(),
    ];
    Finding {
        tables: vec![table],
        notes,
        verdicts: verdicts(&evidence),
        evidence: serde_json::to_value(&evidence).expect("plain data serialises"),
    }
}

/// Three verdicts: that the processes talked through the pipe (the
/// claim), then latency, then throughput, each ordered or inconclusive.
fn verdicts(evidence: &Evidence) -> Vec<Verdict> {
    let Some(pipe) = evidence.channels.iter().find(|c| c.processes) else {
        return vec![Verdict::new(
            Outcome::NotMeasured,
            "the pipe between processes was not measured",
        )];
    };
    let threads: Vec<&Channel> = evidence.channels.iter().filter(|c| !c.processes).collect();
    let claim = if pipe.intact {
        Verdict::new(
            Outcome::Holds,
            format!(
                "two processes exchanged {} MiB through a pipe, every segment intact, at {}, and bounced \
                 a byte back and forth in {} a round trip",
                pipe.bytes >> 20,
                mb_per_s(pipe.mb_per_s),
                seconds_fine(pipe.round_trip_s)
            ),
        )
    } else {
        Verdict::new(
            Outcome::DoesNotHold,
            "the data sent through the pipe did not arrive intact",
        )
    };
    let broken: Vec<&str> = threads
        .iter()
        .filter(|c| !c.intact)
        .map(|c| c.name)
        .collect();
    if !broken.is_empty() {
        let why = format!(
            "the data did not arrive intact between {}, so its times compare nothing",
            broken.join(" and ")
        );
        return vec![
            claim,
            Verdict::new(Outcome::Inconclusive, format!("latency: {why}")),
            Verdict::new(Outcome::Inconclusive, format!("throughput: {why}")),
        ];
    }
    vec![
        claim,
        latency_verdict(pipe, &threads),
        throughput_verdict(pipe, &threads),
    ]
}

/// Latency: do threads answer each other sooner than processes over a
/// pipe? Compared with the thread way of the shortest median round trip.
fn latency_verdict(pipe: &Channel, threads: &[&Channel]) -> Verdict {
    let Some(best) = threads
        .iter()
        .min_by(|a, b| a.round_trip_s.total_cmp(&b.round_trip_s))
    else {
        return Verdict::new(Outcome::NotMeasured, "latency: no thread way was measured");
    };
    let figures = format!(
        "a round trip took {} over the pipe ({} over the middle half of {BATCHES} batches), {} between {} ({})",
        seconds_fine(pipe.round_trip_s),
        spread(&pipe.batch_round_trip_s, seconds_fine),
        seconds_fine(best.round_trip_s),
        threads_label(best.name),
        spread(&best.batch_round_trip_s, seconds_fine),
    );
    ordered_verdict(
        "latency",
        order(&best.batch_round_trip_s, &pipe.batch_round_trip_s, true),
        &format!("{} answered sooner than the pipe", threads_label(best.name)),
        "the pipe answered sooner than the threads",
        &figures,
    )
}

/// Throughput: do threads move bulk data faster through a shared buffer
/// than processes through a pipe? Compared with the thread way of the
/// highest median throughput.
fn throughput_verdict(pipe: &Channel, threads: &[&Channel]) -> Verdict {
    let Some(best) = threads
        .iter()
        .max_by(|a, b| a.mb_per_s.total_cmp(&b.mb_per_s))
    else {
        return Verdict::new(
            Outcome::NotMeasured,
            "throughput: no thread way was measured",
        );
    };
    let figures = format!(
        "the pipe carried {} ({} over the middle half of {SEGMENTS} segments), {} {} ({})",
        mb_per_s(pipe.mb_per_s),
        spread(&pipe.segment_mb_per_s, |r| thousands(r.round() as u64)),
        threads_label(best.name),
        mb_per_s(best.mb_per_s),
        spread(&best.segment_mb_per_s, |r| thousands(r.round() as u64)),
    );
    ordered_verdict(
        "throughput",
        order(&best.segment_mb_per_s, &pipe.segment_mb_per_s, false),
        &format!(
            "{} moved data faster than the pipe",
            threads_label(best.name)
        ),
        "the pipe moved data faster than the threads",
        &figures,
    )
}

/// The verdict of one comparison, threads first: holds when the threads
/// were clearly better, does not hold when the pipe was, inconclusive
/// otherwise, with why.
fn ordered_verdict(
    what: &str,
    order: Order,
    threads_better: &str,
    pipe_better: &str,
    figures: &str,
) -> Verdict {
    match order {
        Order::First(by) => Verdict::new(
            Outcome::Holds,
            format!("{what}: {threads_better}, {} ({figures})", times(by)),
        ),
        Order::Second(by) => Verdict::new(
            Outcome::DoesNotHold,
            format!("{what}: {pipe_better}, {} ({figures})", times(by)),
        ),
        Order::TooClose(by) => Verdict::new(
            Outcome::Inconclusive,
            format!(
                "{what}: the medians are within {} of each other (under the {CLEAR_RATIO}× \
                 this lesson needs to call one faster): {figures}",
                times(by)
            ),
        ),
        Order::TooNoisy(by) => Verdict::new(
            Outcome::Inconclusive,
            format!(
                "{what}: the medians differ by {}, but the samples overlap (the middle halves \
                 of both ranges cross), so other work on the machine could have made the difference: {figures}",
                times(by)
            ),
        ),
        Order::Missing => Verdict::new(
            Outcome::Inconclusive,
            format!("{what}: a way has no usable samples: {figures}"),
        ),
    }
}

/// A ratio as people say it: `1.1×`, `12×`, `801×`.
fn times(ratio: f64) -> String {
    if ratio < 10.0 {
        format!("{ratio:.1}×")
    } else {
        format!("{ratio:.0}×")
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

    #[test]
    fn threads_pass_data_intact_taking_turns() {
        let (channels, schedule) =
            measure(&fast(), &[Way::ThreadChannel, Way::ThreadSharedMemory]).unwrap();
        let (channel, shared) = (&channels[0], &channels[1]);
        assert!(channel.intact && channel.bytes == 64 << 20, "{channel:?}");
        assert!(shared.intact && shared.bytes == 64 << 20, "{shared:?}");
        // Round-robin: the ways alternate, sample by sample.
        assert_eq!(schedule.len(), 2 * (SEGMENTS + BATCHES));
        for pair in schedule.chunks(2) {
            assert_eq!(
                (pair[0].way, pair[1].way, pair[0].sample),
                (channel.name, shared.name, pair[1].sample),
                "{schedule:?}"
            );
        }
        assert_eq!(shared.segment_mb_per_s.len(), SEGMENTS);
        assert_eq!(shared.batch_round_trip_s.len(), BATCHES);
        assert!(shared.round_trip_s > 0.0 && channel.round_trip_s > 0.0);
    }

    /// A channel with the given throughput and round-trip samples.
    fn synthetic(name: &'static str, processes: bool, mb_s: &[f64], rt_s: &[f64]) -> Channel {
        let segments = mb_s.iter().map(|&r| (1_000_000, 1.0 / r)).collect();
        Channel::new(name, processes, segments, true, 100, rt_s.to_vec())
    }

    fn spread_of(centre: f64, wobble: f64) -> Vec<f64> {
        (0..10)
            .map(|i| centre * (1.0 + wobble * (i as f64 / 9.0 - 0.5)))
            .collect()
    }

    #[test]
    fn latency_and_throughput_are_separate_verdicts() {
        // Threads answer 5× sooner, but the pipe moves data 3× faster.
        let evidence = Evidence {
            channels: vec![
                synthetic(
                    "2 processes, pipe",
                    true,
                    &spread_of(3000.0, 0.1),
                    &spread_of(50e-6, 0.1),
                ),
                synthetic(
                    "2 threads, channel",
                    false,
                    &spread_of(1000.0, 0.1),
                    &spread_of(10e-6, 0.1),
                ),
            ],
            schedule: Vec::new(),
        };
        let verdicts = verdicts(&evidence);
        assert_eq!(verdicts.len(), 3, "{verdicts:?}");
        assert_eq!(verdicts[0].outcome, Outcome::Holds);
        assert!(verdicts[1].text.starts_with("latency: "), "{verdicts:?}");
        assert_eq!(verdicts[1].outcome, Outcome::Holds, "{verdicts:?}");
        assert!(verdicts[2].text.starts_with("throughput: "), "{verdicts:?}");
        assert_eq!(verdicts[2].outcome, Outcome::DoesNotHold, "{verdicts:?}");
        assert!(verdicts[2].text.contains("the pipe moved data faster"));
    }

    #[test]
    fn close_or_noisy_samples_are_inconclusive() {
        // Within 10 %: too close. 2× apart in the median but samples that
        // swing 4× (a busy machine): too noisy.
        let evidence = Evidence {
            channels: vec![
                synthetic(
                    "2 processes, pipe",
                    true,
                    &spread_of(1000.0, 0.05),
                    &spread_of(20e-6, 1.5),
                ),
                synthetic(
                    "2 threads, channel",
                    false,
                    &spread_of(1080.0, 0.05),
                    &spread_of(10e-6, 1.5),
                ),
            ],
            schedule: Vec::new(),
        };
        let verdicts = verdicts(&evidence);
        assert_eq!(verdicts[0].outcome, Outcome::Holds, "{verdicts:?}");
        for verdict in &verdicts[1..] {
            assert_eq!(verdict.outcome, Outcome::Inconclusive, "{verdicts:?}");
            assert!(
                verdict.text.contains("the samples overlap") || verdict.text.contains("within"),
                "{verdict:?}"
            );
        }
        assert!(verdicts[1].text.contains("overlap"), "{verdicts:?}");
        assert!(verdicts[2].text.contains("within"), "{verdicts:?}");
    }

    #[test]
    fn damaged_data_is_not_compared() {
        let mut broken = synthetic("2 threads, channel", false, &[1.0; 10], &[1.0; 10]);
        broken.intact = false;
        let evidence = Evidence {
            channels: vec![
                synthetic("2 processes, pipe", true, &[1.0; 10], &[1.0; 10]),
                broken,
            ],
            schedule: Vec::new(),
        };
        let verdicts = verdicts(&evidence);
        assert!(
            verdicts[1..]
                .iter()
                .all(|v| v.outcome == Outcome::Inconclusive)
        );
    }
}
