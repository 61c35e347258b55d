//! # paralab — a laboratory for parallelism
//!
//! paralab runs N copies of a [`Workload`] at once under a [`Model`]
//! (threads, processes started by `fork` or `spawn`), times each run,
//! checks every worker's result against a reference value, and reports the
//! numbers: the table of the notebook "threading vs multiprocessing", a
//! terminal table, JSON.
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
//!     models: vec![Model::Thread, Model::Process(StartMethod::Fork)],
//!     workers: vec![1, 2],
//!     runs: 1,
//!     warmup: 0,
//! };
//! let results = Experiment::new(plan).run();
//! assert!(results.failure.is_none());
//! print!("{}", paralab::report::notebook::render(&results.measurements));
//! ```
//!
//! A program that uses the `spawn` start method must call
//! [`worker::serve_if_requested`] first thing in `main`, or point
//! [`Experiment::worker_exe`] at the `paralab` binary.

pub mod experiment;
pub mod measure;
pub mod model;
pub mod primitives;
pub mod report;
pub mod worker;
pub mod workload;

pub use experiment::{Experiment, Failure, Measurement, Observer, Plan, Results, RunKind};
pub use model::{Model, ModelError, StartMethod, WorkerOutcome, WorkerStatus};
pub use workload::{Workload, WorkloadFn, WorkloadKind};
