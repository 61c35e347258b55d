//! The command line of the new models, `--cmd` and `paralab primitives`.

mod common;

use common::paralab;
use predicates::prelude::*;

#[test]
fn every_model_in_one_run_gives_one_column_each() {
    let output = paralab()
        .args(["bench", "1000", "--sleep", "0.02", "--workers", "1,2"])
        .args([
            "--models",
            "thread,process:fork,process:spawn,async,pool,gil",
        ])
        .args(["--format", "notebook"])
        .output()
        .unwrap();
    let stdout = common::stdout_of(&output);
    assert_eq!(
        stdout.lines().next().unwrap(),
        "nthreads CpuThread CpuProcessFork CpuProcessSpawn CpuAsync CpuPool CpuGil \
         IoThread IoProcessFork IoProcessSpawn IoAsync IoPool IoGil"
    );
    assert_eq!(stdout.lines().count(), 3);
}

#[test]
fn the_table_of_six_models_has_a_row_per_model_and_explains_async_and_gil() {
    let output = paralab()
        .args(["1000", "--sleep", "0.02", "--workers", "1,2"])
        .args([
            "--models",
            "thread,process:fork,process:spawn,async,pool,gil",
        ])
        .output()
        .unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8(output.stdout).unwrap();
    for row in [
        " thread ",
        " process:fork ",
        " process:spawn ",
        " async ",
        " pool ",
        " gil ",
    ] {
        let rows = stdout.lines().filter(|l| l.starts_with(row)).count();
        assert_eq!(rows, 2, "{row:?} in\n{stdout}");
    }
    assert!(
        stdout.contains("cpu · async: ") && stdout.contains("runtime's"),
        "{stdout}"
    );
    assert!(
        stdout.contains("cpu · gil: ") && stdout.contains("one global lock"),
        "{stdout}"
    );
    // One screen wide.
    assert!(
        stdout.lines().take(8).all(|l| l.chars().count() <= 100),
        "{stdout}"
    );
}

#[test]
fn gil_records_its_switch_interval() {
    let output = paralab()
        .args(["bench", "10", "--workers", "1", "--workloads", "cpu"])
        .args([
            "--models",
            "gil",
            "--switch-interval",
            "2",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(doc["measurements"][0]["model"], "gil");
    assert_eq!(doc["measurements"][0]["switch_interval_s"], 0.002);
}

#[test]
fn a_command_that_succeeds_is_a_finished_worker() {
    let output = paralab()
        .args([
            "bench",
            "--cmd",
            "true",
            "--cmd",
            "sh -c 'exit 0'",
            "--workers",
            "1,3",
        ])
        .args(["--models", "process:fork,process:spawn", "--format", "json"])
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_str(&common::stdout_of(&output)).unwrap();
    let measurements = doc["measurements"].as_array().unwrap();
    assert_eq!(measurements.len(), 2 * 2 * 2);
    for m in measurements {
        assert_eq!(m["workload"]["kind"], "command");
        for o in m["outcomes"].as_array().unwrap() {
            assert_eq!(o["status"], "finished");
            assert_eq!(o["result"], 0);
        }
    }
    assert!(
        measurements
            .iter()
            .any(|m| m["workload"]["argv"] == serde_json::json!(["sh", "-c", "exit 0"]))
    );
}

#[test]
fn a_command_that_fails_fails_the_run_with_its_exit_code() {
    for method in ["process:fork", "process:spawn"] {
        paralab()
            .args([
                "bench",
                "--cmd",
                "false",
                "--workers",
                "2",
                "--models",
                method,
            ])
            .assert()
            .code(1)
            .stderr(predicate::str::contains("worker 0 exited with code 1"));
    }
}

#[test]
fn a_missing_program_or_a_model_that_cannot_run_it_is_bad_input() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["--cmd", "no-such-program-xyz --flag"],
            "'no-such-program-xyz'",
        ),
        (&["--cmd", "echo 'unclosed"], "quote"),
        (&["--cmd", "true", "--models", "thread"], "'thread'"),
        (&["--models", "gil", "--switch-interval", "fast"], "'fast'"),
        (&["--models", "fibre"], "async, pool, gil"),
    ];
    for (args, names) in cases {
        let output = paralab().arg("bench").args(*args).output().unwrap();
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.contains(names), "{args:?}: {stderr}");
        assert!(output.stdout.is_empty());
    }
}

#[test]
fn primitives_prints_every_primitive_with_median_and_spread() {
    let output = paralab()
        .args(["primitives", "--samples", "30", "--format", "json"])
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_str(&common::stdout_of(&output)).unwrap();
    let rows = doc["primitives"].as_array().unwrap();
    assert_eq!(rows.len(), 10);
    for row in rows {
        let (min, p5, median, p95) = (
            row["min_ns"].as_f64().unwrap(),
            row["p5_ns"].as_f64().unwrap(),
            row["median_ns"].as_f64().unwrap(),
            row["p95_ns"].as_f64().unwrap(),
        );
        assert!(
            0.0 < min && min <= p5 && p5 <= median && median <= p95,
            "{row}"
        );
        assert_eq!(row["samples"], 30);
    }
    let median = |id: &str| {
        rows.iter().find(|r| r["id"] == id).unwrap()["median_ns"]
            .as_f64()
            .unwrap()
    };
    // Orders of magnitude that hold on any Linux machine: an uncontended
    // lock is far cheaper than starting a thread, which is cheaper than
    // starting a program.
    assert!(median("mutex") * 20.0 < median("thread"));
    assert!(median("thread") < median("exec"));
}

#[test]
fn primitives_table_and_bad_names() {
    paralab()
        .args(["primitives", "--samples", "5", "--only", "thread,pipe"])
        .assert()
        .success()
        .stdout(predicate::str::contains("thread spawn + join"))
        .stdout(predicate::str::contains(
            "pipe round trip between two processes",
        ))
        .stdout(predicate::str::contains("fork + wait").not());
    paralab()
        .args(["primitives", "--only", "vfork"])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("'vfork'").and(predicate::str::contains("context-switch")),
        );
}
