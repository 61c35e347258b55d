//! Many workers at once, and what happens when the OS refuses one more.

mod common;

use std::process::Command;
use std::time::Duration;

use common::{PARALAB, plan};
use paralab::{Experiment, Model, StartMethod, Workload};

#[test]
fn thousands_of_threads_and_tasks_sleep_at_once() {
    let sleep = Duration::from_millis(300);
    for (model, workers) in [
        (Model::THREAD, 2_000),
        (Model::ASYNC, 20_000),
        (Model::process(StartMethod::Fork), 200),
    ] {
        let plan = plan(
            vec![Workload::Sleep { duration: sleep }],
            &[model],
            vec![workers],
        );
        let results = Experiment::new(plan).run();
        assert!(results.failure.is_none(), "{model}: {:?}", results.failure);
        let m = &results.measurements[0];
        assert_eq!(m.results().len(), workers);
        // Overlapping sleeps: far less than even two sleeps one after another.
        assert!(
            m.wall_s < 6.0 * sleep.as_secs_f64(),
            "{model}: {workers} took {} s",
            m.wall_s
        );
        let memory = m.memory.expect("a 0.3 s run is sampled");
        assert!(memory.peak_kib >= memory.before_kib, "{model}: {memory:?}");
    }
}

/// `prlimit` and `setpriv` (util-linux) run paralab as `nobody` with a
/// process limit of 40; root is exempt from RLIMIT_NPROC, so the test
/// needs root to switch users, and says so when it cannot.
#[test]
fn a_process_limit_hit_on_purpose_gives_one_clear_line() {
    let root = nix::unistd::Uid::effective().is_root();
    let tools = ["prlimit", "setpriv"]
        .iter()
        .all(|t| common::find_program(t).is_some());
    if !root || !tools {
        common::skip("needs root, and util-linux's prlimit and setpriv, to run as nobody");
        return;
    }
    for model in ["thread", "process:fork", "gil"] {
        let output = Command::new("prlimit")
            .args([
                "--nproc=40:40",
                "setpriv",
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                "--",
            ])
            .arg(PARALAB)
            .args([
                "bench",
                "--workloads",
                "sleep",
                "--sleep",
                "0.05",
                "--workers",
                "1,100",
            ])
            .args(["--models", model, "--format", "notebook"])
            .output()
            .unwrap();
        let stdout = String::from_utf8(output.stdout).unwrap();
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert_eq!(output.status.code(), Some(1), "{model}: {stderr}");
        // The run at one worker is kept; the one at 100 is not half-printed.
        assert_eq!(stdout.lines().count(), 2, "{model}: {stdout}");
        // Refused by the OS, or foreseen and refused before any started.
        let refusal: Vec<&str> = stderr.lines().filter(|l| l.contains("limit hit")).collect();
        assert_eq!(refusal.len(), 1, "{model}: {stderr}");
        assert!(
            refusal[0].contains("limit hit: RLIMIT_NPROC (ulimit -u) = 40"),
            "{model}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{model}: {stderr}");
    }
}
