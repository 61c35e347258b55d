//! The `messages` lesson in `--fast` mode, through `paralab lesson messages
//! --format json`: its figures are positive and add up (throughput × time
//! = bytes sent), and every verdict is a result or `inconclusive` with its
//! reason. With the `mpi` feature the MPI ways must have been measured
//! (skipped in one line without `mpirun`, unless `PARALAB_REQUIRE_MPI=1`);
//! without it, the lesson says in one line why they were not. Timings are
//! never compared: the machine is shared.

mod common;

use std::process::Command;

use serde_json::Value;

/// The lesson's record, from `paralab lesson messages --fast --format json`.
fn run() -> Value {
    let output = common::paralab()
        .args(["lesson", "messages", "--fast", "--format", "json"])
        .output()
        .unwrap();
    let record = common::json_of(&output);
    assert_eq!(record["lesson"], "messages", "{record}");
    record
}

/// The way named `name` in the evidence.
fn way<'a>(record: &'a Value, name: &str) -> &'a Value {
    record["evidence"]["ways"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["way"] == name)
        .unwrap_or_else(|| panic!("{name} missing from {record}"))
}

fn numbers(value: &Value) -> Vec<f64> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect()
}

/// A measured way: one positive figure a round, intact data, and
/// throughputs that times their seconds give the bytes of a round.
fn assert_measured(record: &Value, name: &str) {
    let w = way(record, name);
    let rounds = record["evidence"]["rounds"].as_u64().unwrap() as usize;
    assert!(w["missing"].is_null(), "{w}");
    assert_eq!(w["intact"], true, "{w}");
    let trips = numbers(&w["round_trip_s"]);
    let seconds = numbers(&w["throughput_s"]);
    let rates = numbers(&w["throughput_mb_per_s"]);
    assert!(
        trips.len() == rounds && seconds.len() == rounds && rates.len() == rounds,
        "{w}"
    );
    // A round trip between two processes takes more than 10 ns and, even on
    // a busy machine, less than a second.
    assert!(trips.iter().all(|&t| t > 1e-8 && t < 1.0), "{w}");
    let bytes = w["message_bytes"].as_f64().unwrap() * w["messages_per_round"].as_f64().unwrap();
    assert_eq!(w["message_bytes"], 1 << 20, "{w}");
    for (rate, s) in rates.iter().zip(&seconds) {
        assert!(*rate > 0.0 && *s > 0.0, "{w}");
        let moved = rate * 1e6 * s;
        assert!(
            (moved / bytes - 1.0).abs() < 1e-6,
            "{moved} vs {bytes}: {w}"
        );
    }
    let median = w["round_trip_median_s"].as_f64().unwrap();
    let (low, high) = trips
        .iter()
        .fold((f64::MAX, 0.0f64), |(l, h), &t| (l.min(t), h.max(t)));
    assert!(low <= median && median <= high, "{w}");
}

/// Five verdicts (the pipe's claim, two MPI-against-pipe, two for the
/// second host), each a result or `inconclusive` with its reason.
fn assert_verdicts(record: &Value) -> Vec<(String, String)> {
    let verdicts: Vec<(String, String)> = record["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["outcome"].as_str().unwrap().to_string(),
                v["text"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(verdicts.len(), 5, "{record}");
    assert_eq!(verdicts[0].0, "holds", "{record}");
    assert!(verdicts[0].1.contains("through a pipe"), "{record}");
    let subjects = [
        "MPI over shared memory's round trip",
        "MPI over shared memory's throughput",
        "what a second host costs, round trip",
        "what a second host costs, throughput",
    ];
    for ((outcome, text), subject) in verdicts[1..].iter().zip(subjects) {
        assert!(text.starts_with(subject), "{text}");
        match outcome.as_str() {
            // A result names its ratio.
            "holds" | "does_not_hold" => assert!(text.contains("× "), "{text}"),
            // An inconclusive verdict says why, after its subject.
            "inconclusive" => assert!(text.len() > subject.len() + 20, "{text}"),
            other => panic!("unexpected outcome {other}: {text}"),
        }
    }
    verdicts
}

#[test]
fn the_pipe_is_measured_and_every_verdict_is_a_result_or_says_why_not() {
    let record = run();
    assert_measured(&record, "pipe");
    let verdicts = assert_verdicts(&record);
    let cpus = record["evidence"]["cpus"].as_u64().unwrap();
    assert!(cpus >= 1, "{record}");
    if cfg!(not(feature = "mpi")) {
        let why = record["evidence"]["mpi_missing"].as_str().unwrap();
        assert!(
            why.contains("built without MPI") && why.contains("--features mpi"),
            "{why}"
        );
        assert!(!why.contains('\n'), "{why}");
        for (outcome, text) in &verdicts[1..] {
            assert_eq!(outcome, "inconclusive", "{text}");
            assert!(text.contains("built without MPI"), "{text}");
        }
    }
}

/// Whether `mpirun` is here; panics when PARALAB_REQUIRE_MPI=1 and it is not.
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

#[cfg(feature = "mpi")]
#[test]
fn mpi_over_shared_memory_and_tcp_are_measured_beside_the_pipe() {
    if !mpirun_here() {
        return;
    }
    let record = run();
    assert!(record["evidence"]["mpi_missing"].is_null(), "{record}");
    for name in ["pipe", "MPI, shared memory", "MPI, TCP (loopback)"] {
        assert_measured(&record, name);
    }
    assert_verdicts(&record);
    // Generous: a 1 MiB message over TCP on loopback is never more than
    // 100× faster than through shared memory, nor shared memory's 1-byte
    // round trip 100× longer than TCP's.
    let median = |name: &str, figure: &str| way(&record, name)[figure].as_f64().unwrap();
    let (shm, tcp) = ("MPI, shared memory", "MPI, TCP (loopback)");
    assert!(
        median(tcp, "throughput_median_mb_per_s")
            < 100.0 * median(shm, "throughput_median_mb_per_s"),
        "{record}"
    );
    assert!(
        median(shm, "round_trip_median_s") < 100.0 * median(tcp, "round_trip_median_s"),
        "{record}"
    );
}

#[cfg(not(feature = "mpi"))]
#[test]
fn without_the_feature_one_line_says_why_mpi_is_missing() {
    let output = common::paralab()
        .args(["lesson", "messages", "--fast"])
        .output()
        .unwrap();
    let stdout = common::stdout_of(&output);
    let lines: Vec<&str> = stdout
        .lines()
        .filter(|l| l.contains("MPI part not measured"))
        .collect();
    assert!(!lines.is_empty(), "{stdout}");
    // The note itself is one line, saying what to install and how to build.
    let stderr = String::from_utf8_lossy(&output.stderr);
    let said: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("MPI part not measured"))
        .collect();
    assert_eq!(said.len(), 1, "{stderr}");
    assert!(
        said[0].contains("apt-get install")
            && said[0].contains("openmpi-bin")
            && said[0].contains("--features mpi"),
        "{stderr}"
    );
    let _ = mpirun_here;
}
