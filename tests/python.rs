//! The Python models from the command line: CPython's results equal the
//! reference, its sleeps overlap in threads, its columns appear in every
//! output, and a missing, old or broken interpreter is reported while the
//! Rust measurements are still printed.
//!
//! The tests that need a real python3 take the one `common::python3`
//! finds: without one they are skipped with a visible line, or fail when
//! `PARALAB_REQUIRE_PYTHON=1`.

mod common;

use common::{fake_program, paralab};
use paralab::Workload;

/// A small run: 20,000 iterations, 50 ms sleeps.
const SMALL: [&str; 5] = ["20000", "--sleep", "0.05", "--workers", "1,2"];

#[test]
fn python_results_equal_the_reference_in_every_python_model() {
    let Some(python) = common::python3() else {
        return;
    };
    let output = paralab()
        .args(SMALL)
        .args([
            "--models",
            "thread,py-thread,py-process:fork,py-process:spawn,py-async",
            "--format",
            "json",
        ])
        .arg("--python-exe")
        .arg(&python)
        .output()
        .unwrap();
    let doc = common::json_of(&output);
    let expected = Workload::Cpu { iters: 20_000 }.expected_result();
    let mut python_models = std::collections::BTreeSet::new();
    for m in doc["measurements"].as_array().unwrap() {
        let name = m["model"].as_str().unwrap();
        if !name.starts_with("py-") {
            continue;
        }
        python_models.insert(format!("{name}:{}", m["start_method"]));
        let reference = if m["workload"]["kind"] == "cpu" {
            expected
        } else {
            50_000_000
        };
        for o in m["outcomes"].as_array().unwrap() {
            assert_eq!(o["status"], "finished", "{m}");
            assert_eq!(o["result"], reference, "{m}");
            assert!(o["start_s"].as_f64().unwrap() <= o["end_s"].as_f64().unwrap());
        }
        assert!(m["wall_s"].as_f64().unwrap() > 0.0);
    }
    assert_eq!(python_models.len(), 4, "{python_models:?}");
}

/// Three Python threads sleeping 0.1 s: the last one started before the
/// first one woke.
#[test]
fn python_sleeps_overlap_in_threads() {
    let Some(python) = common::python3() else {
        return;
    };
    let output = paralab()
        .args(["bench", "--workloads", "sleep", "--sleep", "0.1"])
        .args([
            "--workers",
            "3",
            "--models",
            "py-thread",
            "--format",
            "json",
        ])
        .arg("--python-exe")
        .arg(&python)
        .output()
        .unwrap();
    let doc = common::json_of(&output);
    let run = &doc["measurements"][0];
    assert_eq!(run["model"], "py-thread", "{run}");
    assert!(run["wall_s"].as_f64().unwrap() >= 0.1, "{run}");
    let outcomes = run["outcomes"].as_array().unwrap();
    assert_eq!(outcomes.len(), 3, "{run}");
    let at = |o: &serde_json::Value, key: &str| o[key].as_f64().unwrap();
    let latest_start = outcomes
        .iter()
        .map(|o| at(o, "start_s"))
        .fold(f64::MIN, f64::max);
    let earliest_end = outcomes
        .iter()
        .map(|o| at(o, "end_s"))
        .fold(f64::MAX, f64::min);
    assert!(
        latest_start < earliest_end,
        "the sleeps did not overlap: {run}"
    );
}

#[test]
fn python_columns_appear_in_every_format() {
    let Some(python) = common::python3() else {
        return;
    };
    let python = python.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let output = paralab()
        .args([
            "200",
            "--sleep",
            "0.02",
            "--workers",
            "1,2",
            "--python",
            "--python-exe",
            python,
            "--format",
            "notebook",
        ])
        .args([
            "--export-csv",
            &path("r.csv"),
            "--export-markdown",
            &path("r.md"),
            "--export-json",
            &path("r.json"),
        ])
        .args(["--plot", &path("plots"), "--html", &path("r.html")])
        .output()
        .unwrap();
    let stdout = common::stdout_of(&output);
    assert!(
        stdout.starts_with("nthreads CpuThread CpuProcess CpuAsync CpuGil CpuPyThread CpuPyProcess CpuPyAsync IoThread"),
        "{stdout}"
    );
    let read = |name: &str| std::fs::read_to_string(dir.path().join(name)).unwrap();
    for name in [
        "r.csv",
        "r.md",
        "r.json",
        "r.html",
        "plots/cpu-wall-time.svg",
        "plots/cpu-speedup.svg",
    ] {
        let text = read(name);
        assert!(
            text.contains("py-thread") && text.contains("py-async"),
            "{name} lacks the Python models"
        );
    }
    let table = paralab()
        .args(["200", "--sleep", "0.02", "--workers", "1,2", "--python"])
        .args(["--python-exe", python])
        .output()
        .unwrap();
    let table = String::from_utf8(table.stdout).unwrap();
    assert!(
        table.contains("py-process (fork)")
            && table.contains("the GIL at 2 workers: Python threads took"),
        "{table}"
    );
    assert!(table.contains("the cpu loop, one worker: Rust"), "{table}");
}

#[test]
fn without_python_the_python_models_are_skipped_with_one_line() {
    let output = paralab()
        .args(SMALL)
        .args([
            "--workloads",
            "cpu",
            "--python",
            "--python-exe",
            "/nonexistent/python3",
            "--format",
            "notebook",
            // One run: more may warn of outliers on this shared machine.
            "--runs",
            "1",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("Python models are skipped") && stderr.contains("/nonexistent/python3"),
        "{stderr}"
    );
    // It says what to do.
    assert!(stderr.contains("--python-exe"), "{stderr}");
    assert!(
        String::from_utf8(output.stdout)
            .unwrap()
            .starts_with("nthreads CpuThread CpuProcess CpuAsync CpuGil\n")
    );
}

#[test]
fn a_python_that_prints_garbage_or_fails_is_reported_and_rust_results_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            r#"case "$1" in -c) echo 3.11.0;; *) echo 'not json at all';; esac"#,
            "not json at all",
        ),
        (
            r#"case "$1" in -c) echo 3.11.0;; *) echo 'Traceback: boom' >&2; exit 1;; esac"#,
            "boom",
        ),
    ];
    for (body, shown) in cases {
        let exe = fake_program(dir.path(), "python3", body);
        let output = beside_rust_threads(&exe, &["--format", "notebook"]);
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert_eq!(output.status.code(), Some(1), "{stderr}");
        assert!(
            stderr.contains(shown) && !stderr.contains("panicked"),
            "{stderr}"
        );
        if shown == "boom" {
            assert!(stderr.contains("exit status: 1"), "{stderr}");
        }
        let stdout = String::from_utf8(output.stdout).unwrap();
        // Both Rust rows are there; the Python column has no number.
        assert!(stdout.starts_with("nthreads CpuThread\n"), "{stdout}");
        assert_eq!(stdout.lines().count(), 3, "{stdout}");
    }
    // Too old, or silent when asked its version: refused, naming what it
    // said and what is needed.
    for (body, shown) in [("echo 2.7.18", "2.7.18"), ("exit 1", "Python unknown")] {
        let old = fake_program(dir.path(), "python3", body);
        let output = beside_rust_threads(&old, &[]);
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert!(stderr.contains(shown) && stderr.contains("3.8"), "{stderr}");
        assert!(
            String::from_utf8(output.stdout)
                .unwrap()
                .contains("cpu · thread")
        );
    }
}

/// `paralab` with a small cpu workload under Rust threads and py-thread,
/// in the interpreter `exe`, with `extra` arguments.
fn beside_rust_threads(exe: &std::path::Path, extra: &[&str]) -> std::process::Output {
    paralab()
        .args(SMALL)
        .args(["--workloads", "cpu", "--models", "thread,py-thread"])
        .arg("--python-exe")
        .arg(exe)
        .args(extra)
        .output()
        .unwrap()
}
