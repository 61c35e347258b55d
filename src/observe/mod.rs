//! Observers of a running experiment: what watches measurements as they
//! arrive, while reports ([`crate::report`]) only read finished ones.
//!
//! They live apart from the reports because they have side effects and a
//! lifetime (a file kept open, a bar redrawn on a terminal) that pure
//! reports must not have.

pub mod jsonl;
pub mod progress;
