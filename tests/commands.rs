//! `paralab bench --cmd` with hyperfine's conventions: a shell by default
//! and `-N` for none, parameter scans and lists, `{n}` and `{i}`,
//! `--prepare`, `--setup`, `--cleanup`, `-i`, `-n`, `--output`, and the
//! commands compared in the summary. Each test runs real commands and
//! counts what they left in files.

mod common;

use std::path::Path;

use common::{json_of, paralab};

/// The lines of `path`, none while it does not exist.
fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn a_command_runs_through_sh_by_default_and_its_output_goes_nowhere() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("out");
    let command = format!(
        "echo a > {0}; echo b >> {0}; echo torn >&2; echo torn",
        file.display()
    );
    let output = paralab()
        .args(["bench", "--cmd", &command, "--workers", "1", "-r", "2"])
        .output()
        .unwrap();
    let said = stderr(&output);
    assert!(output.status.success(), "{said}");
    // Both statements ran (a shell read the ';' and the '>'), every run.
    assert_eq!(lines(&file), ["a", "b"]);
    // The command's words are in the table's title; its output is not.
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!said.lines().any(|l| l.trim() == "torn"), "{said}");
    assert!(!stdout.lines().any(|l| l.trim() == "torn"), "{stdout}");
}

#[test]
fn without_a_shell_words_a_shell_would_read_get_a_warning() {
    let output = paralab()
        .args(["bench", "--cmd", "echo hello; echo err >&2", "-N"])
        .args(["--workers", "1", "-r", "1"])
        .output()
        .unwrap();
    let said = stderr(&output);
    assert!(output.status.success(), "{said}");
    let warnings: Vec<&str> = said.lines().filter(|l| l.contains("-N")).collect();
    assert_eq!(warnings.len(), 1, "{said}");
    assert!(
        warnings[0].contains("'hello;'") && warnings[0].contains("'>&2'"),
        "{said}"
    );
    // The same command through the shell is not warned about.
    let output = paralab()
        .args(["bench", "--cmd", "echo hello; echo err >&2"])
        .args(["--workers", "1", "-r", "1"])
        .output()
        .unwrap();
    assert!(!stderr(&output).contains("-N"), "{}", stderr(&output));
}

#[test]
fn a_parameter_scan_is_one_command_per_value_with_n_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("seen");
    let command = format!("sh -c 'echo {{n}}-{{level}}-{{i}} >> {}'", file.display());
    let output = paralab()
        .args([
            "bench", "--cmd", &command, "-N", "-P", "level", "1", "5", "-D", "2",
        ])
        .args(["--workers", "1,2", "-r", "1", "--format", "json"])
        .output()
        .unwrap();
    let doc = json_of(&output);
    let mut seen = lines(&file);
    seen.sort();
    let mut expected = Vec::new();
    for level in [1, 3, 5] {
        expected.push(format!("1-{level}-0"));
        expected.push(format!("2-{level}-0"));
        expected.push(format!("2-{level}-1"));
    }
    expected.sort();
    assert_eq!(seen, expected);
    // One workload (a column of its own) per value, its value kept.
    let workloads = doc["plan"]["workloads"].as_array().unwrap();
    let levels: Vec<&str> = workloads
        .iter()
        .map(|w| w["parameters"]["level"].as_str().unwrap())
        .collect();
    assert_eq!(levels, ["1", "3", "5"]);
    for m in doc["measurements"].as_array().unwrap() {
        let level = m["workload"]["parameters"]["level"].as_str().unwrap();
        assert!(
            m["workload"]["argv"][2]
                .as_str()
                .unwrap()
                .contains(&format!("-{level}-")),
            "{m}"
        );
    }
}

#[test]
fn a_parameter_list_labels_each_command_in_the_table() {
    let output = paralab()
        .args(["bench", "--cmd", "sleep {t}", "-L", "t", "0.01,0.02"])
        .args(["-n", "nap {t}", "--workers", "1", "-r", "1"])
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        table.contains("command (nap 0.01)") && table.contains("command (nap 0.02)"),
        "{table}"
    );
}

#[test]
fn prepare_runs_before_every_run_setup_and_cleanup_once_a_cell() {
    let dir = tempfile::tempdir().unwrap();
    let log = |name: &str| dir.path().join(name);
    let append = |name: &str, what: &str| format!("echo {what} >> {}", log(name).display());
    let output = paralab()
        .args(["bench", "--cmd", &append("timed", "run")])
        .args(["--prepare", &append("prepare", "{n}")])
        .args(["--setup", &append("setup", "{n}")])
        .args(["--cleanup", &append("cleanup", "{n}")])
        .args(["--workers", "1,2", "-r", "3", "-w", "1"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    // 4 runs (1 warm-up, 3 timed) at 1 and at 2 workers.
    assert_eq!(
        lines(&log("prepare")),
        ["1", "1", "1", "1", "2", "2", "2", "2"]
    );
    assert_eq!(lines(&log("setup")), ["1", "2"]);
    assert_eq!(lines(&log("cleanup")), ["1", "2"]);
    assert_eq!(lines(&log("timed")).len(), 4 + 4 * 2);
}

#[test]
fn a_failing_prepare_stops_the_sweep_and_names_itself() {
    let output = paralab()
        .args(["bench", "--cmd", "true", "--prepare", "exit 4"])
        .args(["--workers", "1", "-r", "1"])
        .output()
        .unwrap();
    let said = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{said}");
    assert!(
        said.contains("--prepare 'exit 4' exited with code 4"),
        "{said}"
    );
}

#[test]
fn ignore_failure_times_a_command_that_exits_non_zero() {
    let failing = paralab()
        .args(["bench", "--cmd", "false", "--workers", "1", "-r", "2"])
        .output()
        .unwrap();
    assert_eq!(failing.status.code(), Some(1));
    let output = paralab()
        .args([
            "bench",
            "--cmd",
            "false",
            "-N",
            "-i",
            "--workers",
            "1,2",
            "-r",
            "2",
        ])
        .args(["--format", "json"])
        .output()
        .unwrap();
    let doc = json_of(&output);
    let measurements = doc["measurements"].as_array().unwrap();
    assert_eq!(measurements.len(), 4);
    assert!(
        measurements
            .iter()
            .all(|m| m["wall_s"].as_f64().unwrap() > 0.0)
    );
    // The code is kept, as hyperfine keeps it in exit_codes, and said.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("hyperfine.json");
    let output = paralab()
        .args([
            "bench",
            "--cmd",
            "exit 3",
            "-i",
            "--workers",
            "1",
            "-r",
            "2",
        ])
        .arg("--export-hyperfine")
        .arg(&file)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        said.contains("non-zero exit status ignored (-i): 3 seen"),
        "{said}"
    );
    let export: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    assert_eq!(
        export["results"][0]["exit_codes"],
        serde_json::json!([3, 3])
    );
}

#[test]
fn the_shells_start_up_is_measured_and_subtracted_as_hyperfine_does() {
    let run = |extra: &[&str]| {
        let output = paralab()
            .args([
                "bench",
                "--cmd",
                "sleep 0.05",
                "--workers",
                "1,2",
                "-r",
                "3",
            ])
            .args(extra)
            .args(["--format", "json"])
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", stderr(&output));
        json_of(&output)["measurements"].as_array().unwrap().clone()
    };
    for m in run(&[]) {
        let startup = &m["shell_startup"];
        let (wall, shell) = (
            m["wall_s"].as_f64().unwrap(),
            startup["wall_s"].as_f64().unwrap(),
        );
        assert!(shell > 0.0 && startup["runs"].as_u64().unwrap() >= 3, "{m}");
        // What is left is the sleep itself: never less than its 50 ms by
        // more than the noise of the subtraction, and no longer than it
        // was before.
        assert!(wall > 0.045, "{m}");
        assert!(shell < 0.05, "{m}");
    }
    // Without a shell there is nothing to subtract.
    assert!(
        run(&["-N"])
            .iter()
            .all(|m| m.get("shell_startup").is_none())
    );
    let table = paralab()
        .args(["bench", "--cmd", "sleep 0.02", "--workers", "1", "-r", "2"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(text.contains("sh's start-up subtracted ("), "{text}");
}

#[test]
fn two_named_commands_read_apart_and_are_compared() {
    let output = paralab()
        .args(["bench", "--cmd", "sleep 0.02", "--cmd", "sleep 0.03"])
        .args(["-n", "short", "-n", "long", "--workers", "1,2", "-r", "2"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        text.contains("command (short)") && text.contains("command (long)"),
        "{text}"
    );
    let comparison: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("commands · "))
        .collect();
    assert_eq!(comparison.len(), 1, "{text}");
    assert!(
        comparison[0].contains("short scales ×") && comparison[0].contains("long ×"),
        "{text}"
    );
}

#[test]
fn output_to_a_file_keeps_every_runs_output() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("log");
    std::fs::write(&file, "from before\n").unwrap();
    let output = paralab()
        .args(["bench", "--cmd", "echo out; echo err >&2", "--output"])
        .arg(&file)
        .args(["--workers", "2", "-r", "2"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let mut got = lines(&file);
    got.sort();
    assert_eq!(
        got,
        ["err", "err", "err", "err", "out", "out", "out", "out"]
    );
    let output = paralab()
        .args([
            "bench",
            "--cmd",
            "echo shown",
            "--show-output",
            "--workers",
            "1",
            "-r",
            "1",
        ])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&output.stdout).contains("shown"));
    let output = paralab()
        .args(["bench", "--cmd", "yes | head -c 200000", "--output", "pipe"])
        .args(["--workers", "1", "-r", "1"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
}

#[test]
fn a_shell_that_cannot_run_the_command_says_what_it_said() {
    let output = paralab()
        .args([
            "bench",
            "--cmd",
            "true && no-such-program-xyz",
            "--workers",
            "1",
            "-r",
            "1",
        ])
        .output()
        .unwrap();
    let said = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{said}");
    assert!(
        said.contains("exit 127") && said.contains("no-such-program-xyz"),
        "{said}"
    );
}

#[test]
fn bad_command_options_get_one_line_and_exit_2() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["--cmd", "true", "--shell", "no-such-shell-xyz"],
            "'no-such-shell-xyz'",
        ),
        (
            &["--cmd", "echo {t}", "-P", "t", "5", "1"],
            "MIN is above MAX",
        ),
        (
            &["--cmd", "echo {t}", "-P", "t", "1", "5", "-D", "0"],
            "above 0",
        ),
        (&["--cmd", "echo {x}"], "{x}"),
        (&["--cmd", "true", "-n", "a", "-n", "b"], "2 names"),
        (&["--cmd", "echo {t}", "-L", "t", "a,,b"], "empty value"),
        (&["--cmd", "true", "-L", "t", "a,b"], "appears in no --cmd"),
        (
            &["--cmd", "no-such-program-xyz --flag"],
            "'no-such-program-xyz'",
        ),
    ];
    for (args, needle) in cases {
        let dir = tempfile::tempdir().unwrap();
        let output = paralab()
            .current_dir(dir.path())
            .arg("bench")
            .args(*args)
            .args(["--save", "saved.jsonl"])
            .output()
            .unwrap();
        let said = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {said}");
        assert_eq!(said.lines().count(), 1, "{args:?}: {said}");
        assert!(said.contains(needle), "{args:?}: {said}");
        assert!(output.stdout.is_empty());
        assert!(!dir.path().join("saved.jsonl").exists(), "{args:?}");
    }
}
