//! The models through the library: every model returns the reference
//! results (the notebook's cpu loop, sleeps, Rust closures), failures are
//! reported, never turned into numbers, and models keep their file form.

mod common;

use std::time::Duration;

use common::{PARALAB, fake_program, gil, plan};
use paralab::{Experiment, Failure, Model, StartMethod, WorkerStatus, Workload, WorkloadFn};

const ALL_MODELS: [Model; 3] = [
    Model::THREAD,
    Model::process(StartMethod::Fork),
    Model::process(StartMethod::Spawn),
];

#[test]
fn every_model_returns_the_reference_result_in_every_worker() {
    let workloads = vec![
        Workload::Cpu { iters: 250_001 },
        Workload::Sleep {
            duration: Duration::from_millis(20),
        },
    ];
    let results = Experiment::new(plan(workloads, &ALL_MODELS, vec![1, 3]))
        .worker_exe(PARALAB)
        .run();
    assert!(results.failure.is_none(), "{:?}", results.failure);
    assert_eq!(results.measurements.len(), 2 * 3 * 2);
    for m in &results.measurements {
        let expected = m.workload.expected_result();
        assert_eq!(m.results(), vec![expected; m.workers], "{}", m.label());
        assert_eq!(
            m.outcomes.iter().map(|o| o.worker).collect::<Vec<_>>(),
            (0..m.workers).collect::<Vec<_>>()
        );
    }
    // The reference itself, against the notebook's loop written again here.
    let cpu = common::notebook_cpu_func(250_001);
    assert!(
        results
            .measurements
            .iter()
            .filter(|m| m.workload.kind().name() == "cpu")
            .all(|m| m.results()[0] == cpu)
    );
}

#[test]
fn worker_times_fall_inside_the_run() {
    let workloads = vec![Workload::Sleep {
        duration: Duration::from_millis(30),
    }];
    let results = Experiment::new(plan(workloads, &ALL_MODELS, vec![2]))
        .worker_exe(PARALAB)
        .run();
    for m in &results.measurements {
        for o in &m.outcomes {
            let (start, end) = (o.start_s.unwrap(), o.end_s.unwrap());
            assert!(
                0.0 <= start && start <= end && end <= m.wall_s,
                "{}: {o:?} in {}",
                m.label(),
                m.wall_s
            );
            assert!(
                end - start >= 0.030,
                "{}: slept {} s",
                m.label(),
                end - start
            );
            assert!(o.cpu_s.unwrap() >= 0.0);
        }
    }
}

/// Writes an executable shell script standing in for the worker program.
fn run_with_fake_worker(body: &str) -> paralab::Results {
    let dir = tempfile::tempdir().unwrap();
    let exe = fake_program(dir.path(), "fake-worker", body);
    let spawn = [Model::process(StartMethod::Spawn)];
    Experiment::new(plan(vec![Workload::Cpu { iters: 1000 }], &spawn, vec![2]))
        .worker_exe(exe)
        .run()
}

#[test]
fn a_worker_killed_by_a_signal_is_named_and_stops_the_sweep() {
    let results = run_with_fake_worker("kill -SEGV $$");
    let failure = results.failure.expect("a crashed worker must fail the run");
    assert!(
        failure
            .to_string()
            .contains("worker 0 was killed by SIGSEGV"),
        "{failure}"
    );
    let m = &results.measurements[0];
    assert_eq!(
        m.outcomes[1].status,
        WorkerStatus::Killed {
            signal: "SIGSEGV".into()
        }
    );
}

#[test]
fn a_worker_that_exits_with_an_error_is_reported_with_its_code() {
    let results = run_with_fake_worker("exit 7");
    assert!(matches!(results.failure, Some(Failure::Workers { .. })));
    assert_eq!(
        results.measurements[0].outcomes[0].status,
        WorkerStatus::Exited { code: 7 }
    );
}

#[test]
fn a_worker_that_reports_nothing_is_lost_not_counted() {
    let results = run_with_fake_worker("exit 0");
    let status = &results.measurements[0].outcomes[0].status;
    assert!(
        matches!(status, WorkerStatus::Lost { reason } if reason.contains("without reporting")),
        "{status:?}"
    );
}

#[test]
fn a_wrong_result_is_caught_against_the_reference() {
    // A well-formed record ("PLW1", worker $2, result 42, times 0) with a
    // result that is not cpu_func(1000).
    let results = run_with_fake_worker(
        r#"printf "PLW1\\$(printf %03o "$2")\000\000\000*\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000""#,
    );
    let m = &results.measurements[0];
    for outcome in &m.outcomes {
        assert_eq!(
            outcome.status,
            WorkerStatus::WrongResult {
                result: 42,
                expected: 9_707_240
            }
        );
    }
    assert!(
        results
            .failure
            .unwrap()
            .to_string()
            .contains("returned 42, but the reference value is 9707240")
    );
}

#[test]
fn garbage_on_the_pipe_is_refused() {
    let results = run_with_fake_worker(
        "echo 'hello from a program that is not a paralab worker, long enough'",
    );
    let status = &results.measurements[0].outcomes[0].status;
    assert!(
        matches!(status, WorkerStatus::Lost { reason } if reason.contains("unreadable")),
        "{status:?}"
    );
}

#[test]
fn a_missing_worker_program_is_a_clear_error() {
    let spawn = [Model::process(StartMethod::Spawn)];
    let results = Experiment::new(plan(vec![Workload::Cpu { iters: 10 }], &spawn, vec![1]))
        .worker_exe("/nonexistent/paralab")
        .run();
    let failure = results.failure.expect("must fail").to_string();
    assert!(
        failure.contains("/nonexistent/paralab") && failure.contains("spawn"),
        "{failure}"
    );
    assert!(results.measurements.is_empty());
}

#[test]
fn measurements_before_a_failure_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let exe = fake_program(dir.path(), "fake-worker", "kill -KILL $$");
    let models = [Model::THREAD, Model::process(StartMethod::Spawn)];
    let results = Experiment::new(plan(
        vec![Workload::Cpu { iters: 100 }],
        &models,
        vec![1, 2],
    ))
    .worker_exe(exe)
    .run();
    assert!(results.failure.is_some());
    assert_eq!(
        results.measurements.len(),
        2,
        "the thread run, then the failed spawn run"
    );
    assert!(results.measurements[0].succeeded());
    assert!(!results.measurements[1].succeeded());
}

/// Sleeping workers overlap in every model: three take far less than three
/// times one. A ratio with a wide margin, so a busy machine cannot fail it.
#[test]
fn sleeps_overlap_in_every_model() {
    let workloads = vec![Workload::Sleep {
        duration: Duration::from_millis(100),
    }];
    let results = Experiment::new(plan(workloads, &ALL_MODELS, vec![1, 3]))
        .worker_exe(PARALAB)
        .run();
    for model in ALL_MODELS {
        let wall = |n| {
            results
                .measurements
                .iter()
                .find(|m| m.model == model && m.workers == n)
                .unwrap()
                .wall_s
        };
        assert!(
            wall(3) < 2.0 * wall(1),
            "{model}: 3 workers {} s, 1 worker {} s",
            wall(3),
            wall(1)
        );
    }
}

#[test]
fn async_pool_and_gil_return_the_reference_results() {
    let workloads = vec![
        Workload::Cpu { iters: 100_000 },
        Workload::Sleep {
            duration: Duration::from_millis(20),
        },
    ];
    let models = [Model::ASYNC, Model::POOL, gil()];
    let results = Experiment::new(plan(workloads, &models, vec![1, 3])).run();
    assert!(results.failure.is_none(), "{:?}", results.failure);
    assert_eq!(results.measurements.len(), 2 * 3 * 2);
    for m in &results.measurements {
        let expected = match m.workload {
            // The notebook's value for 100000 iterations.
            Workload::Cpu { .. } => 5_346_240,
            _ => 20_000_000,
        };
        assert_eq!(m.results(), vec![expected; m.workers], "{}", m.label());
        for o in &m.outcomes {
            assert!(o.start_s.unwrap() <= o.end_s.unwrap(), "{}", m.label());
        }
    }
}

#[test]
fn gil_workers_release_the_lock_while_sleeping() {
    let sleep = Workload::Sleep {
        duration: Duration::from_millis(150),
    };
    let results = Experiment::new(plan(vec![sleep], &[gil()], vec![1, 4])).run();
    let wall = |n| {
        results
            .measurements
            .iter()
            .find(|m| m.workers == n)
            .unwrap()
            .wall_s
    };
    assert!(
        wall(4) < 2.0 * wall(1),
        "4 sleepers {} s, 1 sleeper {} s",
        wall(4),
        wall(1)
    );
}

#[test]
fn a_pool_queues_sleeps_beyond_its_threads() {
    let cpus = std::thread::available_parallelism().unwrap().get();
    let sleep = Workload::Sleep {
        duration: Duration::from_millis(100),
    };
    let results = Experiment::new(plan(vec![sleep], &[Model::POOL], vec![2 * cpus])).run();
    let wall = results.measurements[0].wall_s;
    assert!(
        wall >= 0.19,
        "{} sleepers on {cpus} threads took {wall} s",
        2 * cpus
    );
}

#[test]
fn a_closure_runs_under_every_in_process_model_and_fork() {
    let squares = WorkloadFn::new("squares", || {
        (0..10_000u64).map(|i| i * i % 1_000_003).sum()
    });
    let models = [
        Model::THREAD,
        Model::ASYNC,
        Model::POOL,
        gil(),
        Model::process(StartMethod::Fork),
    ];
    let results = Experiment::new(plan(vec![squares.workload()], &models, vec![1, 3]))
        .workload_fn(squares.clone())
        .run();
    assert!(results.failure.is_none(), "{:?}", results.failure);
    assert_eq!(results.measurements.len(), models.len() * 2);
    let expected = squares.call();
    for m in &results.measurements {
        assert_eq!(m.results(), vec![expected; m.workers], "{}", m.label());
    }
}

#[test]
fn a_closure_that_panics_is_reported_per_worker() {
    let boom = WorkloadFn::with_reference("boom", 1, || panic!("boom"));
    for model in [Model::THREAD, Model::ASYNC, Model::POOL] {
        let results = Experiment::new(plan(vec![boom.workload()], &[model], vec![2]))
            .workload_fn(boom.clone())
            .run();
        let m = &results.measurements[0];
        assert!(
            m.outcomes.iter().all(
                |o| matches!(&o.status, WorkerStatus::Panicked { message } if message == "boom")
            ),
            "{model}: {:?}",
            m.outcomes
        );
        assert!(results.failure.is_some());
    }
}

#[test]
fn closures_refuse_spawn_and_a_missing_closure_is_named() {
    let f = WorkloadFn::with_reference("f", 7, || 7);
    let results = Experiment::new(plan(
        vec![f.workload()],
        &[Model::process(StartMethod::Spawn)],
        vec![1],
    ))
    .workload_fn(f.clone())
    .run();
    let failure = results.failure.unwrap().to_string();
    assert!(
        failure.contains("cannot cross an exec") && failure.contains("'f'"),
        "{failure}"
    );

    let results = Experiment::new(plan(vec![f.workload()], &[Model::THREAD], vec![1])).run();
    let failure = results.failure.unwrap().to_string();
    assert!(failure.contains("Experiment::workload_fn"), "{failure}");
}

#[test]
fn models_keep_their_file_form_and_gil_records_its_interval() {
    let json = |m: Model| serde_json::to_string(&m).unwrap();
    assert_eq!(json(Model::THREAD), r#"{"model":"thread"}"#);
    assert_eq!(
        json(Model::process(StartMethod::Spawn)),
        r#"{"model":"process","start_method":"spawn"}"#
    );
    assert_eq!(json(Model::ASYNC), r#"{"model":"async"}"#);
    assert_eq!(json(Model::POOL), r#"{"model":"pool"}"#);
    assert_eq!(json(gil()), r#"{"model":"gil","switch_interval_s":0.005}"#);
    for model in [
        Model::THREAD,
        Model::process(StartMethod::Fork),
        Model::ASYNC,
        Model::POOL,
        gil(),
        "gil:0.5ms".parse().unwrap(),
    ] {
        assert_eq!(serde_json::from_str::<Model>(&json(model)).unwrap(), model);
        assert_eq!(model.to_string().parse::<Model>().unwrap(), model);
    }
    // A measurement written before memory was measured still loads.
    let old = r#"{"workload":{"kind":"cpu","iters":3},"model":"process","start_method":"fork",
        "workers":1,"run":1,"wall_s":0.1,"outcomes":[]}"#;
    let m: paralab::Measurement = serde_json::from_str(old).unwrap();
    assert_eq!(m.model, Model::process(StartMethod::Fork));
    assert!(m.memory.is_none());
}

#[test]
fn notebook_names_follow_the_model_families() {
    let results = Experiment::new(plan(
        vec![Workload::Cpu { iters: 10 }],
        &[Model::ASYNC, Model::POOL, gil()],
        vec![1],
    ))
    .run();
    assert!(
        paralab::report::notebook(&results.measurements)
            .starts_with("nthreads CpuAsync CpuPool CpuGil\n")
    );
}
