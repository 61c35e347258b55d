//! The price of each primitive the models are built from: starting a
//! thread, a process, a task, a pool job; a round trip through a pipe or a
//! channel; a lock; a context switch. Each is timed many times, and reported
//! as a median with its spread, like lmbench's `lat_proc`, `lat_pipe` and
//! `lat_ctx` or `perf bench sched pipe`, so the figures can be compared.

pub(crate) mod mpi;

use std::hint::black_box;
use std::io;
use std::process::{Command, Stdio};
use std::sync::{Arc, Barrier, Mutex, mpsc};
use std::time::Instant;

use serde::Serialize;

use crate::fmt::{Column, Table, nanos};
use crate::machine::logical_cpus;
use crate::sys::fork::{EchoChild, fork_and_wait};

/// One primitive that `paralab primitives` times.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Primitive {
    /// `std::thread::spawn` of an empty closure, then `join`.
    ThreadSpawn,
    /// `fork` of a child that calls `_exit(0)` at once, then `wait4`.
    Fork,
    /// A fresh program (`true`) started by `std::process::Command` (fork
    /// or posix_spawn, then exec), then waited for.
    Exec,
    /// `tokio::spawn` of an empty task on a multi-threaded runtime, then
    /// `.await` of its handle.
    TokioTask,
    /// An empty job sent to a rayon pool (`install`) and waited for.
    RayonJob,
    /// One byte to a forked child through a pipe and back through another.
    PipeRoundTrip,
    /// One message to a thread through an `mpsc` channel and back.
    ChannelRoundTrip,
    /// `Mutex::lock` and unlock with no other thread around.
    MutexUncontended,
    /// `Mutex::lock` and unlock while another thread does the same.
    MutexContended,
    /// One switch between two threads pinned to one CPU, passing a byte
    /// back and forth through pipes (half a round trip).
    ContextSwitch,
}

/// Median, spread and extremes of one primitive's samples, in nanoseconds
/// per operation.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub(crate) struct Timing {
    /// The primitive's short name (`thread`, `fork`, …).
    pub id: &'static str,
    /// What one operation is.
    pub operation: &'static str,
    /// Timed samples (after untimed warm-up ones).
    pub samples: usize,
    /// Operations per sample: cheap operations are timed in batches, so
    /// the clock's own cost does not dominate.
    pub batch: usize,
    /// Median time per operation.
    pub median_ns: f64,
    /// 5th percentile.
    pub p5_ns: f64,
    /// 95th percentile.
    pub p95_ns: f64,
    /// Fastest sample.
    pub min_ns: f64,
    /// The tool that measures the same thing, to compare with.
    pub compare_with: &'static str,
}

impl Primitive {
    /// Every primitive, in the order `paralab primitives` prints them.
    pub(crate) const ALL: [Primitive; 10] = [
        Primitive::ThreadSpawn,
        Primitive::Fork,
        Primitive::Exec,
        Primitive::TokioTask,
        Primitive::RayonJob,
        Primitive::PipeRoundTrip,
        Primitive::ChannelRoundTrip,
        Primitive::MutexUncontended,
        Primitive::MutexContended,
        Primitive::ContextSwitch,
    ];

    /// The short name used by `--only`.
    pub(crate) fn id(self) -> &'static str {
        match self {
            Primitive::ThreadSpawn => "thread",
            Primitive::Fork => "fork",
            Primitive::Exec => "exec",
            Primitive::TokioTask => "tokio-task",
            Primitive::RayonJob => "rayon-job",
            Primitive::PipeRoundTrip => "pipe",
            Primitive::ChannelRoundTrip => "channel",
            Primitive::MutexUncontended => "mutex",
            Primitive::MutexContended => "mutex-contended",
            Primitive::ContextSwitch => "context-switch",
        }
    }

    /// What one operation is, as the table's first column says it.
    pub(crate) fn operation(self) -> &'static str {
        match self {
            Primitive::ThreadSpawn => "thread spawn + join",
            Primitive::Fork => "fork + wait (child exits at once)",
            Primitive::Exec => "spawn of a program (true) + wait",
            Primitive::TokioTask => "tokio task spawn + await",
            Primitive::RayonJob => "rayon job (install on the pool) + wait",
            Primitive::PipeRoundTrip => "pipe round trip between two processes",
            Primitive::ChannelRoundTrip => "channel round trip between two threads",
            Primitive::MutexUncontended => "mutex lock + unlock, uncontended",
            Primitive::MutexContended => "mutex lock + unlock, two threads contending",
            Primitive::ContextSwitch => "context switch, two threads on one CPU",
        }
    }

    /// The lmbench or perf command that measures the same thing.
    pub(crate) fn compare_with(self) -> &'static str {
        match self {
            Primitive::Fork => "lmbench: lat_proc fork",
            Primitive::Exec => "lmbench: lat_proc exec",
            Primitive::PipeRoundTrip => "lmbench: lat_pipe; perf bench sched pipe",
            Primitive::ContextSwitch => {
                "lmbench: lat_ctx -s 0 2; taskset -c 0 perf bench sched pipe -T (÷2)"
            }
            _ => "",
        }
    }

    /// Operations per timed sample.
    pub(crate) fn batch(self) -> usize {
        match self {
            Primitive::MutexUncontended | Primitive::MutexContended => 1000,
            _ => 1,
        }
    }

    /// Times `samples` samples (after a tenth as many untimed ones).
    pub(crate) fn measure(self, samples: usize) -> io::Result<Timing> {
        let samples = samples.max(1);
        let total = samples + (samples / 10).max(1);
        let batch = self.batch();
        let mut ns = match self {
            Primitive::ThreadSpawn => time_each(total, || {
                std::thread::Builder::new()
                    .spawn(|| black_box(1))?
                    .join()
                    .map(drop)
                    .map_err(|_| io::Error::other("the empty thread panicked"))
            })?,
            Primitive::Fork => time_each(total, fork_and_wait)?,
            Primitive::Exec => {
                let program = crate::workload::resolve_program("true").map_err(io::Error::other)?;
                time_each(total, || {
                    let status = Command::new(&program)
                        .stdin(Stdio::null())
                        .stdout(Stdio::null())
                        .status()?;
                    if status.success() {
                        Ok(())
                    } else {
                        Err(io::Error::other(format!("true ended with {status}")))
                    }
                })?
            }
            Primitive::TokioTask => tokio_tasks(total)?,
            Primitive::RayonJob => {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(logical_cpus())
                    .build()
                    .map_err(io::Error::other)?;
                time_each(total, || {
                    pool.install(|| black_box(1));
                    Ok(())
                })?
            }
            Primitive::PipeRoundTrip => {
                let mut child = EchoChild::start()?;
                time_each(total, || child.round_trip())?
            }
            Primitive::ChannelRoundTrip => channel_round_trips(total)?,
            Primitive::MutexUncontended => {
                let lock = Mutex::new(0u64);
                time_each(total, || {
                    for _ in 0..batch {
                        *black_box(&lock).lock().unwrap_or_else(|e| e.into_inner()) += 1;
                    }
                    Ok(())
                })?
            }
            Primitive::MutexContended => contended_mutex(total, batch)?,
            Primitive::ContextSwitch => context_switches(total)?,
        };
        ns.drain(..total - samples);
        for value in &mut ns {
            *value /= batch as f64;
        }
        if self == Primitive::ContextSwitch {
            // A round trip is two switches.
            for value in &mut ns {
                *value /= 2.0;
            }
        }
        ns.sort_by(f64::total_cmp);
        Ok(Timing {
            id: self.id(),
            operation: self.operation(),
            samples,
            batch,
            median_ns: percentile(&ns, 50.0),
            p5_ns: percentile(&ns, 5.0),
            p95_ns: percentile(&ns, 95.0),
            min_ns: ns[0],
            compare_with: self.compare_with(),
        })
    }
}

impl std::str::FromStr for Primitive {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Primitive::ALL
            .into_iter()
            .find(|p| p.id() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Primitive::ALL.iter().map(|p| p.id()).collect();
                format!("unknown primitive '{s}'; accepted: {}", names.join(", "))
            })
    }
}

/// The `p`-th percentile of sorted values, interpolated between ranks
/// (NumPy's default).
fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = p / 100.0 * (sorted.len() - 1) as f64;
    let (low, high) = (rank.floor() as usize, rank.ceil() as usize);
    sorted[low] + (sorted[high] - sorted[low]) * (rank - low as f64)
}

/// Times `count` calls of `op`, one sample each, in nanoseconds.
fn time_each(count: usize, mut op: impl FnMut() -> io::Result<()>) -> io::Result<Vec<f64>> {
    let mut ns = Vec::with_capacity(count);
    for _ in 0..count {
        let start = Instant::now();
        op()?;
        ns.push(start.elapsed().as_nanos() as f64);
    }
    Ok(ns)
}

fn tokio_tasks(count: usize) -> io::Result<Vec<f64>> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(logical_cpus())
        .build()?;
    runtime.block_on(async {
        let mut ns = Vec::with_capacity(count);
        for _ in 0..count {
            let start = Instant::now();
            tokio::spawn(async { black_box(1) })
                .await
                .map_err(io::Error::other)?;
            ns.push(start.elapsed().as_nanos() as f64);
        }
        Ok(ns)
    })
}

fn channel_round_trips(count: usize) -> io::Result<Vec<f64>> {
    let (to_echo, echo_in) = mpsc::channel::<u64>();
    let (echo_out, from_echo) = mpsc::channel::<u64>();
    let echo = std::thread::Builder::new().spawn(move || {
        while let Ok(value) = echo_in.recv() {
            if echo_out.send(value).is_err() {
                break;
            }
        }
    })?;
    let lost = || io::Error::other("the echoing thread stopped");
    let ns = time_each(count, || {
        to_echo.send(1).map_err(|_| lost())?;
        from_echo.recv().map(drop).map_err(|_| lost())
    });
    drop(to_echo);
    let _ = echo.join();
    ns
}

/// Two threads start each batch together (a barrier) and both lock and
/// unlock the same mutex `batch` times; the main thread's batch is timed.
fn contended_mutex(count: usize, batch: usize) -> io::Result<Vec<f64>> {
    let lock = Arc::new(Mutex::new(0u64));
    let start = Arc::new(Barrier::new(2));
    let rival = {
        let (lock, start) = (Arc::clone(&lock), Arc::clone(&start));
        std::thread::Builder::new().spawn(move || {
            for _ in 0..count {
                start.wait();
                for _ in 0..batch {
                    *lock.lock().unwrap_or_else(|e| e.into_inner()) += 1;
                }
            }
        })?
    };
    let ns = time_each(count, || {
        start.wait();
        for _ in 0..batch {
            *lock.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        }
        Ok(())
    });
    let _ = rival.join();
    ns
}

/// Two threads pinned to one CPU pass a byte through two pipes, as
/// `perf bench sched pipe -T` does: each pass is a switch, since only one
/// of them can run.
fn context_switches(count: usize) -> io::Result<Vec<f64>> {
    use std::io::{Read, Write};
    let (mut ping_reader, mut ping_writer) = std::io::pipe()?;
    let (mut pong_reader, mut pong_writer) = std::io::pipe()?;
    let allowed = pin_to_first_cpu()?;
    let echo = std::thread::Builder::new().spawn(move || {
        let pinned = pin_to_first_cpu();
        let mut byte = [0u8; 1];
        while pinned.is_ok() && ping_reader.read_exact(&mut byte).is_ok() {
            if pong_writer.write_all(&byte).is_err() {
                break;
            }
        }
    })?;
    let ns = time_each(count, || {
        ping_writer.write_all(&[1])?;
        let mut byte = [0u8; 1];
        pong_reader.read_exact(&mut byte)
    });
    drop(ping_writer);
    let _ = echo.join();
    nix::sched::sched_setaffinity(nix::unistd::Pid::from_raw(0), &allowed)?;
    ns
}

/// Pins the calling thread to the first CPU it may use; returns the CPUs
/// it could use before, to restore them.
fn pin_to_first_cpu() -> io::Result<nix::sched::CpuSet> {
    use nix::sched::{CpuSet, sched_getaffinity, sched_setaffinity};
    use nix::unistd::Pid;
    let allowed = sched_getaffinity(Pid::from_raw(0))?;
    let first = (0..CpuSet::count())
        .find(|&cpu| allowed.is_set(cpu).unwrap_or(false))
        .unwrap_or(0);
    let mut one = CpuSet::new();
    one.set(first)?;
    sched_setaffinity(Pid::from_raw(0), &one)?;
    Ok(allowed)
}

/// The terminal table of `paralab primitives`.
pub(crate) fn render_table(timings: &[Timing]) -> String {
    let mut table = Table::new(
        "",
        &["primitive", "median", "spread (p5 … p95)", "min", "samples"],
    );
    for t in timings {
        table.row(vec![
            t.operation.to_string(),
            nanos(t.median_ns),
            format!("{:>9} … {:<9}", nanos(t.p5_ns), nanos(t.p95_ns)),
            nanos(t.min_ns),
            t.samples.to_string(),
        ]);
    }
    let columns = [
        Column::LEFT,
        Column::right(9),
        Column::right(21),
        Column::right(9),
        Column::right(7),
    ];
    let mut out = table.render_rows(" ", &columns);
    out.push_str(
        "Times per operation; cheap operations are timed in batches of 1000. A round trip is there and back; \
         a context switch is half a round trip between two threads pinned to one CPU.\n",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_interpolate_like_numpy() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(percentile(&v, 50.0), 2.5);
        assert_eq!(percentile(&v, 0.0), 1.0);
        assert_eq!(percentile(&v, 100.0), 4.0);
        assert!((percentile(&v, 95.0) - 3.85).abs() < 1e-12);
    }

    #[test]
    fn names_parse_back() {
        for p in Primitive::ALL {
            assert_eq!(p.id().parse::<Primitive>(), Ok(p));
        }
        assert!(
            "vfork"
                .parse::<Primitive>()
                .unwrap_err()
                .contains("thread, fork")
        );
    }

    #[test]
    fn primitives_example() {
        use crate::primitives::Primitive;
        let timing = Primitive::ThreadSpawn.measure(20).unwrap();
        assert_eq!(timing.samples, 20);
        assert!(
            timing.min_ns > 0.0
                && timing.min_ns <= timing.median_ns
                && timing.median_ns <= timing.p95_ns
        );
    }
}
