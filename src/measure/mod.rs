//! Measuring instruments: clocks that agree across processes, and the
//! statistics of repeated runs, memory read from /proc, CPU time per
//! thread, when another process's threads ran, and what else kept the
//! machine's CPUs busy.

pub(crate) mod clock;
pub(crate) mod contention;
pub(crate) mod cpu;
pub(crate) mod memory;
pub(crate) mod running;
pub(crate) mod stats;
