//! Memory of a process, read from `/proc`.
//!
//! RSS counts every page a process has resident, shared or not, so N
//! forked children that share their parent's pages each report them all.
//! PSS (from `smaps_rollup`) divides each shared page among the processes
//! that share it, so PSS values add up to the real total. VmHWM is the
//! process's own peak RSS; unlike `ru_maxrss` of `RUSAGE_CHILDREN`, it is
//! not the maximum over every child ever reaped.
//!
//! Children are found by pid, not by a scan of `/proc`: the process model
//! registers each worker it starts ([`Watched`]) and unregisters it once
//! reaped, so a sample reads `/proc/self` and those children's files and
//! nothing else. A scan of every `/proc/PID/stat` at the start of a run
//! costs more than forking the worker does.

use std::io;
use std::sync::Mutex;

use crate::sys::procfs::{self, field};

/// The worker processes paralab has started and not yet reaped.
static STARTED: Mutex<Vec<u32>> = Mutex::new(Vec::new());

fn started() -> std::sync::MutexGuard<'static, Vec<u32>> {
    STARTED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A child process whose memory the samples read, while this value lives:
/// created as soon as the child is started, dropped once it is reaped (its
/// pid may then be another process's).
pub(crate) struct Watched(u32);

impl Watched {
    /// Adds `pid`, a child of this process, to what [`Snapshot::now`] reads.
    pub(crate) fn start(pid: u32) -> Watched {
        started().push(pid);
        Watched(pid)
    }
}

impl Drop for Watched {
    fn drop(&mut self) {
        let mut pids = started();
        if let Some(at) = pids.iter().position(|&pid| pid == self.0) {
            pids.swap_remove(at);
        }
    }
}

/// The children of this process that are watched now.
pub(crate) fn watched_children() -> Vec<u32> {
    started().clone()
}

/// Memory of one process, in KiB.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct ProcessMemory {
    /// Resident set size: pages in RAM, shared ones counted in full.
    pub rss_kib: u64,
    /// Proportional set size: shared pages divided among their sharers.
    pub pss_kib: u64,
    /// Peak resident set size of this process (VmHWM).
    pub peak_rss_kib: u64,
    /// Threads in the process.
    pub threads: u64,
}

impl ProcessMemory {
    /// Reads `/proc/<pid>/status` and `/proc/<pid>/smaps_rollup` of
    /// `pid`, a child of `parent`: an error if `pid` is no longer
    /// `parent`'s (reaped, and the pid taken by another process).
    fn of_child(pid: u32, parent: u32) -> io::Result<ProcessMemory> {
        let dir = format!("/proc/{pid}");
        let status = procfs::read(&format!("{dir}/status"))?;
        if field(&status, "PPid:")? != u64::from(parent) {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("{pid} is not a child of {parent}"),
            ));
        }
        let rollup = procfs::read(&format!("{dir}/smaps_rollup"))?;
        Self::parse(&rollup, &status)
    }

    /// The calling process's memory.
    pub(crate) fn own() -> io::Result<ProcessMemory> {
        Self::read("/proc/self")
    }

    fn read(dir: &str) -> io::Result<ProcessMemory> {
        let rollup = procfs::read(&format!("{dir}/smaps_rollup"))?;
        let status = procfs::read(&format!("{dir}/status"))?;
        Self::parse(&rollup, &status)
    }

    fn parse(rollup: &str, status: &str) -> io::Result<ProcessMemory> {
        Ok(ProcessMemory {
            rss_kib: field(rollup, "Rss:")?,
            pss_kib: field(rollup, "Pss:")?,
            peak_rss_kib: field(status, "VmHWM:")?,
            threads: field(status, "Threads:")?,
        })
    }
}

/// The memory of this process and its children at one instant.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Snapshot {
    /// This process.
    pub parent: ProcessMemory,
    /// Each live watched child ([`Watched`]; one that has exited by the
    /// time it is read is skipped).
    pub children: Vec<ProcessMemory>,
}

impl Snapshot {
    /// Reads this process and its live watched children now.
    pub(crate) fn now() -> io::Result<Snapshot> {
        let me = std::process::id();
        let children = watched_children()
            .into_iter()
            .filter_map(|pid| ProcessMemory::of_child(pid, me).ok())
            .collect();
        Ok(Snapshot {
            parent: ProcessMemory::own()?,
            children,
        })
    }

    /// This process alone, for models whose workers live inside it, read
    /// from `/proc/self/status` only. `smaps_rollup` walks every mapping
    /// under the lock that thread creation needs, so sampling it while
    /// 10,000 threads start slows their start ten-fold; `status` is read
    /// from counters. Its PSS is therefore RSS: the same for the growth
    /// caused by threads, whose new pages are private.
    pub(crate) fn own() -> io::Result<Snapshot> {
        let status = procfs::read("/proc/self/status")?;
        let rss_kib = field(&status, "VmRSS:")?;
        Ok(Snapshot {
            parent: ProcessMemory {
                rss_kib,
                pss_kib: rss_kib,
                peak_rss_kib: field(&status, "VmHWM:")?,
                threads: field(&status, "Threads:")?,
            },
            children: Vec::new(),
        })
    }

    /// PSS of this process and its children together: the memory they
    /// really use, shared pages counted once.
    pub(crate) fn total_pss_kib(&self) -> u64 {
        self.parent.pss_kib + self.children.iter().map(|c| c.pss_kib).sum::<u64>()
    }
}

/// Samples [`Snapshot`]s on a background thread, at a fixed interval,
/// while workers run, and keeps the one with the largest total PSS.
///
/// The first sample is taken one interval after the start, not at once:
/// the caller has its snapshot from just before, and a sample at the start
/// would read (and lock) paralab's memory map while the first worker is
/// being forked, on the run's clock.
///
/// When the OS refuses its thread (a tiny `ulimit -u`), it samples
/// nothing and [`MemorySampler::stop`] returns an empty snapshot: the run
/// goes on (its own refusal, if any, names the limit) and its memory is
/// not a figure ([`MemoryUse::measured`] is false for it).
pub(crate) struct MemorySampler {
    stop: std::sync::mpsc::Sender<()>,
    thread: Option<std::thread::JoinHandle<Snapshot>>,
}

impl MemorySampler {
    /// Starts sampling this process every `interval`, and its watched
    /// children too when `children` is true (their `smaps_rollup` walks
    /// their page tables, which costs more).
    pub(crate) fn start_with(interval: std::time::Duration, children: bool) -> MemorySampler {
        Self::try_start_with(interval, children).unwrap_or_else(|_| MemorySampler::idle())
    }

    /// A sampler that samples nothing: its [`MemorySampler::stop`] gives
    /// an empty snapshot.
    pub(crate) fn idle() -> MemorySampler {
        let (stop, _) = std::sync::mpsc::channel::<()>();
        MemorySampler { stop, thread: None }
    }

    /// As [`MemorySampler::start_with`], but the OS's refusal to start the
    /// sampling thread is returned, for a caller that records no memory
    /// figure then.
    pub(crate) fn try_start_with(
        interval: std::time::Duration,
        children: bool,
    ) -> std::io::Result<MemorySampler> {
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("paralab-memory".into())
            .spawn(move || {
                let mut peak = Snapshot::default();
                loop {
                    match stopped.recv_timeout(interval) {
                        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                        _ => return peak,
                    }
                    let sampled = if children {
                        Snapshot::now()
                    } else {
                        Snapshot::own()
                    };
                    if let Ok(snapshot) = sampled
                        && snapshot.total_pss_kib() >= peak.total_pss_kib()
                    {
                        peak = snapshot;
                    }
                }
            })?;
        Ok(MemorySampler {
            stop,
            thread: Some(thread),
        })
    }

    /// Stops sampling and returns the snapshot of largest total PSS (an
    /// empty one if the sampler never started or the run was shorter than
    /// one interval).
    pub(crate) fn stop(self) -> Snapshot {
        let _ = self.stop.send(());
        self.thread
            .map(|thread| thread.join().unwrap_or_default())
            .unwrap_or_default()
    }
}

/// The memory a run used, from `/proc` (PSS, so shared pages are counted
/// once), as [`Measurement::memory`](crate::Measurement::memory) records it.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MemoryUse {
    /// PSS of paralab (and its children) just before the workers started, KiB.
    pub before_kib: u64,
    /// The largest PSS of paralab and its children while the workers ran, KiB.
    pub peak_kib: u64,
    /// `(peak − before) / workers`: what one more worker costs, KiB. It
    /// can be under one page: 100,000 tasks that add 68 MB cost 0.7 KiB
    /// each, a figure as good as the 68 MB it comes from.
    pub per_worker_kib: f64,
    /// The largest number of live child processes seen in one sample.
    pub children_seen: usize,
    /// The smallest total growth `/proc` can tell from none, KiB: whole
    /// pages, read twice (before and at the peak) for each process read.
    /// A growth `peak − before` at or under it is not a measurement; see
    /// [`MemoryUse::measured`]. Files saved before it existed read 0.
    #[serde(default)]
    pub resolution_kib: u64,
}

impl MemoryUse {
    /// The memory used by `workers` workers, from the snapshot before they
    /// started and the peak snapshot while they ran. `exact_counters` is
    /// false when the snapshots came from `/proc/PID/status`
    /// ([`Snapshot::own`]) rather than from a walk of the page tables
    /// (`smaps_rollup`, [`Snapshot::now`]).
    pub(crate) fn between(
        before: &Snapshot,
        peak: &Snapshot,
        workers: usize,
        exact_counters: bool,
    ) -> MemoryUse {
        let before_kib = before.total_pss_kib();
        let peak_kib = peak.total_pss_kib().max(before_kib);
        let processes = 1 + before.children.len().max(peak.children.len()) as u64;
        let mut resolution_kib = 2 * processes * page_kib();
        if !exact_counters {
            resolution_kib += status_counter_slack_kib();
        }
        MemoryUse {
            before_kib,
            peak_kib,
            per_worker_kib: (peak_kib - before_kib) as f64 / workers.max(1) as f64,
            children_seen: peak.children.len(),
            resolution_kib,
        }
    }

    /// The total growth, KiB.
    pub(crate) fn growth_kib(&self) -> u64 {
        self.peak_kib.saturating_sub(self.before_kib)
    }

    /// Whether the total growth is more than `/proc` resolves, so that
    /// [`per_worker_kib`](MemoryUse::per_worker_kib) is a figure however
    /// small it is per worker. A file saved before the resolution was
    /// recorded (0) is judged with one page read twice.
    pub(crate) fn measured(&self) -> bool {
        self.growth_kib() > self.resolution_kib.max(2 * page_kib())
    }
}

/// The page size, KiB: `/proc` counts memory in whole pages.
pub(crate) fn page_kib() -> u64 {
    nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE)
        .ok()
        .flatten()
        .map_or(4, |bytes| (bytes as u64 / 1024).max(1))
}

/// How far `/proc/PID/status`'s RSS may lag the truth, KiB. Since Linux
/// 6.2 the kernel keeps a process's RSS in per-CPU counters that fold
/// into the total every `max(32, 2 × CPUs)` pages, and `status` read the
/// folded total alone until 6.16, which sums the per-CPU parts; before
/// 6.2 each thread kept up to 64 pages uncounted. The figure allows one
/// batch per CPU on kernels older than 6.16, none on newer ones.
fn status_counter_slack_kib() -> u64 {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let mut parts = release
        .trim()
        .split(|c: char| !c.is_ascii_digit())
        .map(|p| p.parse::<u64>().unwrap_or(0));
    let version = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    if version >= (6, 16) {
        return 0;
    }
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get() as u64);
    cpus * 32.max(2 * cpus) * page_kib()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_memory_is_plausible() {
        let memory = ProcessMemory::own().unwrap();
        assert!(memory.rss_kib > 0 && memory.pss_kib > 0);
        assert!(memory.pss_kib <= memory.rss_kib);
        assert!(memory.peak_rss_kib >= memory.rss_kib / 2);
        assert!(memory.threads >= 1);
    }

    #[test]
    fn a_touched_allocation_shows_in_rss() {
        let before = ProcessMemory::own().unwrap().rss_kib;
        // black_box: an optimised build would otherwise never allocate it.
        let block = std::hint::black_box(vec![1u8; 64 << 20]);
        let after = ProcessMemory::own().unwrap().rss_kib;
        assert!(after >= before + 60 * 1024, "{before} → {after} KiB");
        drop(block);
    }

    #[test]
    fn children_are_found_and_measured() {
        let mut child = std::process::Command::new("sleep")
            .arg("2")
            .spawn()
            .unwrap();
        let watched = Watched::start(child.id());
        std::thread::sleep(std::time::Duration::from_millis(100));
        let snapshot = Snapshot::now().unwrap();
        assert!(snapshot.children.iter().any(|c| c.rss_kib > 0));
        assert!(snapshot.total_pss_kib() > snapshot.parent.pss_kib);
        child.kill().unwrap();
        child.wait().unwrap();
        drop(watched);
    }

    /// A sample while workers run reads this process's files and the
    /// watched children's, by pid: no listing of `/proc`, not an
    /// unwatched child's files, nothing of a child once it is reaped.
    /// (Tests running at the same time may watch children of their own:
    /// those are read too, by pid.)
    #[test]
    fn a_sample_opens_only_its_own_and_the_watched_childrens_files() {
        let spawn_sleep = || {
            std::process::Command::new("sleep")
                .arg("5")
                .spawn()
                .unwrap()
        };
        let (mut watched_child, mut other) = (spawn_sleep(), spawn_sleep());
        let watched = Watched::start(watched_child.id());
        let _ = procfs::reads_on_this_thread();
        let snapshot = Snapshot::now().unwrap();
        let reads = procfs::reads_on_this_thread();
        let by_pid = |path: &String| {
            path.strip_prefix("/proc/")
                .and_then(|rest| rest.split_once('/'))
                .is_some_and(|(pid, file)| {
                    (pid == "self" || pid.parse::<u32>().is_ok())
                        && (file == "status" || file == "smaps_rollup")
                })
        };
        assert!(reads.iter().all(by_pid), "{reads:?}");
        let of = |child: &std::process::Child| format!("/proc/{}/", child.id());
        assert!(
            reads.iter().any(|p| p.starts_with(&of(&watched_child))),
            "{reads:?}"
        );
        assert!(
            !reads.iter().any(|p| p.starts_with(&of(&other))),
            "{reads:?}"
        );
        assert!(!snapshot.children.is_empty());
        for child in [&mut watched_child, &mut other] {
            child.kill().unwrap();
            child.wait().unwrap();
        }
        drop(watched);
        let _ = Snapshot::now().unwrap();
        let reads = procfs::reads_on_this_thread();
        assert!(
            !reads.iter().any(|p| p.starts_with(&of(&watched_child))),
            "{reads:?}"
        );
    }

    /// A known allocation per worker, made by worker threads while the
    /// sampler runs as `run.rs` runs it, shows up per worker: 200 workers
    /// of 64 KiB each (touched) must read close to 64 KiB each, well
    /// above the resolution. Sub-page figures survive too: the same total
    /// divided among 100,000 "workers" is a measurement, not "too small".
    #[test]
    fn a_known_allocation_per_worker_shows_up() {
        use std::time::Duration;
        const WORKERS: usize = 200;
        const EACH: usize = 64 << 10;
        let before = Snapshot::own().unwrap();
        let sampler = MemorySampler::start_with(Duration::from_millis(5), false);
        let (done, finished) = std::sync::mpsc::channel();
        let (release, hold) = std::sync::mpsc::channel::<()>();
        let hold = std::sync::Arc::new(std::sync::Mutex::new(hold));
        let workers: Vec<_> = (0..WORKERS)
            .map(|_| {
                let done = done.clone();
                let hold = hold.clone();
                std::thread::spawn(move || {
                    let block = vec![7u8; EACH];
                    done.send(()).unwrap();
                    let _ = hold.lock().unwrap().recv();
                    block.iter().map(|&b| b as u64).sum::<u64>()
                })
            })
            .collect();
        for _ in 0..WORKERS {
            finished.recv().unwrap();
        }
        std::thread::sleep(Duration::from_millis(30));
        let peak = sampler.stop();
        for _ in 0..WORKERS {
            release.send(()).unwrap();
        }
        for worker in workers {
            assert_eq!(worker.join().unwrap(), 7 * EACH as u64);
        }
        let memory = MemoryUse::between(&before, &peak, WORKERS, false);
        assert!(memory.measured(), "{memory:?}");
        // Each worker's block, whatever else its thread (stack, malloc
        // arena) and the test harness's other threads add.
        let kib = memory.per_worker_kib;
        assert!(
            (60.0..400.0).contains(&kib),
            "{kib} KiB per worker: {memory:?}"
        );
        let many = MemoryUse::between(&before, &peak, 100_000, false);
        assert!(many.measured() && many.per_worker_kib < 1.0, "{many:?}");
    }

    #[test]
    fn growth_within_resolution_is_not_measured() {
        let at = |kib| Snapshot {
            parent: ProcessMemory {
                rss_kib: kib,
                pss_kib: kib,
                ..ProcessMemory::default()
            },
            children: Vec::new(),
        };
        let page = page_kib();
        let none = MemoryUse::between(&at(5000), &at(5000 + page), 1, true);
        assert!(!none.measured(), "{none:?}");
        let some = MemoryUse::between(&at(5000), &at(5000 + 100 * page), 100_000, true);
        assert!(some.measured(), "{some:?}");
        assert!(some.per_worker_kib < 0.01);
    }

    #[test]
    fn memory_sampler_example() {
        use crate::measure::memory::MemorySampler;
        use std::time::Duration;
        let sampler = MemorySampler::start_with(Duration::from_millis(5), false);
        let block = vec![1u8; 8 << 20];
        std::thread::sleep(Duration::from_millis(30));
        let peak = sampler.stop();
        assert!(peak.parent.rss_kib >= 8 * 1024);
        drop(block);
    }
}
