//! The Python driver with the machine's python3: its cpu results equal the
//! reference in every model, and broken interpreters are reported cleanly.

mod common;

use std::path::PathBuf;
use std::time::Duration;

use paralab::model::python::{PyModel, Python, PythonError};
use paralab::{StartMethod, WorkerStatus, Workload};

fn python() -> Option<Python> {
    match Python::find(None) {
        Ok(python) => Some(python),
        Err(error) => {
            eprintln!("skipped: {error}");
            None
        }
    }
}

#[test]
fn every_python_model_returns_the_reference_cpu_result() {
    let Some(python) = python() else { return };
    let workload = Workload::Cpu { iters: 20_000 };
    let expected = workload.expected_result();
    let models = [
        PyModel::Thread,
        PyModel::Process(StartMethod::Fork),
        PyModel::Process(StartMethod::Spawn),
        PyModel::Async,
    ];
    for model in models {
        let run = python
            .run(model, &workload, 2, None, &Default::default())
            .unwrap();
        assert!(run.wall_s > 0.0, "{model:?}");
        for outcome in &run.outcomes {
            assert_eq!(
                outcome.status,
                WorkerStatus::Finished { result: expected },
                "{model:?}"
            );
            assert!(outcome.start_s.unwrap() <= outcome.end_s.unwrap());
        }
    }
}

#[test]
fn python_sleeps_overlap_in_threads() {
    let Some(python) = python() else { return };
    let run = python
        .run(
            PyModel::Thread,
            &Workload::Sleep {
                duration: Duration::from_millis(100),
            },
            3,
            None,
            &Default::default(),
        )
        .unwrap();
    assert!(run.wall_s >= 0.1, "{}", run.wall_s);
    // Overlapping: the last sleeper started before the first one woke.
    let latest_start = run
        .outcomes
        .iter()
        .filter_map(|o| o.start_s)
        .fold(f64::MIN, f64::max);
    let earliest_end = run
        .outcomes
        .iter()
        .filter_map(|o| o.end_s)
        .fold(f64::MAX, f64::min);
    assert!(
        latest_start < earliest_end,
        "the sleeps did not overlap: {:?}",
        run.outcomes
    );
}

fn fake_python(body: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = common::fake_program(dir.path(), "python3", body);
    (dir, path)
}

#[test]
fn a_missing_interpreter_says_what_to_do() {
    let error = Python::find(Some("/nonexistent/python3".as_ref()))
        .err()
        .unwrap();
    assert!(matches!(error, PythonError::NotFound { .. }));
    assert!(error.to_string().contains("--python-exe"), "{error}");
}

#[test]
fn an_old_or_silent_interpreter_is_refused() {
    let (_dir, old) = fake_python("echo 2.7.18");
    assert!(
        Python::find(Some(&old))
            .err()
            .unwrap()
            .to_string()
            .contains("2.7.18")
    );
    let (_dir, silent) = fake_python("exit 1");
    assert!(matches!(
        Python::find(Some(&silent)),
        Err(PythonError::TooOld { .. })
    ));
}

#[test]
fn an_interpreter_that_prints_garbage_or_fails_is_reported() {
    // Answers the version check, then misbehaves when given the driver.
    let (_dir, garbage) =
        fake_python(r#"case "$1" in -c) echo 3.11.0;; *) echo 'not json at all';; esac"#);
    let python = Python::find(Some(&garbage)).unwrap();
    let error = python
        .run(
            PyModel::Thread,
            &Workload::Cpu { iters: 1 },
            1,
            None,
            &Default::default(),
        )
        .unwrap_err();
    assert!(error.to_string().contains("not json at all"), "{error}");

    let (_dir, failing) = fake_python(
        r#"case "$1" in -c) echo 3.11.0;; *) echo 'Traceback: boom' >&2; exit 1;; esac"#,
    );
    let python = Python::find(Some(&failing)).unwrap();
    let error = python
        .run(
            PyModel::Thread,
            &Workload::Cpu { iters: 1 },
            1,
            None,
            &Default::default(),
        )
        .unwrap_err();
    assert!(
        error.to_string().contains("boom") && error.to_string().contains("exit status: 1"),
        "{error}"
    );
}
