//! Every program paralab starts, checked from the outside with real
//! processes: it leads its own process group, starts with the default
//! action for every signal and an empty signal mask (whatever paralab
//! blocks, or was started ignoring), dies with paralab even on `kill -9`,
//! and cannot hang paralab by leaving children behind.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{
    PARALAB, Stat, children_of, running, running_in_group, wait_for_children, wait_until,
};

/// The shell line that starts paralab ignoring SIGHUP and SIGUSR2, as
/// `nohup` or a background job would: `exec` keeps them ignored.
const IGNORING: &str = "trap '' HUP USR2; exec \"$0\" \"$@\"";

/// A paralab this test started, killed and reaped if the test fails
/// before it is done with it (its workers die with it).
struct Started(Child);

impl Drop for Started {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `SigBlk` and `SigIgn` of a `/proc/PID/status` text, as hex masks.
fn masks(status: &str) -> (u64, u64) {
    let field = |name: &str| {
        let line = status
            .lines()
            .find(|line| line.starts_with(name))
            .unwrap_or_else(|| panic!("no {name} in {status}"));
        u64::from_str_radix(line[name.len()..].trim(), 16).unwrap()
    };
    (field("SigBlk:"), field("SigIgn:"))
}

/// The status files the `--cmd` programs wrote into `dir`.
fn written_statuses(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("status."))
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .collect()
}

#[test]
fn cmd_programs_start_with_default_signals_and_an_empty_mask() {
    // The check is worth something only if paralab's own start ignores
    // signals: a program started the same way shows them.
    let control = Command::new("sh")
        .args(["-c", IGNORING, "grep", "^SigIgn:", "/proc/self/status"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&control.stdout);
    let ignored = u64::from_str_radix(text.trim_start_matches("SigIgn:").trim(), 16).unwrap();
    let sighup = nix::sys::signal::Signal::SIGHUP as u32;
    assert_ne!(ignored & (1 << (sighup - 1)), 0, "SIGHUP ignored");

    for model in ["process:fork", "process:spawn"] {
        let dir = tempfile::tempdir().unwrap();
        // `exec`: grep reads its own status, which is the program's
        // (a shell may block signals for a moment while it forks).
        let cmd = format!(
            "sh -c 'exec grep -E \"^Sig(Blk|Ign):\" /proc/self/status > {}/status.$$'",
            dir.path().display()
        );
        let output = Command::new("sh")
            .args(["-c", IGNORING, PARALAB, "bench", "--cmd", &cmd])
            .args(["--workers", "2", "--runs", "1", "--models", model, "-q"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{model}: {stderr}");
        let statuses = written_statuses(dir.path());
        assert_eq!(statuses.len(), 2, "{model}: one status per worker");
        for status in statuses {
            assert_eq!(
                masks(&status),
                (0, 0),
                "{model}: nothing blocked, nothing ignored: {status}"
            );
        }
    }
}

#[test]
fn paralab_workers_start_with_default_signals_and_an_empty_mask() {
    for model in ["process:fork", "process:spawn"] {
        let child = Command::new("sh")
            .args(["-c", IGNORING, PARALAB, "bench", "--workloads", "sleep"])
            .args(["--sleep", "60", "--workers", "2", "--models", model, "-q"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let child = Started(child);
        // `exec`: the shell's pid is paralab's.
        let workers = wait_for_children(child.0.id(), 2, Duration::from_secs(10));
        let seen: Vec<(u64, u64)> = workers
            .iter()
            .map(|w| masks(&std::fs::read_to_string(format!("/proc/{w}/status")).unwrap()))
            .collect();
        drop(child);
        wait_until("the workers to die", Duration::from_secs(2), || {
            !workers.iter().any(|&p| running(p))
        });
        // A spawned worker is a Rust program, whose runtime ignores
        // SIGPIPE first thing (writes then fail with EPIPE): its own doing.
        let own = 1 << (nix::sys::signal::Signal::SIGPIPE as u32 - 1);
        let inherited: Vec<(u64, u64)> = seen
            .iter()
            .map(|&(blocked, ignored)| (blocked, ignored & !own))
            .collect();
        assert_eq!(inherited, [(0, 0), (0, 0)], "{model}: SigBlk and SigIgn");
    }
}

/// `kill -9` of paralab gives it no chance to tidy up: the kernel kills
/// every `--cmd` program, however it was started, because each asked for
/// it before its exec.
#[test]
fn cmd_programs_die_with_a_killed_paralab() {
    for model in ["process:fork", "process:spawn"] {
        let child = Command::new(PARALAB)
            .args(["bench", "--cmd", "sleep 60", "--workers", "3"])
            .args(["--models", model, "-q"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let child = Started(child);
        // The programs themselves (`sh -c 'sleep 60'`): before them, the
        // shell's start-up is measured with short-lived `sh -c ''`.
        let mut programs = Vec::new();
        wait_until(
            &format!("{model}: three sleep 60 programs"),
            Duration::from_secs(10),
            || {
                programs = children_of(child.0.id())
                    .into_iter()
                    .filter(|&p| {
                        std::fs::read(format!("/proc/{p}/cmdline"))
                            .is_ok_and(|line| line.ends_with(b"sleep 60\0"))
                    })
                    .collect();
                programs.len() >= 3
            },
        );
        // The group is set up just after the fork: give it that moment.
        wait_until(
            &format!("{model}: each program to lead its own group"),
            Duration::from_secs(2),
            || {
                programs
                    .iter()
                    .all(|&p| Stat::of(p).is_some_and(|s| s.pgrp == p))
            },
        );
        drop(child); // SIGKILL, as `kill -9`
        wait_until(
            &format!("the {model} programs to die"),
            Duration::from_secs(2),
            || !programs.iter().any(|&p| running(p)),
        );
    }
}

/// A program that leaves a child in the background, holding what the
/// program held: the worker's end is the program's exit, and its group,
/// with the child, is killed and reaped.
#[test]
fn a_cmd_program_leaving_a_child_behind_does_not_hang_paralab() {
    let dir = tempfile::tempdir().unwrap();
    let cmd = format!(
        "sh -c 'sleep 100 & echo $! > {}/bg.$$'",
        dir.path().display()
    );
    let started = Instant::now();
    let output = Command::new(PARALAB)
        .args(["bench", "--cmd", &cmd, "--workers", "2", "--runs", "1"])
        .args(["--models", "process:fork,process:spawn", "-q"])
        .output()
        .unwrap();
    let took = started.elapsed();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(took < Duration::from_secs(20), "took {took:?}");
    // Each file is `bg.GROUP` (the program's pid, which leads its group)
    // and holds the pid of the sleep it left.
    let (mut groups, mut sleeps) = (Vec::new(), Vec::new());
    for entry in std::fs::read_dir(dir.path()).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        groups.push(name["bg.".len()..].parse::<i32>().unwrap());
        let text = std::fs::read_to_string(entry.path()).unwrap();
        sleeps.push(text.trim().parse::<i32>().unwrap());
    }
    assert_eq!(sleeps.len(), 4, "two programs under each start method");
    wait_until(
        "the background sleeps to die",
        Duration::from_secs(2),
        || !sleeps.iter().any(|&p| running(p)),
    );
    for &group in &groups {
        assert_eq!(running_in_group(group), Vec::<i32>::new());
    }
}
