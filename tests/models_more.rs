//! The async, pool and gil models, closures as workloads, and the file
//! form of every model.

mod common;

use std::time::Duration;

use common::plan;
use paralab::{Experiment, Model, StartMethod, WorkerStatus, Workload, WorkloadFn};

const GIL: Model = Model::gil(paralab::model::DEFAULT_SWITCH_INTERVAL);

#[test]
fn async_pool_and_gil_return_the_reference_results() {
    let workloads = vec![
        Workload::Cpu { iters: 100_000 },
        Workload::Sleep {
            duration: Duration::from_millis(20),
        },
    ];
    let models = [Model::ASYNC, Model::POOL, GIL];
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
    let results = Experiment::new(plan(vec![sleep], &[GIL], vec![1, 4])).run();
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
    let cpus = paralab::machine::logical_cpus();
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
        GIL,
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
    assert_eq!(json(GIL), r#"{"model":"gil","switch_interval_s":0.005}"#);
    for model in [
        Model::THREAD,
        Model::process(StartMethod::Fork),
        Model::ASYNC,
        Model::POOL,
        GIL,
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
        &[Model::ASYNC, Model::POOL, GIL],
        vec![1],
    ))
    .run();
    assert!(
        paralab::report::notebook::render(&results.measurements)
            .starts_with("nthreads CpuAsync CpuPool CpuGil\n")
    );
}
