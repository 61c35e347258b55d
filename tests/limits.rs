//! OS limits applied to the real binary as an unprivileged user
//! (`runuser -u nobody`, `prlimit`): each run ends with a line naming the
//! limit and its value and exit 1, never a panic, an abort or a signal,
//! and leaves no process behind. Skipped, with one printed line, when not
//! root or when runuser or prlimit is missing.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// A copy of paralab that user `nobody` can run, in a directory of its
/// own, which `nobody` may also write to. One sandbox at a time: the
/// process limit counts every process of `nobody`, so a test's runs
/// beside another's would see slots come and go.
struct Sandbox {
    dir: tempfile::TempDir,
    _alone: std::sync::MutexGuard<'static, ()>,
}

static ONE_SANDBOX_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

impl Sandbox {
    /// `None` (after printing why) when these tests cannot run here.
    fn new(test: &str) -> Option<Sandbox> {
        let missing = ["runuser", "prlimit", "timeout"]
            .into_iter()
            .find(|tool| !on_path(tool));
        if !nix::unistd::getuid().is_root() || missing.is_some() {
            println!(
                "skipped {test}: needs root and runuser, prlimit, timeout (missing: {})",
                missing.unwrap_or("root")
            );
            return None;
        }
        let alone = ONE_SANDBOX_AT_A_TIME
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let dir = tempfile::tempdir().unwrap();
        let binary = dir.path().join("paralab");
        std::fs::copy(env!("CARGO_BIN_EXE_paralab"), &binary).unwrap();
        std::fs::set_permissions(&binary, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
        Some(Sandbox { dir, _alone: alone })
    }

    fn binary(&self) -> PathBuf {
        self.dir.path().join("paralab")
    }

    /// Runs paralab as `nobody` under `limits` (prlimit options), bounded
    /// by `timeout` so a hang fails the test instead of blocking it.
    fn run_as_nobody(&self, limits: &[&str], args: &[&OsStr]) -> Output {
        let output = Command::new("timeout")
            .arg("60")
            .args(["runuser", "-u", "nobody", "--", "prlimit"])
            .args(limits)
            .arg(self.binary())
            .args(args)
            .current_dir(self.dir.path())
            .env("RUST_BACKTRACE", "0")
            .output()
            .unwrap();
        self.assert_no_process_left();
        output
    }

    /// No process runs the copy of paralab any more: every child was reaped.
    fn assert_no_process_left(&self) {
        let binary = self.binary();
        let left: Vec<u32> = std::fs::read_dir("/proc")
            .unwrap()
            .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse().ok())
            .filter(|pid: &u32| {
                std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|exe| exe == binary)
            })
            .collect();
        assert!(left.is_empty(), "processes left running: {left:?}");
    }
}

fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(tool).is_file()))
}

fn args(words: &[&str]) -> Vec<&'static OsStr> {
    words
        .iter()
        .map(|word| OsStr::new(Box::leak(word.to_string().into_boxed_str())))
        .collect()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Neither a panic nor an abort nor a signal ended paralab.
fn assert_no_crash(output: &Output, case: &str) {
    let text = stderr(output);
    for sign in [
        "panicked",
        "fatal runtime error",
        "stack backtrace",
        "overflowed its stack",
        "RUST_BACKTRACE",
    ] {
        assert!(!text.contains(sign), "{case}: '{sign}' in\n{text}");
    }
    assert!(
        output.status.code().is_some_and(|code| code < 100),
        "{case}: ended by {:?}\n{text}",
        output.status
    );
}

/// Exit 1, and a line of stderr names `limit`.
fn assert_named(output: &Output, limit: &str, case: &str) {
    assert_no_crash(output, case);
    let text = stderr(output);
    assert_eq!(output.status.code(), Some(1), "{case}:\n{text}");
    assert!(
        text.lines().any(|line| line.contains(limit)),
        "{case}: no line names '{limit}':\n{text}"
    );
}

const SHORT_SLEEPS: [&str; 10] = [
    "--workers",
    "1,2",
    "--runs",
    "1",
    "--warmup",
    "0",
    "--workloads",
    "sleep",
    "--sleep",
    "0.02",
];

#[test]
fn a_tiny_ulimit_u_is_named_under_every_model() {
    let Some(sandbox) = Sandbox::new("a_tiny_ulimit_u_is_named_under_every_model") else {
        return;
    };
    for model in [
        "thread",
        "pool",
        "async",
        "gil",
        "process:fork",
        "process:spawn",
    ] {
        // Two workers need more tasks than 4 (paralab, its signal and
        // memory threads, the workers), so each of these runs is refused.
        for nproc in 1..=4 {
            let mut words = SHORT_SLEEPS.to_vec();
            words.extend(["--models", model]);
            let output = sandbox.run_as_nobody(&[&format!("--nproc={nproc}")], &args(&words));
            assert_named(
                &output,
                &format!("RLIMIT_NPROC (ulimit -u) = {nproc}"),
                &format!("{model} under ulimit -u {nproc}"),
            );
        }
    }
}

#[test]
fn more_threads_than_the_maps_or_pids_allow_are_refused_before_any_starts() {
    let Some(sandbox) = Sandbox::new("more_threads_than_the_maps_or_pids_allow") else {
        return;
    };
    let read = |path: &str| -> u64 {
        std::fs::read_to_string(path)
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    };
    let workers: u64 = 40_000;
    if read("/proc/sys/vm/max_map_count") > 4 * workers
        && read("/proc/sys/kernel/pid_max") > 2 * workers
    {
        println!("skipped: this machine could start {workers} threads; not trying it");
        return;
    }
    let started = Instant::now();
    let output = Command::new("timeout")
        .arg("60")
        .arg(sandbox.binary())
        .args([
            "--models",
            "thread",
            "--workloads",
            "sleep",
            "--sleep",
            "0.2",
        ])
        .args([
            "--workers",
            &format!("2,{workers}"),
            "--runs",
            "1",
            "--warmup",
            "0",
        ])
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap();
    sandbox.assert_no_process_left();
    assert_named(&output, "limit hit: ", "40,000 threads");
    let text = stderr(&output);
    assert!(
        text.contains(&format!("more threads can start, not {workers}")),
        "{text}"
    );
    assert!(
        [
            "vm.max_map_count = ",
            "kernel.pid_max = ",
            "kernel.threads-max = "
        ]
        .iter()
        .any(|limit| text.contains(limit)),
        "{text}"
    );
    // The 2-worker cell finished and was kept.
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout
            .lines()
            .any(|line| line.trim_start().starts_with("2 │")),
        "{stdout}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_ulimit_v_too_small_for_the_threads_is_named() {
    let Some(sandbox) = Sandbox::new("a_ulimit_v_too_small_for_the_threads_is_named") else {
        return;
    };
    // 16 threads reserve 16 × 2 MiB of stack: more than 40 MiB leaves.
    let mut words = SHORT_SLEEPS.to_vec();
    words[1] = "1,16";
    for model in ["thread", "gil"] {
        let mut words = words.clone();
        words.extend(["--models", model]);
        let output = sandbox.run_as_nobody(&["--as=41943040"], &args(&words));
        assert_named(
            &output,
            "RLIMIT_AS (ulimit -v) = 40960 KiB",
            &format!("{model} under ulimit -v 40960"),
        );
    }
}

#[test]
fn a_small_ulimit_s_does_not_overflow_paralabs_stack() {
    let Some(sandbox) = Sandbox::new("a_small_ulimit_s_does_not_overflow_paralabs_stack") else {
        return;
    };
    let mut words = SHORT_SLEEPS.to_vec();
    words.extend(["--models", "thread,process:spawn,async,pool,gil"]);
    let output = sandbox.run_as_nobody(&["--stack=131072"], &args(&words));
    assert_no_crash(&output, "ulimit -s 128");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
}

#[test]
fn a_save_file_past_ulimit_f_names_rlimit_fsize() {
    let Some(sandbox) = Sandbox::new("a_save_file_past_ulimit_f_names_rlimit_fsize") else {
        return;
    };
    let save = sandbox.dir.path().join("s.jsonl");
    let mut words = SHORT_SLEEPS.to_vec();
    words.extend(["--models", "thread", "--save", save.to_str().unwrap()]);
    let output = sandbox.run_as_nobody(&["--fsize=1024"], &args(&words));
    // Not SIGXFSZ (exit 153 from a shell, a signal here).
    assert_named(
        &output,
        "RLIMIT_FSIZE (ulimit -f) = 1024 bytes",
        "ulimit -f 1",
    );
}

#[test]
fn non_utf8_arguments_get_one_line_or_work() {
    let Some(sandbox) = Sandbox::new("non_utf8_arguments_get_one_line_or_work") else {
        return;
    };
    let bad = OsStr::from_bytes(b"\xff");
    for words in [vec![bad], vec![OsStr::new("--workers"), bad]] {
        let output = sandbox.run_as_nobody(&[], &words);
        assert_no_crash(&output, "a non-UTF-8 argument");
        assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
        assert_eq!(stderr(&output).lines().count(), 1, "{}", stderr(&output));
    }
    // A path is bytes: a save file with a non-UTF-8 name is written.
    let save = sandbox.dir.path().join(OsStr::from_bytes(b"\xff.jsonl"));
    let mut words = args(&SHORT_SLEEPS);
    words.extend(args(&["--models", "thread", "--save"]));
    words.push(Box::leak(save.clone().into_os_string().into_boxed_os_str()));
    let output = sandbox.run_as_nobody(&[], &words);
    assert_no_crash(&output, "a non-UTF-8 --save path");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(Path::new(&save).is_file());
}
