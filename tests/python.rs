//! The Python models from the command line: CPython's results equal the
//! reference, its sleeps overlap in threads, its columns appear in every
//! output, and a missing, old or broken interpreter is reported while the
//! Rust measurements are still printed.
//!
//! The tests that need a real python3 take the one `common::python3`
//! finds: without one they are skipped with a visible line, or fail when
//! `PARALAB_REQUIRE_PYTHON=1`.

mod common;

use common::{fake_program, paralab, without_busy_warning};
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

/// A `--python-exe` that does not exist is bad input: one line naming it,
/// exit code 2, nothing run.
#[test]
fn a_missing_python_exe_is_bad_input() {
    let output = paralab()
        .args(SMALL)
        .args(["--workloads", "cpu", "--python", "--runs", "1"])
        .args(["--python-exe", "/nonexistent/python3"])
        .output()
        .unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("/nonexistent/python3"), "{stderr}");
    assert!(output.stdout.is_empty());
}

/// No python3 on PATH (none asked for by name): the Python models are
/// skipped with one line and the Rust models run.
#[test]
fn without_python_the_python_models_are_skipped_with_one_line() {
    let output = paralab()
        .args(SMALL)
        .env("PATH", "/nonexistent")
        .args([
            "--workloads",
            "cpu",
            "--python",
            "--format",
            "notebook",
            // One run: more may warn of outliers on this shared machine.
            "--runs",
            "1",
        ])
        .output()
        .unwrap();
    let stderr = without_busy_warning(&String::from_utf8(output.stderr).unwrap());
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("Python models are skipped") && stderr.contains("'python3'"),
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
            r#"if [ $# -le 2 ]; then echo 3.11.0; else echo 'not json at all'; fi"#,
            "not json at all",
        ),
        (
            r#"if [ $# -le 2 ]; then echo 3.11.0; else echo 'Traceback: boom' >&2; exit 1; fi"#,
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
            assert!(stderr.contains("exit code 1"), "{stderr}");
        }
        let stdout = String::from_utf8(output.stdout).unwrap();
        // Both Rust rows are there; the Python column has no number.
        assert!(stdout.starts_with("nthreads CpuThread\n"), "{stdout}");
        assert_eq!(stdout.lines().count(), 3, "{stdout}");
    }
    // Too old, or failing when asked its version: refused, naming what it
    // said and what is needed.
    for (body, shown) in [
        ("echo 2.7.18", "is Python 2.7.18"),
        (
            "exit 1",
            "did not run as Python: asked its version, it exited with code 1, printing nothing",
        ),
    ] {
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

/// The free-threaded CPython named by `PARALAB_TEST_FREE_THREADED_PYTHON`
/// (built with `../shared/tools/free-threaded-python PREFIX`), or `None`
/// after one visible line.
fn free_threaded_python() -> Option<std::path::PathBuf> {
    match std::env::var_os("PARALAB_TEST_FREE_THREADED_PYTHON") {
        Some(exe) if !exe.is_empty() => Some(exe.into()),
        _ => {
            common::skip(
                "PARALAB_TEST_FREE_THREADED_PYTHON names no free-threaded CPython (build one with ../shared/tools/free-threaded-python PREFIX)",
            );
            None
        }
    }
}

/// A free-threaded CPython (3.13t): the machine block says its GIL is
/// off, the py-thread note says "no GIL", every worker reports its CPU
/// time, and with two CPUs its two cpu threads run at once (a generous
/// bound: 2 workers within 1.6× of one worker's time, where a GIL gives 2×).
#[test]
fn a_free_threaded_python_is_reported_without_a_gil() {
    let Some(python) = free_threaded_python() else {
        return;
    };
    let args = [
        "--workloads",
        "cpu",
        "--models",
        "py-thread",
        "--workers",
        "1,2",
        "--python-iters",
        "300000",
        "--runs",
        "3",
    ];
    let json = paralab()
        .args(args)
        .args(["--format", "json"])
        .arg("--python-exe")
        .arg(&python)
        .output()
        .unwrap();
    let doc = common::json_of(&json);
    assert_eq!(
        doc["machine"]["python"]["gil_enabled"], false,
        "{}",
        doc["machine"]
    );
    let mut medians = std::collections::BTreeMap::<u64, Vec<f64>>::new();
    for m in doc["measurements"].as_array().unwrap() {
        assert_eq!(m["workload"]["iters"], 300_000, "{m}");
        for o in m["outcomes"].as_array().unwrap() {
            let cpu = o["cpu_s"]
                .as_f64()
                .unwrap_or_else(|| panic!("no cpu_s: {o}"));
            assert!(
                cpu > 0.0 && cpu <= m["wall_s"].as_f64().unwrap() * 1.05 + 0.01,
                "{m}"
            );
        }
        let n = m["workers"].as_u64().unwrap();
        medians
            .entry(n)
            .or_default()
            .push(m["wall_s"].as_f64().unwrap());
    }
    // One worker that got less than 80% of a CPU: other work had the
    // CPUs, and a wall-time ratio would measure the machine, not the GIL.
    let one_busy = doc["measurements"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["workers"] == 1)
        .filter_map(|m| Some(m["outcomes"][0]["cpu_s"].as_f64()? / m["wall_s"].as_f64()?))
        .fold(0.0, f64::max);
    // Other work during the two-worker runs takes CPUs they need.
    let others = doc["measurements"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["workers"] == 2)
        .filter_map(|m| m["others_cpus"].as_f64())
        .fold(f64::INFINITY, f64::min);
    if paralab::logical_cpus() < 2 {
        common::skip("one CPU: no speed-up to look for");
    } else if others > 0.3 {
        common::skip(&format!(
            "other work kept {others:.1} CPUs busy beside the two workers: the speed-up is not judged"
        ));
    } else if one_busy < 0.8 {
        common::skip(&format!(
            "the machine is busy (one worker got {:.0}% of a CPU): the speed-up is not judged",
            one_busy * 100.0
        ));
    } else {
        let best = |n: u64| medians[&n].iter().copied().fold(f64::INFINITY, f64::min);
        let ratio = best(2) / best(1);
        assert!(
            ratio < 1.6,
            "2 free-threaded workers took {ratio:.2}× as long as 1 (a GIL gives ~2×)"
        );
    }
}

/// No line of the free-threaded run's text claims a GIL the interpreter
/// does not have, and the py-thread note says "no GIL". This covers the
/// summary (src/report/summary.rs), which calls
/// `Model::note_for_interpreter` with the machine's python and words its
/// "the GIL at N workers" line by the GIL state.
#[test]
fn no_text_claims_a_gil_for_a_free_threaded_python() {
    let Some(python) = free_threaded_python() else {
        return;
    };
    let output = paralab()
        .args([
            "--workloads",
            "cpu",
            "--models",
            "thread,py-thread",
            "--workers",
            "1,2",
        ])
        .args(["--iters", "2000000", "--python-iters", "100000"])
        .arg("--python-exe")
        .arg(&python)
        .output()
        .unwrap();
    let stdout = common::stdout_of(&output);
    assert!(stdout.contains("no GIL"), "{stdout}");
    for line in stdout.lines() {
        let claims =
            line.contains("GIL") && !line.contains("no GIL") && !line.contains("without a GIL");
        assert!(!claims, "a line claims a GIL: {line}\n{stdout}");
    }
}

/// Each language its own count: `--python-iters` for CPython, ITERS for
/// Rust, each checked against its own reference; every Python worker
/// reports its CPU time, and the machine block names the interpreter.
#[test]
fn python_gets_its_own_iteration_count_and_reports_cpu_time() {
    let Some(python) = common::python3() else {
        return;
    };
    let output = paralab()
        .args([
            "30000",
            "--python-iters",
            "200000",
            "--workloads",
            "cpu",
            "--workers",
            "1,2",
        ])
        .args([
            "--models",
            "thread,py-thread,py-process",
            "--runs",
            "1",
            "--format",
            "json",
        ])
        .arg("--python-exe")
        .arg(&python)
        .output()
        .unwrap();
    let doc = common::json_of(&output);
    assert!(
        doc["machine"]["python"]["gil_enabled"].is_boolean(),
        "{}",
        doc["machine"]
    );
    let mut python_user = 0.0;
    for m in doc["measurements"].as_array().unwrap() {
        let python_model = m["model"].as_str().unwrap().starts_with("py-");
        let iters = if python_model { 200_000 } else { 30_000 };
        assert_eq!(m["workload"]["iters"], iters, "{m}");
        let expected = Workload::Cpu { iters }.expected_result();
        for o in m["outcomes"].as_array().unwrap() {
            assert_eq!(o["result"], expected, "{m}");
            if python_model {
                let (user, system) = (
                    o["user_s"].as_f64().unwrap(),
                    o["system_s"].as_f64().unwrap(),
                );
                // The kernel charges a thread's time by the tick: a short
                // worker may show none, so only the sum over all is tested.
                assert!(user >= 0.0 && system >= 0.0, "{o}");
                python_user += user;
                assert!(
                    (o["cpu_s"].as_f64().unwrap() - user - system).abs() < 1e-9,
                    "{o}"
                );
                assert!(o["involuntary_switches"].is_u64(), "{o}");
            }
        }
    }
    assert!(python_user > 0.0, "{doc}");
}

/// Without --python-iters or ITERS, CPython's count is measured from the
/// interpreter's speed, said on stderr, and differs from Rust's default.
#[test]
fn python_iterations_are_calibrated_by_default() {
    let Some(python) = common::python3() else {
        return;
    };
    let output = paralab()
        .args([
            "--workloads",
            "cpu",
            "--workers",
            "1",
            "--models",
            "py-thread",
        ])
        .args(["--format", "json"])
        .arg("--python-exe")
        .arg(&python)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    let doc = common::json_of(&output);
    assert!(stderr.contains("iterations per Python worker"), "{stderr}");
    let iters = doc["measurements"][0]["workload"]["iters"]
        .as_u64()
        .unwrap();
    assert!((10_000..35_000_000).contains(&iters), "{iters}");
}

/// A program that is not Python (`/bin/false` fails when asked its
/// version) is named with what it did, not called "too old", and no Rust
/// debug text reaches the user.
#[test]
fn a_program_that_is_not_python_is_named_with_what_it_did() {
    let Some(exe) = common::find_program("false") else {
        common::skip("no 'false' program on PATH");
        return;
    };
    let output = beside_rust_threads(&exe, &[]);
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    let shown = format!("'{}' did not run as Python", exe.display());
    assert!(
        stderr.contains(&shown) && stderr.contains("exited with code 1"),
        "{stderr}"
    );
    for wrong in [
        "is Python",
        "unknown",
        "ExitStatus",
        "unix_wait_status",
        "Os {",
    ] {
        assert!(!stderr.contains(wrong), "{wrong:?} in {stderr}");
    }
    // The Rust model still ran.
    assert!(common::stdout_of(&output).contains("cpu · thread"));
}

/// An interpreter that hangs when asked its version is bounded by the
/// timeout given, and killed with its whole group: here a shell whose
/// child sleeps.
#[test]
fn a_hanging_version_probe_is_bounded_and_its_group_killed() {
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("pid");
    let body = format!("echo $$ > '{}'\nsleep 1000", pid_file.display());
    let hang = fake_program(dir.path(), "python3", &body);
    let start = std::time::Instant::now();
    let found = paralab::Python::find_within(
        Some(&hang),
        Some(std::time::Duration::from_millis(500)),
        &paralab::StopToken::new(),
    );
    let took = start.elapsed();
    let error = found.unwrap_err().to_string();
    assert!(
        error.contains("did not run as Python") && error.contains("did not answer within 0.5 s"),
        "{error}"
    );
    assert!(took < std::time::Duration::from_secs(10), "{took:?}");
    let group: i32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    common::wait_until(
        "the probe's group to be gone",
        std::time::Duration::from_secs(5),
        || common::running_in_group(group).is_empty(),
    );
}

/// `kill -9` of paralab during a py-process run: the driver and its
/// multiprocessing workers (fork and spawn) die too, found by the process
/// group of the driver this test's paralab started.
#[test]
fn python_workers_die_with_a_killed_paralab() {
    let Some(python) = common::python3() else {
        return;
    };
    for model in ["py-process:fork", "py-process:spawn"] {
        let mut bench = sleeping_python_bench(model, &python).spawn().unwrap();
        let paralab_pid = bench.id();
        let limit = std::time::Duration::from_secs(60);
        // The version probe and the driver's first run come and go: the
        // driver of the run is the child that has two workers of its own.
        let mut driver = 0;
        common::wait_until(&format!("{model}'s driver and its workers"), limit, || {
            driver = common::children_of(paralab_pid)
                .into_iter()
                .find(|&d| common::children_of(d as u32).len() >= 2)
                .unwrap_or(0);
            driver != 0
        });
        let group = common::Stat::of(driver).map_or(driver, |s| s.pgrp);
        let before = common::running_in_group(group);
        assert!(before.len() >= 3, "{model}: {before:?}");
        bench.kill().unwrap();
        bench.wait().unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        let mut left = common::running_in_group(group);
        while !left.is_empty() && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(50));
            left = common::running_in_group(group);
        }
        if !left.is_empty() {
            // Ours, and outliving the test otherwise.
            let pids: Vec<String> = left.iter().map(i32::to_string).collect();
            let _ = std::process::Command::new("kill")
                .arg("-9")
                .args(&pids)
                .status();
            panic!("{model}: {left:?} of {before:?} outlived paralab's kill -9 by 5 s");
        }
    }
}

/// A wrapper that turns the GIL of a free-threaded CPython back on for the
/// driver only (PYTHON_GIL=1), not for the version probe: the two disagree.
fn gil_back_on_for_the_driver(
    dir: &std::path::Path,
    python: &std::path::Path,
) -> std::path::PathBuf {
    let body = format!(
        "# The version probe is `-c PROBE`; the driver has more arguments.\n\
         if [ $# -gt 2 ]; then export PYTHON_GIL=1; fi\n\
         exec '{}' \"$@\"",
        python.display()
    );
    fake_program(dir, "python3", &body)
}

/// When the driver finds the GIL on while the version probe found it off,
/// the driver's word is what the machine block and every line say, and
/// one warning names the disagreement.
#[test]
fn the_drivers_gil_wins_over_the_probes() {
    let Some(python) = free_threaded_python() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let shim = gil_back_on_for_the_driver(dir.path(), &python);
    let run = |format: &str| {
        paralab()
            .args(["--workloads", "cpu", "--models", "thread,py-thread"])
            .args(["--workers", "1,2", "--runs", "1", "--format", format])
            .args(["--iters", "200000", "--python-iters", "20000"])
            .arg("--python-exe")
            .arg(&shim)
            .output()
            .unwrap()
    };
    let json = run("json");
    let stderr = String::from_utf8_lossy(&json.stderr).to_string();
    let doc = common::json_of(&json);
    assert_eq!(
        doc["machine"]["python"]["gil_enabled"], true,
        "{}",
        doc["machine"]
    );
    let warnings: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("the driver found it on"))
        .collect();
    assert_eq!(warnings.len(), 1, "{stderr}");
    assert!(
        warnings[0].contains("GIL off in its version probe"),
        "{stderr}"
    );
    let text = common::stdout_of(&run("table"));
    assert!(!text.contains("no GIL"), "{text}");
    assert!(text.contains("hold the GIL"), "{text}");
}

/// PYTHON_GIL=1 for all of paralab: probe and driver agree that the GIL
/// is on; the lines say so, with no warning.
#[test]
fn a_free_threaded_python_with_its_gil_turned_on_is_reported_with_it() {
    let Some(python) = free_threaded_python() else {
        return;
    };
    let output = paralab()
        .env("PYTHON_GIL", "1")
        .args(["--workloads", "cpu", "--models", "py-thread"])
        .args(["--workers", "1,2", "--runs", "1"])
        .args(["--python-iters", "20000"])
        .arg("--python-exe")
        .arg(&python)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    let text = common::stdout_of(&output);
    assert!(!stderr.contains("the driver found it"), "{stderr}");
    assert!(
        text.contains("hold the GIL") && !text.contains("no GIL"),
        "{text}"
    );
}

/// Two Ctrl-C in a row during a py-process:spawn run (the second ends
/// paralab at once, its workers killed with SIGKILL): no temporary file
/// or directory of the run is left, neither in TMPDIR nor the named
/// semaphores multiprocessing keeps in /dev/shm.
#[test]
fn a_second_signal_leaves_no_temporary_file() {
    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;
    let Some(python) = common::python3() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let mut bench = sleeping_python_bench("py-process:spawn", &python)
        .env("TMPDIR", tmp.path())
        .spawn()
        .unwrap();
    let paralab_pid = bench.id();
    let mut driver = 0;
    common::wait_until(
        "the driver and its workers",
        std::time::Duration::from_secs(60),
        || {
            driver = common::children_of(paralab_pid)
                .into_iter()
                .find(|&d| common::children_of(d as u32).len() >= 2)
                .unwrap_or(0);
            driver != 0
        },
    );
    // The shared-memory files the run's processes have open.
    let shared: std::collections::BTreeSet<String> = common::running_in_group(driver)
        .into_iter()
        .filter_map(|pid| std::fs::read_to_string(format!("/proc/{pid}/maps")).ok())
        .flat_map(|maps| {
            maps.lines()
                .filter_map(|l| l.split_whitespace().nth(5))
                .filter(|path| path.starts_with("/dev/shm/"))
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect();
    let paralab = Pid::from_raw(paralab_pid as i32);
    kill(paralab, Signal::SIGINT).unwrap();
    kill(paralab, Signal::SIGINT).unwrap();
    let status = bench.wait().unwrap();
    assert!(!status.success(), "{status}");
    common::wait_until(
        "the run's processes to end",
        std::time::Duration::from_secs(10),
        || common::running_in_group(driver).is_empty(),
    );
    let left: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert!(left.is_empty(), "left in TMPDIR: {left:?}");
    let shared_left: Vec<&String> = shared
        .iter()
        .filter(|path| std::path::Path::new(path).exists())
        .collect();
    assert!(shared_left.is_empty(), "left in /dev/shm: {shared_left:?}");
}

/// A paralab whose `model` runs 2 Python workers sleeping a minute, with
/// no terminal attached: for the tests that stop it.
fn sleeping_python_bench(model: &str, python: &std::path::Path) -> std::process::Command {
    let mut bench = std::process::Command::new(env!("CARGO_BIN_EXE_paralab"));
    bench
        .args(["bench", "--models", model, "--workloads", "sleep"])
        .args(["--sleep", "60", "--workers", "2", "--runs", "1"])
        .arg("--python-exe")
        .arg(python)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    bench
}

/// CPython's threads under the GIL take turns, and the samples of when
/// each ran show it: every worker has turns within its own work, and
/// together they ran about one at a time (two CPUs, yet far less than
/// twice the run). An interpreter without a GIL is not sampled.
#[test]
fn py_threads_turns_at_the_gil_are_sampled() {
    let Some(python) = common::python3() else {
        return;
    };
    let output = paralab()
        .args(["--workloads", "cpu", "--models", "py-thread"])
        .args(["--python-iters", "2000000", "--workers", "2", "-r", "1"])
        .arg("--python-exe")
        .arg(&python)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let doc = common::json_of(&output);
    let run = &doc["measurements"][0];
    if doc["machine"]["python"]["gil_enabled"] == false {
        return common::skip("this python3 has no GIL");
    }
    let wall = run["wall_s"].as_f64().unwrap();
    let mut held = 0.0;
    for worker in run["outcomes"].as_array().unwrap() {
        let (start, end) = (
            worker["start_s"].as_f64().unwrap(),
            worker["end_s"].as_f64().unwrap(),
        );
        let turns = worker["held_s"].as_array().unwrap();
        assert!(turns.len() >= 3, "{worker}");
        for turn in turns {
            let (from, to) = (turn[0].as_f64().unwrap(), turn[1].as_f64().unwrap());
            assert!(start <= from && from < to && to <= end, "{worker}");
            held += to - from;
        }
    }
    assert!(
        held < 1.5 * wall,
        "held {held} s in a run of {wall} s: {run}"
    );
}
