//! The `mpi` model end to end: paralab launches `mpirun`, every rank's
//! result is checked, and the launch is kept out of the wall time.
//! Skipped (one line) without `mpirun` on the PATH, unless
//! `PARALAB_REQUIRE_MPI=1` says this machine must have it.
#![cfg(feature = "mpi")]

mod common;

use std::process::Command;
use std::time::Duration;

use paralab::Workload;

/// Whether the tests can run here; panics when they must and cannot.
fn mpirun_here() -> bool {
    let found = Command::new("mpirun").arg("--version").output().is_ok();
    if !found {
        assert!(
            std::env::var_os("PARALAB_REQUIRE_MPI").is_none_or(|v| v != "1"),
            "PARALAB_REQUIRE_MPI=1 but there is no mpirun on the PATH (apt-get install openmpi-bin)"
        );
        eprintln!("skipped: no mpirun on the PATH (apt-get install openmpi-bin)");
    }
    found
}

const ITERS: u64 = 2_000_003;
const SLEEP: Duration = Duration::from_millis(300);

#[test]
fn ranks_return_the_reference_and_the_launch_stays_out_of_the_wall_time() {
    if !mpirun_here() {
        return;
    }
    let output = Command::new(common::PARALAB)
        .args(["bench", "--models", "mpi", "--workloads", "cpu,sleep"])
        .args(["--workers", "1,2", "--runs", "1", "--format", "json"])
        .args(["--iters", &ITERS.to_string(), "--sleep", "0.3"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let doc: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let measurements = doc["measurements"].as_array().unwrap();
    assert_eq!(measurements.len(), 2 * 2, "{doc}");
    let cpu = Workload::Cpu { iters: ITERS }.expected_result();
    let sleep = Workload::Sleep { duration: SLEEP }.expected_result();
    for m in measurements {
        assert_eq!(m["model"], "mpi");
        let workers = m["workers"].as_u64().unwrap() as usize;
        let outcomes = m["outcomes"].as_array().unwrap();
        assert_eq!(outcomes.len(), workers);
        let expected = if m["workload"]["kind"] == "cpu" {
            cpu
        } else {
            sleep
        };
        for o in outcomes {
            assert_eq!(o["status"], "finished", "{m}");
            assert_eq!(o["result"], expected);
        }
        if m["workload"]["kind"] == "sleep" {
            // Barrier to barrier: the sleep and little else. A launch
            // (~0.3 s here, more on a busy machine) in it would show.
            let wall = m["wall_s"].as_f64().unwrap();
            assert!(
                (0.3..0.3 * 1.5).contains(&wall),
                "sleep wall {wall} s is not rank 0's barrier-to-barrier time"
            );
        }
    }
    // Each run reports its launch on stderr, apart from the wall time.
    let launches: Vec<f64> = stderr
        .lines()
        .filter_map(|line| line.split("MPI_Init done) ").nth(1))
        .filter_map(|rest| rest.split(" s,").next()?.parse().ok())
        .collect();
    assert_eq!(launches.len(), 4, "{stderr}");
    assert!(
        launches.iter().all(|&s| s > 0.0 && s < 30.0),
        "{launches:?}"
    );
    // And it is kept in the data, beside the wall time, never in it.
    let saved: Vec<f64> = measurements
        .iter()
        .map(|m| {
            m["launch_s"]
                .as_f64()
                .expect("each mpi run keeps its launch")
        })
        .collect();
    assert!(saved.iter().all(|&s| s > 0.0 && s < 30.0), "{saved:?}");
}

/// Runs the cpu workload on 1, 2 and 4 ranks (4 oversubscribed on 2
/// CPUs) with `mpi_args`; every rank of every run returns the reference.
fn ranks_agree_at_1_2_and_4(mpi_args: &str) {
    let mut command = Command::new(common::PARALAB);
    command
        .args(["bench", "--models", "mpi", "--workloads", "cpu"])
        .args(["--workers", "1,2,4", "--runs", "1", "--format", "json"])
        .args(["--iters", "500001"]);
    if !mpi_args.is_empty() {
        command.args(["--mpi-args", mpi_args]);
    }
    let output = command.output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let doc: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let measurements = doc["measurements"].as_array().unwrap();
    let workers: Vec<u64> = measurements
        .iter()
        .map(|m| m["workers"].as_u64().unwrap())
        .collect();
    assert_eq!(workers, [1, 2, 4], "{doc}");
    let cpu = Workload::Cpu { iters: 500_001 }.expected_result();
    for m in measurements {
        let outcomes = m["outcomes"].as_array().unwrap();
        assert_eq!(outcomes.len() as u64, m["workers"].as_u64().unwrap());
        assert!(
            outcomes
                .iter()
                .all(|o| o["status"] == "finished" && o["result"] == cpu),
            "{m}"
        );
    }
}

#[test]
fn over_shared_memory_1_2_and_4_ranks_agree() {
    if mpirun_here() {
        ranks_agree_at_1_2_and_4("");
    }
}

#[test]
fn over_tcp_1_2_and_4_ranks_agree() {
    if mpirun_here() {
        ranks_agree_at_1_2_and_4("--mca btl self,tcp");
    }
}

#[test]
fn a_missing_launcher_is_one_line() {
    let output = Command::new(common::PARALAB)
        .args([
            "bench",
            "--models",
            "mpi",
            "--workloads",
            "sleep",
            "--workers",
            "1",
        ])
        .args(["--sleep", "0.01", "--mpirun", "/nonexistent/mpirun"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--mpirun /nonexistent/mpirun"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

#[test]
fn started_by_mpirun_rank_0_alone_reports_every_rank() {
    if !mpirun_here() {
        return;
    }
    let mut mpirun = Command::new("mpirun");
    mpirun.args(["-n", "2", "--oversubscribe"]);
    if nix_is_root() {
        mpirun.arg("--allow-run-as-root");
    }
    let output = mpirun
        .arg(common::PARALAB)
        .args([
            "bench",
            "--models",
            "mpi",
            "--workloads",
            "cpu",
            "--runs",
            "1",
        ])
        .args(["--format", "json", "--iters", "300007"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    // One JSON document: rank 1 printed nothing.
    let doc: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let measurements = doc["measurements"].as_array().unwrap();
    assert_eq!(measurements.len(), 1, "{doc}");
    assert_eq!(measurements[0]["workers"], 2);
    let cpu = Workload::Cpu { iters: 300_007 }.expected_result();
    let outcomes = measurements[0]["outcomes"].as_array().unwrap();
    assert_eq!(outcomes.len(), 2);
    assert!(outcomes.iter().all(|o| o["result"] == cpu), "{doc}");
    assert!(stderr.contains("ranks of the launcher's job"), "{stderr}");
}

/// Open MPI refuses root without `--allow-run-as-root`.
fn nix_is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(2) == Some("0"))
        })
        .unwrap_or(false)
}
