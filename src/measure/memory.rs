//! Memory of a process, read from `/proc`.
//!
//! RSS counts every page a process has resident, shared or not, so N
//! forked children that share their parent's pages each report them all.
//! PSS (from `smaps_rollup`) divides each shared page among the processes
//! that share it, so PSS values add up to the real total. VmHWM is the
//! process's own peak RSS; unlike `ru_maxrss` of `RUSAGE_CHILDREN`, it is
//! not the maximum over every child ever reaped.

use std::io;

pub(crate) use crate::sys::procfs::children_of;
use crate::sys::procfs::field;

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
    /// Reads `/proc/<pid>/smaps_rollup` and `/proc/<pid>/status`.
    pub(crate) fn of(pid: u32) -> io::Result<ProcessMemory> {
        Self::read(&format!("/proc/{pid}"))
    }

    /// The calling process's memory.
    pub(crate) fn own() -> io::Result<ProcessMemory> {
        Self::read("/proc/self")
    }

    fn read(dir: &str) -> io::Result<ProcessMemory> {
        let rollup = std::fs::read_to_string(format!("{dir}/smaps_rollup"))?;
        let status = std::fs::read_to_string(format!("{dir}/status"))?;
        Ok(ProcessMemory {
            rss_kib: field(&rollup, "Rss:")?,
            pss_kib: field(&rollup, "Pss:")?,
            peak_rss_kib: field(&status, "VmHWM:")?,
            threads: field(&status, "Threads:")?,
        })
    }
}

/// The memory of this process and its children at one instant.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Snapshot {
    /// This process.
    pub parent: ProcessMemory,
    /// Each live child (a child that exits between listing and reading is skipped).
    pub children: Vec<ProcessMemory>,
}

impl Snapshot {
    /// Reads this process and its live children now.
    pub(crate) fn now() -> io::Result<Snapshot> {
        let children = children_of(std::process::id())
            .into_iter()
            .filter_map(|pid| ProcessMemory::of(pid).ok())
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
        let status = std::fs::read_to_string("/proc/self/status")?;
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
pub(crate) struct MemorySampler {
    stop: std::sync::mpsc::Sender<()>,
    thread: std::thread::JoinHandle<Snapshot>,
}

impl MemorySampler {
    /// Starts sampling this process every `interval`, and its children too
    /// when `children` is true (a scan of `/proc`, which costs more).
    pub(crate) fn start_with(interval: std::time::Duration, children: bool) -> MemorySampler {
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            let mut peak = Snapshot::default();
            loop {
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
                match stopped.recv_timeout(interval) {
                    Err(std::sync::mpsc::RecvTimeoutError::Timeout) => continue,
                    _ => return peak,
                }
            }
        });
        MemorySampler { stop, thread }
    }

    /// Takes a last sample and returns the snapshot of largest total PSS.
    pub(crate) fn stop(self) -> Snapshot {
        let _ = self.stop.send(());
        self.thread.join().unwrap_or_default()
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
    /// `(peak − before) / workers`: what one more worker costs, KiB.
    pub per_worker_kib: f64,
    /// The largest number of live child processes seen in one sample.
    pub children_seen: usize,
}

impl MemoryUse {
    /// The memory used by `workers` workers, from the snapshot before they
    /// started and the peak snapshot while they ran.
    pub(crate) fn between(before: &Snapshot, peak: &Snapshot, workers: usize) -> MemoryUse {
        let before_kib = before.total_pss_kib();
        let peak_kib = peak.total_pss_kib().max(before_kib);
        MemoryUse {
            before_kib,
            peak_kib,
            per_worker_kib: (peak_kib - before_kib) as f64 / workers.max(1) as f64,
            children_seen: peak.children.len(),
        }
    }
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
        let block = vec![1u8; 64 << 20];
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
        std::thread::sleep(std::time::Duration::from_millis(100));
        assert!(children_of(std::process::id()).contains(&child.id()));
        let snapshot = Snapshot::now().unwrap();
        assert!(snapshot.children.iter().any(|c| c.rss_kib > 0));
        assert!(snapshot.total_pss_kib() > snapshot.parent.pss_kib);
        child.kill().unwrap();
        child.wait().unwrap();
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
