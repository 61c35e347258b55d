//! Helpers shared by the integration tests. Each test binary uses some of
//! them, hence the `dead_code` allowance.
#![allow(dead_code)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use paralab::{Model, Plan, Workload};

/// The `paralab` binary built for these tests.
pub fn paralab() -> assert_cmd::Command {
    assert_cmd::Command::cargo_bin("paralab").unwrap()
}

/// One timed run of each (workload, model, workers), no warm-up.
pub fn plan(workloads: Vec<Workload>, models: &[Model], workers: Vec<usize>) -> Plan {
    Plan {
        workloads,
        models: models.to_vec(),
        workers,
        runs: 1,
        warmup: 0,
    }
}

/// Writes an executable shell script `dir/name` with `body`: a stand-in
/// for a worker program or an interpreter.
pub fn fake_program(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// Stdout of a paralab run that must have succeeded (its stderr is shown
/// if it did not).
pub fn stdout_of(output: &std::process::Output) -> String {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}
