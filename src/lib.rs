//! # paralab — a laboratory for parallelism
//!
//! paralab runs N copies of a [`Workload`] at once under a [`Model`]
//! (threads, processes started by `fork` or `spawn`, async tasks, a thread
//! pool, threads behind a CPython-like GIL, or CPython itself), times each
//! run, checks every worker's result against a reference value, and
//! reports the numbers: the table of the notebook "threading vs
//! multiprocessing", a terminal table and summary, JSON, CSV, Markdown,
//! SVG plots and an HTML page ([`report`]).
//!
//! Build a [`Plan`], run it with an [`Experiment`], read the
//! [`Measurement`]s:
//!
//! ```
//! use std::time::Duration;
//! use paralab::{Experiment, Model, Plan, StartMethod, Workload};
//!
//! let plan = Plan {
//!     workloads: vec![Workload::Cpu { iters: 100_000 }, Workload::Sleep { duration: Duration::from_millis(10) }],
//!     models: vec![Model::THREAD, Model::process(StartMethod::Fork)],
//!     workers: vec![1, 2],
//!     runs: 1,
//!     warmup: 0,
//! };
//! let results = Experiment::new(plan).run();
//! assert!(results.failure.is_none());
//! print!("{}", paralab::report::notebook(&results.measurements));
//! ```
//!
//! Models: [`Model::THREAD`], [`Model::process`] (`fork` or `spawn`),
//! [`Model::ASYNC`] (tokio tasks), [`Model::POOL`] (rayon),
//! [`Model::gil`] (threads behind one global lock that behaves like
//! CPython's), and the notebook's own code in `python3`
//! ([`Model::PY_THREAD`], [`Model::py_process`], [`Model::PY_ASYNC`]); any
//! of them by name too (`"process:spawn".parse()`). Workloads: the
//! notebook's `cpu` and `sleep`, an external program
//! ([`Workload::Command`]), or your own Rust closure:
//!
//! ```
//! use paralab::{Experiment, Model, Plan, WorkloadFn};
//!
//! let sum = WorkloadFn::new("sum", || (1..=1000u64).sum());
//! let plan = Plan {
//!     workloads: vec![sum.workload()],
//!     models: vec![Model::THREAD, Model::ASYNC, Model::POOL, "gil".parse().unwrap()],
//!     workers: vec![1, 4],
//!     runs: 1,
//!     warmup: 0,
//! };
//! let results = Experiment::new(plan).workload_fn(sum).run();
//! assert!(results.measurements.iter().all(|m| m.results() == vec![500_500; m.workers]));
//! ```
//!
//! `examples/closure_workload.rs` runs one under every model that can.
//! The `paralab` command ([`cli::main`]) adds the lessons, the costs of the
//! primitives, the saved files and their reports.
//!
//! A program that uses the `spawn` start method must call
//! [`worker::serve_if_requested`] first thing in `main`, or point
//! [`Experiment::worker_exe`] at the `paralab` binary.

#![deny(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

pub mod cli;
pub mod report;

mod dataset;
mod experiment;
mod export;
mod fmt;
mod lessons;
mod machine;
mod measure;
mod model;
mod mpi;
mod primitives;
mod sys;
mod verdict;
mod workload;

pub use model::process::worker;

pub use experiment::{
    Experiment, Failure, Measurement, Observer, Plan, Results, RunKind, ShellStartup,
    default_workers,
};
pub use machine::logical_cpus;
pub use measure::memory::MemoryUse;
pub use model::python::{Python, PythonError};
pub use model::{Model, ModelError, StartMethod, WorkerOutcome, WorkerStatus};
pub use sys::stop::StopToken;
pub use workload::{ProgramError, Workload, WorkloadFn, WorkloadKind};
