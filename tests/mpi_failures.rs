//! The `mpi` model when things go wrong: a rank killed in the middle of a
//! run, paralab stopped (Ctrl-C, SIGTERM, `--timeout`, `kill -9`), and a
//! job `mpirun` cannot launch. Processes are found as paralab's
//! descendants (the parent chain in /proc), never by name, and known by
//! their start time as well as their pid, which the system may reuse.
//! Skipped (one line) without `mpirun` on the PATH, unless
//! `PARALAB_REQUIRE_MPI=1` says this machine must have it.
#![cfg(feature = "mpi")]

mod common;

use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use paralab::Workload;

/// Whether the tests can run here; panics when they must and cannot.
fn mpirun_here() -> bool {
    let found = Command::new("mpirun").arg("--version").output().is_ok();
    if !found {
        assert!(
            std::env::var_os("PARALAB_REQUIRE_MPI").is_none_or(|v| v != "1"),
            "PARALAB_REQUIRE_MPI=1 but there is no mpirun on the PATH (apt-get install openmpi-bin)"
        );
        common::skip("no mpirun on the PATH (apt-get install openmpi-bin)");
    }
    found
}

/// One process, known by its pid and its start time (clock ticks after
/// boot), so that a reused pid is not taken for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Proc {
    pid: i32,
    started: u64,
}

/// The fields of `/proc/PID/stat` after the command name: `[0]` is the
/// state, `[1]` the parent, `[11]`/`[12]` user/system ticks, `[19]` the
/// start time.
fn stat_fields(pid: i32) -> Option<Vec<String>> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = &text[text.rfind(')')? + 1..];
    Some(after.split_whitespace().map(str::to_string).collect())
}

impl Proc {
    fn of(pid: i32) -> Option<Proc> {
        let started = stat_fields(pid)?.get(19)?.parse().ok()?;
        Some(Proc { pid, started })
    }

    /// Still there, the same process, and not a zombie.
    fn alive(&self) -> bool {
        stat_fields(self.pid).is_some_and(|f| {
            f.get(19).and_then(|s| s.parse().ok()) == Some(self.started) && f[0] != "Z"
        })
    }

    /// Its CPU time (user and system, every thread), in clock ticks.
    fn cpu_ticks(&self) -> u64 {
        stat_fields(self.pid)
            .map(|f| f[11..13].iter().filter_map(|t| t.parse::<u64>().ok()).sum())
            .unwrap_or(0)
    }

    /// Whether its main thread is in a sleep of a second or more: its
    /// workload, not one of MPI's short naps while it waits (`MPI_Init`
    /// sleeps 100 µs at a time). Read from the system call it is in and
    /// the duration it asked for, in its memory (x86-64 and AArch64).
    fn in_long_sleep(&self) -> bool {
        use std::os::unix::fs::FileExt;
        let Ok(call) = std::fs::read_to_string(format!("/proc/{}/syscall", self.pid)) else {
            return false;
        };
        let words: Vec<&str> = call.split_whitespace().collect();
        // The argument that points at the asked duration (a timespec).
        let at = match (std::env::consts::ARCH, words.first().copied()) {
            ("x86_64", Some("230")) | ("aarch64", Some("115")) => 3, // clock_nanosleep
            ("x86_64", Some("35")) | ("aarch64", Some("101")) => 1,  // nanosleep
            _ => return false,
        };
        let Some(address) = words
            .get(at)
            .and_then(|w| u64::from_str_radix(w.trim_start_matches("0x"), 16).ok())
        else {
            return false;
        };
        let mut seconds = [0u8; 8];
        std::fs::File::open(format!("/proc/{}/mem", self.pid))
            .and_then(|mem| mem.read_exact_at(&mut seconds, address))
            .is_ok_and(|()| i64::from_ne_bytes(seconds) >= 1)
    }

    /// Its rank in the MPI job, from the environment `mpirun` gave it.
    fn rank(&self) -> Option<usize> {
        let environ = std::fs::read(format!("/proc/{}/environ", self.pid)).ok()?;
        environ
            .split(|&b| b == 0)
            .filter_map(|var| std::str::from_utf8(var).ok())
            .find_map(|var| var.strip_prefix("OMPI_COMM_WORLD_RANK="))
            .and_then(|rank| rank.parse().ok())
    }
}

/// Every descendant of `root`, found through the parent of each process.
fn descendants(root: i32) -> Vec<Proc> {
    let all = common::processes();
    let mut found = vec![root];
    let mut next = 0;
    while next < found.len() {
        let parent = found[next];
        found.extend(all.iter().filter(|p| p.ppid == parent).map(|p| p.pid));
        next += 1;
    }
    found[1..].iter().filter_map(|&pid| Proc::of(pid)).collect()
}

/// paralab started with `args`, its output piped (read when it ends).
fn paralab(args: &[&str]) -> Child {
    Command::new(common::PARALAB)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits until `paralab` has `ranks` MPI ranks among its descendants (each
/// knows its rank from its environment); returns them in rank order.
fn ranks_of(paralab: &Child, ranks: usize) -> Vec<Proc> {
    let mut found = Vec::new();
    common::wait_until(
        &format!("{ranks} MPI ranks"),
        Duration::from_secs(30),
        || {
            let mut all: Vec<(usize, Proc)> = descendants(paralab.id() as i32)
                .into_iter()
                .filter_map(|p| Some((p.rank()?, p)))
                .collect();
            all.sort_by_key(|(rank, _)| *rank);
            found = all.into_iter().map(|(_, p)| p).collect();
            found.len() == ranks
        },
    );
    found
}

fn signal(proc: Proc, signal: nix::sys::signal::Signal) {
    assert!(proc.alive(), "{proc:?} is gone already");
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(proc.pid), signal).unwrap();
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap()
        .trim()
        .to_string()
}

#[test]
fn a_killed_rank_is_named_with_its_host_and_signal_and_the_others_are_kept() {
    if !mpirun_here() {
        return;
    }
    let child = paralab(&[
        "bench",
        "--models",
        "mpi",
        "--workloads",
        "sleep",
        "--sleep",
        "3",
        "--workers",
        "3",
        "--runs",
        "1",
        "--format",
        "json",
    ]);
    let ranks = ranks_of(&child, 3);
    // Every rank past MPI_Init and the first barrier, in its sleep.
    let all_sleeping = || ranks.iter().all(Proc::in_long_sleep);
    common::wait_until("every rank in its sleep", Duration::from_secs(30), || {
        (0..3).all(|_| {
            std::thread::sleep(Duration::from_millis(50));
            all_sleeping()
        })
    });
    // Rank 1 is held in its sleep while the others finish theirs (and
    // print their reports), then killed. Past their sleep, the others wait
    // in the second barrier, where MPI spins: their CPU time grows, which
    // asleep it did not.
    signal(ranks[1], nix::sys::signal::Signal::SIGSTOP);
    let others = [ranks[0], ranks[2]];
    common::wait_until(
        "ranks 0 and 2 past their sleep",
        Duration::from_secs(30),
        || {
            let before: Vec<u64> = others.iter().map(Proc::cpu_ticks).collect();
            std::thread::sleep(Duration::from_millis(300));
            others
                .iter()
                .zip(before)
                .all(|(r, before)| r.alive() && !r.in_long_sleep() && r.cpu_ticks() >= before + 2)
        },
    );
    std::thread::sleep(Duration::from_millis(300));
    signal(ranks[1], nix::sys::signal::Signal::SIGKILL);
    let output = child.wait_with_output().unwrap();
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");

    let doc: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let measurements = doc["measurements"].as_array().unwrap();
    assert_eq!(measurements.len(), 1, "the failed run is kept: {doc}");
    let outcomes = measurements[0]["outcomes"].as_array().unwrap();
    assert_eq!(outcomes.len(), 3, "{doc}");
    assert_eq!(outcomes[1]["status"], "killed", "{doc}");
    assert_eq!(outcomes[1]["signal"], "SIGKILL", "{doc}");
    assert_eq!(outcomes[1]["host"], hostname().as_str(), "{doc}");
    let expected = Workload::Sleep {
        duration: Duration::from_secs(3),
    }
    .expected_result();
    for kept in [&outcomes[0], &outcomes[2]] {
        assert_eq!(kept["status"], "finished", "{doc}");
        assert_eq!(kept["result"], expected, "{doc}");
        assert_eq!(kept["host"], hostname().as_str(), "{doc}");
        let (start, end) = (kept["start_s"].as_f64(), kept["end_s"].as_f64());
        let slept = end.unwrap() - start.unwrap();
        assert!((2.9..30.0).contains(&slept), "{slept} s: {kept}");
        assert!(kept["cpu_s"].as_f64().is_some(), "{kept}");
    }
    // The host is mpirun's word for it; one line says it all.
    let said: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("rank 1 on host"))
        .collect();
    assert_eq!(said.len(), 1, "{stderr}");
    assert!(
        said[0].contains(&format!("rank 1 on host {}", hostname())) && said[0].contains("SIGKILL"),
        "{stderr}"
    );
    assert!(said[0].contains("ranks 0, 2"), "{stderr}");
    // No wall of mpirun's text.
    assert!(!stderr.contains("-----"), "{stderr}");
    // And every process of the job is gone.
    for proc in &ranks {
        common::wait_until("the job's end", Duration::from_secs(10), || !proc.alive());
    }
}

#[test]
fn ranks_still_working_when_another_dies_are_lost_and_said_so() {
    if !mpirun_here() {
        return;
    }
    // Open MPI kills the other ranks about a second after a death
    // (odls_base_sigkill_timeout): ranks 30 s from the end of their sleep
    // cannot finish it.
    let child = paralab(&[
        "bench",
        "--models",
        "mpi",
        "--workloads",
        "sleep",
        "--sleep",
        "30",
        "--workers",
        "2",
        "--runs",
        "1",
        "--format",
        "json",
    ]);
    let ranks = ranks_of(&child, 2);
    common::wait_until("both ranks in their sleep", Duration::from_secs(30), || {
        ranks.iter().all(Proc::in_long_sleep)
    });
    let killed = Instant::now();
    signal(ranks[1], nix::sys::signal::Signal::SIGKILL);
    let output = child.wait_with_output().unwrap();
    assert!(
        killed.elapsed() < Duration::from_secs(20),
        "{:?}",
        killed.elapsed()
    );
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let doc: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let outcomes = doc["measurements"][0]["outcomes"].as_array().unwrap();
    assert_eq!(outcomes[1]["signal"], "SIGKILL", "{doc}");
    assert_eq!(outcomes[0]["status"], "lost", "{doc}");
    let reason = outcomes[0]["reason"].as_str().unwrap();
    assert!(
        reason.contains(&format!(
            "rank 1 on host {} was killed by SIGKILL",
            hostname()
        )),
        "{reason}"
    );
    assert!(
        stderr.contains("no other rank had finished its workload"),
        "{stderr}"
    );
}

#[test]
fn a_failed_run_is_no_speedup_in_the_table() {
    if !mpirun_here() {
        return;
    }
    // One good run with 1 worker, then one where a rank is killed.
    let child = paralab(&[
        "bench",
        "--models",
        "mpi",
        "--workloads",
        "sleep",
        "--sleep",
        "3",
        "--workers",
        "1,2",
        "--runs",
        "1",
        "--keep-going",
    ]);
    let first = ranks_of(&child, 1);
    common::wait_until("the first run's end", Duration::from_secs(60), || {
        !first[0].alive()
    });
    let ranks = ranks_of(&child, 2);
    common::wait_until("both ranks in their sleep", Duration::from_secs(30), || {
        ranks.iter().all(Proc::in_long_sleep)
    });
    signal(ranks[0], nix::sys::signal::Signal::SIGKILL);
    let output = child.wait_with_output().unwrap();
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let row = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("2 "))
        .unwrap_or_else(|| panic!("no row for 2 workers: {stdout}"));
    assert!(row.contains("failed"), "{row}");
    assert!(!row.contains('%') && !row.contains('×'), "{row}");
    assert!(stderr.contains("rank 0 on host"), "{stderr}");
}

/// Runs a 30-second sleep on 2 ranks, notes every descendant of paralab
/// once both ranks run, applies `stop` to paralab, and checks that every
/// one of them is gone within a few seconds; returns paralab's output.
fn nothing_outlives(extra: &[&str], stop: impl FnOnce(&Child)) -> Output {
    nothing_outlives_the_job(extra, |_, _| {}, stop)
}

/// [`nothing_outlives`], with a look at the job (paralab, its ranks)
/// before the stop.
fn nothing_outlives_the_job(
    extra: &[&str],
    look: impl FnOnce(&Child, &[Proc]),
    stop: impl FnOnce(&Child),
) -> Output {
    let mut args = vec![
        "bench",
        "--models",
        "mpi",
        "--workloads",
        "sleep",
        "--sleep",
        "30",
        "--workers",
        "2",
        "--runs",
        "1",
    ];
    args.extend_from_slice(extra);
    let child = paralab(&args);
    let ranks = ranks_of(&child, 2);
    let job = descendants(child.id() as i32);
    assert!(job.len() >= 3, "mpirun and 2 ranks: {job:?}");
    assert!(ranks.iter().all(|r| job.contains(r)));
    look(&child, &ranks);
    let asked = Instant::now();
    stop(&child);
    let output = child.wait_with_output().unwrap();
    assert!(
        asked.elapsed() < Duration::from_secs(20),
        "paralab took {:?} to stop",
        asked.elapsed()
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let left: Vec<&Proc> = job.iter().filter(|p| p.alive()).collect();
        if left.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "still running 10 s after paralab ended: {left:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    output
}

fn send(child: &Child, signal: nix::sys::signal::Signal) {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), signal).unwrap();
}

#[test]
fn sigterm_to_paralab_leaves_no_mpirun_and_no_rank() {
    if !mpirun_here() {
        return;
    }
    let output = nothing_outlives(&[], |child| send(child, nix::sys::signal::Signal::SIGTERM));
    assert_eq!(output.status.code(), Some(143), "{}", text(&output.stderr));
}

#[test]
fn ctrl_c_to_paralab_leaves_no_mpirun_and_no_rank() {
    if !mpirun_here() {
        return;
    }
    let output = nothing_outlives(&[], |child| send(child, nix::sys::signal::Signal::SIGINT));
    assert_eq!(output.status.code(), Some(130), "{}", text(&output.stderr));
}

#[test]
fn kill_9_of_paralab_leaves_no_mpirun_and_no_rank() {
    if !mpirun_here() {
        return;
    }
    let output = nothing_outlives(&[], |child| send(child, nix::sys::signal::Signal::SIGKILL));
    assert_eq!(output.status.code(), None, "killed");
}

/// The parent of a process.
fn parent_of(proc: &Proc) -> Option<i32> {
    stat_fields(proc.pid)?.get(1)?.parse().ok()
}

#[test]
fn kill_9_of_paralab_takes_a_daemon_started_as_on_another_host_and_its_ranks() {
    if !mpirun_here() {
        return;
    }
    // A stand-in for ssh runs Open MPI's daemon (orted) here for a host
    // that is not this one: the ranks are the daemon's children, as on a
    // second host, not mpirun's.
    let dir = tempfile::tempdir().unwrap();
    let rsh = dir.path().join("fake-ssh");
    std::fs::write(
        &rsh,
        "#!/bin/sh\n# ssh HOST COMMAND…, run here\nshift\nexec sh -c \"$*\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&rsh, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let hosts = dir.path().join("hosts");
    std::fs::write(&hosts, "elsewhere slots=2\n").unwrap();
    let mpi_args = format!(
        "--hostfile {} --mca plm_rsh_agent {}",
        hosts.display(),
        rsh.display()
    );
    nothing_outlives_the_job(
        &["--mpi-args", &mpi_args],
        |paralab, ranks| {
            let mpirun: Vec<i32> = common::children_of(paralab.id());
            assert_eq!(mpirun.len(), 1, "{mpirun:?}");
            for rank in ranks {
                let daemon = parent_of(rank).unwrap();
                assert_ne!(daemon, mpirun[0], "rank {rank:?} is mpirun's own child");
            }
        },
        |child| send(child, nix::sys::signal::Signal::SIGKILL),
    );
}

#[test]
fn a_timeout_leaves_no_mpirun_and_no_rank() {
    if !mpirun_here() {
        return;
    }
    let output = nothing_outlives(&["--timeout", "4"], |_| {});
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("timed out"), "{stderr}");
}

/// paralab's stderr for a sweep of 4 cells on one `--mpi-args` mpirun
/// cannot launch: exit 1, and `mpirun`'s error in exactly one line.
fn launch_refused(mpi_args: &str) -> String {
    let output = Command::new(common::PARALAB)
        .args(["bench", "--models", "mpi", "--workloads", "sleep,cpu"])
        .args(["--sleep", "0.05", "--iters", "1000", "--workers", "1,2"])
        .args(["--runs", "1", "--keep-going", "--mpi-args", mpi_args])
        .output()
        .unwrap();
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("could not launch the MPI job"))
        .collect();
    assert_eq!(errors.len(), 1, "one error, not one per cell: {stderr}");
    for wall in ["-----", "ORTE", "This usually is caused by"] {
        assert!(!stderr.contains(wall), "{wall}: {stderr}");
        assert!(!stdout.contains(wall), "{wall}: {stdout}");
    }
    errors[0].to_string()
}

#[test]
fn a_hostfile_naming_an_unreachable_host_is_one_line() {
    if !mpirun_here() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let hosts = dir.path().join("hosts");
    std::fs::write(&hosts, "unreachable.invalid slots=2\n").unwrap();
    let error = launch_refused(&format!("--hostfile {}", hosts.display()));
    // mpirun (through ssh) names the host it could not reach.
    assert!(error.contains("unreachable"), "{error}");
}

#[test]
fn mpi_args_mpirun_rejects_are_one_line() {
    if !mpirun_here() {
        return;
    }
    let error = launch_refused("--no-such-mpirun-option");
    assert!(error.contains("--no-such-mpirun-option"), "{error}");
}
