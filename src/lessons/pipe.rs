//! `pipe`: processes do not share memory, so they talk through pipes. How
//! fast, compared with threads, which can pass data through a channel or
//! simply through memory they share?

use std::io::{Read, Write};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc;

use serde::Serialize;

use super::{Finding, Lesson, LessonError, Options, Outcome, Verdict, child};
use crate::fmt::{Table, seconds_fine, thousands};
use crate::measure::clock::MonoTime;
use crate::sys::children::GroupChild;

/// The lesson.
pub(crate) const LESSON: Lesson = Lesson {
    name: "pipe",
    summary: "throughput and round-trip time: two processes over a pipe vs two threads over a channel or shared memory",
    claim: "Processes cannot read each other's memory, so they exchange data through a pipe (as \
            multiprocessing.Pipe does), which costs more than threads passing data in the memory they share.",
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

fn volume(options: &Options) -> usize {
    if options.fast { 8 << 20 } else { 128 << 20 }
}

fn round_trips(options: &Options) -> usize {
    if options.fast { 1_000 } else { 5_000 }
}

fn plan(options: &Options) -> String {
    format!(
        "Throughput: one side sends {} MiB in {} KiB pieces, the other receives them and checks their sum. \
         Round trip: one side sends 1 byte, the other sends it back, {} times in {BATCHES} batches (the \
         median batch is kept). Three ways: two processes over \
         a pipe (paralab started again at the far end), two threads over a channel (std::sync::mpsc, each \
         piece copied once into a message), and two threads through shared memory (a ring buffer of atomic \
         words; for the round trip, one atomic word both threads watch).",
        volume(options) >> 20,
        CHUNK / 1024,
        thousands(round_trips(options) as u64),
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

/// The child: `pipe-sink`: reads standard input to its end, then prints
/// `BYTES CHECKSUM`.
pub(crate) fn sink_child(_args: &[String]) -> Result<i32, String> {
    let mut input = std::io::stdin().lock();
    let mut buffer = vec![0u8; CHUNK];
    let (mut bytes, mut sum) = (0u64, 0u64);
    loop {
        match input.read(&mut buffer) {
            Ok(0) => break,
            Ok(read) => {
                bytes += read as u64;
                sum += checksum(&buffer[..read]);
            }
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
            Err(error) => return Err(format!("reading the pipe failed: {error}")),
        }
    }
    println!("{bytes} {sum}");
    Ok(0)
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
    /// `process pipe`, `thread channel`, `thread shared memory`.
    pub name: &'static str,
    /// Bytes sent.
    pub bytes: u64,
    /// Whether the receiver's count and sum matched what was sent.
    pub intact: bool,
    /// Seconds to send them all and hear they arrived.
    pub transfer_s: f64,
    /// Megabytes (10⁶ bytes) per second.
    pub mb_per_s: f64,
    /// Round trips of one byte.
    pub round_trips: usize,
    /// Seconds per round trip: the median over 10 batches of each batch's mean.
    pub round_trip_s: f64,
}

/// The evidence, as data.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Evidence {
    /// Process pipe, thread channel, thread shared memory.
    pub channels: Vec<Channel>,
}

fn measured(
    name: &'static str,
    bytes: usize,
    intact: bool,
    transfer_s: f64,
    round_trips: usize,
    round_trip_s: f64,
) -> Channel {
    Channel {
        name,
        bytes: bytes as u64,
        intact,
        transfer_s,
        mb_per_s: bytes as f64 / transfer_s.max(1e-9) / 1e6,
        round_trips,
        round_trip_s,
    }
}

/// Round trips are timed in this many batches; the median batch counts,
/// so a moment when another program held the CPU does not.
const BATCHES: usize = 10;

/// How many times `round_trip_time` calls its closure for `trips`: one
/// untimed warm-up batch, then the timed ones.
fn round_trips_made(trips: usize) -> usize {
    (BATCHES + 1) * (trips / BATCHES).max(1)
}

/// Seconds per round trip: `one` is called for a warm-up batch, then for
/// [`BATCHES`] timed batches; the median of the batch means.
fn round_trip_time(
    trips: usize,
    mut one: impl FnMut() -> std::io::Result<()>,
) -> std::io::Result<f64> {
    let per_batch = (trips / BATCHES).max(1);
    for _ in 0..per_batch {
        one()?;
    }
    let mut means = Vec::with_capacity(BATCHES);
    for _ in 0..BATCHES {
        let t0 = MonoTime::now();
        for _ in 0..per_batch {
            one()?;
        }
        means.push(MonoTime::now().seconds_since(t0) / per_batch as f64);
    }
    Ok(crate::measure::stats::median(&means).unwrap_or(f64::NAN))
}

/// Starts the far end `kind`; it is killed and reaped if the lesson
/// returns before waiting for it.
fn start(options: &Options, kind: &str) -> Result<GroupChild, LessonError> {
    GroupChild::spawn(
        child::command(&options.exe, kind, &[])
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

/// Two processes over a pipe.
pub(crate) fn process_pipe(options: &Options) -> Result<Channel, LessonError> {
    let (bytes, trips) = (volume(options), round_trips(options));
    let data = payload();

    let mut sink = start(options, "pipe-sink")?;
    let (mut to_sink, mut from_sink) = (
        sink.child().stdin.take().expect("piped"),
        sink.child().stdout.take().expect("piped"),
    );
    let t0 = MonoTime::now();
    let mut sent = 0;
    while sent < bytes {
        if let Err(error) = to_sink.write_all(&data) {
            return Err(LessonError::io("writing into the pipe", error));
        }
        sent += data.len();
    }
    drop(to_sink);
    let mut reply = String::new();
    let read = from_sink.read_to_string(&mut reply);
    let transfer_s = MonoTime::now().seconds_since(t0);
    let status = sink.wait();
    read.map_err(|e| LessonError::io("reading the sink's reply", e))?;
    if !status.as_ref().is_ok_and(|s| s.success()) {
        return Err(LessonError(format!(
            "the pipe's far end failed: {status:?}"
        )));
    }
    let expected = format!("{sent} {}", checksum(&data) * (sent / data.len()) as u64);
    let intact = reply.trim() == expected;

    let mut echo = start(options, "pipe-echo")?;
    let (mut to_echo, mut from_echo) = (
        echo.child().stdin.take().expect("piped"),
        echo.child().stdout.take().expect("piped"),
    );
    let mut byte = [7u8; 1];
    let timed = round_trip_time(trips, || {
        to_echo.write_all(&byte)?;
        from_echo.read_exact(&mut byte)
    });
    drop(to_echo);
    let _ = echo.wait();
    let round_trip_s = timed.map_err(|e| LessonError::io("bouncing a byte through the pipe", e))?;
    Ok(measured(
        "2 processes, pipe",
        sent,
        intact,
        transfer_s,
        trips,
        round_trip_s,
    ))
}

/// Two threads over a channel.
pub(crate) fn thread_channel(options: &Options) -> Channel {
    let (bytes, trips) = (volume(options), round_trips(options));
    let data = payload();
    let chunks = bytes.div_ceil(CHUNK);
    let (tx, rx) = mpsc::sync_channel::<Vec<u8>>(16);
    let t0 = MonoTime::now();
    let receiver = std::thread::spawn(move || {
        rx.iter().fold((0u64, 0u64), |(n, sum), piece| {
            (n + piece.len() as u64, sum + checksum(&piece))
        })
    });
    for _ in 0..chunks {
        if tx.send(data.to_vec()).is_err() {
            break;
        }
    }
    drop(tx);
    let (received, sum) = receiver.join().unwrap_or_default();
    let transfer_s = MonoTime::now().seconds_since(t0);
    let sent = chunks * CHUNK;
    let intact = received == sent as u64 && sum == checksum(&data) * chunks as u64;

    let (ping_tx, ping_rx) = mpsc::channel::<u8>();
    let (pong_tx, pong_rx) = mpsc::channel::<u8>();
    let echo = std::thread::spawn(move || {
        for byte in ping_rx {
            if pong_tx.send(byte).is_err() {
                break;
            }
        }
    });
    let round_trip_s = round_trip_time(trips, || {
        ping_tx.send(7).map_err(std::io::Error::other)?;
        pong_rx.recv().map(drop).map_err(std::io::Error::other)
    })
    .unwrap_or(f64::NAN);
    drop(ping_tx);
    let _ = echo.join();
    measured(
        "2 threads, channel",
        sent,
        intact,
        transfer_s,
        trips,
        round_trip_s,
    )
}

/// Words in the shared ring buffer (64 KiB).
const RING_WORDS: usize = CHUNK / 8;
/// Words published at once, so the two threads do not fight over the
/// counters' cache line for every word.
const BATCH: usize = 1024;

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

/// A single-producer single-consumer ring of atomic words: the threads
/// share the memory itself; nothing is copied by the kernel.
struct Ring {
    words: Vec<AtomicU64>,
    /// Words written so far (by the producer).
    tail: AtomicUsize,
    /// Words read so far (by the consumer).
    head: AtomicUsize,
}

/// Two threads through shared memory.
pub(crate) fn thread_shared_memory(options: &Options) -> Channel {
    let (bytes, trips) = (volume(options), round_trips(options));
    let data = payload();
    let words_of_data: Vec<u64> = data
        .chunks_exact(8)
        .map(|w| u64::from_le_bytes(w.try_into().expect("8 bytes")))
        .collect();
    let chunks = bytes.div_ceil(CHUNK);
    let total_words = chunks * words_of_data.len();
    let ring = Arc::new(Ring {
        words: (0..RING_WORDS).map(|_| AtomicU64::new(0)).collect(),
        tail: AtomicUsize::new(0),
        head: AtomicUsize::new(0),
    });
    let t0 = MonoTime::now();
    let reader = Arc::clone(&ring);
    let consumer = std::thread::spawn(move || {
        let (mut read, mut sum) = (0usize, 0u64);
        while read < total_words {
            wait_until(|| reader.tail.load(Ordering::Acquire) > read);
            let available = reader.tail.load(Ordering::Acquire);
            for at in read..available {
                let word = reader.words[at % RING_WORDS].load(Ordering::Relaxed);
                sum += byte_sum(word);
            }
            read = available;
            reader.head.store(read, Ordering::Release);
        }
        (read, sum)
    });
    let mut written = 0;
    while written < total_words {
        let batch = BATCH.min(total_words - written);
        wait_until(|| written + batch - ring.head.load(Ordering::Acquire) <= RING_WORDS);
        for at in written..written + batch {
            ring.words[at % RING_WORDS]
                .store(words_of_data[at % words_of_data.len()], Ordering::Relaxed);
        }
        written += batch;
        ring.tail.store(written, Ordering::Release);
    }
    let (read, sum) = consumer.join().unwrap_or_default();
    let transfer_s = MonoTime::now().seconds_since(t0);
    let sent = chunks * CHUNK;
    let intact = read * 8 == sent && sum == checksum(&data) * chunks as u64;

    // Round trip: the main thread writes an odd number, the echo thread
    // answers with the next even one.
    let flag = Arc::new(AtomicU64::new(0));
    let echo_flag = Arc::clone(&flag);
    let total = round_trips_made(trips) as u64;
    let echo = std::thread::spawn(move || {
        for k in 0..total {
            wait_until(|| echo_flag.load(Ordering::Acquire) == 2 * k + 1);
            echo_flag.store(2 * k + 2, Ordering::Release);
        }
    });
    let mut k = 0;
    let round_trip_s = round_trip_time(trips, || {
        flag.store(2 * k + 1, Ordering::Release);
        wait_until(|| flag.load(Ordering::Acquire) == 2 * k + 2);
        k += 1;
        Ok(())
    })
    .unwrap_or(f64::NAN);
    let _ = echo.join();
    measured(
        "2 threads, shared memory",
        sent,
        intact,
        transfer_s,
        trips,
        round_trip_s,
    )
}

fn run(options: &Options) -> Result<Finding, LessonError> {
    let channels = vec![
        process_pipe(options)?,
        thread_channel(options),
        thread_shared_memory(options),
    ];
    Ok(finding(Evidence { channels }))
}

fn finding(evidence: Evidence) -> Finding {
    let first = &evidence.channels[0];
    let mut table = Table::new(
        format!(
            "{} MiB one way, then {} round trips of 1 byte",
            first.bytes >> 20,
            thousands(first.round_trips as u64)
        ),
        &["between", "arrived intact", "throughput", "round trip"],
    );
    for channel in &evidence.channels {
        table.row(vec![
            channel.name.into(),
            if channel.intact { "yes" } else { "NO" }.into(),
            format!("{} MB/s", thousands(channel.mb_per_s.round() as u64)),
            seconds_fine(channel.round_trip_s),
        ]);
    }
    let notes = vec![
        "A pipe copies every byte twice (into the kernel, out of it) and each round trip wakes the other \
         process through the kernel. A channel between threads passes a pointer to the data; a round trip \
         wakes a thread. Shared memory is read where it was written, and a waiting thread sees a change \
         as soon as the CPU caches pass it on. \
         But a thread waiting on shared memory spins, then yields its CPU: its round trips are this fast \
         only while both threads have a CPU of their own, and on a busy machine can be slower than a pipe."
            .to_string(),
    ];
    let pipe = &evidence.channels[0];
    let others: Vec<String> = evidence.channels[1..]
        .iter()
        .map(|c| {
            format!(
                "{}: {} MB/s, {} round trips ({})",
                c.name,
                thousands(c.mb_per_s.round() as u64),
                seconds_fine(c.round_trip_s),
                compared(pipe.round_trip_s / c.round_trip_s.max(1e-12))
            )
        })
        .collect();
    let verdict = if evidence.channels.iter().all(|c| c.intact) {
        let shared = evidence.channels.last().expect("three channels");
        Verdict::new(
            if shared.round_trip_s < pipe.round_trip_s {
                Outcome::Holds
            } else {
                Outcome::DoesNotHold
            },
            format!(
                "the pipe carried {} MiB intact at {} MB/s with {} round trips; {}",
                pipe.bytes >> 20,
                thousands(pipe.mb_per_s.round() as u64),
                seconds_fine(pipe.round_trip_s),
                others.join("; ")
            ),
        )
    } else {
        Verdict::new(
            Outcome::DoesNotHold,
            format!(
                "data did not arrive intact over: {}",
                evidence
                    .channels
                    .iter()
                    .filter(|c| !c.intact)
                    .map(|c| c.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
    };
    Finding {
        tables: vec![table],
        notes,
        verdicts: vec![verdict],
        evidence: serde_json::to_value(&evidence).expect("plain data serialises"),
    }
}

/// A round trip compared with the pipe's, from the pipe's time / its time.
fn compared(ratio: f64) -> String {
    if ratio >= 1.1 {
        format!("{} shorter than the pipe's", times(ratio))
    } else if ratio <= 1.0 / 1.1 {
        format!("{} longer than the pipe's", times(1.0 / ratio))
    } else {
        "about the same as the pipe's".to_string()
    }
}

/// The sum of a word's 8 bytes, as [`checksum`] would give for them: add
/// bytes in pairs into four 16-bit lanes, then the lanes with one multiply.
fn byte_sum(word: u64) -> u64 {
    const EVEN_BYTES: u64 = 0x00FF_00FF_00FF_00FF;
    let pairs = (word & EVEN_BYTES) + ((word >> 8) & EVEN_BYTES);
    pairs.wrapping_mul(0x0001_0001_0001_0001) >> 48
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

    #[test]
    fn byte_sum_adds_the_bytes_of_a_word() {
        for word in [0, u64::MAX, 0x0102_0304_0506_0708, 0xFF00_0000_0000_00FF] {
            assert_eq!(byte_sum(word), checksum(&word.to_le_bytes()), "{word:#x}");
        }
    }

    #[test]
    fn threads_pass_data_intact() {
        let options = Options {
            fast: true,
            ..Options::new("unused")
        };
        let channel = thread_channel(&options);
        assert!(channel.intact && channel.bytes == 8 << 20, "{channel:?}");
        let shared = thread_shared_memory(&options);
        assert!(shared.intact && shared.bytes == 8 << 20, "{shared:?}");
        assert!(shared.round_trip_s > 0.0 && channel.round_trip_s > 0.0);
    }
}
