//! What else ran: each worker's CPU time and switches, and the CPUs that
//! other work kept busy, measured on a machine that is never assumed idle
//! (timings are compared only as generous ratios).

mod common;

use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{json_of, paralab};
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use serde_json::Value;

/// One shell busy loop per logical CPU, each leading its own process
/// group, killed (by that group) and reaped on drop, even when an
/// assertion fails.
struct BusyLoops(Vec<Child>);

impl BusyLoops {
    fn one_per_cpu() -> BusyLoops {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        BusyLoops(
            (0..cpus)
                .map(|_| {
                    Command::new("sh")
                        .args(["-c", "while :; do :; done"])
                        .stdin(Stdio::null())
                        .process_group(0)
                        .spawn()
                        .expect("sh starts")
                })
                .collect(),
        )
    }
}

impl Drop for BusyLoops {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = killpg(Pid::from_raw(child.id() as i32), Signal::SIGKILL);
            let _ = child.wait();
        }
    }
}

fn f64_at(value: &Value, key: &str) -> Option<f64> {
    value.get(key).and_then(Value::as_f64)
}

#[test]
fn busy_loops_beside_paralab_show_as_others_cpus() {
    let busy = BusyLoops::one_per_cpu();
    // Let them all get going before the sweep measures.
    std::thread::sleep(Duration::from_millis(200));
    let output = paralab()
        .args(["bench", "--workloads", "sleep", "--sleep", "0.3"])
        .args(["--models", "thread", "--workers", "1", "--runs", "2"])
        .args(["--format", "json"])
        .output()
        .unwrap();
    drop(busy);
    let json = json_of(&output);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let measurements = json["measurements"].as_array().unwrap();
    assert_eq!(measurements.len(), 2);
    for m in measurements {
        let others = f64_at(m, "others_cpus").expect("others_cpus is measured");
        assert!(others >= 0.5, "others kept only {others} CPUs busy: {m}");
        let pressure = f64_at(m, "cpu_pressure");
        assert!(pressure.is_none_or(|p| (0.0..=1.0).contains(&p)), "{m}");
        let worker = &m["outcomes"][0];
        // A sleeping thread waits (at least once) and computes next to nothing.
        assert!(worker["voluntary_switches"].as_u64().unwrap() >= 1, "{m}");
        assert!(f64_at(worker, "cpu_s").unwrap() < 0.1, "{m}");
    }
    let before = f64_at(&json["machine"], "others_cpus_before").expect("measured before the sweep");
    assert!(before >= 0.5, "{before}");
    assert!(f64_at(&json["machine"], "load_average_1m").is_some());
    assert!(
        stderr.contains("busy") && stderr.contains("--wait-quiet"),
        "{stderr}"
    );
    assert_eq!(
        stderr
            .lines()
            .filter(|l| l.contains("--wait-quiet"))
            .count(),
        1,
        "{stderr}"
    );
}

/// Rust threads and processes do run in parallel: beside one busy loop per
/// CPU, whatever the numbers, no verdict may say that they did not
/// ("no parallelism", "partial parallelism"), since the machine, not the
/// model, kept them from the CPUs. Every cpu line is then a result that
/// says so, or inconclusive with the CPUs the others took.
#[test]
fn a_busy_machine_never_makes_rust_threads_look_serial() {
    let busy = BusyLoops::one_per_cpu();
    std::thread::sleep(Duration::from_millis(200));
    let output = paralab()
        .args(["bench", "--workloads", "cpu", "--iters", "3000000"])
        .args(["--models", "thread,process:fork,pool", "--workers", "1,2"])
        .output()
        .unwrap();
    drop(busy);
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    // One scaling line per model (the fits' lines say no such thing).
    let lines: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("cpu · ") && l.contains(" workers took "))
        .collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    for line in lines {
        assert!(
            !line.contains("no parallelism") && !line.contains("partial parallelism"),
            "a busy machine was blamed on the model: {line}"
        );
    }
}

#[test]
fn worker_cpu_times_are_physically_possible() {
    // 5,000,000 iterations: about 80 ms of one core in a debug build, so
    // one worker's run lasts over the 50 ms others_cpus needs.
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("r.csv");
    let output = paralab()
        .args(["bench", "--workloads", "cpu", "--iters", "5000000"])
        .args([
            "--models",
            "thread,process:fork,process:spawn,pool,async,gil",
        ])
        .args([
            "--workers",
            "1,2",
            "--runs",
            "1",
            "--format",
            "json",
            "--quiet",
        ])
        .arg("--export-csv")
        .arg(&csv)
        .output()
        .unwrap();
    let json = json_of(&output);
    let csv = std::fs::read_to_string(&csv).unwrap();
    let mut lines = csv.lines();
    assert!(
        lines.next().unwrap().ends_with(
            ",cpus,cores_busy,others_cpus,steal_cpus,cpu_pressure,user_s,system_s,voluntary_switches,involuntary_switches"
        ),
        "{csv}"
    );
    for line in lines {
        let fields: Vec<&str> = line.split(',').collect();
        assert_eq!(fields.len(), 24, "{line}");
        // cores busy, user time and both switch counts are known for
        // every Rust model.
        for i in [16, 20, 22, 23] {
            assert!(fields[i].parse::<f64>().is_ok(), "column {i}: {line}");
        }
    }
    let cpus = json["machine"]["logical_cpus"].as_u64().unwrap() as f64;
    let measurements = json["measurements"].as_array().unwrap();
    assert_eq!(measurements.len(), 12);
    for m in measurements {
        let wall = f64_at(m, "wall_s").unwrap();
        let mut total = 0.0;
        for worker in m["outcomes"].as_array().unwrap() {
            let cpu = f64_at(worker, "cpu_s").unwrap_or_else(|| panic!("no cpu_s: {m}"));
            let user = f64_at(worker, "user_s").unwrap();
            let system = f64_at(worker, "system_s").unwrap();
            assert!((user + system - cpu).abs() <= 1e-6 + 1e-6 * cpu, "{m}");
            assert!(worker["voluntary_switches"].is_u64(), "{m}");
            assert!(worker["involuntary_switches"].is_u64(), "{m}");
            total += cpu;
        }
        // No run can use more CPU than the machine has; the slack covers
        // the kernel's accounting granularity.
        assert!(
            total <= wall * cpus * 1.1 + 0.02,
            "{total} s of CPU in {wall} s: {m}"
        );
        if let Some(others) = f64_at(m, "others_cpus") {
            // paralab's own workers are not others: counted among them
            // too, two busy workers on 2 CPUs would push the sum to 3 or
            // more (the slack covers /proc/stat's 10 ms ticks over a
            // short run).
            let cores_busy = total / wall;
            assert!(
                cores_busy + others <= cpus * 1.1 + 0.3,
                "cores busy {cores_busy} + others {others} on {cpus} CPUs: {m}"
            );
        }
        if m["workers"] == 1 && wall >= 0.05 {
            let cores_busy = total / wall;
            let others = f64_at(m, "others_cpus").expect("measured for runs over 50 ms");
            // One computing worker keeps a core busy, unless other work
            // took the machine: then the two together fill most of it.
            assert!(
                cores_busy > 0.3 || cores_busy + others > 0.7 * cpus,
                "cores busy {cores_busy}, others {others}: {m}"
            );
        }
    }
}

#[test]
fn bad_wait_quiet_values_are_refused() {
    for bad in ["--wait-quiet=-1", "--wait-quiet=soon", "--wait-quiet=7200"] {
        let output = paralab().args(["bench", bad]).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{bad}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(stderr.lines().count(), 1, "{bad}: {stderr}");
        assert!(stderr.contains("--wait-quiet"), "{stderr}");
        assert!(output.stdout.is_empty());
    }
}

#[test]
fn wait_quiet_says_what_it_found_and_goes_on() {
    let output = paralab()
        .args(["bench", "--workloads", "sleep", "--sleep", "0.01"])
        .args([
            "--models",
            "thread",
            "--workers",
            "1",
            "--runs",
            "1",
            "--wait-quiet=1",
        ])
        .args(["--format", "json"])
        .output()
        .unwrap();
    let json = json_of(&output);
    let stderr = String::from_utf8_lossy(&output.stderr);
    // Quiet or not (the machine is shared), it says which, once, and ran.
    assert!(
        stderr.contains("the machine is quiet") || stderr.contains("still kept"),
        "{stderr}"
    );
    assert_eq!(json["measurements"].as_array().unwrap().len(), 1);
    assert!(f64_at(&json["machine"], "others_cpus_before").is_some());
}
