//! Real signals sent to a running `paralab` with real worker processes:
//! what finished is kept, the exit code says why, and no child survives
//! (each worker leads its own process group: nothing may be left in it).

mod common;

use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{
    PARALAB, Stat, children_of, fake_program, line_count, running, running_in_group,
    wait_for_children, wait_until, without_busy_warning,
};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// The processes still running in the process groups that `leaders` led.
fn left_in_groups(leaders: &[i32]) -> Vec<i32> {
    leaders.iter().flat_map(|&g| running_in_group(g)).collect()
}

fn start(args: &[&str]) -> Child {
    Command::new(PARALAB)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn finish(child: Child, limit: Duration) -> Output {
    let pid = child.id();
    let started = Instant::now();
    let output = child.wait_with_output().unwrap();
    assert!(
        started.elapsed() < limit,
        "paralab {pid} took {:?} to stop",
        started.elapsed()
    );
    output
}

/// A cpu run of 50 forked workers finishes and is saved; then 50 workers
/// sleep for a minute and paralab receives `signal`.
fn interrupt_fifty_sleepers(signal: Signal, method: &str, code: i32) {
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("run.jsonl");
    let csv = dir.path().join("run.csv");
    let model = format!("process:{method}");
    let child = start(&[
        "bench",
        "--workloads",
        "cpu,sleep",
        "--iters",
        "1000",
        "--sleep",
        "60",
        "--workers",
        "50",
        "--runs",
        "1",
        "--models",
        &model,
        "--save",
        saved.to_str().unwrap(),
        "--export-csv",
        csv.to_str().unwrap(),
    ]);
    let pid = child.id();
    wait_until("the cpu measurement", Duration::from_secs(20), || {
        line_count(&saved) >= 2
    });
    let sleepers = wait_for_children(pid, 50, Duration::from_secs(20));
    kill(Pid::from_raw(pid as i32), signal).unwrap();
    let output = finish(child, Duration::from_secs(10));
    let stderr = without_busy_warning(&String::from_utf8_lossy(&output.stderr));

    assert_eq!(output.status.code(), Some(code), "{stderr}");
    assert!(
        stderr.contains(&format!("interrupted by {}", signal.as_str())),
        "{stderr}"
    );
    assert!(
        stderr.contains("kept the 1 finished measurement ("),
        "{stderr}"
    );
    assert_eq!(
        stderr.lines().count(),
        1,
        "one line says what happened: {stderr}"
    );
    let left: Vec<i32> = sleepers.iter().copied().filter(|&p| running(p)).collect();
    assert!(left.is_empty(), "workers still running: {left:?}");
    let left = left_in_groups(&sleepers);
    assert!(left.is_empty(), "left in the workers' groups: {left:?}");

    let text = std::fs::read_to_string(&saved).unwrap();
    assert_eq!(text.lines().count(), 2, "header and the cpu run: {text}");
    assert!(text.lines().nth(1).unwrap().contains("\"kind\":\"cpu\""));
    let csv = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(
        csv.lines().count(),
        2,
        "the export holds the cpu run: {csv}"
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("cpu: 1,000 iterations"), "{stdout}");
}

#[test]
fn sigint_stops_fifty_forked_sleepers_and_keeps_what_finished() {
    interrupt_fifty_sleepers(Signal::SIGINT, "fork", 130);
}

#[test]
fn sigterm_stops_fifty_spawned_sleepers_and_keeps_what_finished() {
    interrupt_fifty_sleepers(Signal::SIGTERM, "spawn", 143);
}

/// A paralab a test started, SIGKILLed and reaped if the test fails before
/// it takes the process back (its workers die with it).
struct Started(Option<Child>);

impl Started {
    fn take(mut self) -> Child {
        self.0.take().expect("taken once")
    }
}

impl Drop for Started {
    fn drop(&mut self) {
        if let Some(child) = &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A cpu run of 3 workers finishes and is saved; then 3 workers sleep for
/// a minute and paralab receives `signal`, which must stop it as SIGINT
/// does: exit 128 + the signal's number, one line saying so, the finished
/// measurement kept in the `--save` file, no worker left.
fn stop_three_sleepers(signal: Signal, method: &str) {
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("run.jsonl");
    let model = format!("process:{method}");
    let child = start(&[
        "bench",
        "--workloads",
        "cpu,sleep",
        "--iters",
        "1000",
        "--sleep",
        "60",
        "--workers",
        "3",
        "--runs",
        "1",
        "--models",
        &model,
        "--save",
        saved.to_str().unwrap(),
    ]);
    let pid = child.id();
    let child = Started(Some(child));
    wait_until("the cpu measurement", Duration::from_secs(20), || {
        line_count(&saved) >= 2
    });
    let sleepers = wait_for_children(pid, 3, Duration::from_secs(20));
    kill(Pid::from_raw(pid as i32), signal).unwrap();
    let output = finish(child.take(), Duration::from_secs(10));
    let stderr = without_busy_warning(&String::from_utf8_lossy(&output.stderr));

    assert_eq!(
        output.status.code(),
        Some(128 + signal as i32),
        "{}: {stderr}",
        signal.as_str()
    );
    assert!(
        stderr.contains(&format!("interrupted by {}", signal.as_str())),
        "{stderr}"
    );
    assert!(
        stderr.contains("kept the 1 finished measurement"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    let left: Vec<i32> = sleepers.iter().copied().filter(|&p| running(p)).collect();
    assert!(left.is_empty(), "workers still running: {left:?}");
    let left = left_in_groups(&sleepers);
    assert!(left.is_empty(), "left in the workers' groups: {left:?}");
    let text = std::fs::read_to_string(&saved).unwrap();
    assert_eq!(text.lines().count(), 2, "header and the cpu run: {text}");
    assert!(text.lines().nth(1).unwrap().contains("\"kind\":\"cpu\""));
}

#[test]
fn sighup_stops_like_sigint_and_exits_129() {
    stop_three_sleepers(Signal::SIGHUP, "fork");
}

#[test]
fn sigquit_stops_like_sigint() {
    stop_three_sleepers(Signal::SIGQUIT, "spawn");
}

#[test]
fn sigusr1_stops_like_sigint() {
    stop_three_sleepers(Signal::SIGUSR1, "fork");
}

#[test]
fn sigusr2_stops_like_sigint() {
    stop_three_sleepers(Signal::SIGUSR2, "spawn");
}

#[test]
fn sigalrm_stops_like_sigint() {
    stop_three_sleepers(Signal::SIGALRM, "fork");
}

#[test]
fn sigpipe_sent_to_paralab_stops_like_sigint() {
    stop_three_sleepers(Signal::SIGPIPE, "spawn");
}

/// The programs ignore SIGTERM: a second Ctrl-C kills them hard, at once.
#[test]
fn a_second_sigint_kills_workers_that_ignore_sigterm() {
    // -N: the worker is the shell that ignores SIGTERM, not a shell
    // (dash does not exec the last command) that would run it.
    let child = start(&[
        "bench",
        "-N",
        "--cmd",
        "sh -c 'trap \"\" TERM; sleep 60; true'",
        "--workers",
        "3",
        "-q",
    ]);
    let pid = child.id();
    let workers = wait_for_children(pid, 3, Duration::from_secs(10));
    // The shells' own `sleep` children, in the same process groups.
    let mut sleeps = Vec::new();
    wait_until("their sleeps", Duration::from_secs(10), || {
        sleeps = workers
            .iter()
            .flat_map(|&w| children_of(w as u32))
            .collect();
        sleeps.len() >= 3
    });
    kill(Pid::from_raw(pid as i32), Signal::SIGINT).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    assert!(workers.iter().all(|&w| running(w)), "they ignore SIGTERM");
    kill(Pid::from_raw(pid as i32), Signal::SIGINT).unwrap();
    let output = finish(child, Duration::from_secs(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("a second signal (SIGINT)"), "{stderr}");
    wait_until(
        "the programs and their children to die",
        Duration::from_secs(2),
        || !workers.iter().chain(&sleeps).any(|&p| running(p)),
    );
    let left = left_in_groups(&workers);
    assert!(left.is_empty(), "left in the workers' groups: {left:?}");
}

#[test]
fn a_worker_killed_from_outside_is_reported_by_its_signal() {
    let child = start(&[
        "bench",
        "--workloads",
        "sleep",
        "--sleep",
        "3",
        "--workers",
        "3",
        "--models",
        "process",
        "-q",
    ]);
    let pid = child.id();
    let workers = wait_for_children(pid, 3, Duration::from_secs(10));
    kill(Pid::from_raw(workers[0]), Signal::SIGKILL).unwrap();
    let output = finish(child, Duration::from_secs(10));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("was killed by SIGKILL"), "{stderr}");
    assert!(!workers.iter().any(|&p| running(p)));
    assert_eq!(left_in_groups(&workers), Vec::<i32>::new());
}

#[test]
fn a_timeout_kills_and_reaps_worker_processes() {
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("t.jsonl");
    let child = start(&[
        "bench",
        "--workloads",
        "cpu,sleep",
        "--iters",
        "1000",
        "--sleep",
        "60",
        "--workers",
        "4",
        "--runs",
        "1",
        "--models",
        "process:fork,process:spawn",
        "--timeout",
        "0.5",
        "--keep-going",
        "--save",
        saved.to_str().unwrap(),
    ]);
    let pid = child.id();
    let mut seen = Vec::new();
    let output = {
        // Note the workers while they live, to check on them afterwards.
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline && seen.len() < 8 {
            for p in children_of(pid) {
                if !seen.contains(&p) {
                    seen.push(p);
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        finish(child, Duration::from_secs(10))
    };
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("sleep · process:fork · 4 workers: workers 0, 1, 2 and 1 more: each timed out, and was killed and reaped"),
        "{stderr}"
    );
    assert!(
        stderr.contains("sleep · process:spawn · 4 workers"),
        "{stderr}"
    );
    assert!(
        stderr.contains("2 runs failed and were recorded (--keep-going)"),
        "{stderr}"
    );
    assert!(
        !seen.iter().any(|&p| running(p)),
        "a worker survived its timeout"
    );
    assert_eq!(left_in_groups(&seen), Vec::<i32>::new());
    // Both cpu runs and both timed-out sleep runs are kept.
    let text = std::fs::read_to_string(&saved).unwrap();
    assert_eq!(text.lines().count(), 5, "{text}");
    assert_eq!(text.matches("\"status\":\"timed_out\"").count(), 8);
}

#[test]
fn a_timeout_on_threads_ends_paralab_with_a_clear_error() {
    let started = Instant::now();
    let output = Command::new(PARALAB)
        .args([
            "bench",
            "--workloads",
            "sleep",
            "--sleep",
            "60",
            "--workers",
            "2",
        ])
        .args(["--models", "thread", "--timeout", "0.3", "-q"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("timed out, and is still running (a thread or task cannot be killed"),
        "{stderr}"
    );
}

/// `kill -9` of paralab gives it no chance to tidy up: the kernel kills the
/// forked workers (they asked for it with PR_SET_PDEATHSIG).
#[test]
fn workers_die_with_a_killed_paralab() {
    for model in ["process:fork", "process:spawn"] {
        let mut child = Command::new(PARALAB)
            .args([
                "bench",
                "--workloads",
                "sleep",
                "--sleep",
                "60",
                "--workers",
                "3",
            ])
            .args(["--models", model, "-q"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let pid = child.id();
        let workers = wait_for_children(pid, 3, Duration::from_secs(10));
        child.kill().unwrap();
        child.wait().unwrap();
        wait_until(
            &format!("the {model} workers to die"),
            Duration::from_secs(2),
            || !workers.iter().any(|&p| running(p)),
        );
    }
}

/// The one `/proc/PID/stat` parser of the tests, on a real process whose
/// name holds spaces and parentheses: its name, state, parent and group.
#[test]
fn process_checks_read_names_with_spaces_and_parentheses() {
    let dir = tempfile::tempdir().unwrap();
    let name = ") x (y) z";
    let program = fake_program(dir.path(), name, "read line || true");
    let mut child = Command::new(&program)
        .stdin(Stdio::piped())
        .process_group(0)
        .spawn()
        .unwrap();
    let pid = child.id() as i32;
    let mut stat = None;
    wait_until("the program to start", Duration::from_secs(10), || {
        stat = Stat::of(pid).filter(|s| s.comm == name);
        stat.is_some()
    });
    let stat = stat.unwrap();
    assert_eq!(stat.pid, pid);
    assert_eq!(stat.ppid, std::process::id() as i32);
    assert_eq!(stat.pgrp, pid, "it leads its own group");
    assert!(stat.running() && running(pid));
    assert!(children_of(std::process::id()).contains(&pid));
    assert_eq!(running_in_group(pid), [pid]);
    drop(child.stdin.take()); // `read` meets the end of its input
    assert!(child.wait().unwrap().success());
    assert!(!running(pid));
    assert!(running_in_group(pid).is_empty());
}
