//! What paralab says when it is used carelessly, and that it says it in
//! bounded time (issue 12, requirements 5 and 7): a mistyped subcommand,
//! a plan of a million worker counts, a reference for 2^64 − 1 iterations,
//! a program `exec` refuses, a failed run's last lines.

mod common;

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{PARALAB, paralab};

/// Runs paralab with `args`, killing it after `limit`: its output and how
/// long it took. A run still going at `limit` fails the test by name.
fn run_within(args: &[&str], limit: Duration) -> (Output, Duration) {
    let start = Instant::now();
    let mut child = Command::new(PARALAB)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > limit {
            let _ = child.kill();
            let output = child.wait_with_output().unwrap();
            panic!(
                "paralab {args:?} still ran after {limit:?}; stderr: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let took = start.elapsed();
    (child.wait_with_output().unwrap(), took)
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// An executable file holding `bytes`, written by a short-lived child so
/// that no descriptor of this process can make its `exec` fail with
/// ETXTBSY (see `common::fake_program`).
fn executable(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    let mut writer = Command::new("/bin/sh")
        .args(["-c", "cat > \"$1\"", "sh"])
        .arg(&path)
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    writer.stdin.take().unwrap().write_all(bytes).unwrap();
    assert!(writer.wait().unwrap().success());
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

// ─── a mistyped subcommand ──────────────────────────────────────────────

#[test]
fn a_mistyped_subcommand_suggests_the_right_one() {
    for (args, meant) in [
        (&["lesso"][..], "lesson"),
        (&["reprot", "x.jsonl"][..], "report"),
        (&["primitive"][..], "primitives"),
        (&["--runs", "1", "bnech"][..], "bench"),
    ] {
        let output = paralab().args(args).output().unwrap();
        let said = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {said}");
        assert!(
            said.contains(&format!(
                "'{}' is not a subcommand; did you mean '{meant}'?",
                args.last().unwrap()
            )) || said.contains(&format!(
                "'{}' is not a subcommand; did you mean '{meant}'?",
                args[0]
            )),
            "{args:?}: {said}"
        );
        assert!(!said.contains("whole number"), "{args:?}: {said}");
        assert_eq!(said.lines().count(), 1, "{said}");
        assert!(output.stdout.is_empty());
    }
}

#[test]
fn a_bare_number_still_means_iters() {
    let output = paralab()
        .args(["1000", "--workers", "1", "--workloads", "cpu"])
        .args(["--models", "thread", "--runs", "1", "-q"])
        .output()
        .unwrap();
    let table = common::stdout_of(&output);
    assert!(table.contains("1,000 iterations"), "{table}");
    // A mistyped number keeps ITERS's own message.
    let output = paralab().arg("1.5").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("whole number of iterations"));
}

// ─── bounded work ───────────────────────────────────────────────────────

/// More worker counts than could ever run are refused before anything
/// runs, naming the count and the maximum.
#[test]
fn too_many_worker_counts_are_refused_at_once() {
    let (output, took) = run_within(
        &["--workers", "1..=5000", "--runs", "1"],
        Duration::from_secs(20),
    );
    let said = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{said}");
    assert!(said.contains("5,000") && said.contains("4,096"), "{said}");
    assert!(took < Duration::from_secs(10), "{took:?}");
}

/// `--workers 1..=1000000` was parsed in quadratic time (minutes of CPU).
#[test]
fn a_million_worker_counts_are_answered_within_two_seconds() {
    let (output, took) = run_within(
        &["--workers", "1..=1000000", "--runs", "1"],
        Duration::from_secs(30),
    );
    let said = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{said}");
    assert!(
        said.contains("1,000,000") && said.contains("4,096"),
        "{said}"
    );
    assert!(took < Duration::from_secs(2), "{took:?}: {said}");
}

/// The reference of 2^64 − 1 iterations was computed by running the loop
/// (some 4,000 years); `--timeout 1` now ends the run in about a second.
#[test]
fn a_huge_iteration_count_is_bounded_by_the_timeout() {
    for model in ["process:fork", "thread"] {
        let (output, took) = run_within(
            &[
                "--iters",
                "18446744073709551615",
                "--timeout",
                "1",
                "--workers",
                "1",
                "--runs",
                "1",
                "--workloads",
                "cpu",
                "--models",
                model,
            ],
            Duration::from_secs(60),
        );
        let said = stderr(&output);
        assert_eq!(output.status.code(), Some(1), "{model}: {said}");
        assert!(said.contains("timed out"), "{model}: {said}");
        assert!(took < Duration::from_secs(15), "{model}: {took:?}");
    }
}

/// Ctrl-C while the biggest reference (10^7 − 1 steps) or the workers run
/// stops paralab promptly, with SIGINT's exit code.
#[test]
fn ctrl_c_during_a_huge_run_stops_promptly() {
    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;
    let mut child = Command::new(PARALAB)
        .args([
            "--iters",
            "18446744073709549999",
            "--workers",
            "1",
            "--runs",
            "1",
        ])
        .args(["--workloads", "cpu", "--models", "process:fork"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    kill(Pid::from_raw(child.id() as i32), Signal::SIGINT).unwrap();
    let sent = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if sent.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            panic!("paralab still ran 20 s after SIGINT");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(130), "{}", stderr(&output));
    assert!(
        sent.elapsed() < Duration::from_secs(10),
        "{:?}",
        sent.elapsed()
    );
}

// ─── exec failures ──────────────────────────────────────────────────────

/// A script whose interpreter is missing: exec would fail with "No such
/// file or directory" on a file that exists, and a forked worker could
/// only exit 127. It is refused before anything runs, by name.
#[test]
fn a_script_with_a_missing_interpreter_is_named_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let script = executable(dir.path(), "job", b"#!/nonexistent/interp\nexit 0\n");
    let text = executable(dir.path(), "plain", b"echo hi\n");
    for method in ["fork", "spawn"] {
        for (program, reason) in [(&script, "'/nonexistent/interp'"), (&text, "#!")] {
            let program = program.display().to_string();
            let output = paralab()
                .args(["--cmd", &program, "--workers", "1", "--runs", "1"])
                .args(["--start-method", method])
                .output()
                .unwrap();
            let said = stderr(&output);
            assert_eq!(output.status.code(), Some(2), "{said}");
            assert!(
                said.contains(&format!("could not run '{program}'")) && said.contains(reason),
                "{said}"
            );
            assert!(!said.contains("127"), "{said}");
        }
    }
}

/// A file the kernel cannot execute and that is not text (so it is left
/// to exec): under fork, the child's failed exec must be named, not told
/// as "exit code 127".
#[test]
fn a_failed_exec_under_fork_names_the_program_and_the_error() {
    let dir = tempfile::tempdir().unwrap();
    let program = executable(dir.path(), "garbage", b"\x01\x02\x03garbage\x00\x00");
    let program = program.display().to_string();
    let output = paralab()
        .args(["--cmd", &program, "--workers", "2", "--runs", "1"])
        .args(["--start-method", "fork"])
        .output()
        .unwrap();
    let said = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{said}");
    assert!(
        said.contains(&program) && said.contains("Exec format error"),
        "{said}"
    );
    assert!(
        !said.contains("code 127") && !said.contains("os error"),
        "{said}"
    );
}

// ─── a failed run's last lines ──────────────────────────────────────────

#[test]
fn a_failed_command_run_never_claims_what_it_did_not_check() {
    let output = paralab()
        .args(["--cmd", "sh -c 'exit 3'", "--workers", "1", "--runs", "1"])
        .output()
        .unwrap();
    let said = stderr(&output);
    let table = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{said}");
    assert!(said.contains("exited with code 3"), "{said}");
    assert!(!said.contains("the 0 measurements"), "{said}");
    assert!(said.contains("no measurement had finished"), "{said}");
    assert!(!table.contains("exit status 0 checked"), "{table}");
}
