//! The times people read: user and system time beside wall time, one unit
//! per column (`--time-unit`), hyperfine's JSON (`--export-hyperfine`),
//! warnings when the times contradict each other, and `--style`.

mod common;

use std::path::Path;
use std::process::Output;

use common::{paralab, stdout_of};

/// A small cpu sweep of thread and process at 1 and 2 workers, 2 runs
/// each, with `extra` arguments, in `dir`.
fn cpu_sweep(dir: &Path, extra: &[&str]) -> Output {
    paralab()
        .current_dir(dir)
        .args(["bench", "2000000", "--workloads", "cpu"])
        .args([
            "--models",
            "thread,process",
            "--workers",
            "1,2",
            "--runs",
            "2",
        ])
        .args(extra)
        .output()
        .unwrap()
}

/// Checks, in python3's json, that every field hyperfine 1.15 writes is in
/// each result with hyperfine's type. `hyperfine --export-json -N --runs 3
/// true` writes: command (str), mean, stddev, median, user, system, min,
/// max (floats; stddev null for one run), times (floats), exit_codes
/// (ints, null for a signal), and parameters (str → str) when it scans.
const CHECK_HYPERFINE: &str = r#"
import json, math, sys
doc = json.load(open(sys.argv[1]))
assert list(doc) == ["results"], list(doc)
results = doc["results"]
assert len(results) == int(sys.argv[2]), len(results)
floats = ["mean", "median", "min", "max", "user", "system"]
for r in results:
    for key in ["command", "mean", "stddev", "median", "user", "system",
                "min", "max", "times", "exit_codes", "parameters"]:
        assert key in r, (key, r)
    assert isinstance(r["command"], str)
    for key in floats:
        assert isinstance(r[key], float) and math.isfinite(r[key]), (key, r[key])
    assert r["stddev"] is None or isinstance(r["stddev"], float), r["stddev"]
    assert all(isinstance(t, float) for t in r["times"]), r["times"]
    assert all(c is None or (isinstance(c, int) and not isinstance(c, bool))
               for c in r["exit_codes"]), r["exit_codes"]
    assert len(r["times"]) == len(r["exit_codes"]) == 2, r
    assert r["exit_codes"] == [0, 0], r["exit_codes"]
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in r["parameters"].items())
    assert r["min"] <= r["median"] <= r["max"], r
    assert abs(r["mean"] - sum(r["times"]) / len(r["times"])) < 1e-9, r
    # The workers compute: their user time is there and positive.
    assert r["user"] > 0 and r["system"] >= 0, r
    workers = r["parameters"]["workers"]
    noun = "worker" if workers == "1" else "workers"
    assert r["command"].endswith(f" · {workers} {noun}"), r["command"]
    assert r["parameters"]["model"] in r["command"], r
print(" | ".join(r["command"] for r in results))
"#;

#[test]
fn hyperfine_scripts_read_the_hyperfine_export() {
    let Some(python) = common::python3() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let output = cpu_sweep(dir.path(), &["-q", "--export-hyperfine", "h.json"]);
    stdout_of(&output);
    let path = dir.path().join("h.json");
    let check = std::process::Command::new(&python)
        .args(["-c", CHECK_HYPERFINE])
        .arg(&path)
        .arg("4")
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&check.stderr),
        std::fs::read_to_string(&path).unwrap()
    );
    let commands = String::from_utf8(check.stdout).unwrap();
    assert!(
        commands.contains("cpu (2,000,000 iterations) · thread · 1 worker")
            && commands.contains("· process:fork · 2 workers"),
        "{commands}"
    );
}

#[test]
fn hyperfine_writes_the_same_fields_where_it_is_installed() {
    let (Some(python), Ok(_)) = (common::python3(), which("hyperfine")) else {
        common::skip("no hyperfine to compare its fields with");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let theirs = std::process::Command::new("hyperfine")
        .current_dir(dir.path())
        .args(["--export-json", "theirs.json", "-N", "--runs", "3", "true"])
        .output()
        .unwrap();
    assert!(theirs.status.success(), "{theirs:?}");
    stdout_of(&cpu_sweep(
        dir.path(),
        &["-q", "--export-hyperfine", "ours.json"],
    ));
    // Every field of theirs is in ours, with the same JSON type (null
    // aside: a figure neither can give).
    let compare = r#"
import json, sys
kind = lambda v: "number" if isinstance(v, (int, float)) and not isinstance(v, bool) else type(v).__name__
theirs = json.load(open(sys.argv[1]))["results"][0]
for ours in json.load(open(sys.argv[2]))["results"]:
    for key, value in theirs.items():
        assert key in ours, key
        if value is not None and ours[key] is not None:
            assert kind(ours[key]) == kind(value), (key, ours[key], value)
"#;
    let check = std::process::Command::new(python)
        .current_dir(dir.path())
        .args(["-c", compare, "theirs.json", "ours.json"])
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
}

fn which(program: &str) -> Result<(), ()> {
    std::process::Command::new(program)
        .arg("--version")
        .output()
        .map_err(drop)
        .and_then(|o| if o.status.success() { Ok(()) } else { Err(()) })
}

#[test]
fn user_and_system_time_are_in_the_table_and_the_json() {
    let dir = tempfile::tempdir().unwrap();
    let output = cpu_sweep(dir.path(), &["-q", "--export-json", "r.json"]);
    let stdout = stdout_of(&output);
    // Each of the 2 × 2 cells has its user and sys time.
    let cells: usize = table_rows(&stdout)
        .iter()
        .map(|row| row.matches(" sys ").count())
        .sum();
    assert_eq!(cells, 4, "{stdout}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("r.json")).unwrap()).unwrap();
    // The shape is kept: the keys the summaries had, and the new ones.
    for summary in json["summaries"].as_array().unwrap() {
        for key in [
            "workload",
            "model_label",
            "workers",
            "wall_s",
            "speedup",
            "outliers",
        ] {
            assert!(summary.get(key).is_some(), "{key}: {summary}");
        }
        let user = summary["user_s"].as_f64().unwrap();
        let wall = summary["wall_s"]["median"].as_f64().unwrap();
        let workers = summary["workers"].as_f64().unwrap();
        // The workers compute: their user time is a real part of the
        // wall time, and no more than all the workers could use.
        assert!(
            user > 0.0 && user <= 1.2 * workers * wall + 0.05,
            "{summary}"
        );
        assert!(summary["system_s"].as_f64().unwrap() >= 0.0, "{summary}");
    }
}

/// The table's lines of cells: a worker count, then `│`.
fn table_rows(stdout: &str) -> Vec<&str> {
    stdout
        .lines()
        .filter(|l| {
            l.split('│')
                .next()
                .is_some_and(|first| first.trim().parse::<usize>().is_ok())
        })
        .collect()
}

#[test]
fn time_unit_sets_every_time_in_the_table() {
    // The table of a 50 ms sleep by one thread at `workers`, in `unit`.
    let table = |workers: &str, unit: &str| {
        let output = paralab()
            .args(["bench", "--workloads", "sleep", "--sleep", "0.05"])
            .args(["--models", "thread", "--workers", workers, "--runs", "1"])
            .args(["-q", "--time-unit", unit])
            .output()
            .unwrap();
        stdout_of(&output)
    };
    let stdout = table("1,2", "microsecond");
    let rows = table_rows(&stdout);
    assert!(!rows.is_empty(), "{stdout}");
    for row in rows.iter().filter(|r| !r.contains('×')) {
        assert!(
            row.contains("µs") && !row.contains(" ms") && !row.contains(" s "),
            "{stdout}"
        );
    }
    let stdout = table("1", "second");
    assert!(
        table_rows(&stdout).iter().any(|r| r.contains(" s ")),
        "{stdout}"
    );
}

#[test]
fn bad_time_units_and_styles_are_refused_in_one_line() {
    for (option, value) in [("--time-unit", "minute"), ("--style", "fancy")] {
        let output = paralab()
            .args(["bench", "--workloads", "sleep", option, value])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{output:?}");
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
        assert!(
            stderr.contains(value) && stderr.contains(option),
            "{stderr}"
        );
        assert!(output.stdout.is_empty());
    }
}

/// Stderr of a two-cell sleep sweep with `--style style`, without the
/// warnings a shared machine may cause.
fn progress_in(style: &str) -> String {
    let output = paralab()
        .args([
            "bench",
            "--workloads",
            "sleep",
            "--sleep",
            "0.05",
            "--models",
            "thread",
        ])
        .args(["--workers", "1,2", "--runs", "2", "--style", style])
        .output()
        .unwrap();
    stdout_of(&output);
    String::from_utf8(output.stderr)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("paralab: warning:"))
        .map(|l| format!("{l}\n"))
        .collect()
}

#[test]
fn each_style_shows_progress_its_own_way() {
    let basic = progress_in("basic");
    let lines: Vec<&str> = basic.lines().collect();
    assert_eq!(lines.len(), 2, "one line per cell: {basic}");
    assert!(
        lines[0].starts_with("sleep · thread · 1 worker: 2 runs, median ")
            && lines[0].contains("1/2 cells")
            && lines[1].starts_with("sleep · thread · 2 workers: 2 runs")
            && lines[1].contains("2/2 cells"),
        "{basic}"
    );
    assert!(!basic.contains('\x1b'), "no colours: {basic:?}");
    let color = progress_in("color");
    assert_eq!(color.lines().count(), 2, "{color}");
    assert!(color.contains("\x1b[1m"), "{color:?}");
    // No terminal here: neither the bar nor anything else.
    assert_eq!(progress_in("none"), "");
    assert_eq!(progress_in("full"), "");
}

/// Rewrites every saved cpu run's workers' CPU times with `cpu_each(wall,
/// cpus, workers)`, as an edited (or mis-measured) file would hold them.
fn edit_saved(path: &Path, cpu_each: impl Fn(f64, f64, f64) -> f64) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut cpus = 0.0;
    let mut out = String::new();
    for line in text.lines() {
        let mut value: serde_json::Value = serde_json::from_str(line).unwrap();
        if let Some(n) = value
            .pointer("/machine/logical_cpus")
            .and_then(|v| v.as_f64())
        {
            cpus = n;
        }
        if let Some(n) = value.get("logical_cpus").and_then(|v| v.as_f64()) {
            cpus = n;
        }
        if let Some(wall) = value.get("wall_s").and_then(|v| v.as_f64()) {
            // At least 0.1 s: shorter runs are mostly start-up, about
            // which the warnings rightly say nothing.
            let wall = wall.max(0.1);
            value["wall_s"] = wall.into();
            let outcomes = value["outcomes"].as_array_mut().unwrap();
            let cpu = cpu_each(wall, cpus, outcomes.len() as f64);
            for outcome in outcomes {
                outcome["cpu_s"] = cpu.into();
                outcome["user_s"] = cpu.into();
                outcome["system_s"] = 0.0.into();
            }
        }
        out.push_str(&serde_json::to_string(&value).unwrap());
        out.push('\n');
    }
    assert!(cpus >= 1.0, "the saved file names its machine's CPUs");
    std::fs::write(path, out).unwrap();
}

#[test]
fn contradicting_times_are_warned_about_on_stderr_and_in_the_summary() {
    let dir = tempfile::tempdir().unwrap();
    stdout_of(&cpu_sweep(dir.path(), &["-q", "--save", "s.jsonl"]));
    let path = dir.path().join("s.jsonl");
    let report = || {
        let output = paralab()
            .current_dir(dir.path())
            .args(["report", "s.jsonl"])
            .output()
            .unwrap();
        let stdout = stdout_of(&output);
        (stdout, String::from_utf8(output.stderr).unwrap())
    };

    // More CPU time than the machine's CPUs can give in the wall time
    // (17 % more, and 15 ms per worker: more than the clocks' grain, less
    // than makes `report` refuse the run as garbage).
    edit_saved(&path, |wall, cpus, workers| {
        (1.17 * wall * cpus + 0.015 * workers) / workers
    });
    let (stdout, stderr) = report();
    for text in [&stdout, &stderr] {
        assert!(
            text.contains("cpu · thread · 1 worker: run ") && text.contains("a measurement error"),
            "{text}"
        );
    }
    assert_eq!(stderr.matches("a measurement error").count(), 4, "{stderr}");

    // Work that computes, with a CPU time a twentieth of its wall time.
    edit_saved(&path, |wall, _, _| wall / 20.0);
    let (stdout, stderr) = report();
    for text in [&stdout, &stderr] {
        assert!(
            text.contains("cpu · process:fork · 2 workers: wall time")
                && text.contains("the workers waited"),
            "{text}"
        );
    }
    assert!(!stderr.contains("a measurement error"), "{stderr}");
}
