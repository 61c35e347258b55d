//! Memory of a process, read from `/proc`.
//!
//! RSS counts every page a process has resident, shared or not, so N
//! forked children that share their parent's pages each report them all.
//! PSS (from `smaps_rollup`) divides each shared page among the processes
//! that share it, so PSS values add up to the real total. VmHWM is the
//! process's own peak RSS; unlike `ru_maxrss` of `RUSAGE_CHILDREN`, it is
//! not the maximum over every child ever reaped.

use std::io;

/// Memory of one process, in KiB.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ProcessMemory {
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
    pub fn of(pid: u32) -> io::Result<ProcessMemory> {
        Self::read(&format!("/proc/{pid}"))
    }

    /// The calling process's memory.
    pub fn own() -> io::Result<ProcessMemory> {
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

/// The number after `name` on its line, e.g. `Pss:   697 kB` → 697.
fn field(text: &str, name: &str) -> io::Result<u64> {
    text.lines()
        .find_map(|line| line.strip_prefix(name))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|number| number.parse().ok())
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("no '{name}' field in /proc"),
            )
        })
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
    fn fields_are_read_by_name() {
        assert_eq!(field("Rss:   10 kB\nPss:  7 kB\n", "Pss:").unwrap(), 7);
        assert!(field("Rss: 10 kB", "Pss:").is_err());
    }
}
