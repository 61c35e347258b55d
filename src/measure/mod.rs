//! Measuring instruments: clocks that agree across processes, and the
//! statistics of repeated runs, memory read from /proc.

pub mod clock;
pub mod memory;
pub mod stats;
