//! CPU time and context switches of one thread, read from the kernel's
//! own counters (`getrusage(RUSAGE_THREAD)`), so that a worker's figures
//! are its own and not its process's.

use std::ops::{Add, Sub};

use nix::sys::resource::{UsageWho, getrusage};
use nix::sys::time::TimeVal;

/// CPU time (user and system, in seconds) and context switches
/// (voluntary, involuntary): a snapshot of counters, or the difference of
/// two snapshots.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct CpuUsage {
    /// Time spent running the program's own code.
    pub user_s: f64,
    /// Time the kernel spent working for it (system calls, page faults).
    pub system_s: f64,
    /// Times it gave up its CPU itself, to wait.
    pub voluntary_switches: u64,
    /// Times the scheduler took its CPU away.
    pub involuntary_switches: u64,
}

impl CpuUsage {
    /// The calling thread's counters since it started. `None` only if the
    /// kernel refuses `RUSAGE_THREAD` (Linux has had it since 2.6.26).
    pub(crate) fn now_thread() -> Option<CpuUsage> {
        let usage = getrusage(UsageWho::RUSAGE_THREAD).ok()?;
        Some(CpuUsage {
            user_s: seconds(usage.user_time()),
            system_s: seconds(usage.system_time()),
            voluntary_switches: usage.voluntary_context_switches().max(0) as u64,
            involuntary_switches: usage.involuntary_context_switches().max(0) as u64,
        })
    }

    /// User plus system time.
    pub(crate) fn cpu_s(&self) -> f64 {
        self.user_s + self.system_s
    }

    /// What the calling thread used since `before` (taken on this same
    /// thread): the counters around a job.
    pub(crate) fn thread_since(before: Option<CpuUsage>) -> Option<CpuUsage> {
        Some(CpuUsage::now_thread()? - before?)
    }
}

impl Sub for CpuUsage {
    type Output = CpuUsage;

    /// The usage between two snapshots of the same counters; never
    /// negative (the kernel's split of a thread's time into user and
    /// system is adjusted, but kept monotonic).
    fn sub(self, before: CpuUsage) -> CpuUsage {
        CpuUsage {
            user_s: (self.user_s - before.user_s).max(0.0),
            system_s: (self.system_s - before.system_s).max(0.0),
            voluntary_switches: self
                .voluntary_switches
                .saturating_sub(before.voluntary_switches),
            involuntary_switches: self
                .involuntary_switches
                .saturating_sub(before.involuntary_switches),
        }
    }
}

impl Add for CpuUsage {
    type Output = CpuUsage;

    /// The usage of two stretches of time, together (a task's polls).
    fn add(self, other: CpuUsage) -> CpuUsage {
        CpuUsage {
            user_s: self.user_s + other.user_s,
            system_s: self.system_s + other.system_s,
            voluntary_switches: self.voluntary_switches + other.voluntary_switches,
            involuntary_switches: self.involuntary_switches + other.involuntary_switches,
        }
    }
}

fn seconds(time: TimeVal) -> f64 {
    time.tv_sec() as f64 + time.tv_usec() as f64 / 1e6
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn a_busy_thread_counts_its_own_time_and_a_sleeping_one_its_waits() {
        let before = CpuUsage::now_thread();
        let spin_until = Instant::now() + Duration::from_millis(60);
        let mut x = 0u64;
        while Instant::now() < spin_until {
            x = std::hint::black_box(x.wrapping_add(1));
        }
        let busy = CpuUsage::thread_since(before).unwrap();
        // Only "some": a shared machine may give the spinning thread little
        // of its 60 ms, but never none of it.
        assert!(busy.cpu_s() > 0.0, "{busy:?}");
        assert!(busy.cpu_s() < 5.0, "{busy:?}");

        let before = CpuUsage::now_thread();
        for _ in 0..3 {
            std::thread::sleep(Duration::from_millis(5));
        }
        let slept = CpuUsage::thread_since(before).unwrap();
        assert!(slept.voluntary_switches >= 3, "{slept:?}");
        assert!(slept.cpu_s() < 0.02, "{slept:?}");
    }

    #[test]
    fn differences_never_go_negative() {
        let later = CpuUsage {
            user_s: 1.0,
            system_s: 0.5,
            voluntary_switches: 3,
            involuntary_switches: 1,
        };
        let earlier = CpuUsage {
            user_s: 1.2,
            system_s: 0.25,
            voluntary_switches: 1,
            involuntary_switches: 2,
        };
        let diff = later - earlier;
        assert_eq!(diff.user_s, 0.0);
        assert_eq!(diff.system_s, 0.25);
        assert_eq!(diff.voluntary_switches, 2);
        assert_eq!(diff.involuntary_switches, 0);
    }
}
