//! The cpu workload against the notebook's Python function.
//!
//! The constants below were printed by CPython 3.11 running the notebook's
//! `cpu_func` verbatim (and its loop body alone for the single steps), e.g.
//! `python3 -c 'print(cpu_func(1, 12345678))'`. The last tests recompute
//! a few values live with the machine's python3.
//!
//! `cpu_func` is read through the public API (the result every cpu worker
//! must return); single steps at huge `i` are unit tests in
//! `src/workload/cpu.rs`.

mod common;

use std::process::Command;

use paralab::Workload;

/// The result paralab expects of a cpu worker given `niters` iterations.
fn cpu_func(niters: u64) -> u64 {
    Workload::Cpu { iters: niters }.expected_result()
}

/// The reference values of DESIGN.md.
#[test]
fn design_reference_values() {
    let cases = [
        (0, 1),
        (1, 3),
        (2, 18),
        (3, 795),
        (10, 9_349_050),
        (1000, 9_707_240),
        (100_000, 5_346_240),
    ];
    for (niters, expected) in cases {
        assert_eq!(cpu_func(niters), expected, "cpu_func(1, {niters})");
    }
}

/// `result*result*i` passes 2^64 once i > 1.8e5, `2*result*i*i` once
/// i > 1.3e6, and i itself passes the modulus at 10^7: these runs cross
/// all three points.
#[test]
fn across_the_64_bit_overflow_points() {
    let cases = [
        (4, 1_910_388),
        (5, 374_595),
        (100, 4_112_340),
        (12_345, 1_896_835),
        (1_000_000, 246_240),
        (1_400_000, 4_646_240),
        (2_000_000, 1_246_240),
        (10_000_000, 9_246_240),
        (12_345_678, 4_625_070),
    ];
    for (niters, expected) in cases {
        assert_eq!(cpu_func(niters), expected, "cpu_func(1, {niters})");
    }
}

/// Runs `script` with the machine's python3 and returns the integers it
/// printed, one per line; `None` when the test is to be skipped.
fn python_prints(script: &str) -> Option<Vec<u64>> {
    let python = common::python3()?;
    let output = Command::new(python).arg("-c").arg(script).output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    Some(
        String::from_utf8(output.stdout)
            .expect("python3 prints ASCII")
            .lines()
            .map(|line| line.parse().expect("python3 prints integers"))
            .collect(),
    )
}

/// The notebook's function, run by the machine's python3 on values chosen
/// here, so that the references are not only the ones written above.
#[test]
fn python_agrees_on_fresh_values() {
    let niters = [7_u64, 999, 65_537, 181_000, 250_001];
    let script = format!(
        "def cpu_func(result, niters):\n\
         \x20   for i in range(niters):\n\
         \x20       result = (result * result * i + 2 * result * i * i + 3) % 10000000\n\
         \x20   return result\n\
         for n in {niters:?}: print(cpu_func(1, n))\n"
    );
    let Some(python) = python_prints(&script) else {
        return;
    };
    let ours: Vec<u64> = niters.iter().map(|&n| cpu_func(n)).collect();
    assert_eq!(ours, python);
}
