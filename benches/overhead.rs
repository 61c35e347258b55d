//! What paralab's harness costs per run, against hyperfine's: `--cmd true`
//! with one worker, each start method, beside `hyperfine -N true`, in
//! blocks that take turns so that a change of load lands on every column.
//!
//! `cargo bench --bench overhead [-- --blocks B --runs R]`
//!
//! It runs the paralab binary cargo built (the path a user runs, from the
//! command line to the export), not a function of the library: the figure
//! is the one a user compares with hyperfine. What each one times per run:
//! - hyperfine `-N`: from just before it spawns `true` to just after its
//!   wait returns (fork/exec of `true` by `posix_spawn`, its run, the
//!   wait); its `times` in `--export-json`.
//! - paralab: `wall_s` of each measurement in `--export-json`, from just
//!   before its first worker is started to just after the last is reaped
//!   (`process:spawn`: a clone sharing paralab's memory until the exec,
//!   as `posix_spawn` does; `process:fork`: a fork, a copy of paralab;
//!   either way each worker in its own process group, asked to die with
//!   paralab, with default signals and an empty mask).
//!
//! Both sides run in the same environment; under `cargo bench` (which
//! adds its own variables to it) every column read some 25% slower than
//! the same binary run from a shell on the machine this was written on,
//! so compare the ratios, not the microseconds, across the two.
//!
//! Without hyperfine on PATH, the floor is a plain
//! `std::process::Command::new("true").status()` loop in this program.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// The paralab binary cargo built for this benchmark.
const PARALAB: &str = env!("CARGO_BIN_EXE_paralab");

fn main() {
    let (blocks, runs) = match options(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(problem) => {
            eprintln!(
                "overhead: {problem}; usage: cargo bench --bench overhead -- [--blocks B] [--runs R]"
            );
            std::process::exit(2);
        }
    };
    let dir = tempfile::tempdir().expect("a temporary directory for the exports");
    let hyperfine = on_path("hyperfine");
    let floor_name = if hyperfine.is_some() {
        "hyperfine -N true"
    } else {
        println!("hyperfine is not on PATH: the floor is a std::process::Command spawn+wait loop");
        "Command::new(\"true\").status()"
    };
    println!(
        "per run: hyperfine from before its spawn to after its wait; paralab's wall_s from before its first worker's start to after its last reap"
    );
    println!(
        "--cmd true, 1 worker, {runs} runs per column, {blocks} blocks taking turns; medians per run; load average {}",
        load_average()
    );
    // One short block first, not reported: the first runs of a program
    // read it from disk and fault its pages in.
    let _ = paralab_median("process:fork", 20, dir.path());
    if let Some(program) = &hyperfine {
        let _ = hyperfine_median(program, 20, dir.path());
    }
    let (mut spawn_ratios, mut fork_ratios) = (Vec::new(), Vec::new());
    for block in 1..=blocks {
        let floor = match &hyperfine {
            Some(program) => hyperfine_median(program, runs, dir.path()),
            None => Ok(command_loop_median(runs)),
        };
        let spawn = paralab_median("process:spawn", runs, dir.path());
        let fork = paralab_median("process:fork", runs, dir.path());
        let (floor, spawn, fork) = match (floor, spawn, fork) {
            (Ok(floor), Ok(spawn), Ok(fork)) => (floor, spawn, fork),
            (floor, spawn, fork) => {
                for problem in [floor.err(), spawn.err(), fork.err()].into_iter().flatten() {
                    eprintln!("overhead: {problem}");
                }
                std::process::exit(1);
            }
        };
        spawn_ratios.push(spawn / floor);
        fork_ratios.push(fork / floor);
        println!(
            "block {block}: {floor_name} {:.0} µs, process:spawn {:.0} µs (×{:.3}), process:fork {:.0} µs (×{:.3}), load {}",
            floor * 1e6,
            spawn * 1e6,
            spawn / floor,
            fork * 1e6,
            fork / floor,
            load_average()
        );
    }
    for (method, limit, ratios) in [
        ("process:spawn", 1.05, &mut spawn_ratios),
        ("process:fork", 1.3, &mut fork_ratios),
    ] {
        ratios.sort_by(f64::total_cmp);
        println!(
            "{method} / {floor_name}: median ×{:.3} of {} blocks (min ×{:.3}, max ×{:.3}); the target is ≤ ×{limit}",
            median(ratios),
            ratios.len(),
            ratios[0],
            ratios[ratios.len() - 1]
        );
    }
}

/// `--blocks B` and `--runs R`; cargo's own `--bench` is ignored.
fn options(mut args: impl Iterator<Item = String>) -> Result<(usize, usize), String> {
    let (mut blocks, mut runs) = (5, 200);
    while let Some(arg) = args.next() {
        let target = match arg.as_str() {
            "--blocks" => &mut blocks,
            "--runs" => &mut runs,
            "--bench" => continue,
            other => return Err(format!("unknown argument '{other}'")),
        };
        let value = args.next().ok_or(format!("{arg} needs a number"))?;
        *target = value
            .parse()
            .ok()
            .filter(|&n| n > 0)
            .ok_or(format!("{arg} '{value}' is not a whole number above 0"))?;
    }
    Ok((blocks, runs))
}

/// The median per-run time of `hyperfine -N true`, from its JSON export.
fn hyperfine_median(program: &Path, runs: usize, dir: &Path) -> Result<f64, String> {
    let export = dir.join("hyperfine.json");
    let runs = runs.to_string();
    let args = [
        "-N",
        "--runs",
        &runs,
        "--warmup",
        "5",
        "--style",
        "none",
        "--export-json",
    ];
    run_quietly(Command::new(program).args(args).arg(&export).arg("true"))?;
    let json = read_json(&export)?;
    let times = json["results"][0]["times"]
        .as_array()
        .ok_or("hyperfine's export has no results[0].times")?;
    median_of(times.iter().filter_map(|t| t.as_f64()).collect())
}

/// The median `wall_s` of paralab's runs of `--cmd true` with `model`.
fn paralab_median(model: &str, runs: usize, dir: &Path) -> Result<f64, String> {
    let export = dir.join("paralab.json");
    let runs = runs.to_string();
    // -N: `true` itself, as `hyperfine -N true` runs it (not `sh -c true`).
    let args = [
        "bench",
        "-N",
        "--cmd",
        "true",
        "--workers",
        "1",
        "--runs",
        &runs,
        "--warmup",
        "5",
    ];
    run_quietly(
        Command::new(PARALAB)
            .args(args)
            .args(["--models", model, "-q", "--export-json"])
            .arg(&export),
    )?;
    let json = read_json(&export)?;
    let measurements = json["measurements"]
        .as_array()
        .ok_or("paralab's export has no measurements")?;
    median_of(
        measurements
            .iter()
            .filter_map(|m| m["wall_s"].as_f64())
            .collect(),
    )
}

/// The median per-run time of the standard library's spawn and wait.
fn command_loop_median(runs: usize) -> f64 {
    let mut times: Vec<f64> = (0..runs + 5)
        .map(|_| {
            let start = Instant::now();
            let status = Command::new("true")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .status();
            assert!(status.is_ok_and(|s| s.success()), "'true' failed");
            start.elapsed().as_secs_f64()
        })
        .skip(5)
        .collect();
    times.sort_by(f64::total_cmp);
    median(&times)
}

fn run_quietly(command: &mut Command) -> Result<(), String> {
    let output = command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("could not run {command:?}: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "{command:?} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok(())
}

fn read_json(path: &Path) -> Result<serde_json::Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

fn median_of(mut times: Vec<f64>) -> Result<f64, String> {
    if times.is_empty() {
        return Err("an export with no times".into());
    }
    times.sort_by(f64::total_cmp);
    Ok(median(&times))
}

/// The median of sorted, non-empty `values`.
fn median(values: &[f64]) -> f64 {
    let middle = values.len() / 2;
    if values.len() % 2 == 1 {
        values[middle]
    } else {
        (values[middle - 1] + values[middle]) / 2.0
    }
}

fn on_path(program: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(program))
        .find(|path| path.is_file())
}

/// The 1-minute load average, as /proc/loadavg says it.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|text| text.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "unknown".into())
}
