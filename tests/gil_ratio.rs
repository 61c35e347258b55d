//! The gil model against free threads, alone in its test binary so that
//! no other test competes for the CPUs while it times.

mod common;

use common::{gil, plan};
use paralab::{Experiment, Model, Workload};

/// Wall time of `model` running `workers` cpu workers, the sum of their
/// CPU times, and the CPUs other work kept busy meanwhile.
fn cpu_run(model: Model, workers: usize, iters: u64) -> (f64, f64, f64) {
    let results =
        Experiment::new(plan(vec![Workload::Cpu { iters }], &[model], vec![workers])).run();
    assert!(results.failure.is_none(), "{:?}", results.failure);
    let m = &results.measurements[0];
    (
        m.wall_s,
        m.outcomes.iter().filter_map(|o| o.cpu_s).sum(),
        m.others_cpus.unwrap_or(0.0),
    )
}

/// The notebook's Python result, reproduced: behind one global lock two
/// computing threads take about twice as long as one, while free threads
/// take about as long (2 CPUs). The machine is shared, so the ratios have
/// wide margins and ten chances to show; and whatever the load, gil
/// workers never compute at the same time: their CPU times add up to no
/// more than the wall time.
#[test]
fn the_gil_serialises_cpu_work_and_threads_do_not() {
    let iters = 3_000_000;
    let mut seen = Vec::new();
    let mut busy = 0;
    for _ in 0..10 {
        let (gil_1, _, _) = cpu_run(gil(), 1, iters);
        let (gil_2, gil_2_cpu, _) = cpu_run(gil(), 2, iters);
        let (thread_1, _, _) = cpu_run(Model::THREAD, 1, iters);
        let (thread_2, thread_2_cpu, others) = cpu_run(Model::THREAD, 2, iters);
        assert!(
            gil_2_cpu < 1.1 * gil_2 + 0.01,
            "two gil workers computed at once: {gil_2_cpu} s of CPU in {gil_2} s"
        );
        let (gil, thread) = (gil_2 / gil_1, thread_2 / thread_1);
        // Free threads computed at once: by the wall-time ratio, or, when
        // another program holds a CPU part of the time, by CPU time
        // exceeding wall time.
        let threads_parallel = thread < 1.6 || thread_2_cpu > 1.3 * thread_2;
        if (1.6..3.5).contains(&gil) && threads_parallel {
            return;
        }
        // Other work that held a CPU during the two threads' run says
        // nothing of the model (paralab itself would call it inconclusive).
        if others > 0.3 {
            busy += 1;
        }
        seen.push(format!(
            "gil {gil:.2}, thread {thread:.2}, others' CPUs {others:.1}"
        ));
    }
    if busy == seen.len() {
        common::skip(&format!(
            "other work held a CPU in every attempt, so the ratios say nothing: {seen:?}"
        ));
        return;
    }
    panic!("2 workers against 1 never gave gil ≈ 2 and thread ≈ 1: {seen:?}");
}
