//! The plain-language summary: what the numbers mean, one line per
//! (workload, model).

use super::Grid;
use crate::experiment::Measurement;
use crate::measure::memory::human_kib;
use crate::model::Model;
use crate::python::PyModel;
use crate::workload::WorkloadKind;

/// Lines such as
/// `cpu · thread: 2 workers took 1.02× as long as 1 → both CPUs used (speedup ×1.96)`.
///
/// `cpus` is the number of logical CPUs the run had; the line compares with
/// what that many CPUs allow.
pub fn render(measurements: &[Measurement], cpus: usize) -> String {
    let grid = Grid::new(measurements);
    let mut out = String::new();
    for column in 0..grid.columns.len() {
        let memory = memory_note(&grid, column, measurements);
        if let Some(mut line) = line(&grid, column, cpus) {
            line.push_str(&model_note(&grid, column, cpus));
            line.push_str(&memory);
            out.push_str(&line);
            out.push('\n');
        } else if let Some(memory) = memory.strip_prefix("; ") {
            // Without a run at one worker there is no ratio to tell, but
            // the cost of a worker is still worth a line.
            let kind = grid.columns[column].workload.kind();
            out.push_str(&format!(
                "{kind} · {}: {memory}\n",
                grid.model_label(column)
            ));
        }
    }
    out.push_str(&python_comparison(&grid, cpus));
    out
}

/// What a model's numbers mean where they would surprise: async and pool
/// run cpu work on as many threads as CPUs, the gil model lets one worker
/// compute at a time.
fn model_note(grid: &Grid, column: usize, cpus: usize) -> String {
    let kind = grid.columns[column].workload.kind();
    let waits = kind == WorkloadKind::Sleep;
    match grid.columns[column].model {
        Model::Async if waits => {
            " [the sleeps wait on the runtime's timer and hold no thread]".to_string()
        }
        Model::Async => format!(
            " [cpu tasks run on the runtime's {cpus} worker threads: each holds its thread until it returns, so at most {cpus} run at once and other tasks on that thread wait]"
        ),
        Model::Pool if waits => {
            format!(" [a pool runs {cpus} jobs at a time, so waits queue behind each other]")
        }
        Model::Gil { switch_interval } if waits => format!(
            " [a sleeping worker releases the global lock, as Python's time.sleep does (switch interval {} ms)]",
            switch_interval.as_secs_f64() * 1e3
        ),
        Model::Gil { switch_interval } => format!(
            " [one global lock, handed over every {} ms: one worker computes at a time, as CPython's threads do]",
            switch_interval.as_secs_f64() * 1e3
        ),
        Model::Python(PyModel::Thread) if !waits => {
            " [CPython's threads hold the GIL while they compute]".to_string()
        }
        Model::Python(PyModel::Async) if !waits => {
            " [the loop runs inside the event loop, which runs one task at a time]".to_string()
        }
        _ => String::new(),
    }
}

/// What the GIL costs on this machine and how fast each language's loop
/// is, when the run has CPython's threads beside Rust's:
///
/// ```text
/// the GIL at 2 workers: Python threads took 2.05× as long as 1; Rust threads 1.01×; the gil model 2.02×; Python processes 1.04×
/// the cpu loop, one worker: Rust 7.2 ns an iteration, Python 161 ns (22× slower)
/// ```
fn python_comparison(grid: &Grid, cpus: usize) -> String {
    let Some(cpu_column) = grid.columns.iter().position(|c| {
        c.workload.kind() == WorkloadKind::Cpu && c.model == Model::Python(PyModel::Thread)
    }) else {
        return String::new();
    };
    let workload = grid.columns[cpu_column].workload.clone();
    let column_of = |family: &str| {
        grid.columns
            .iter()
            .position(|c| c.workload == workload && c.model.family() == family)
    };
    let ratio = |column: usize, n: usize| Some(grid.median(column, n)? / grid.median(column, 1)?);
    let mut out = String::new();
    let n = grid
        .workers
        .iter()
        .copied()
        .filter(|&n| n > 1 && n <= cpus.max(2) && ratio(cpu_column, n).is_some())
        .max();
    if let Some(n) = n {
        let mut parts = Vec::new();
        for (family, label) in [
            ("py-thread", "Python threads took"),
            ("thread", "Rust threads"),
            ("gil", "the gil model"),
            ("py-process", "Python processes"),
            ("process", "Rust processes"),
        ] {
            if let Some(r) = column_of(family).and_then(|c| ratio(c, n)) {
                let tail = if family == "py-thread" {
                    " as long as 1"
                } else {
                    ""
                };
                parts.push(format!("{label} {r:.2}×{tail}"));
            }
        }
        out.push_str(&format!("the GIL at {n} workers: {}\n", parts.join("; ")));
    }
    let per_iteration = |family: &str| {
        let iters = match workload {
            crate::workload::Workload::Cpu { iters } if iters > 0 => iters as f64,
            _ => return None,
        };
        Some(grid.median(column_of(family)?, 1)? / iters * 1e9)
    };
    if let (Some(rust), Some(python)) = (per_iteration("thread"), per_iteration("py-thread")) {
        out.push_str(&format!(
            "the cpu loop, one worker: Rust {rust:.1} ns an iteration, Python {python:.0} ns ({:.0}× slower)\n",
            python / rust
        ));
    }
    out
}

/// `; memory per worker 12 KiB at 3 workers`, from the largest worker
/// count whose run measured any.
fn memory_note(grid: &Grid, column: usize, measurements: &[Measurement]) -> String {
    let c = &grid.columns[column];
    measurements
        .iter()
        .filter(|m| m.workload == c.workload && m.model == c.model && m.succeeded())
        .filter_map(|m| Some((m.workers, m.memory?)))
        .max_by_key(|(workers, _)| *workers)
        .map_or_else(String::new, |(workers, memory)| {
            format!(
                "; memory per worker {} at {workers} workers",
                human_kib(memory.per_worker_kib)
            )
        })
}

fn line(grid: &Grid, column: usize, cpus: usize) -> Option<String> {
    let kind = grid.columns[column].workload.kind();
    let name = format!("{kind} · {}", grid.model_label(column));
    let one = grid.median(column, 1)?;
    // The most telling count: the most workers that still fit on the CPUs
    // (for sleep, which needs no CPU, simply the most workers).
    let measured = grid
        .workers
        .iter()
        .copied()
        .filter(|&n| n > 1 && grid.median(column, n).is_some());
    let n = match kind {
        WorkloadKind::Sleep => measured.clone().max(),
        _ => measured.clone().filter(|&n| n <= cpus).max(),
    }?;
    let ratio = grid.median(column, n)? / one;
    let speedup = n as f64 / ratio;
    let verdict = match kind {
        WorkloadKind::Sleep if ratio < 1.5 => "the waits overlapped".to_string(),
        WorkloadKind::Sleep => "the waits did not overlap: they ran one after another".to_string(),
        _ => cpu_verdict(n, speedup),
    };
    let mut text = format!(
        "{name}: {n} workers took {ratio:.2}× as long as 1 → {verdict} (speedup ×{speedup:.2})"
    );
    if kind != WorkloadKind::Sleep
        && let Some(over) = measured.filter(|&m| m > cpus).max()
    {
        let over_ratio = grid.median(column, over)? / one;
        let fair = over as f64 / cpus as f64;
        text.push_str(&format!(
            "; {over} workers on {cpus} CPUs took {over_ratio:.2}× (sharing the CPUs fairly gives {fair:.2}×)"
        ));
    }
    Some(text)
}

fn cpu_verdict(n: usize, speedup: f64) -> String {
    let n_f = n as f64;
    if speedup >= 0.8 * n_f {
        if n == 2 {
            "both CPUs used".to_string()
        } else {
            format!("all {n} CPUs used")
        }
    } else if speedup <= 1.25 {
        "no parallelism: the workers ran one at a time".to_string()
    } else {
        format!("partial parallelism, as if {speedup:.1} of the {n} workers ran at once")
    }
}
