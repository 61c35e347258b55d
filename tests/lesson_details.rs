//! Details of three lessons, through `paralab lesson … --fast`: the pipe
//! lesson's ways take turns, the memory lesson shows threads on a fresh
//! process and with reused stacks, and the race lesson runs its CPython
//! part on the interpreter `--python-exe` names.

mod common;

use common::paralab;
use serde_json::Value;

/// `paralab lesson NAME --fast --format json ARGS`, which must succeed.
fn evidence(name: &str, args: &[&str]) -> Value {
    let output = paralab()
        .args(["lesson", name, "--fast", "--format", "json"])
        .args(args)
        .output()
        .unwrap();
    common::json_of(&output)["evidence"].clone()
}

#[test]
fn pipe_ways_take_turns_sample_by_sample() {
    let evidence = evidence("pipe", &[]);
    let ways: Vec<&str> = evidence["channels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(ways.len(), 3, "{evidence}");
    let schedule = evidence["schedule"].as_array().unwrap();
    assert!(!schedule.is_empty(), "{evidence}");
    // Every round visits each way once, in the same order, at the same
    // sample number: never two samples of one way in a row.
    for round in schedule.chunks(ways.len()) {
        let visited: Vec<&str> = round.iter().map(|s| s["way"].as_str().unwrap()).collect();
        assert_eq!(visited, ways, "{schedule:?}");
        assert!(
            round
                .iter()
                .all(|s| s["sample"] == round[0]["sample"] && s["measure"] == round[0]["measure"]),
            "{round:?}"
        );
    }
    // And every sample of every way appears in the schedule.
    for channel in evidence["channels"].as_array().unwrap() {
        let name = channel["name"].as_str().unwrap();
        let taken = |measure: &str| {
            schedule
                .iter()
                .filter(|s| s["way"] == name && s["measure"] == measure)
                .count()
        };
        assert_eq!(
            taken("throughput"),
            channel["segment_mb_per_s"].as_array().unwrap().len()
        );
        assert_eq!(
            taken("round trip"),
            channel["batch_round_trip_s"].as_array().unwrap().len()
        );
    }
}

#[test]
fn memory_shows_fresh_and_reused_thread_stacks_and_says_why() {
    let output = paralab()
        .args(["lesson", "memory", "--fast"])
        .output()
        .unwrap();
    let text = common::stdout_of(&output);
    assert!(text.contains("thread, stacks reused"), "{text}");
    // The note is wrapped: read it as one line.
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat.contains("on a fresh process"), "{text}");
    assert!(flat.contains("glibc hands the stacks"), "{text}");
    assert!(flat.contains("`paralab bench`"), "{text}");
    assert!(flat.contains("the reused figure"), "{text}");

    let evidence = evidence("memory", &[]);
    let fresh: Vec<u64> = evidence["costs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["model"] == "thread")
        .map(|c| c["workers"].as_u64().unwrap())
        .collect();
    let reused: Vec<u64> = evidence["reused_thread_costs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["workers"].as_u64().unwrap())
        .collect();
    assert!(!fresh.is_empty());
    assert_eq!(fresh, reused, "{evidence}");
}

#[test]
fn race_runs_cpython_on_a_free_threaded_interpreter_when_one_is_named() {
    let Some(exe) = std::env::var_os("PARALAB_TEST_FREE_THREADED_PYTHON") else {
        // Straight to stderr, past the test harness's capture, so the skip is seen.
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr().lock(),
            "skipped race_runs_cpython_on_a_free_threaded_interpreter_when_one_is_named: \
             PARALAB_TEST_FREE_THREADED_PYTHON names no free-threaded CPython \
             (../shared/tools/free-threaded-python builds one)"
        );
        return;
    };
    let exe = exe.to_str().unwrap().to_string();
    let output = paralab()
        .args(["lesson", "race", "--fast", "--format", "json"])
        .args(["--python-exe", &exe])
        .output()
        .unwrap();
    let record = common::json_of(&output);
    let python = &record["evidence"]["python"];
    assert_eq!(python["gil_enabled"], false, "{python}");
    let expected = python["threads"].as_u64().unwrap() * python["increments"].as_u64().unwrap();
    let counted = python["plain"]["counted"].as_u64().unwrap();
    assert!(counted <= expected, "{python}");
    let verdicts = record["verdicts"].to_string();
    assert!(verdicts.contains("no GIL"), "{verdicts}");
    assert!(!verdicts.contains("with its GIL"), "{verdicts}");

    let text = paralab()
        .args(["lesson", "race", "--fast", "--python-exe", &exe])
        .output()
        .unwrap();
    let flat = common::stdout_of(&text)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(flat.contains("without a GIL"), "{flat}");
    // What the note says follows what this run showed (its own verdict).
    if !flat.contains("counter += 1 lost 0 of") {
        assert!(flat.contains("updates here"), "{flat}");
    } else {
        assert!(flat.contains("lost none in this run"), "{flat}");
    }
    assert!(!flat.contains("The GIL is no lock"), "{flat}");
}

#[test]
fn race_with_a_bad_python_exe_is_one_line_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let not_python = common::fake_program(dir.path(), "not-python", "exit 0");
    let missing = dir.path().join("no-such-python");
    for exe in [not_python, missing] {
        let output = paralab()
            .args(["lesson", "race", "--fast", "--python-exe"])
            .arg(&exe)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{output:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains(&exe.display().to_string()), "{stderr}");
        assert!(stderr.contains("--python-exe"), "{stderr}");
        assert!(output.stdout.is_empty(), "{output:?}");
    }
}

#[test]
fn race_without_python3_skips_its_cpython_part_with_one_line() {
    let empty = tempfile::tempdir().unwrap();
    let output = paralab()
        .args(["lesson", "race", "--fast"])
        .env("PATH", empty.path())
        .output()
        .unwrap();
    let text = common::stdout_of(&output);
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert_eq!(
        flat.matches("The Python part was skipped").count(),
        1,
        "{text}"
    );
    assert!(
        flat.contains("no Python interpreter 'python3' found"),
        "{text}"
    );
    assert!(!text.contains("CPython 3."), "{text}");
}
