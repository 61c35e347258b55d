//! Saving, exporting and reporting from the command line, as a user meets
//! them: every output written, nothing lost when the run is killed, the
//! saved file reproducing the live tables, bad paths refused up front.

mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{FAST, PARALAB, line_count, paralab};
use predicates::prelude::*;

#[test]
fn every_output_is_written_and_stderr_stays_quiet_without_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let output = paralab()
        .current_dir(dir.path())
        .arg("bench")
        .args(FAST)
        .args([
            "--runs",
            "3",
            "--export-json",
            "r.json",
            "--export-csv",
            "r.csv",
        ])
        .args([
            "--export-markdown",
            "r.md",
            "--plot",
            "plots",
            "--html",
            "r.html",
        ])
        .args(["--save", "r.jsonl"])
        .output()
        .unwrap();
    let stdout = common::stdout_of(&output);
    assert!(stdout.contains("median of 3 runs"), "{stdout}");
    // No progress bar when stderr is not a terminal; the run may warn of
    // outliers on this shared machine, and nothing else.
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.lines().all(|l| l.starts_with("paralab: warning:")),
        "{stderr}"
    );

    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("r.json")).unwrap()).unwrap();
    assert_eq!(
        json["measurements"].as_array().unwrap().len(),
        2 * 2 * 2 * 3
    );
    assert_eq!(json["summaries"].as_array().unwrap().len(), 2 * 2 * 2);
    let command = json["machine"]["command_line"].as_array().unwrap();
    assert!(command.iter().any(|w| w == "--export-json"), "{command:?}");
    assert_eq!(line_count(&dir.path().join("r.csv")), 1 + 8);
    assert_eq!(line_count(&dir.path().join("r.jsonl")), 1 + 24);
    assert!(
        std::fs::read_to_string(dir.path().join("r.md"))
            .unwrap()
            .contains("| thread | 2 |")
    );
    let mut plots: Vec<String> = std::fs::read_dir(dir.path().join("plots"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    plots.sort();
    assert_eq!(
        plots,
        [
            "cpu-speedup.svg",
            "cpu-wall-time.svg",
            "headline-speedup.svg",
            "sleep-speedup.svg",
            "sleep-wall-time.svg",
            // One per workload and model at 2 workers, the most run.
            "timeline-cpu-process-fork-n2.svg",
            "timeline-cpu-thread-n2.svg",
            "timeline-sleep-process-fork-n2.svg",
            "timeline-sleep-thread-n2.svg",
        ]
    );
    let html = std::fs::read_to_string(dir.path().join("r.html")).unwrap();
    assert_eq!(html.matches("<svg").count(), plots.len());
    // No temporary file is left behind.
    assert!(!std::fs::read_dir(dir.path()).unwrap().any(|e| {
        e.unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with(".paralab-")
    }));
}

#[test]
fn an_export_to_stdout_replaces_the_table() {
    let output = paralab()
        .arg("bench")
        .args(FAST)
        .args(["--workloads", "cpu", "--runs", "1", "--export-json", "-"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let json: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("stdout is only JSON");
    assert_eq!(json["measurements"].as_array().unwrap().len(), 4);

    let output = paralab()
        .arg("bench")
        .args(FAST)
        .args(["--workloads", "cpu", "--runs", "1", "--export-csv", "-"])
        .output()
        .unwrap();
    let csv = String::from_utf8(output.stdout).unwrap();
    assert!(
        csv.starts_with("workload,iters,sleep_s,model,workers,"),
        "{csv}"
    );
    assert_eq!(csv.lines().count(), 1 + 4);
}

#[test]
fn report_reproduces_the_live_tables_from_the_saved_file() {
    let dir = tempfile::tempdir().unwrap();
    for format in ["table", "notebook", "json"] {
        // --save appends: one file per live run.
        let saved = dir.path().join(format!("run-{format}.jsonl"));
        let live = paralab()
            .arg("bench")
            .args(FAST)
            .args(["--runs", "2", "--format", format, "--save"])
            .arg(&saved)
            .output()
            .unwrap();
        assert!(live.status.success());
        let replayed = paralab()
            .args(["report", "--format", format])
            .arg(&saved)
            .output()
            .unwrap();
        assert!(
            replayed.status.success(),
            "{}",
            String::from_utf8_lossy(&replayed.stderr)
        );
        assert_eq!(
            String::from_utf8(replayed.stdout).unwrap(),
            String::from_utf8(live.stdout).unwrap(),
            "--format {format}"
        );
    }
}

#[test]
fn report_renders_exports_plots_and_html_from_a_saved_file() {
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("run.jsonl");
    paralab()
        .arg("bench")
        .args(FAST)
        .arg("--save")
        .arg(&saved)
        .assert()
        .success();
    paralab()
        .current_dir(dir.path())
        .args([
            "report",
            "run.jsonl",
            "--export-csv",
            "r.csv",
            "--plot",
            "p",
            "--html",
            "r.html",
            "-q",
        ])
        .assert()
        .success()
        .stderr("");
    assert_eq!(line_count(&dir.path().join("r.csv")), 1 + 8);
    // The headline, 2 plots per workload, a timeline per workload and model.
    assert_eq!(
        std::fs::read_dir(dir.path().join("p")).unwrap().count(),
        1 + 2 * 2 + 2 * 2
    );
    let html = std::fs::read_to_string(dir.path().join("r.html")).unwrap();
    assert!(
        html.contains("--save"),
        "the machine block keeps the original command line"
    );
}

/// The run is killed with SIGKILL part-way: what it finished is on disk,
/// every line parses, and `paralab report` reads it.
#[test]
fn a_run_killed_part_way_leaves_every_finished_measurement() {
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("killed.jsonl");
    let mut child = std::process::Command::new(PARALAB)
        .args([
            "bench",
            "--workloads",
            "sleep",
            "--models",
            "thread",
            "--workers",
            "1,2",
        ])
        .args(["--sleep", "0.02", "--runs", "1000", "--save"])
        .arg(&saved)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    common::wait_until("5 measurements saved", Duration::from_secs(20), || {
        line_count(&saved) >= 6
    });
    child.kill().unwrap(); // SIGKILL: no chance to tidy up
    let status = child.wait().unwrap();
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(9)
    );

    let text = std::fs::read_to_string(&saved).unwrap();
    let count = text.lines().count();
    assert!((6..1 + 2000).contains(&count), "{count} lines");
    for (i, line) in text.lines().enumerate() {
        let value: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("line {} does not parse ({e}): {line}", i + 1));
        if i > 0 {
            assert_eq!(value["model"], "thread");
            assert!(value["wall_s"].as_f64().unwrap() >= 0.02);
        }
    }
    let report = paralab()
        .args(["report", "--format", "notebook"])
        .arg(&saved)
        .output()
        .unwrap();
    assert!(report.status.success());
    let table = String::from_utf8(report.stdout).unwrap();
    assert!(
        table.starts_with("nthreads IoThread\n1.000000e+00 "),
        "{table}"
    );
}

#[test]
fn bad_paths_are_refused_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no/such/dir/r.json");
    let saved = dir.path().join("never.jsonl");
    let started = Instant::now();
    paralab()
        .args(["bench", "--sleep", "5", "--workloads", "sleep", "--save"])
        .arg(&saved)
        .arg("--export-json")
        .arg(&missing)
        .assert()
        .code(2)
        .stdout("")
        .stderr(
            predicate::str::contains("--export-json")
                .and(predicate::str::contains("does not exist")),
        )
        .stderr(predicate::function(|s: &str| s.lines().count() == 1));
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "the sleep workload ran"
    );
    assert!(
        !saved.exists(),
        "a file was created for a run that never started"
    );

    paralab()
        .args(["bench", "--export-json", "-", "--export-csv", "-"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("only one export can go to stdout"));

    let file = dir.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    paralab()
        .args(["bench", "--plot"])
        .arg(&file)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is a file, not a directory"));
    paralab()
        .args(["bench", "--html"])
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is a directory"));
}

#[test]
fn report_refuses_what_it_cannot_read() {
    let dir = tempfile::tempdir().unwrap();
    paralab()
        .args(["report", "missing.jsonl"])
        .current_dir(dir.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot read 'missing.jsonl'"));
    let garbage = dir.path().join("garbage.jsonl");
    std::fs::write(&garbage, "{\"wall_s\": 1}\nnot json\n").unwrap();
    paralab()
        .arg("report")
        .arg(&garbage)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "line 1 is not a paralab measurement",
        ))
        .stderr(predicate::function(|s: &str| s.lines().count() == 1));
    paralab().arg("report").assert().code(2);
}

/// Runs paralab under `script`, which gives it a terminal (stdout and
/// stderr both go to it), and returns everything the terminal received.
/// `None` when `script` (util-linux) is missing.
fn in_a_terminal(args: &str, no_color: bool) -> Option<String> {
    let mut command = std::process::Command::new("script");
    // indicatif draws nothing on a dumb terminal (or with TERM unset, as in
    // some CI runners): give it an ordinary one.
    command
        .args(["-qec", &format!("{PARALAB} {args}"), "/dev/null"])
        .env("TERM", "xterm-256color");
    if no_color {
        command.env("NO_COLOR", "1");
    } else {
        command.env_remove("NO_COLOR");
    }
    let output = command.stdin(Stdio::null()).output().ok()?;
    assert!(output.status.success(), "{output:?}");
    Some(String::from_utf8_lossy(&output.stdout).into_owned())
}

#[test]
fn the_progress_bar_shows_in_a_terminal_and_is_gone_before_the_results() {
    let args = "bench --workloads sleep --models thread --workers 1 --sleep 0.15 --runs 4";
    let Some(screen) = in_a_terminal(args, false) else {
        common::skip("no 'script' (util-linux) to give paralab a terminal");
        return;
    };
    assert!(
        screen.contains("sleep · thread · 1 worker · run "),
        "{screen:?}"
    );
    assert!(screen.contains("ETA"), "{screen:?}");
    assert!(
        screen.contains("\x1b[32m"),
        "coloured by default: {screen:?}"
    );
    // The bar's last act is to clear its line; the results follow, whole.
    let after_bar = &screen[screen.rfind("\x1b[2K").expect("the bar clears its line")..];
    let results = after_bar
        .trim_start_matches("\x1b[2K")
        .replace("\x1b[1A", "");
    assert!(
        results.starts_with("sleep: 0.15 s per worker\r\n"),
        "{results:?}"
    );
    assert!(results.contains("       1 │   0.15"), "{results:?}");

    let plain = in_a_terminal(args, true).unwrap();
    assert!(
        plain.contains("ETA") && !plain.contains("\x1b[32m"),
        "NO_COLOR: {plain:?}"
    );

    let quiet = in_a_terminal(&format!("{args} --quiet"), false).unwrap();
    assert!(
        !quiet.contains("ETA") && quiet.starts_with("sleep: 0.15 s"),
        "{quiet:?}"
    );
}
