//! A Rust closure as the workload, for the in-process models (`thread`,
//! `async`, `pool`, `gil`) and `process:fork`.

use std::fmt;
use std::sync::Arc;

use super::Workload;

/// A named Rust closure that one worker runs; its `u64` return value is
/// the worker's result, checked against a reference like the built-in
/// workloads' results.
///
/// The [`Plan`](crate::Plan) holds [`WorkloadFn::workload`] (the name and
/// the reference value, plain data); the closure itself is handed to
/// [`Experiment::workload_fn`](crate::Experiment::workload_fn).
///
/// ```
/// use paralab::{Experiment, Model, Plan, StartMethod, WorkloadFn};
///
/// // Sum of the first million squares, modulo 2^64.
/// let squares = WorkloadFn::new("squares", || (0..1_000_000u64).map(|i| i.wrapping_mul(i)).fold(0, u64::wrapping_add));
/// let plan = Plan {
///     workloads: vec![squares.workload()],
///     models: vec![Model::THREAD, Model::POOL, Model::process(StartMethod::Fork)],
///     workers: vec![1, 2],
///     runs: 1,
///     warmup: 0,
/// };
/// let results = Experiment::new(plan).workload_fn(squares).run();
/// assert!(results.failure.is_none());
/// assert_eq!(results.measurements.len(), 6);
/// ```
///
/// Under `process:fork` the closure runs in the forked child, which then
/// only writes its result and exits: keep it to computation (glibc's
/// allocator works there, but locks other threads of the parent held at the
/// fork stay held). It cannot cross an `exec`, so `process:spawn` refuses it.
#[derive(Clone)]
pub struct WorkloadFn {
    name: String,
    expected: u64,
    body: Arc<dyn Fn() -> u64 + Send + Sync>,
}

impl WorkloadFn {
    /// Wraps `body`, calling it once now to learn the reference value every
    /// worker must return.
    pub fn new(name: impl Into<String>, body: impl Fn() -> u64 + Send + Sync + 'static) -> Self {
        let expected = body();
        Self::with_reference(name, expected, body)
    }

    /// Wraps `body` with a known reference value (no call now).
    pub fn with_reference(
        name: impl Into<String>,
        expected: u64,
        body: impl Fn() -> u64 + Send + Sync + 'static,
    ) -> Self {
        WorkloadFn {
            name: name.into(),
            expected,
            body: Arc::new(body),
        }
    }

    /// The name the plan refers to it by.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The plan's side of this closure: its name and reference value.
    pub fn workload(&self) -> Workload {
        Workload::Custom {
            name: self.name.clone(),
            expected: self.expected,
        }
    }

    /// Runs the closure in the calling thread.
    #[inline]
    pub fn call(&self) -> u64 {
        (self.body)()
    }
}

impl fmt::Debug for WorkloadFn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkloadFn")
            .field("name", &self.name)
            .field("expected", &self.expected)
            .finish_non_exhaustive()
    }
}
