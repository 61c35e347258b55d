//! Clocks.
//!
//! Every instant paralab records is read from `CLOCK_MONOTONIC`. Unlike
//! `std::time::Instant`, a [`MonoTime`] is a plain number of nanoseconds, so
//! a worker process can send it to its parent through a pipe and the parent
//! can place it on its own time line: the monotonic clock is one clock for
//! the whole machine, not one per process.

use std::time::Duration;

use nix::time::{ClockId, clock_gettime};

/// An instant of `CLOCK_MONOTONIC`, in nanoseconds since boot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct MonoTime(pub u64);

impl MonoTime {
    /// Reads `CLOCK_MONOTONIC`. Async-signal-safe: usable after `fork`.
    pub(crate) fn now() -> MonoTime {
        MonoTime(read_nanos(ClockId::CLOCK_MONOTONIC))
    }

    /// Seconds from `earlier` to `self`, negative if `self` came first.
    pub(crate) fn seconds_since(self, earlier: MonoTime) -> f64 {
        (self.0 as f64 - earlier.0 as f64) / 1e9
    }

    /// Time elapsed since `self`.
    pub(crate) fn elapsed(self) -> Duration {
        Duration::from_nanos(MonoTime::now().0.saturating_sub(self.0))
    }
}

fn read_nanos(clock: ClockId) -> u64 {
    // CLOCK_MONOTONIC exists on every Linux since 2.6; a failure here would
    // mean no clock to measure with at all.
    let ts = clock_gettime(clock).expect("CLOCK_MONOTONIC exists on Linux");
    ts.tv_sec() as u64 * 1_000_000_000 + ts.tv_nsec() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monotonic_time_moves_forward_with_sleep() {
        let t0 = MonoTime::now();
        std::thread::sleep(Duration::from_millis(20));
        let t1 = MonoTime::now();
        assert!(t1.seconds_since(t0) >= 0.020, "{}", t1.seconds_since(t0));
        assert!(t0.seconds_since(t1) < 0.0);
    }
}
