//! `py-dask` against real Dask: a LocalCluster paralab starts itself, a
//! cluster of separate programs (`dask scheduler` and two `dask worker`
//! processes on 127.0.0.1, over TCP) the test starts, a scheduler killed
//! in the middle of a run, and an interpreter without Dask.
//!
//! The interpreter is the one PARALAB_TEST_ENGINES_PYTHON names (`.ci/run`
//! makes a virtual environment with `dask[distributed]`), else python3 when
//! it can import `dask.distributed`. Without one each test is skipped in
//! one line, or fails when PARALAB_REQUIRE_PYTHON=1.

mod common;

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::paralab;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use paralab::Workload;

const ITERS: u64 = 20_000;

/// An interpreter that imports `dask.distributed`, or `None` after one
/// line (a failure when PARALAB_REQUIRE_PYTHON=1).
fn dask_python() -> Option<PathBuf> {
    let named = std::env::var_os("PARALAB_TEST_ENGINES_PYTHON")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from);
    let candidate = named.clone().or_else(|| common::find_program("python3"));
    if let Some(exe) = candidate.filter(|exe| imports_dask(exe)) {
        return Some(exe);
    }
    let why = match named {
        Some(exe) => format!(
            "PARALAB_TEST_ENGINES_PYTHON={} cannot import dask.distributed",
            exe.display()
        ),
        None => {
            "no PARALAB_TEST_ENGINES_PYTHON, and python3 cannot import dask.distributed".to_string()
        }
    };
    if std::env::var("PARALAB_REQUIRE_PYTHON").is_ok_and(|v| v == "1") {
        panic!(
            "PARALAB_REQUIRE_PYTHON=1, but {why}; install it (python3 -m pip install \"dask[distributed]\") or unset PARALAB_REQUIRE_PYTHON"
        );
    }
    common::skip(&why);
    None
}

/// Whether `python` can import `dask.distributed`.
fn imports_dask(python: &Path) -> bool {
    Command::new(python)
        .args(["-c", "import dask.distributed"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The `dask` command beside the interpreter (a virtual environment's
/// bin), else the one on PATH.
fn dask_cli(python: &Path) -> PathBuf {
    let beside = python.with_file_name("dask");
    if beside.is_file() {
        return beside;
    }
    common::find_program("dask").unwrap_or_else(|| {
        panic!(
            "{} imports dask.distributed but no `dask` command is beside it or on PATH",
            python.display()
        )
    })
}

/// A Dask cluster of separate programs on 127.0.0.1: one scheduler and two
/// single-threaded workers, each in a process group of its own, all killed
/// and reaped when the guard is dropped (a failing test included).
struct Cluster {
    address: String,
    scheduler: Option<Child>,
    workers: Vec<Child>,
}

impl Cluster {
    fn start(python: &Path) -> Cluster {
        let dask = dask_cli(python);
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let address = format!("tcp://127.0.0.1:{port}");
        let start = |args: &[&str]| {
            Command::new(&dask)
                .args(args)
                .env("DASK_LOGGING__DISTRIBUTED", "error")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .process_group(0)
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {}: {e}", dask.display()))
        };
        let mut cluster = Cluster {
            address: address.clone(),
            scheduler: None,
            workers: Vec::new(),
        };
        let port = port.to_string();
        cluster.scheduler = Some(start(&[
            "scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            &port,
            "--no-dashboard",
        ]));
        for _ in 0..2 {
            cluster.workers.push(start(&[
                "worker",
                &address,
                "--host",
                "127.0.0.1",
                "--nthreads",
                "1",
                "--no-dashboard",
            ]));
        }
        // Both workers registered, or the guard stops whatever started.
        let ready = Command::new(python)
            .args([
                "-c",
                "import sys; from dask.distributed import Client; \
                 c = Client(sys.argv[1], timeout=60); c.wait_for_workers(2, timeout=60); c.close()",
                &address,
            ])
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(
            ready.status.success(),
            "the cluster at {address} did not get its 2 workers: {}",
            String::from_utf8_lossy(&ready.stderr)
        );
        cluster
    }

    /// The CPU time the workers' processes (their nannies included) have
    /// used so far.
    fn workers_cpu_seconds(&self) -> f64 {
        self.workers
            .iter()
            .flat_map(|w| common::running_in_group(w.id() as i32))
            .map(cpu_seconds)
            .sum()
    }

    /// Kills the scheduler's process group now (SIGKILL), and reaps it.
    fn kill_scheduler(&mut self) {
        if let Some(child) = self.scheduler.take() {
            stop(child);
        }
    }
}

/// SIGKILL to the child's whole process group, then reaps the child.
fn stop(mut child: Child) {
    let _ = killpg(Pid::from_raw(child.id() as i32), Signal::SIGKILL);
    let _ = child.wait();
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.kill_scheduler();
        for child in self.workers.drain(..) {
            stop(child);
        }
    }
}

/// Processes whose environment holds `mark`: paralab's children and theirs
/// (a LocalCluster's workers inherit the environment), wherever they are.
fn marked_processes(mark: &str) -> Vec<i32> {
    common::processes()
        .into_iter()
        .filter(|p| p.running())
        .filter(|p| {
            std::fs::read(format!("/proc/{}/environ", p.pid))
                .is_ok_and(|env| env.split(|b| *b == 0).any(|v| v == mark.as_bytes()))
        })
        .map(|p| p.pid)
        .collect()
}

/// Checks every py-dask measurement of `doc`: N finished workers with the
/// reference result, times within the wall time, a start-up beside it.
fn check_dask_results(doc: &serde_json::Value, workers: &[u64]) {
    let expected = Workload::Cpu { iters: ITERS }.expected_result();
    let measured: Vec<&serde_json::Value> = doc["measurements"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["model"] == "py-dask")
        .collect();
    let counts: Vec<u64> = measured
        .iter()
        .map(|m| m["workers"].as_u64().unwrap())
        .collect();
    assert_eq!(counts, workers, "{doc}");
    for m in measured {
        let outcomes = m["outcomes"].as_array().unwrap();
        assert_eq!(outcomes.len() as u64, m["workers"].as_u64().unwrap(), "{m}");
        let wall = m["wall_s"].as_f64().unwrap();
        for o in outcomes {
            assert_eq!(o["status"], "finished", "{m}");
            assert_eq!(o["result"], expected, "{m}");
            let (start, end) = (o["start_s"].as_f64().unwrap(), o["end_s"].as_f64().unwrap());
            assert!(0.0 <= start && start <= end && end <= wall + 1e-3, "{m}");
        }
        let launch = m["launch_s"].as_f64().unwrap_or_else(|| panic!("{m}"));
        assert!(launch > 0.0, "a cluster starts or connects in no time: {m}");
    }
}

#[test]
fn a_local_cluster_returns_the_reference_in_every_task_and_leaves_nothing_behind() {
    let Some(python) = dask_python() else { return };
    let mark = format!("PARALAB_TEST_DASK_MARK={}", std::process::id());
    let (key, value) = mark.split_once('=').unwrap();
    let output = paralab()
        .args([&ITERS.to_string(), "--workloads", "cpu", "--workers", "1,2"])
        .args(["--models", "py-dask", "--format", "json", "--runs", "1"])
        .arg("--python-exe")
        .arg(&python)
        .env(key, value)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert!(output.status.success(), "{stderr}");
    check_dask_results(&common::json_of(&output), &[1, 2]);
    assert!(
        stderr.contains(
            "start-up (starting a Dask LocalCluster of 2 worker processes with one thread each)"
        ),
        "{stderr}"
    );
    // The LocalCluster's processes went with the driver.
    common::wait_until(
        "the LocalCluster's processes to end",
        Duration::from_secs(10),
        || marked_processes(&mark).is_empty(),
    );
}

#[test]
fn tasks_go_to_an_existing_cluster_of_separate_programs() {
    let Some(python) = dask_python() else { return };
    let cluster = Cluster::start(&python);
    let json = tempfile::NamedTempFile::new().unwrap();
    // Up to three tasks on the cluster's two workers: N tasks still run.
    let output = paralab()
        .args([
            &ITERS.to_string(),
            "--workloads",
            "cpu",
            "--workers",
            "1,2,3",
        ])
        .args(["--models", "py-dask", "--runs", "1"])
        .arg("--python-exe")
        .arg(&python)
        .args(["--dask-scheduler", &cluster.address])
        .arg("--export-json")
        .arg(json.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(output.status.success(), "{stderr}");
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(json.path()).unwrap()).unwrap();
    check_dask_results(&doc, &[1, 2, 3]);
    let says = format!(
        "the scheduler at {} has 2 workers (2 threads) on 1 host",
        cluster.address
    );
    assert_eq!(stderr.matches(&says).count(), 1, "{stderr}");
    assert!(
        stdout.contains(&format!(
            "the 2 workers (2 threads, 1 host) of the scheduler at {}",
            cluster.address
        )),
        "{stdout}"
    );
    assert!(
        stderr.contains(&format!(
            "start-up (connecting a client to the Dask scheduler at {})",
            cluster.address
        )),
        "{stderr}"
    );
}

#[test]
fn a_scheduler_killed_mid_run_is_one_line_and_the_rust_results_stay() {
    let Some(python) = dask_python() else { return };
    let mut cluster = Cluster::start(&python);
    // Tasks of some seconds each (CPython runs some 5 million iterations a
    // second), so the scheduler dies while they run.
    let run = Command::new(common::PARALAB)
        .args(["--iters", "2000000", "--python-iters", "40000000"])
        .args(["--workloads", "cpu", "--workers", "2", "--runs", "1"])
        .args(["--models", "thread,py-dask", "--python-exe"])
        .arg(&python)
        .args(["--dask-scheduler", &cluster.address])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let paralab_pid = run.id() as i32;
    // The driver is paralab's child while py-dask runs; give it time to
    // connect and submit.
    common::wait_until("py-dask's driver", Duration::from_secs(60), || {
        common::children_of(paralab_pid as u32)
            .into_iter()
            .any(|pid| {
                std::fs::read(format!("/proc/{pid}/cmdline"))
                    .is_ok_and(|c| c.split(|b| *b == 0).any(|arg| arg == b"dask"))
            })
    });
    // Killed once the workers are well into their tasks, not while the
    // driver still connects.
    let before = cluster.workers_cpu_seconds();
    common::wait_until(
        "the workers busy with their tasks",
        Duration::from_secs(60),
        || cluster.workers_cpu_seconds() > before + 2.0,
    );
    cluster.kill_scheduler();
    let output = run.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let failed: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("py-dask") && l.contains("failed"))
        .collect();
    assert_eq!(failed.len(), 1, "{stderr}");
    assert!(failed[0].contains("the Dask run failed"), "{stderr}");
    assert!(!stderr.contains("Traceback"), "{stderr}");
    // The thread model ran first; its row stays.
    let row = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("2 │"))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(
        (row.contains(" s ") || row.contains(" ms ")) && !row.contains("failed"),
        "{stdout}"
    );
    assert!(!stdout.contains("py-dask"), "{stdout}");
    common::wait_until(
        "py-dask's driver to be reaped",
        Duration::from_secs(10),
        || common::children_of(paralab_pid as u32).is_empty(),
    );
}

#[test]
fn an_interpreter_without_dask_names_the_pip_package() {
    let dir = tempfile::tempdir().unwrap();
    let bare = match common::python3() {
        // A python3 without Dask is what this test needs, as it is.
        Some(python3) if !imports_dask(&python3) => python3,
        // Dask's interpreter without its site-packages (-S): the standard
        // library only, so no Dask.
        _ => {
            let Some(python) = dask_python() else { return };
            common::fake_program(
                dir.path(),
                "python-without-dask",
                &format!("exec '{}' -S \"$@\"", python.display()),
            )
        }
    };
    let line = format!(
        "paralab: py-dask needs dask[distributed] in {exe}: {exe} -m pip install \"dask[distributed]\"\n",
        exe = bare.display()
    );
    let alone = paralab()
        .args([&ITERS.to_string(), "--workloads", "cpu", "--workers", "1"])
        .args(["--models", "py-dask", "--python-exe"])
        .arg(&bare)
        .output()
        .unwrap();
    assert_eq!(alone.status.code(), Some(2));
    assert!(alone.stdout.is_empty());
    assert_eq!(
        common::without_busy_warning(&String::from_utf8_lossy(&alone.stderr)),
        line
    );
    let with_others = paralab()
        .args([&ITERS.to_string(), "--workloads", "cpu", "--workers", "1"])
        .args([
            "--models",
            "py-thread,py-dask",
            "--runs",
            "1",
            "--python-exe",
        ])
        .arg(&bare)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&with_others.stderr).to_string();
    assert!(with_others.status.success(), "{stderr}");
    assert_eq!(stderr.matches(line.trim_end()).count(), 1, "{stderr}");
    let stdout = String::from_utf8_lossy(&with_others.stdout);
    assert!(
        stdout.contains("py-thread") && !stdout.contains("py-dask"),
        "{stdout}"
    );
}

/// Starts paralab on a LocalCluster whose tasks take some seconds, with
/// `mark` in its environment (which the cluster's processes inherit).
fn start_long_local_run(python: &Path, mark: &str, extra: &[&str]) -> Child {
    let (key, value) = mark.split_once('=').unwrap();
    Command::new(common::PARALAB)
        .args(["--python-iters", "40000000", "--workloads", "cpu"])
        .args(["--workers", "2", "--runs", "1", "--models", "py-dask"])
        .arg("--python-exe")
        .arg(python)
        .args(extra)
        .env(key, value)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// The LocalCluster's worker processes (multiprocessing's spawned
/// children) among the processes marked with `mark`.
fn local_workers(mark: &str) -> Vec<i32> {
    marked_processes(mark)
        .into_iter()
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| String::from_utf8_lossy(&c).contains("spawn_main"))
        })
        .collect()
}

/// The CPU time process `pid` has used so far (0 when it is gone).
fn cpu_seconds(pid: i32) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    // utime and stime: the 12th and 13th fields after the command name.
    let after_name = &stat[stat.rfind(')').unwrap() + 1..];
    let ticks: f64 = after_name
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|f| f.parse::<f64>().ok())
        .sum();
    let per_second = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .unwrap_or(100) as f64;
    ticks / per_second
}

#[test]
fn a_killed_local_worker_fails_the_run_in_one_line_and_nothing_is_left() {
    let Some(python) = dask_python() else { return };
    let mark = format!("PARALAB_TEST_DASK_MARK=killed-{}", std::process::id());
    let run = start_long_local_run(&python, &mark, &[]);
    let mut workers = Vec::new();
    common::wait_until(
        "the LocalCluster's 2 workers",
        Duration::from_secs(60),
        || {
            workers = local_workers(&mark);
            workers.len() >= 2
        },
    );
    // A worker that dies before its task reached it is only restarted: wait
    // until it is well into its task (past the second or so of CPU its
    // start-up takes).
    common::wait_until(
        "a worker busy with its task",
        Duration::from_secs(60),
        || cpu_seconds(workers[0]) > 3.0,
    );
    nix::sys::signal::kill(Pid::from_raw(workers[0]), Signal::SIGKILL).unwrap();
    let output = run.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    assert_eq!(
        output.status.code(),
        Some(1),
        "killed {workers:?}: {stdout}{stderr}"
    );
    let failed: Vec<&str> = stderr.lines().filter(|l| l.contains("failed")).collect();
    assert_eq!(failed.len(), 1, "{stderr}");
    assert!(failed[0].contains("KilledWorker"), "{stderr}");
    common::wait_until(
        "the LocalCluster's processes to end",
        Duration::from_secs(10),
        || marked_processes(&mark).is_empty(),
    );
}

#[test]
fn a_local_cluster_past_its_timeout_is_killed_whole() {
    let Some(python) = dask_python() else { return };
    let mark = format!("PARALAB_TEST_DASK_MARK=timeout-{}", std::process::id());
    let run = start_long_local_run(&python, &mark, &["--timeout", "4"]);
    let output = run.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("timed out"), "{stderr}");
    common::wait_until(
        "the LocalCluster's processes to end",
        Duration::from_secs(10),
        || marked_processes(&mark).is_empty(),
    );
}
