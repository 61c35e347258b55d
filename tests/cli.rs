//! The command line, as a user meets it: arguments and exit codes, the
//! bench formats, every model in one run, `--cmd`, and `paralab
//! primitives`.

mod common;

use common::{FAST, paralab, without_busy_warning};
use predicates::prelude::*;

#[test]
fn notebook_format_is_the_notebooks_table() {
    let output = paralab()
        .arg("bench")
        .args(FAST)
        .args(["--format", "notebook"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], "nthreads CpuThread CpuProcess IoThread IoProcess");
    assert_eq!(lines.len(), 3, "{stdout}");
    for (line, workers) in lines[1..].iter().zip(["1.000000e+00", "2.000000e+00"]) {
        let fields: Vec<&str> = line.split(' ').collect();
        assert_eq!(fields.len(), 5, "{line}");
        assert_eq!(fields[0], workers);
        assert!(fields.iter().all(|f| is_python_sci(f)), "{line}");
        let io_thread: f64 = fields[3].parse().unwrap();
        assert!((0.05..1.0).contains(&io_thread), "{line}");
    }
}

/// Whether `field` looks like Python's `'{:.6e}'`: `d.dddddde±XX`.
fn is_python_sci(field: &str) -> bool {
    let Some((mantissa, exponent)) = field.split_once('e') else {
        return false;
    };
    let mantissa = mantissa.strip_prefix('-').unwrap_or(mantissa);
    let mantissa_ok = mantissa.len() == 8
        && mantissa.as_bytes()[1] == b'.'
        && mantissa
            .bytes()
            .enumerate()
            .all(|(i, b)| i == 1 || b.is_ascii_digit());
    let exponent_ok = (exponent.starts_with('+') || exponent.starts_with('-'))
        && (3..=4).contains(&exponent.len())
        && exponent[1..].bytes().all(|b| b.is_ascii_digit());
    mantissa_ok && exponent_ok
}

#[test]
fn columns_follow_the_chosen_models_and_workloads() {
    paralab()
        .args([
            "bench",
            "10",
            "--workers",
            "1",
            "--workloads",
            "cpu",
            "--models",
            "process:fork,process:spawn,thread",
        ])
        .args(["--format", "notebook"])
        .assert()
        .success()
        .stdout(predicate::str::starts_with(
            "nthreads CpuProcessFork CpuProcessSpawn CpuThread\n",
        ));
    paralab()
        .args([
            "bench",
            "10",
            "--workers",
            "1",
            "--workloads",
            "sleep",
            "--sleep",
            "0",
            "--models",
            "process",
        ])
        .args(["--start-method", "spawn", "--format", "notebook"])
        .assert()
        .success()
        .stdout(predicate::str::starts_with("nthreads IoProcess\n"));
}

#[test]
fn table_format_shows_speedup_and_a_plain_summary() {
    // One run: without --runs, cells this short get more, and may warn
    // of outliers on this shared machine.
    paralab()
        .args(FAST)
        .args(["--runs", "1"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "cpu: 1,000 iterations per worker, result 9,707,240 checked in every worker",
        ))
        .stdout(predicate::str::contains("speedup"))
        .stdout(predicate::str::contains("cpu · thread: 2 workers took"))
        .stdout(predicate::str::contains(
            "sleep · process (fork): 2 workers took",
        ))
        .stderr(predicate::function(|s: &str| {
            without_busy_warning(s).is_empty()
        }));
}

#[test]
fn json_format_holds_every_worker_of_every_run() {
    let output = paralab()
        .arg("bench")
        .args(FAST)
        .args(["--format", "json", "--runs", "1"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let doc: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let measurements = doc["measurements"].as_array().unwrap();
    assert_eq!(measurements.len(), 2 * 2 * 2);
    for m in measurements {
        let workers = m["workers"].as_u64().unwrap() as usize;
        let outcomes = m["outcomes"].as_array().unwrap();
        assert_eq!(outcomes.len(), workers);
        assert!(m["wall_s"].as_f64().unwrap() > 0.0);
        assert!(
            m["model"] == "thread" || (m["model"] == "process" && m["start_method"] == "fork"),
            "{m}"
        );
        let expected = if m["workload"]["kind"] == "cpu" {
            9_707_240
        } else {
            50_000_000
        };
        for o in outcomes {
            assert_eq!(o["status"], "finished");
            assert_eq!(o["result"], expected);
            assert!(o["start_s"].as_f64().unwrap() <= o["end_s"].as_f64().unwrap());
        }
    }
    let parsed: Vec<paralab::Measurement> =
        serde_json::from_value(doc["measurements"].clone()).unwrap();
    assert_eq!(parsed.len(), measurements.len());
}

#[test]
fn top_level_arguments_run_bench() {
    paralab()
        .args([
            "10",
            "--workers",
            "1",
            "--workloads",
            "cpu",
            "--format",
            "notebook",
        ])
        .assert()
        .success()
        .stdout(predicate::str::starts_with(
            "nthreads CpuThread CpuProcess\n1.000000e+00 ",
        ));
}

#[test]
fn iters_as_an_option_equals_the_positional() {
    for args in [["--iters", "3"], ["bench", "3"]] {
        let output = paralab()
            .args(args)
            .args(["--workers", "1", "--workloads", "cpu", "--format", "json"])
            .output()
            .unwrap();
        let doc: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(doc["measurements"][0]["outcomes"][0]["result"], 795);
    }
}

#[test]
fn help_names_the_default_iters_and_the_options() {
    paralab()
        .args(["bench", "--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains("35000000"))
        .stdout(predicate::str::contains("--workers"))
        .stdout(predicate::str::contains("--start-method"));
}

/// Each bad input: exit 2, nothing on stdout, one line on stderr that
/// names the bad value and what is accepted, no panic. Among them: a
/// `--cmd` program that is missing or that the chosen model cannot run.
#[test]
fn bad_input_gets_one_clear_line_and_exit_2() {
    let cases: &[(&[&str], &str, &str)] = &[
        (&["bench", "-f"], "'-f'", "--help"),
        (&["-f"], "'-f'", "--help"),
        (&["bench", "abc"], "'abc'", "whole number"),
        (&["bench", "--", "-5"], "'-5'", "whole number"),
        (&["bench", "-5"], "'-5'", "whole number"),
        (
            &["bench", "99999999999999999999999"],
            "99999999999999999999999",
            "18446744073709551615",
        ),
        (&["bench", "1.5"], "'1.5'", "whole number"),
        (&["--workers", "0"], "'0'", "start at 1"),
        (&["--workers", "3..1"], "3..1", "1..=4"),
        (&["--workers", "1,,2"], "''", "1,2,4"),
        (&["--workers", "many"], "'many'", "1,2,4"),
        (&["--sleep", "-1"], "'-1'", "from 0"),
        (&["--sleep", "nan"], "'nan'", "from 0"),
        (&["--sleep", "soon"], "'soon'", "from 0"),
        (&["--models", "fiber"], "'fiber'", "thread, process"),
        (&["--models", "process:vfork"], "'vfork'", "fork, spawn"),
        (&["--workloads", "gpu"], "'gpu'", "cpu, sleep"),
        (&["--start-method", "clone"], "'clone'", "fork, spawn"),
        (&["--format", "xml"], "'xml'", "notebook, table, json"),
        (&["--runs", "0"], "'0'", "from 1"),
        (&["--warmup", "-1"], "'-1'", "from 0"),
        (&["bench", "5", "6"], "'6'", "--help"),
        (&["--iters", "5", "6"], "--iters", "--help"),
        (&["frobnicate"], "'frobnicate'", "whole number"),
        (
            &["bench", "--cmd", "no-such-program-xyz --flag"],
            "'no-such-program-xyz'",
            "full path",
        ),
        (&["bench", "--cmd", "echo 'unclosed"], "quote", "closed"),
        (
            &["bench", "--cmd", "true", "--models", "thread"],
            "'thread'",
            "process:fork,process:spawn",
        ),
        (
            &["bench", "--models", "gil", "--switch-interval", "fast"],
            "'fast'",
            "0.001 to 10000",
        ),
        (
            &["bench", "--models", "fibre"],
            "'fibre'",
            "async, pool, gil",
        ),
    ];
    for (args, names, accepted) in cases {
        let output = paralab().args(*args).output().unwrap();
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(output.stdout.is_empty(), "{args:?} printed on stdout");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(
            stderr.contains(names) && stderr.contains(accepted),
            "{args:?}: {stderr}"
        );
        assert!(
            !stderr.contains("panicked") && !stderr.contains("Traceback"),
            "{args:?}: {stderr}"
        );
    }
}

#[test]
fn the_hidden_worker_refuses_malformed_command_lines() {
    paralab()
        .args(["__paralab-worker", "0", "cpu"])
        .assert()
        .code(2)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains("expected 3 arguments"));
}

#[test]
fn machine_formats_never_mix_with_text() {
    let output = paralab()
        .args(["lesson", "--format", "json"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let list: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|lesson| lesson["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.first(), Some(&"interleave"), "{names:?}");
    assert!(names.contains(&"messages"), "{names:?}");

    // Two formats cannot share stdout: refused before anything runs.
    paralab()
        .args(["10", "--format", "json", "--export-csv", "-"])
        .assert()
        .code(2)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains("both write to stdout"));
}

#[test]
fn save_appends_so_that_runs_add_up() {
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("runs.jsonl");
    for _ in 0..2 {
        paralab()
            .args([
                "100",
                "--workers",
                "1",
                "--workloads",
                "cpu",
                "--models",
                "thread",
                "--runs",
                "1",
            ])
            .arg("--save")
            .arg(&saved)
            .assert()
            .success();
    }
    let text = std::fs::read_to_string(&saved).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // Two headers, two measurements, in the order they were written.
    assert_eq!(lines.len(), 4, "{text}");
    assert!(
        lines[0].get("paralab").is_some() && lines[2].get("paralab").is_some(),
        "{text}"
    );
    let output = paralab()
        .arg("report")
        .arg(&saved)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(doc["measurements"].as_array().unwrap().len(), 2);
}

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
        .args(["1000", "--sleep", "0.02", "--workers", "1,2", "--runs", "1"])
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
        // One row per worker count in each of the tables a block splits
        // into to stay one screen wide (wall time, CPU time, speedup).
        let rows = stdout.lines().filter(|l| l.starts_with(row)).count();
        assert!(rows >= 2 && rows % 2 == 0, "{row:?} in\n{stdout}");
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
            "--runs",
            "1",
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
            .any(|m| m["workload"]["name"] == "sh -c 'exit 0'")
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
    // The fastest sample of each: other work on a shared machine only
    // ever adds to a sample, so the minimum is what the primitive costs
    // (a median moved with the load, and once put a thread start above an
    // exec on a busy machine).
    let fastest = |id: &str| {
        rows.iter().find(|r| r["id"] == id).unwrap()["min_ns"]
            .as_f64()
            .unwrap()
    };
    // Orders of magnitude that hold on any Linux machine: an uncontended
    // lock is far cheaper than starting a thread, which is cheaper than
    // starting a program.
    assert!(fastest("mutex") * 20.0 < fastest("thread"));
    assert!(fastest("thread") < fastest("exec"));
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

#[test]
fn python_options_without_a_python_model_are_said_to_be_ignored() {
    let run = |extra: &[&str]| {
        let output = paralab()
            .args([
                "1000",
                "--workloads",
                "cpu",
                "--workers",
                "1",
                "--runs",
                "1",
            ])
            .args(extra)
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        without_busy_warning(&String::from_utf8(output.stderr).unwrap())
    };
    let stderr = run(&["--python-iters", "5000"]);
    let lines: Vec<&str> = stderr.lines().filter(|l| l.contains("ignored")).collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(
        lines[0].starts_with(
            "paralab: warning: --python-iters is ignored: no Python model runs; \
             add --python, or a Python model to --models (py-thread, py-process, py-async"
        ),
        "{stderr}"
    );
    let stderr = run(&["--python-exe", "/no/such/python"]);
    assert!(
        stderr.contains("warning: --python-exe is ignored: no Python model runs"),
        "{stderr}"
    );
    // Without them, no such line.
    assert!(!run(&[]).contains("ignored"));
}
