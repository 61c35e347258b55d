//! `paralab compare A B` on real saved runs: a planted slowdown is
//! `slower` and exits 1 past `--threshold`, a file compared with itself
//! is no difference, cells in one file are listed, bad input is exit 2.

mod common;

use std::path::{Path, PathBuf};

use common::paralab;
use serde_json::Value;

/// Saves a real run into `dir/name`: cpu work of about 60 ms per worker,
/// one thread and two, seven runs each.
fn save(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    let output = paralab()
        .args([
            "bench",
            "4000000",
            "--workloads",
            "cpu",
            "--models",
            "thread",
            "--workers",
            "1,2",
            "--runs",
            "7",
            "-q",
            "--save",
        ])
        .arg(&path)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    path
}

/// A copy of the saved file `from` at `to`, each run's wall and CPU times
/// multiplied by `factor`, runs `keep` says to keep only.
fn planted(from: &Path, to: &Path, factor: f64, keep: impl Fn(&Value) -> bool) {
    let text = std::fs::read_to_string(from).unwrap();
    let mut out = String::new();
    for line in text.lines() {
        let mut value: Value = serde_json::from_str(line).unwrap();
        if value.get("wall_s").is_some() {
            if !keep(&value) {
                continue;
            }
            let wall = value["wall_s"].as_f64().unwrap();
            value["wall_s"] = (wall * factor).into();
            for outcome in value["outcomes"].as_array_mut().unwrap() {
                if let Some(cpu) = outcome["cpu_s"].as_f64() {
                    outcome["cpu_s"] = (cpu * factor).into();
                }
            }
        }
        out.push_str(&serde_json::to_string(&value).unwrap());
        out.push('\n');
    }
    std::fs::write(to, out).unwrap();
}

/// `paralab compare --format json` of `a` and `b`, with its exit code.
fn compare_json(a: &Path, b: &Path, extra: &[&str]) -> (Value, i32) {
    let output = paralab()
        .arg("compare")
        .args([a, b])
        .args(["--format", "json"])
        .args(extra)
        .output()
        .unwrap();
    let code = output.status.code().unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let json = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (json, code)
}

/// The verdict of the one-worker cell.
fn one_worker(json: &Value) -> &Value {
    json["cells"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["workers"] == 1)
        .unwrap_or_else(|| panic!("no one-worker cell: {json}"))
}

#[test]
fn a_planted_slowdown_is_slower_and_exits_1_past_the_threshold() {
    let dir = tempfile::tempdir().unwrap();
    // The machine is shared: a run others slowed is judged inconclusive
    // (rightly), so A is saved again until its one-worker cell is sound
    // evidence: compared with itself, no difference.
    let mut sound = None;
    for attempt in 0..5 {
        let a = save(dir.path(), &format!("a{attempt}.jsonl"));
        let (json, code) = compare_json(&a, &a, &["--threshold", "10"]);
        assert_eq!(code, 0, "{json}");
        let change = one_worker(&json)["verdict"]["change"].clone();
        assert!(
            change == "no_difference" || change == "inconclusive",
            "a file compared with itself: {json}"
        );
        assert_eq!(one_worker(&json)["verdict"]["ratio"], 1.0);
        assert_eq!(json["regressions"], 0);
        if change == "no_difference" {
            sound = Some(a);
            break;
        }
    }
    let Some(a) = sound else {
        eprintln!(
            "the machine was too busy for a sound run in 5 attempts; only the honesty of the verdicts was checked"
        );
        return;
    };
    let b = dir.path().join("b.jsonl");
    planted(&a, &b, 1.5, |_| true);
    let (json, code) = compare_json(&a, &b, &["--threshold", "10"]);
    let cell = one_worker(&json);
    assert_eq!(cell["verdict"]["change"], "slower", "{json}");
    assert_eq!(cell["verdict"]["regression"], true, "{json}");
    let ratio = cell["verdict"]["ratio"].as_f64().unwrap();
    assert!((ratio - 1.5).abs() < 1e-9, "{ratio}");
    let (low, high) = (
        cell["verdict"]["interval"][0].as_f64().unwrap(),
        cell["verdict"]["interval"][1].as_f64().unwrap(),
    );
    assert!(low > 1.1 && low <= 1.5 && high >= 1.5, "{low} {high}");
    assert_eq!(code, 1, "a regression past 10% exits 1: {json}");

    // Past a 60 % threshold the slowdown is no regression: exit 0.
    let (json, code) = compare_json(&a, &b, &["--threshold", "60"]);
    assert_eq!(one_worker(&json)["verdict"]["change"], "slower");
    assert_eq!((code, json["regressions"].clone()), (0, 0.into()));
    // Without a threshold there is no exit 1.
    let (_, code) = compare_json(&a, &b, &[]);
    assert_eq!(code, 0);
    // B as A: faster.
    let (json, code) = compare_json(&b, &a, &["--threshold", "10"]);
    assert_eq!(one_worker(&json)["verdict"]["change"], "faster", "{json}");
    assert_eq!(code, 0);

    // An --export-json document is read like the saved file.
    let export = dir.path().join("a.json");
    paralab()
        .arg("report")
        .arg(&a)
        .arg("--export-json")
        .arg(&export)
        .args(["--format", "json", "-q"])
        .assert()
        .success();
    let (json, code) = compare_json(&export, &b, &["--threshold", "10"]);
    assert_eq!(one_worker(&json)["verdict"]["change"], "slower", "{json}");
    assert_eq!(code, 1);

    // The text says the same in words.
    let output = paralab()
        .arg("compare")
        .args([&a, &b])
        .args(["--threshold", "10"])
        .output()
        .unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        text.contains("slower: B takes 50.0% more time") && text.contains("beyond the threshold"),
        "{text}"
    );
}

#[test]
fn cells_in_one_file_only_are_listed() {
    let dir = tempfile::tempdir().unwrap();
    let a = save(dir.path(), "a.jsonl");
    let b = dir.path().join("b.jsonl");
    planted(&a, &b, 1.0, |m| m["workers"] == 1);
    let (json, code) = compare_json(&a, &b, &[]);
    assert_eq!(code, 0);
    assert_eq!(json["cells"].as_array().unwrap().len(), 1, "{json}");
    let only: Vec<&str> = json["only_in_a"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert_eq!(only.len(), 1);
    assert!(only[0].contains("thread · 2 workers"), "{only:?}");
    assert!(json["only_in_b"].as_array().unwrap().is_empty());
    let output = paralab()
        .arg("compare")
        .args([&a, &b])
        .args(["--format", "markdown"])
        .output()
        .unwrap();
    let markdown = String::from_utf8(output.stdout).unwrap();
    assert!(
        markdown.contains("Only in A") && markdown.contains("| cell |"),
        "{markdown}"
    );
}

#[test]
fn bad_input_is_one_line_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.jsonl");
    // One measurement line, made up but well formed, is enough to read.
    planted_free_file(&a);
    let missing = dir.path().join("missing.jsonl");
    let garbage = dir.path().join("garbage.txt");
    std::fs::write(&garbage, "hello\nworld\n").unwrap();
    let other = dir.path().join("other.jsonl");
    std::fs::write(
        &other,
        std::fs::read_to_string(&a)
            .unwrap()
            .replace("\"thread\"", "\"process\""),
    )
    .unwrap();
    let cases: Vec<(Vec<std::ffi::OsString>, &str)> = vec![
        (
            vec![
                a.clone().into(),
                a.clone().into(),
                "--threshold".into(),
                "ten".into(),
            ],
            "'ten' is not a percentage",
        ),
        (
            vec![
                a.clone().into(),
                a.clone().into(),
                "--threshold".into(),
                "-5".into(),
            ],
            "percentage",
        ),
        (
            vec![a.clone().into(), missing.clone().into()],
            "cannot read",
        ),
        (
            vec![garbage.clone().into(), a.clone().into()],
            "cannot read",
        ),
        (vec![a.clone().into(), other.clone().into()], "no cell"),
    ];
    for (args, words) in cases {
        let output = paralab().arg("compare").args(&args).output().unwrap();
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(output.stdout.is_empty(), "{args:?}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.contains(words), "{args:?}: {stderr}");
    }
}

/// A saved file of three made-up runs of one thread (no run needed).
fn planted_free_file(path: &Path) {
    made_up_file(path, &[0.1, 0.1, 0.1]);
}

/// A saved file of made-up runs of one thread, one per wall time, on a
/// quiet machine (no other work seen), each keeping its CPU busy.
fn made_up_file(path: &Path, walls: &[f64]) {
    let line = |run: usize, wall: f64| {
        format!(
            "{{\"workload\":{{\"kind\":\"cpu\",\"iters\":1000}},\"model\":\"thread\",\"workers\":1,\"run\":{run},\"wall_s\":{wall},\"outcomes\":[{{\"worker\":0,\"cpu_s\":{wall},\"status\":\"finished\",\"result\":9707240}}],\"others_cpus\":0.0,\"steal_cpus\":0.0}}\n"
        )
    };
    let text: String = walls
        .iter()
        .enumerate()
        .map(|(run, &wall)| line(run + 1, wall))
        .collect();
    std::fs::write(path, text).unwrap();
}

/// The exit code and the verdict do not depend on this machine's load:
/// runs made up as a quiet machine would record them, B ×1.5 of A.
#[test]
fn a_planted_slowdown_in_quiet_runs_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let walls = [0.100, 0.102, 0.098, 0.101, 0.099, 0.100, 0.103];
    let (a, b) = (dir.path().join("a.jsonl"), dir.path().join("b.jsonl"));
    made_up_file(&a, &walls);
    made_up_file(&b, &walls.map(|w| w * 1.5));
    let (json, code) = compare_json(&a, &b, &["--threshold", "10"]);
    assert_eq!(one_worker(&json)["verdict"]["change"], "slower", "{json}");
    assert_eq!(code, 1, "{json}");
    let (json, code) = compare_json(&a, &a, &["--threshold", "10"]);
    assert_eq!(
        one_worker(&json)["verdict"]["change"],
        "no_difference",
        "{json}"
    );
    assert_eq!(code, 0);
    // An --export-json document of many runs (thousands of lines, none
    // a measurement on its own) is read as A.
    let many: Vec<f64> = (0..200).map(|i| walls[i % walls.len()]).collect();
    let big = dir.path().join("big.jsonl");
    made_up_file(&big, &many);
    let export = dir.path().join("big.json");
    paralab()
        .arg("report")
        .arg(&big)
        .arg("--export-json")
        .arg(&export)
        .args(["--format", "json", "-q"])
        .assert()
        .success();
    assert!(std::fs::read_to_string(&export).unwrap().lines().count() > 1000);
    let (json, code) = compare_json(&export, &b, &["--threshold", "10"]);
    assert_eq!(one_worker(&json)["verdict"]["change"], "slower", "{json}");
    assert_eq!(code, 1, "{json}");
    // A symlink to A is the same file: compared with itself, one warning.
    let link = dir.path().join("link.jsonl");
    std::os::unix::fs::symlink(&a, &link).unwrap();
    let output = paralab()
        .arg("compare")
        .args([&a, &link])
        .args(["--threshold", "10"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.lines().count() == 1 && stderr.contains("same file"),
        "{stderr}"
    );
}
