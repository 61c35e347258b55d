//! Several interpreters at once (`--python-exe a,b`): each its own
//! columns in every output, labelled by its version and the GIL state it
//! reports itself, and its own sentence on "threads cannot use several
//! cores", in the bench's summary and in the `parallelism` lesson, as its
//! own runs say.
//!
//! They run python3 (skipped in one line without one, a failure with
//! `PARALAB_REQUIRE_PYTHON=1`) and, when `PARALAB_TEST_FREE_THREADED_PYTHON`
//! names one, a free-threaded CPython beside it. The machine is shared: a
//! sentence may always be `inconclusive`; what is asserted is that a
//! conclusive one agrees with the interpreter's own figures.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::paralab;

/// What an interpreter says of itself: its version and whether its GIL is
/// enabled (`sys._is_gil_enabled()`, 3.13+; always on before).
fn self_report(python: &Path) -> (String, bool) {
    let output = Command::new(python)
        .args([
            "-c",
            "import platform, sys; print(platform.python_version(), getattr(sys, '_is_gil_enabled', lambda: True)())",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    let (version, gil) = text.trim().split_once(' ').unwrap();
    (version.to_string(), gil == "True")
}

/// The label paralab must give it, from its own word.
fn expected_label(python: &Path) -> String {
    let (version, gil) = self_report(python);
    format!(
        "CPython {version}, {}",
        if gil { "with GIL" } else { "no GIL" }
    )
}

/// python3, and the free-threaded CPython when one is named; `None` (after
/// one line) without python3.
fn interpreters() -> Option<Vec<PathBuf>> {
    let python = common::python3()?;
    let mut all = vec![python];
    match std::env::var_os("PARALAB_TEST_FREE_THREADED_PYTHON") {
        Some(free) => all.push(PathBuf::from(free)),
        None => common::skip(
            "PARALAB_TEST_FREE_THREADED_PYTHON names no free-threaded CPython: python3 alone \
             (../shared/tools/free-threaded-python builds one)",
        ),
    }
    // One interpreter alone is no list: a second name of python3 is not
    // allowed (the same program), so a lone python3 is checked against the
    // Rust models only.
    Some(all)
}

fn joined(pythons: &[PathBuf]) -> String {
    pythons
        .iter()
        .map(|p| p.to_str().unwrap())
        .collect::<Vec<_>>()
        .join(",")
}

/// The claim's sentence for `label` in `summary`: exactly one.
fn claim_line<'s>(summary: &'s str, label: &str) -> &'s str {
    let prefix = format!("\"threads cannot use several cores\" in {label}: ");
    let lines: Vec<&str> = summary.lines().filter(|l| l.starts_with(&prefix)).collect();
    assert_eq!(lines.len(), 1, "one claim for {label} in:\n{summary}");
    &lines[0][prefix.len()..]
}

/// A conclusive sentence agrees with the interpreter's own figure: 2
/// threads taking `ratio` times as long as one. One at a time is ×2, two
/// cores ×1: the sentence must be on the right side of ×1.5.
fn agrees(outcome: &str, ratio: f64, what: &str) {
    if outcome.starts_with("inconclusive") {
        return;
    }
    if outcome.starts_with("holds") {
        assert!(ratio > 1.5, "{what}: holds, but 2 threads took {ratio:.2}×");
    } else if outcome.starts_with("does not hold") {
        assert!(
            ratio < 1.5,
            "{what}: does not hold, but 2 threads took {ratio:.2}×"
        );
    } else {
        panic!("{what}: no outcome in '{outcome}'");
    }
}

#[test]
fn each_interpreter_has_its_own_labelled_columns_and_gil_sentence() {
    let Some(pythons) = interpreters() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let save = dir.path().join("runs.jsonl");
    let csv = dir.path().join("summary.csv");
    let output = paralab()
        .args([
            "--workloads",
            "cpu",
            "--models",
            "thread,py-thread,py-process:fork",
        ])
        .args(["--iters", "20000000", "--python-iters", "1000000"])
        .args(["--workers", "1,2", "--runs", "3", "--format", "json"])
        .arg("--python-exe")
        .arg(joined(&pythons))
        .arg("--save")
        .arg(&save)
        .arg("--export-csv")
        .arg(&csv)
        .output()
        .unwrap();
    let doc = common::json_of(&output);
    // With one interpreter its results read as they always have (the
    // machine block names it); with several each model names its own.
    let several = pythons.len() > 1;
    let labels: Vec<String> = pythons.iter().map(|p| expected_label(p)).collect();
    let measured: BTreeSet<String> = doc["measurements"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["model"].as_str().unwrap().starts_with("py-"))
        .map(|m| m["python"]["label"].as_str().unwrap_or("").to_string())
        .collect();
    if several {
        assert_eq!(measured, labels.iter().cloned().collect(), "{doc}");
        for (python, label) in pythons.iter().zip(&labels) {
            let (version, gil) = self_report(python);
            let rows: Vec<&serde_json::Value> = doc["summaries"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|s| s["python"]["label"] == label.as_str())
                .collect();
            // py-thread and py-process, at 1 and 2 workers.
            assert_eq!(rows.len(), 4, "{label}: {rows:?}");
            for row in rows {
                assert_eq!(row["python"]["version"], version.as_str());
                assert_eq!(row["python"]["gil_enabled"], gil);
                assert!(
                    row["model_label"]
                        .as_str()
                        .unwrap()
                        .contains(label.as_str())
                );
            }
        }
        let csv = std::fs::read_to_string(&csv).unwrap();
        for label in &labels {
            let lines = csv.lines().filter(|l| l.contains(label.as_str())).count();
            assert_eq!(lines, 4, "{label} in:\n{csv}");
        }
    } else {
        assert_eq!(
            doc["machine"]["python"]["version"],
            self_report(&pythons[0]).0
        );
    }

    // The saved runs, read back: the same columns, one sentence each.
    let report = paralab().arg("report").arg(&save).output().unwrap();
    let summary = common::stdout_of(&report);
    for (python, label) in pythons.iter().zip(&labels) {
        let outcome = claim_line(&summary, label);
        let model = |m: &serde_json::Value| {
            m["model"] == "py-thread"
                && m["workload"]["kind"] == "cpu"
                && (!several || m["python"]["label"] == label.as_str())
        };
        let median = |workers: usize| {
            doc["summaries"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| model(s) && s["workers"] == workers)
                .and_then(|s| s["wall_s"]["median"].as_f64())
                .unwrap()
        };
        let ratio = median(2) / median(1);
        agrees(outcome, ratio, label);
        // Never a claim the GIL state alone would make: with its GIL on,
        // threads never "used several cores".
        if self_report(python).1 {
            assert!(!outcome.starts_with("does not hold"), "{label}: {outcome}");
        }
    }
    if several {
        // The two sentences name different interpreters, and a
        // free-threaded CPython is never said to hold a GIL.
        let free = &labels[1];
        assert!(free.ends_with("no GIL"), "{free}");
        assert!(summary.contains(&format!("in {free}: ")), "{summary}");
        assert!(!summary.contains("the GIL of CPython 3.13"), "{summary}");
    }
}

#[test]
fn the_parallelism_lesson_judges_each_interpreter() {
    let Some(pythons) = interpreters() else {
        return;
    };
    let output = paralab()
        .args(["lesson", "parallelism", "--fast", "--format", "json"])
        .arg("--python-exe")
        .arg(joined(&pythons))
        .output()
        .unwrap();
    let record = common::json_of(&output);
    let cells = record["evidence"]["cells"].as_array().unwrap();
    let verdicts = record["verdicts"].as_array().unwrap();
    for python in &pythons {
        let label = expected_label(python);
        let (version, gil) = self_report(python);
        let own: Vec<&serde_json::Value> = cells
            .iter()
            .filter(|c| c["python"]["label"] == label.as_str())
            .collect();
        assert!(own.len() >= 2, "{label}: {cells:?}");
        for cell in &own {
            assert_eq!(cell["python"]["version"], version.as_str());
            assert_eq!(cell["python"]["gil_enabled"], gil);
        }
        let at = |n: u64| {
            own.iter()
                .find(|c| c["workers"] == n)
                .and_then(|c| c["seconds"].as_f64())
                .unwrap()
        };
        let mine: Vec<&serde_json::Value> = verdicts
            .iter()
            .filter(|v| {
                v["text"]
                    .as_str()
                    .unwrap()
                    .contains(&format!("threads in {label}"))
            })
            .collect();
        assert_eq!(mine.len(), 1, "{label}: {verdicts:?}");
        let outcome = match mine[0]["outcome"].as_str().unwrap() {
            "holds" => "holds",
            "does_not_hold" => "does not hold",
            "inconclusive" => "inconclusive",
            other => panic!("{label}: outcome {other}"),
        };
        agrees(outcome, at(2) / at(1), &label);
    }

    let text = paralab()
        .args(["lesson", "parallelism", "--fast"])
        .arg("--python-exe")
        .arg(joined(&pythons))
        .output()
        .unwrap();
    let flat = common::stdout_of(&text)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    for python in &pythons {
        let label = expected_label(python);
        assert!(
            flat.contains(&format!("CPython threads, {}", &label[8..])),
            "{flat}"
        );
        assert!(flat.contains(&format!("threads in {label}")), "{flat}");
    }
}

#[test]
fn a_bad_or_repeated_interpreter_is_one_line_and_exit_2_before_anything_runs() {
    let Some(python) = common::python3() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let save = dir.path().join("runs.jsonl");
    let missing = dir.path().join("python3.99");
    // A wrapper, as pyenv's shims are: another name, the same program.
    let python = python.to_str().unwrap();
    let shim = common::fake_program(dir.path(), "another-name", &format!("exec {python} \"$@\""));
    for (list, named) in [
        (
            format!("{python},{}", missing.display()),
            missing.display().to_string(),
        ),
        (
            format!("{python},{}", shim.display()),
            shim.display().to_string(),
        ),
    ] {
        let bench = paralab()
            .args(["--workloads", "cpu", "--python", "--runs", "1"])
            .args(["--python-exe", &list])
            .arg("--save")
            .arg(&save)
            .output()
            .unwrap();
        let lesson = paralab()
            .args(["lesson", "parallelism", "--fast", "--python-exe", &list])
            .output()
            .unwrap();
        for output in [bench, lesson] {
            assert_eq!(output.status.code(), Some(2), "{list}: {output:?}");
            let stderr = common::without_busy_warning(&String::from_utf8_lossy(&output.stderr));
            assert_eq!(stderr.trim().lines().count(), 1, "{list}: {stderr}");
            assert!(stderr.contains(&named), "{list}: {stderr}");
            assert!(output.stdout.is_empty(), "{list}: {output:?}");
        }
        assert!(!save.exists(), "{list}: nothing runs, nothing is saved");
    }
}
