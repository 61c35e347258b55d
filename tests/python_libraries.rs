//! CPython's libraries for parallelism from the command line: the
//! concurrent.futures pools, the forkserver start method and PEP 734's
//! subinterpreters return the reference result in every worker, with a
//! start-up kept apart from the wall time; a missing library is one line
//! naming the pip package, never an install.
//!
//! The pools and forkserver run on the python3 `common::python3` finds.
//! py-interp needs a CPython 3.14, or a 3.13 with `interpreters-pep-734`:
//! the test takes the one PARALAB_TEST_SUBINTERPRETER_PYTHON names, and
//! is skipped with one line without it, or fails when
//! PARALAB_REQUIRE_SUBINTERPRETERS=1.

mod common;

use std::path::PathBuf;

use common::paralab;
use paralab::Workload;

const ITERS: u64 = 20_000;

/// Runs `models` on `python` (cpu and 50 ms sleeps, 1 and 2 workers) and
/// checks every Python worker's result against the reference and its
/// times; returns the JSON document and stderr.
fn run_checked(python: &std::path::Path, models: &str) -> (serde_json::Value, String) {
    let output = paralab()
        .args([&ITERS.to_string(), "--sleep", "0.05", "--workers", "1,2"])
        .args(["--models", models, "--format", "json", "--runs", "1"])
        .arg("--python-exe")
        .arg(python)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert!(output.status.success(), "{stderr}");
    let doc = common::json_of(&output);
    let expected = Workload::Cpu { iters: ITERS }.expected_result();
    let mut seen = std::collections::BTreeSet::new();
    for m in doc["measurements"].as_array().unwrap() {
        let name = m["model"].as_str().unwrap().to_string();
        let reference = if m["workload"]["kind"] == "cpu" {
            expected
        } else {
            50_000_000
        };
        let outcomes = m["outcomes"].as_array().unwrap();
        assert_eq!(outcomes.len() as u64, m["workers"].as_u64().unwrap(), "{m}");
        for o in outcomes {
            assert_eq!(o["status"], "finished", "{m}");
            assert_eq!(o["result"], reference, "{m}");
            let (start, end) = (o["start_s"].as_f64().unwrap(), o["end_s"].as_f64().unwrap());
            assert!(0.0 <= start && start <= end, "{m}");
            assert!(end <= m["wall_s"].as_f64().unwrap() + 1e-3, "{m}");
        }
        // Every one of these has a start-up, kept apart from the wall time.
        let launch = m["launch_s"].as_f64().unwrap_or_else(|| panic!("{m}"));
        assert!(launch >= 0.0, "{m}");
        seen.insert(name);
    }
    (doc, stderr)
}

#[test]
fn pools_and_forkserver_return_the_reference_with_their_start_up_apart() {
    let Some(python) = common::python3() else {
        return;
    };
    let models = "py-pool:thread,py-pool:process,py-process:forkserver";
    let (doc, stderr) = run_checked(&python, models);
    let names: std::collections::BTreeSet<_> = doc["measurements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["model"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names.len(), 3, "{names:?}");
    for model in models.split(',') {
        assert!(
            stderr.contains(&format!("paralab: {model}: start-up (")),
            "no start-up line for {model}: {stderr}"
        );
    }
}

/// A CPython that has PEP 734's subinterpreters, from
/// PARALAB_TEST_SUBINTERPRETER_PYTHON.
fn subinterpreter_python() -> Option<PathBuf> {
    let named = std::env::var_os("PARALAB_TEST_SUBINTERPRETER_PYTHON").map(PathBuf::from);
    if named.is_none() {
        if std::env::var("PARALAB_REQUIRE_SUBINTERPRETERS").is_ok_and(|v| v == "1") {
            panic!(
                "PARALAB_REQUIRE_SUBINTERPRETERS=1 but PARALAB_TEST_SUBINTERPRETER_PYTHON names no interpreter"
            );
        }
        common::skip(
            "no CPython with subinterpreters: set PARALAB_TEST_SUBINTERPRETER_PYTHON to a 3.14, or a 3.13 with `python3.13 -m pip install interpreters-pep-734`",
        );
    }
    named
}

#[test]
fn subinterpreters_return_the_reference_with_their_start_up_apart() {
    let Some(python) = subinterpreter_python() else {
        return;
    };
    let (_, stderr) = run_checked(&python, "py-interp");
    assert!(
        stderr.contains("paralab: py-interp: start-up (creating 2 subinterpreters"),
        "{stderr}"
    );
}

/// An interpreter without subinterpreters: py-interp alone says what to
/// install and fails; beside other models it is skipped and they go on.
#[test]
fn a_missing_subinterpreter_library_is_one_line_naming_it() {
    let Some(python) = common::python3() else {
        return;
    };
    let has = std::process::Command::new(&python)
        .args(["-c", "import importlib.util as u, sys; sys.exit(0 if u.find_spec('concurrent.interpreters') or u.find_spec('interpreters_backport') else 1)"])
        .status()
        .unwrap();
    if has.success() {
        common::skip("python3 has subinterpreters, so none can be found missing");
        return;
    }
    let output = paralab()
        .args(["2000", "--workloads", "cpu", "--workers", "1"])
        .args(["--models", "thread,py-interp", "--format", "json"])
        .arg("--python-exe")
        .arg(&python)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("py-interp needs") && stderr.contains("interpreters-pep-734"),
        "{stderr}"
    );
    assert!(!stderr.contains("Traceback"), "{stderr}");
    let lines = stderr
        .lines()
        .filter(|l| l.contains("py-interp needs"))
        .count();
    assert_eq!(lines, 1, "{stderr}");
    // Its exit code is the command line's (src/cli/bench.rs); the other
    // model's results are kept whatever it is.
    let doc: serde_json::Value = serde_json::from_slice(&output.stdout).expect("a JSON report");
    let models: Vec<_> = doc["measurements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["model"].as_str().unwrap().to_string())
        .collect();
    assert!(models.contains(&"thread".to_string()), "{models:?}");
    assert!(!models.contains(&"py-interp".to_string()), "{models:?}");
}
