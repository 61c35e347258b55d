//! The lessons under a tiny `ulimit -u`, as an unprivileged user
//! (`runuser -u nobody`, `prlimit --nproc`): a thread or process the OS
//! refuses ends the lesson with one line naming RLIMIT_NPROC and its
//! value, exit 1 — never a panic, never a hang (threads waiting at a
//! start for one that was refused), and no process left behind. Skipped,
//! with one printed line, when not root or when runuser or prlimit is
//! missing.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Longer than any fast lesson takes on a busy machine; beyond it the run
/// is taken for a hang, killed, and the test fails.
const HANG: Duration = Duration::from_secs(30);

/// Held by the test running a lesson as nobody.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// A copy of paralab that user `nobody` can run, in a directory of its own.
struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    /// `None` (after printing why) when these tests cannot run here.
    fn new(test: &str) -> Option<Sandbox> {
        let missing = ["runuser", "prlimit"]
            .into_iter()
            .find(|tool| !on_path(tool));
        if !nix::unistd::getuid().is_root() || missing.is_some() {
            println!(
                "skipped {test}: needs root and runuser, prlimit (missing: {})",
                missing.unwrap_or("root")
            );
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let binary = dir.path().join("paralab");
        std::fs::copy(env!("CARGO_BIN_EXE_paralab"), &binary).unwrap();
        std::fs::set_permissions(&binary, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        Some(Sandbox { dir })
    }

    fn binary(&self) -> PathBuf {
        self.dir.path().join("paralab")
    }

    /// Runs `paralab lesson NAME --fast` as `nobody` with RLIMIT_NPROC =
    /// `nproc`; `None` if it was still running after [`HANG`] (then it
    /// and everything running this copy of paralab were killed).
    fn lesson(&self, name: &str, nproc: u32) -> Option<Output> {
        let mut child = Command::new("runuser")
            .args(["-u", "nobody", "--", "prlimit"])
            .arg(format!("--nproc={nproc}"))
            .arg(self.binary())
            .args(["lesson", name, "--fast"])
            .current_dir(self.dir.path())
            .env("RUST_BACKTRACE", "0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Its own group, which a hang is killed with.
            .process_group(0)
            .spawn()
            .unwrap();
        let started = Instant::now();
        while child.try_wait().unwrap().is_none() {
            if started.elapsed() > HANG {
                let group = nix::unistd::Pid::from_raw(child.id() as i32);
                let _ = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGKILL);
                for pid in self.running() {
                    let _ = nix::sys::signal::kill(
                        nix::unistd::Pid::from_raw(pid as i32),
                        nix::sys::signal::Signal::SIGKILL,
                    );
                }
                let _ = child.wait();
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(child.wait_with_output().unwrap())
    }

    /// The processes running this copy of paralab (and no other program).
    fn running(&self) -> Vec<u32> {
        let binary = self.binary();
        std::fs::read_dir("/proc")
            .unwrap()
            .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse().ok())
            .filter(|pid: &u32| {
                std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|exe| exe == binary)
            })
            .collect()
    }
}

fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|dir| Path::new(&dir).join(tool).is_file())
    })
}

/// Runs lesson `name` under each RLIMIT_NPROC of `nprocs` (each too small
/// for the lesson's threads and processes, whatever else user nobody
/// runs) and checks how it ended.
fn refused_and_named(test: &str, name: &str, nprocs: &[u32]) {
    let Some(sandbox) = Sandbox::new(test) else {
        return;
    };
    // RLIMIT_NPROC counts every process of user nobody: one lesson at a
    // time, so that each refusal comes where this lesson's own count puts it.
    let _alone = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    for &nproc in nprocs {
        let case = format!("lesson {name} under nproc {nproc}");
        let Some(output) = sandbox.lesson(name, nproc) else {
            panic!("{case}: still running after {HANG:?}, killed");
        };
        let text = String::from_utf8_lossy(&output.stderr);
        for sign in ["panicked", "RUST_BACKTRACE", "fatal runtime error"] {
            assert!(!text.contains(sign), "{case}: '{sign}' in\n{text}");
        }
        assert_eq!(output.status.code(), Some(1), "{case}:\n{text}");
        let failed: Vec<&str> = text
            .lines()
            .filter(|line| line.contains(&format!("lesson {name} could not run: ")))
            .collect();
        assert_eq!(
            failed.len(),
            1,
            "{case}: one line per failing lesson:\n{text}"
        );
        let named = format!("RLIMIT_NPROC (ulimit -u) = {nproc}");
        assert!(
            failed[0].contains(&named),
            "{case}: '{named}' not in\n{}",
            failed[0]
        );
        let left = sandbox.running();
        assert!(left.is_empty(), "{case}: processes left running: {left:?}");
    }
}

#[test]
fn race_under_a_tiny_ulimit_u_names_it() {
    // Before: a panic at nproc 1, a hang at 3 and 5 (threads waiting at a
    // Barrier for a thread the OS had refused).
    refused_and_named("race_under_a_tiny_ulimit_u_names_it", "race", &[1, 2, 3, 4]);
}

#[test]
fn interleave_under_a_tiny_ulimit_u_names_it() {
    // nproc 4 and 5: a letter thread is refused (3 processes started).
    refused_and_named(
        "interleave_under_a_tiny_ulimit_u_names_it",
        "interleave",
        &[1, 3, 4, 5],
    );
}

#[test]
fn memory_under_a_tiny_ulimit_u_names_it() {
    // nproc 3: the thread that runs the workers in the measuring child
    // used to panic there, and its panic reached the user.
    refused_and_named(
        "memory_under_a_tiny_ulimit_u_names_it",
        "memory",
        &[1, 3, 5, 8],
    );
}
