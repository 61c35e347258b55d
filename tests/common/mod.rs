//! Helpers shared by the integration tests: the binary, a plan, a fake
//! program, process checks, and the one decision of what a test does when
//! a tool it needs (python3, chromium) is missing. Each test binary uses
//! some of them, hence the `dead_code` allowance.
#![allow(dead_code)]

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use paralab::{Model, Plan, Workload};

// ─── the binary ─────────────────────────────────────────────────────────

/// The `paralab` binary built for these tests, for `std::process::Command`
/// (to start it in the background) and for the library's `worker_exe`.
pub const PARALAB: &str = env!("CARGO_BIN_EXE_paralab");

/// The `paralab` binary, to run to completion.
pub fn paralab() -> assert_cmd::Command {
    assert_cmd::Command::new(PARALAB)
}

/// A small fast bench: 1000 iterations (the notebook's function gives
/// 9707240), 50 ms sleeps, 1 and 2 workers.
pub const FAST: [&str; 5] = ["1000", "--sleep", "0.05", "--workers", "1,2"];

/// Stdout of a paralab run that must have succeeded (its stderr is shown
/// if it did not).
pub fn stdout_of(output: &std::process::Output) -> String {
    assert!(
        output.status.success(),
        "{:?}: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

/// The JSON document a successful paralab run printed on stdout.
pub fn json_of(output: &std::process::Output) -> serde_json::Value {
    let stdout = stdout_of(output);
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {stdout}"))
}

/// How many lines `path` holds; 0 while it does not exist.
pub fn line_count(path: &Path) -> usize {
    std::fs::read_to_string(path).map_or(0, |t| t.lines().count())
}

// ─── a plan ─────────────────────────────────────────────────────────────

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

/// The gil model with its default switch interval, as `--models gil`
/// gives it.
pub fn gil() -> Model {
    "gil".parse().unwrap()
}

/// The notebook's `cpu_func(1, niters)`, written again from DESIGN.md so
/// that paralab's reference is checked against something it did not
/// compute: in `u128`, where no term overflows while `i` < 10^15.
pub fn notebook_cpu_func(niters: u64) -> u64 {
    let mut result: u128 = 1;
    for i in 0..u128::from(niters) {
        result = (result * result * i + 2 * result * i * i + 3) % 10_000_000;
    }
    result as u64
}

// ─── a fake program ─────────────────────────────────────────────────────

/// Writes an executable shell script `dir/name` with `body`: a stand-in
/// for a worker program or an interpreter.
///
/// The file is written by a short-lived child (`sh -c 'cat > FILE'`, fed
/// on its stdin), never by this process. `execve` fails with `ETXTBSY`
/// ("Text file busy") while any process holds the file open for writing,
/// and tests run on many threads: had this process opened the file, a
/// `fork` by another test thread in that window would give the child a
/// copy of the writable descriptor, kept until the child calls `exec`
/// (`O_CLOEXEC` acts only then), and running the script — by paralab, or
/// by the library in this process — would fail at random. Retrying on
/// `ETXTBSY` is no cure: the exec is paralab's, not the test's. Once the
/// writer has exited, no process can hold the file open for writing.
pub fn fake_program(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(name);
    // A program of that name may have run already: unlink it, rather than
    // truncate a file that might still be executing.
    let _ = std::fs::remove_file(&path);
    let mut writer = Command::new("/bin/sh")
        .args(["-c", "cat > \"$1\"", "sh"])
        .arg(&path)
        .stdin(Stdio::piped())
        .spawn()
        .expect("start /bin/sh to write a fake program");
    let mut stdin = writer.stdin.take().unwrap();
    stdin
        .write_all(format!("#!/bin/sh\n{body}\n").as_bytes())
        .unwrap();
    drop(stdin);
    let status = writer.wait().unwrap();
    assert!(status.success(), "writing {}: {status}", path.display());
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// The program `name` as the shell would find it on PATH.
pub fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| {
            candidate
                .metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

// ─── process checks ─────────────────────────────────────────────────────

/// What `/proc/PID/stat` says of a process (the fields the tests use).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stat {
    pub pid: i32,
    /// The command name, as the kernel keeps it (at most 15 bytes).
    pub comm: String,
    /// `R`, `S`, `D`, `Z` (zombie), `T`…
    pub state: char,
    pub ppid: i32,
    pub pgrp: i32,
}

impl Stat {
    /// The process `pid`, if it exists.
    pub fn of(pid: i32) -> Option<Stat> {
        Stat::parse(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
    }

    /// Parses one `/proc/PID/stat` line: `pid (comm) state ppid pgrp …`.
    /// The command name may hold spaces and parentheses (`a) b (c`), so it
    /// runs from the first `(` to the *last* `)`.
    pub fn parse(text: &str) -> Option<Stat> {
        let (open, close) = (text.find('(')?, text.rfind(')')?);
        let pid = text[..open].trim().parse().ok()?;
        let comm = text.get(open + 1..close)?.to_string();
        let mut fields = text[close + 1..].split_whitespace();
        let state = fields.next()?.chars().next()?;
        let ppid = fields.next()?.parse().ok()?;
        let pgrp = fields.next()?.parse().ok()?;
        Some(Stat {
            pid,
            comm,
            state,
            ppid,
            pgrp,
        })
    }

    /// Whether it still runs: not a zombie (a killed orphan is a zombie
    /// until the system's init reaps it).
    pub fn running(&self) -> bool {
        self.state != 'Z'
    }
}

/// Every process of the system, as far as `/proc` can be read (processes
/// come and go while it is listed).
pub fn processes() -> Vec<Stat> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(Stat::of)
        .collect()
}

/// The processes whose parent is `parent`.
pub fn children_of(parent: u32) -> Vec<i32> {
    processes()
        .into_iter()
        .filter(|p| p.ppid == parent as i32)
        .map(|p| p.pid)
        .collect()
}

/// The processes still running (not zombies) in process group `pgid`.
pub fn running_in_group(pgid: i32) -> Vec<i32> {
    processes()
        .into_iter()
        .filter(|p| p.pgrp == pgid && p.running())
        .map(|p| p.pid)
        .collect()
}

/// Whether `pid` still runs: present in /proc and not a zombie.
pub fn running(pid: i32) -> bool {
    Stat::of(pid).is_some_and(|s| s.running())
}

/// Polls `done` every 20 ms; fails the test after `limit`.
pub fn wait_until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits until `parent` has at least `count` children, and returns them.
pub fn wait_for_children(parent: u32, count: usize, limit: Duration) -> Vec<i32> {
    let mut children = Vec::new();
    wait_until(&format!("{count} children of {parent}"), limit, || {
        children = children_of(parent);
        children.len() >= count
    });
    children
}

// ─── tools a test needs: skip, or fail when required ────────────────────

/// Says on stderr, in one line, that the running test was skipped and why.
///
/// The test harness captures what `eprintln!` prints (and shows it only
/// for failing tests); a write to the stderr handle itself is not
/// captured, so the line shows in a plain `cargo test`.
pub fn skip(reason: &str) {
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("a test");
    let _ = writeln!(std::io::stderr().lock(), "skipped {test}: {reason}");
}

/// `tool` when found. Otherwise the test fails if the environment sets
/// `require` to `1` (as `.ci/run` does where it has installed the tool),
/// and is skipped with one visible line if not.
fn required<T>(tool: Option<T>, what: &str, require: &str, install: &str) -> Option<T> {
    if tool.is_some() {
        return tool;
    }
    if std::env::var(require).is_ok_and(|v| v == "1") {
        panic!(
            "{require}=1, but no {what} was found on PATH; install it ({install}) or unset {require}"
        );
    }
    skip(&format!(
        "no {what} found (set {require}=1 to make this a failure)"
    ));
    None
}

/// A `python3` of version 3.8 or newer (the oldest paralab's Python models
/// support) on PATH, as the interpreter's own path (`sys.executable`, so
/// that a wrapper such as a pyenv shim is not started again for every
/// run). `None`, after one visible line, when there is none; a failure
/// instead when `PARALAB_REQUIRE_PYTHON=1`.
pub fn python3() -> Option<PathBuf> {
    static FOUND: OnceLock<Option<PathBuf>> = OnceLock::new();
    let found = FOUND.get_or_init(|| {
        let output = Command::new(find_program("python3")?)
            .args([
                "-c",
                "import sys; assert sys.version_info >= (3, 8); print(sys.executable)",
            ])
            .stdin(Stdio::null())
            .output()
            .ok()?;
        let exe = PathBuf::from(String::from_utf8(output.stdout).ok()?.trim());
        (output.status.success() && exe.is_absolute()).then_some(exe)
    });
    required(
        found.clone(),
        "python3 (3.8 or newer)",
        "PARALAB_REQUIRE_PYTHON",
        "apt-get install python3",
    )
}

/// A headless-capable Chromium on PATH. `None`, after one visible line,
/// when there is none; a failure instead when `PARALAB_REQUIRE_CHROMIUM=1`.
pub fn chromium() -> Option<&'static str> {
    static FOUND: OnceLock<Option<&'static str>> = OnceLock::new();
    let found = FOUND.get_or_init(|| {
        ["chromium", "chromium-browser", "google-chrome"]
            .into_iter()
            .find(|name| {
                Command::new(name)
                    .arg("--version")
                    .stdin(Stdio::null())
                    .output()
                    .is_ok_and(|o| o.status.success())
            })
    });
    required(
        *found,
        "chromium",
        "PARALAB_REQUIRE_CHROMIUM",
        "apt-get install chromium",
    )
}
