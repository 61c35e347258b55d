//! The notebook's stand-in for IO: a worker that waits.

use std::time::Duration;

/// How long a sleep worker waits when none is given, as in the notebook.
pub(crate) const DEFAULT_SLEEP: Duration = Duration::from_secs(1);

/// Sleeps `duration` and returns it in nanoseconds, like the notebook's
/// `IoThread`, whose `result` is its sleep time.
///
/// It allocates nothing, so it is safe in a child right after `fork`.
pub(crate) fn sleep_for(duration: Duration) -> u64 {
    std::thread::sleep(duration);
    nanos(duration)
}

/// A duration in whole nanoseconds, saturating at `u64::MAX` (584 years).
pub(crate) fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}
