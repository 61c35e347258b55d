//! Measuring instruments: clocks that agree across processes, and the
//! statistics of repeated runs.

pub mod clock;
pub mod stats;
