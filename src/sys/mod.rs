//! The OS layer: every call into the kernel that needs care (fork and exec,
//! wait statuses, process groups, signals, `/proc`, limits) lives here, and
//! so does every `unsafe` block of paralab. The layers above (`model`,
//! `measure`, `experiment`, …) ask this one for processes and facts; they
//! never call `libc` themselves.

pub mod signals;
pub mod stop;
