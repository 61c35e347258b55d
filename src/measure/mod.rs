//! Measuring instruments: clocks that agree across processes, and the
//! statistics of repeated runs, memory read from /proc.

pub(crate) mod clock;
pub(crate) mod memory;
pub(crate) mod stats;
