//! Your own Rust code as the workload: how does it scale under threads,
//! async tasks, a pool, a GIL, and forked processes?
//!
//! ```text
//! cargo run --release --example closure_workload
//! ```

use paralab::{Experiment, Model, Plan, StartMethod, WorkloadFn};

fn main() {
    // A program that uses process:spawn would call this first; the
    // closure cannot cross an exec, so this example uses fork only.
    paralab::worker::serve_if_requested();

    // The workload: an FNV-1a hash of 20 million bytes. Its value is the
    // worker's result, checked in every worker against the first call.
    let hash = WorkloadFn::new("fnv-20MB", || {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for i in 0..20_000_000u64 {
            h = (h ^ (i & 0xff)).wrapping_mul(0x0100_0000_01b3);
        }
        h
    });
    let plan = Plan {
        workloads: vec![hash.workload()],
        models: vec![
            Model::THREAD,
            Model::ASYNC,
            Model::POOL,
            "gil".parse().expect("a model name"),
            Model::process(StartMethod::Fork),
        ],
        workers: paralab::default_workers(paralab::logical_cpus()),
        runs: 1,
        warmup: 0,
    };
    let results = Experiment::new(plan).workload_fn(hash).run();
    print!("{}", paralab::report::table(&results.measurements));
    print!("{}", paralab::report::summary(&results.measurements));
    if let Some(failure) = results.failure {
        eprintln!("closure_workload: {failure}");
        std::process::exit(1);
    }
}
