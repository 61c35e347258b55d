//! The plain-language summary: what the numbers mean, one line per
//! (workload, model).

use crate::dataset::Grid;
use crate::experiment::Measurement;
use crate::fmt::{self, count};
use crate::machine::PythonInfo;
use crate::measure::memory::MemoryUse;
use crate::measure::stats::median;
use crate::model::{Interpreter, Model, StartMethod};
use crate::verdict::{Outcome, bench};
use crate::workload::{Workload, WorkloadKind};

/// Lines such as
/// `cpu · thread: 2 workers took 1.02× as long as 1 → both CPUs used (speedup ×1.96)`.
///
/// `cpus` is the number of logical CPUs the run had; the line compares with
/// what that many CPUs allow. `python` describes the interpreter of the
/// Python models, when known, so that a free-threaded CPython is not said
/// to hold a GIL. What each line claims is decided in `verdict`; this only
/// words it.
/// The conclusions of `record`: [`render`] on its machine's CPUs, or,
/// when its runs come from several machines, the one line that says no
/// verdict is drawn from them (a cell may mix runs of a 2-CPU laptop and
/// a 64-CPU server: its figures are no claim about a model).
pub(crate) fn of_record(record: &crate::dataset::Record) -> String {
    if record.other_machines.is_empty() {
        return render(
            &record.measurements,
            record.cpus(),
            record.machine.as_ref().and_then(|m| m.python.as_ref()),
        );
    }
    let machines: Vec<String> = record
        .machine
        .iter()
        .chain(&record.other_machines)
        .map(|m| {
            let model = m.cpu_model.as_deref().unwrap_or("an unknown CPU");
            format!("{} CPUs ({model})", m.logical_cpus)
        })
        .collect();
    format!(
        "no conclusions: these runs come from {} machines ({}), and a verdict about a model needs the runs of one; report each machine's files alone\n",
        machines.len(),
        machines.join("; ")
    )
}

pub(crate) fn render(
    measurements: &[Measurement],
    cpus: usize,
    python: Option<&PythonInfo>,
) -> String {
    let grid = Grid::new(measurements);
    let mut out = String::new();
    for column in 0..grid.columns.len() {
        let memory = memory_note(&grid, column, measurements);
        if let Some(mut line) = line(&grid, column, measurements, cpus) {
            line.push_str(&model_note(&grid, column, cpus, python));
            line.push_str(&memory);
            out.push_str(&line);
            out.push('\n');
        } else if let Some(memory) = memory.strip_prefix("; ") {
            // Without a run at one worker there is no ratio to tell, but
            // the cost of a worker is still worth a line.
            out.push_str(&format!(
                "{} · {}: {memory}\n",
                grid.columns[column].workload.line_label(),
                grid.model_label(column)
            ));
        }
    }
    out.push_str(&python_comparison(&grid, measurements, cpus, python));
    out.push_str(&command_comparison(&grid, measurements, cpus));
    for line in crate::verdict::scaling::scaling_lines(measurements, cpus) {
        out.push_str(&line);
        out.push('\n');
    }
    out.push_str(&super::rows::time_notes(measurements, cpus));
    out
}

/// What a model's numbers mean where they would surprise: async and pool
/// run cpu work on as many threads as CPUs, the gil model lets one worker
/// compute at a time.
fn model_note(grid: &Grid, column: usize, cpus: usize, python: Option<&PythonInfo>) -> String {
    let column = &grid.columns[column];
    column
        .model
        .note_for_interpreter(
            column.workload.kind(),
            cpus,
            python.map(|python| python.gil_enabled),
        )
        .unwrap_or_default()
}

/// What the GIL costs on this machine and how fast each language's loop
/// is, when the run has CPython's threads beside Rust's:
///
/// ```text
/// the GIL at 2 workers: Python threads took 2.05× as long as 1; Rust threads 1.01×; the gil model 2.02×; Python processes 1.04×
/// the cpu loop, one worker: Rust 7.2 ns an iteration, Python 161 ns (22× slower)
/// ```
///
/// With a free-threaded CPython (no GIL) the first line says so instead.
/// Either line ends in `→ inconclusive: …` when its cells cannot support
/// the comparison.
fn python_comparison(
    grid: &Grid,
    measurements: &[Measurement],
    cpus: usize,
    python: Option<&PythonInfo>,
) -> String {
    // One comparison per interpreter: the GIL line of each, in column order.
    let py_thread_columns: Vec<usize> = (0..grid.columns.len())
        .filter(|&c| {
            grid.columns[c].workload.kind() == WorkloadKind::Cpu
                && grid.columns[c].model.same_family(Model::PY_THREAD)
        })
        .collect();
    py_thread_columns
        .into_iter()
        .map(|column| interpreter_comparison(grid, measurements, cpus, python, column))
        .collect()
}

/// [`python_comparison`] for the interpreter of the py-thread column
/// `cpu_column`: its own Python models beside the Rust ones.
fn interpreter_comparison(
    grid: &Grid,
    measurements: &[Measurement],
    cpus: usize,
    python: Option<&PythonInfo>,
    cpu_column: usize,
) -> String {
    let interpreter = grid.columns[cpu_column].model.interpreter();
    let workload = grid.columns[cpu_column].workload.clone();
    // The Rust models may run their own iteration count: any cpu workload.
    // A Python model is this interpreter's.
    let column_of = |family: Model| {
        let model = family.in_interpreter_of(interpreter);
        grid.columns
            .iter()
            .position(|c| {
                c.workload == workload
                    && c.model.same_family(model)
                    && c.model.interpreter() == model.interpreter()
            })
            .or_else(|| {
                grid.columns.iter().position(|c| {
                    c.workload.kind() == WorkloadKind::Cpu
                        && c.model.same_family(model)
                        && c.model.interpreter() == model.interpreter()
                })
            })
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
        let mut doubt = None;
        for (family, label) in [
            (Model::PY_THREAD, "Python threads took"),
            (Model::THREAD, "Rust threads"),
            (Model::GIL, "the gil model"),
            (Model::py_process(StartMethod::Fork), "Python processes"),
            (Model::process(StartMethod::Fork), "Rust processes"),
        ] {
            let Some(column) = column_of(family) else {
                continue;
            };
            if let Some(r) = ratio(column, n) {
                let tail = if family == Model::PY_THREAD {
                    " as long as 1"
                } else {
                    ""
                };
                parts.push(format!("{label} {r:.2}×{tail}"));
                let cells = grid.successful_runs(column, measurements);
                let judged = bench::Column {
                    kind: WorkloadKind::Cpu,
                    noun: family.workers_noun(),
                    cpus,
                    cells: &cells,
                };
                if doubt.is_none() {
                    doubt = bench::doubt(&judged, n).map(|reason| {
                        format!(
                            "{} · {}: {reason}",
                            WorkloadKind::Cpu,
                            grid.model_label(column)
                        )
                    });
                }
            }
        }
        let gil_off = interpreter.map_or_else(
            || {
                python
                    .filter(|info| !info.gil_enabled)
                    .map(|info| info.version.clone())
            },
            |i| (!i.gil_enabled()).then(|| i.version().to_string()),
        );
        let head = match (gil_off, interpreter) {
            (Some(version), _) => {
                format!("CPython {version} without a GIL (free-threaded) at {n} workers")
            }
            (None, Some(i)) => {
                // Named by its program too when another of its version ran.
                let program = if i.label() == Interpreter::label_of(i.version(), true) {
                    String::new()
                } else {
                    format!(" ({})", i.info().executable)
                };
                format!("the GIL of CPython {}{program} at {n} workers", i.version())
            }
            (None, None) => format!("the GIL at {n} workers"),
        };
        out.push_str(&format!("{head}: {}", parts.join("; ")));
        if let Some(doubt) = doubt {
            out.push_str(&format!(" → inconclusive: {doubt}"));
        }
        out.push('\n');
        let name = match (interpreter, python) {
            (Some(i), _) => i.label().to_string(),
            (None, Some(info)) => Interpreter::label_of(&info.version, info.gil_enabled),
            (None, None) => "CPython".to_string(),
        };
        out.push_str(&threads_claim(
            grid,
            measurements,
            cpus,
            cpu_column,
            n,
            &name,
        ));
        out.push('\n');
    }
    let per_iteration = |family: Model| {
        let column = column_of(family)?;
        let iters = match grid.columns[column].workload {
            crate::workload::Workload::Cpu { iters } if iters > 0 => iters as f64,
            _ => return None,
        };
        Some((grid.median(column, 1)? / iters * 1e9, column))
    };
    if let (Some((rust, rust_column)), Some((python, python_column))) = (
        per_iteration(Model::THREAD),
        per_iteration(Model::PY_THREAD),
    ) {
        let which = interpreter.map_or_else(String::new, |i| format!(" ({i})"));
        out.push_str(&format!(
            "the cpu loop, one worker: Rust {rust:.1} ns an iteration, Python{which} {python:.0} ns ({:.0}× slower)",
            python / rust
        ));
        let runs = |column: usize| {
            grid.successful_runs(column, measurements)
                .into_iter()
                .find(|(n, _)| *n == 1)
                .map(|(_, runs)| runs)
                .unwrap_or_default()
        };
        if let Some(doubt) =
            bench::per_iteration_doubt(&runs(rust_column), &runs(python_column), cpus)
        {
            out.push_str(&format!(" → inconclusive: {doubt}"));
        }
        out.push('\n');
    }
    out
}

/// The notebook's claim, "threads cannot use several cores", judged for
/// one interpreter (`name`) from its own py-thread column at `n` workers:
/// it holds when they ran one at a time, does not hold when they used
/// several CPUs, and is inconclusive whenever `verdict::bench::scaling`
/// says the cells cannot decide. Never taken from the GIL flag: a
/// free-threaded build whose threads still took turns is said to.
fn threads_claim(
    grid: &Grid,
    measurements: &[Measurement],
    cpus: usize,
    column: usize,
    n: usize,
    name: &str,
) -> String {
    let cells = grid.successful_runs(column, measurements);
    let judged = bench::Column {
        kind: WorkloadKind::Cpu,
        noun: "threads",
        cpus,
        cells: &cells,
    };
    let claim = format!("\"threads cannot use several cores\" in {name}");
    let Some(verdict) = bench::scaling(&judged, n) else {
        return format!(
            "{claim}: {} (no runs at 1 and {n} threads)",
            Outcome::NotMeasured
        );
    };
    let outcome = match verdict.outcome {
        Outcome::Holds if verdict.text.starts_with("no parallelism") => Outcome::Holds,
        Outcome::Holds => Outcome::DoesNotHold,
        other => other,
    };
    let figures = match (grid.median(column, 1), grid.median(column, n)) {
        (Some(one), Some(at_n)) => format!("{n} threads took {:.2}× as long as 1", at_n / one),
        _ => format!("{n} threads"),
    };
    match outcome {
        Outcome::Inconclusive => {
            let reason = verdict.text.trim_start_matches("inconclusive: ");
            format!("{claim}: inconclusive ({figures}): {reason}")
        }
        _ => format!("{claim}: {outcome}: {figures} ({})", verdict.text),
    }
}

/// `; memory per worker 12 KiB at 3 workers`: the median over the runs at
/// the largest worker count whose runs measured any.
fn memory_note(grid: &Grid, column: usize, measurements: &[Measurement]) -> String {
    let c = &grid.columns[column];
    let with_memory = || {
        measurements
            .iter()
            .filter(|m| m.workload == c.workload && m.model == c.model && m.succeeded())
            .filter_map(|m| Some((m.workers, m.memory?)))
    };
    let Some(workers) = with_memory().map(|(workers, _)| workers).max() else {
        return String::new();
    };
    let runs: Vec<MemoryUse> = with_memory()
        .filter(|&(n, _)| n == workers)
        .map(|(_, memory)| memory)
        .collect();
    let per_worker: Vec<f64> = runs.iter().map(|m| m.per_worker_kib).collect();
    median(&per_worker).map_or_else(String::new, |kib| {
        let workers = count(workers, "worker");
        // /proc counts whole pages, read twice, and older kernels batch
        // their RSS counters: a total growth within that is no
        // measurement, whatever it gives per worker. A file saved before
        // the resolution was recorded keeps the old rule, a page a worker.
        let resolution = runs.iter().map(|m| m.resolution_kib).max().unwrap_or(0);
        // Judged as the figure is: over most runs, not the luckiest one.
        let measured = if resolution > 0 {
            2 * runs.iter().filter(|m| m.measured()).count() > runs.len()
        } else {
            kib >= 4.0
        };
        if measured {
            format!("; memory per worker {} at {workers}", fmt::kib(kib))
        } else if resolution > 0 {
            format!("; memory per worker too small to measure from /proc at {workers} (all of them grew by less than the {resolution} KiB /proc can tell apart)")
        } else {
            format!("; memory per worker too small to measure from /proc at {workers} (under one 4 KiB page)")
        }
    })
}

/// When several commands ran, one line per model comparing how each
/// scales at the most workers that fit on the CPUs:
///
/// ```text
/// commands · process at 2 workers: gzip -9 scales ×1.90 (95% interval ×1.80–×1.97), xz ×1.20 (×1.10–×1.31) → gzip -9 scales the most
/// ```
///
/// It ends in `→ inconclusive: …` when a command's own verdict is, or
/// when the intervals overlap.
fn command_comparison(grid: &Grid, measurements: &[Measurement], cpus: usize) -> String {
    let commands: Vec<usize> = (0..grid.columns.len())
        .filter(|&c| matches!(grid.columns[c].workload, Workload::Command { .. }))
        .collect();
    let mut models: Vec<Model> = Vec::new();
    for &c in &commands {
        if !models.contains(&grid.columns[c].model) {
            models.push(grid.columns[c].model);
        }
    }
    let mut out = String::new();
    for model in models {
        let columns: Vec<usize> = commands
            .iter()
            .copied()
            .filter(|&c| grid.columns[c].model == model)
            .collect();
        if columns.len() < 2 {
            continue;
        }
        let all_have = |n: usize| columns.iter().all(|&c| grid.median(c, n).is_some());
        if !all_have(1) {
            continue;
        }
        let Some(n) = grid
            .workers
            .iter()
            .copied()
            .filter(|&n| n > 1 && n <= cpus.max(2) && all_have(n))
            .max()
        else {
            continue;
        };
        let mut figures = Vec::new();
        for &c in &columns {
            let cells = grid.successful_runs(c, measurements);
            let judged = bench::Column {
                kind: grid.columns[c].workload.kind(),
                noun: model.workers_noun(),
                cpus,
                cells: &cells,
            };
            let Some((speedup, interval)) = bench::speedup(grid.walls(c, 1), grid.walls(c, n), n)
            else {
                continue;
            };
            let verdict = bench::scaling(&judged, n);
            figures.push((
                command_name(&grid.columns[c].workload),
                speedup,
                interval,
                verdict,
            ));
        }
        if figures.len() < 2 {
            continue;
        }
        let parts: Vec<String> = figures
            .iter()
            .enumerate()
            .map(|(k, (name, speedup, interval, _))| {
                let interval = interval.map_or_else(String::new, |(low, high)| {
                    format!(" (95% interval ×{low:.2}–×{high:.2})")
                });
                match k {
                    0 => format!("{name} scales ×{speedup:.2}{interval}"),
                    _ => format!("{name} ×{speedup:.2}{interval}"),
                }
            })
            .collect();
        let mut ranked: Vec<_> = figures.iter().collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
        let doubtful = figures
            .iter()
            .find_map(|(name, _, _, verdict)| match verdict {
                Some(v) if v.outcome == Outcome::Inconclusive => Some(format!(
                    "{name}'s verdict is: {}",
                    v.text.strip_prefix("inconclusive: ").unwrap_or(&v.text)
                )),
                None => Some(format!("{name}: no verdict could be drawn")),
                _ => None,
            });
        let conclusion = match (doubtful, ranked[0].2, ranked[1].2) {
            (Some(why), _, _) => format!("inconclusive, as {why}"),
            (None, Some((best_low, _)), Some((_, next_high))) if best_low > next_high => {
                format!("{} scales the most", ranked[0].0)
            }
            (None, Some(_), Some(_)) => format!(
                "inconclusive: the 95% intervals of {} and {} overlap, so neither is shown to scale better; use more --runs",
                ranked[0].0, ranked[1].0
            ),
            _ => "inconclusive: too few runs for a 95% interval; use more --runs".to_string(),
        };
        out.push_str(&format!(
            "commands · {} at {n} workers: {} → {conclusion}\n",
            grid.model_label(columns[0]),
            parts.join(", ")
        ));
    }
    out
}

/// The name a command goes by in a comparison: its `-n` name, else its text.
fn command_name(workload: &Workload) -> String {
    match workload {
        Workload::Command {
            name: Some(name), ..
        } => name.clone(),
        Workload::Command { argv, .. } => crate::workload::display_command(argv),
        other => other.kind().to_string(),
    }
}

/// `{name}: {n} workers took {ratio}× as long as 1 → {verdict} (speedup ×…)`,
/// the verdict `verdict::bench::scaling`'s.
fn line(grid: &Grid, column: usize, measurements: &[Measurement], cpus: usize) -> Option<String> {
    let kind = grid.columns[column].workload.kind();
    let name = format!(
        "{} · {}",
        grid.columns[column].workload.line_label(),
        grid.model_label(column)
    );
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
    let cells = grid.successful_runs(column, measurements);
    let judged = bench::Column {
        kind,
        noun: grid.columns[column].model.workers_noun(),
        cpus,
        cells: &cells,
    };
    let verdict = bench::scaling(&judged, n)?;
    let (speedup, interval) = bench::speedup(grid.walls(column, 1), grid.walls(column, n), n)?;
    let interval = interval.map_or_else(String::new, |(low, high)| {
        format!(", 95% interval ×{low:.2}–×{high:.2}")
    });
    let mut text = if ratio.is_finite() && ratio > 0.0 {
        format!(
            "{name}: {n} workers took {ratio:.2}× as long as 1 → {} (speedup ×{speedup:.2}{interval})",
            verdict.text
        )
    } else {
        // A time of 0 (a command no slower than its shell's start-up once
        // that is subtracted) has no ratio to print.
        format!("{name}: {n} workers → {}", verdict.text)
    };
    if kind == WorkloadKind::Cpu
        && let Some(over) = measured.filter(|&m| m > cpus).max()
    {
        let over_ratio = grid.median(column, over)? / one;
        let fair = over as f64 / cpus as f64;
        text.push_str(&format!(
            "; {over} workers on {cpus} CPUs took {over_ratio:.2}× (sharing the CPUs fairly gives {fair:.2}×)"
        ));
        if let Some(sharing) = bench::sharing(&judged, over) {
            // The first clause already gave the whole reason the machine
            // decided it: the headline (to its first ';') is enough here.
            let shown = match (verdict.outcome, sharing.outcome) {
                (Outcome::Inconclusive, Outcome::Inconclusive) => sharing
                    .text
                    .split_once(';')
                    .map_or(sharing.text.as_str(), |(headline, _)| headline),
                _ => sharing.text.as_str(),
            };
            text.push_str(&format!(" → {shown}"));
        }
    }
    Some(text)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::model::{WorkerOutcome, WorkerStatus};

    /// A successful measurement of `workers` workers taking `wall_s`.
    fn measured(
        workload: &Workload,
        model: Model,
        workers: usize,
        run: usize,
        wall_s: f64,
    ) -> Measurement {
        let outcome = |worker| WorkerOutcome::failed(worker, WorkerStatus::Finished { result: 1 });
        Measurement {
            workload: workload.clone(),
            model,
            workers,
            run,
            wall_s,
            outcomes: (0..workers).map(outcome).collect(),
            memory: None,
            others_cpus: None,
            steal_cpus: None,
            cpu_pressure: None,
            launch_s: None,
            shell_startup: None,
        }
    }

    fn summary_of(workload: Workload, walls: &[(usize, f64)]) -> String {
        let m: Vec<Measurement> = walls
            .iter()
            .enumerate()
            .map(|(i, &(workers, wall))| measured(&workload, Model::THREAD, workers, i + 1, wall))
            .collect();
        render(&m, 2, None)
    }

    const CPU: Workload = Workload::Cpu { iters: 1000 };

    /// Two interpreters, each its own sentence from its own cells: the
    /// claim holds where threads took turns and not where they ran at once.
    #[test]
    fn each_interpreter_has_its_own_threads_sentence() {
        use crate::model::python::interpreter::InterpreterInfo;
        let of = |version: &str, gil: bool| {
            Interpreter::new(InterpreterInfo {
                version: version.into(),
                gil_enabled: gil,
                executable: format!("/opt/python{version}"),
                label: Interpreter::label_of(version, gil),
            })
        };
        let (with_gil, free) = (of("3.11.7", true), of("3.13.5", false));
        let python = Workload::Cpu { iters: 1_000_000 };
        let mut m = Vec::new();
        for run in 1..=3 {
            let jitter = run as f64 * 0.002;
            m.push(measured(&CPU, Model::THREAD, 1, run, 0.5 + jitter));
            m.push(measured(&CPU, Model::THREAD, 2, run, 0.5 + jitter));
            for (interpreter, two) in [(with_gil, 1.0), (free, 0.52)] {
                let model = Model::PY_THREAD.in_interpreter(interpreter);
                m.push(measured(&python, model, 1, run, 0.5 + jitter));
                m.push(measured(&python, model, 2, run, two + jitter));
            }
        }
        for m in &mut m {
            let busy = if m.model.interpreter() == Some(with_gil) {
                1.0
            } else {
                m.workers as f64
            };
            for o in &mut m.outcomes {
                o.cpu_s = Some(busy * m.wall_s / m.workers as f64);
            }
        }
        let summary = render(&m, 2, None);
        let claim = |i: Interpreter| {
            let prefix = format!("\"threads cannot use several cores\" in {i}: ");
            let lines: Vec<&str> = summary.lines().filter(|l| l.starts_with(&prefix)).collect();
            assert_eq!(lines.len(), 1, "{summary}");
            lines[0][prefix.len()..].to_string()
        };
        assert!(
            claim(with_gil).starts_with("holds: 2 threads took 1.99×"),
            "{summary}"
        );
        assert!(
            claim(free).starts_with("does not hold here: 2 threads took 1.04×"),
            "{summary}"
        );
        assert!(
            summary.contains("the GIL of CPython 3.11.7 at 2 workers"),
            "{summary}"
        );
        assert!(
            summary.contains("CPython 3.13.5 without a GIL (free-threaded)"),
            "{summary}"
        );
    }

    #[test]
    fn parallel_serial_and_partial_cpu_runs_are_told_apart() {
        assert!(summary_of(CPU, &[(1, 1.0), (2, 1.02)]).contains("→ both CPUs used"));
        assert!(summary_of(CPU, &[(1, 1.0), (2, 2.0)]).contains("→ no parallelism"));
        assert!(
            summary_of(CPU, &[(1, 1.0), (2, 1.4)]).contains("→ partial parallelism, as if 1.4")
        );
    }

    #[test]
    fn a_speedup_beyond_the_cpus_is_called_noise_not_a_result() {
        let text = summary_of(CPU, &[(1, 1.0), (2, 0.5)]);
        assert!(
            text.contains("inconclusive") && !text.contains("CPUs used"),
            "{text}"
        );
    }

    #[test]
    fn runs_that_disagree_make_the_verdict_inconclusive() {
        let text = summary_of(CPU, &[(1, 1.0), (1, 1.5), (1, 2.0), (2, 1.5), (2, 1.5)]);
        assert!(
            text.contains("inconclusive: the runs of a cell typically differ by 33%"),
            "{text}"
        );
        // One outlier among agreeing runs moves neither the median nor the verdict.
        let text = summary_of(CPU, &[(1, 1.0), (1, 9.0), (1, 1.01), (2, 1.02), (2, 1.03)]);
        assert!(text.contains("→ both CPUs used"), "{text}");
    }

    #[test]
    fn more_workers_than_cpus_get_a_verdict_of_their_own() {
        let text = summary_of(CPU, &[(1, 1.0), (2, 1.02), (3, 1.52)]);
        assert!(
            text.contains("3 workers on 2 CPUs took 1.52× (sharing the CPUs fairly gives 1.50×) → near fair sharing"),
            "{text}"
        );
        let text = summary_of(CPU, &[(1, 1.0), (2, 1.02), (3, 2.0)]);
        assert!(
            text.contains("gives 1.50×) → 33% longer than fair sharing: as if they ran in 2 rounds of 2 at a time"),
            "{text}"
        );
    }

    #[test]
    fn waits_that_partly_overlap_are_said_to() {
        let sleep = Workload::Sleep {
            duration: Duration::from_millis(100),
        };
        assert!(
            summary_of(sleep.clone(), &[(1, 0.1), (3, 0.1)]).contains("→ the waits overlapped (")
        );
        assert!(
            summary_of(sleep.clone(), &[(1, 0.1), (3, 0.2)]).contains("overlapped only in part")
        );
        assert!(summary_of(sleep, &[(1, 0.1), (3, 0.3)]).contains("did not overlap"));
    }

    #[test]
    fn an_external_program_gets_no_claim_about_cpus() {
        let command = Workload::Command {
            argv: vec!["sleep".into(), "0.1".into()],
            name: None,
            parameters: Default::default(),
        };
        let text = summary_of(command.clone(), &[(1, 0.1), (2, 0.1)]);
        assert!(
            text.contains("as if all 2 workers ran at once") && !text.contains("CPUs used"),
            "{text}"
        );
        let text = summary_of(command, &[(1, 0.1), (2, 0.125)]);
        assert!(
            text.contains("as if 1.6 of the 2 workers ran at once") && !text.contains("CPUs used"),
            "{text}"
        );
    }

    /// Python and Rust threads on the cpu loop, 1 and 2 workers, with
    /// `others` CPUs taken by other work in every run.
    fn python_and_rust(others: Option<f64>) -> Vec<Measurement> {
        let mut ms = Vec::new();
        for (model, one, two) in [(Model::PY_THREAD, 5.0, 10.0), (Model::THREAD, 0.25, 0.26)] {
            for run in 1..=3 {
                for (workers, wall) in [(1, one), (2, two)] {
                    let mut m = measured(&CPU, model, workers, run, wall);
                    m.others_cpus = others;
                    ms.push(m);
                }
            }
        }
        ms
    }

    #[test]
    fn a_free_threaded_python_is_never_said_to_hold_a_gil() {
        let ms = python_and_rust(Some(0.0));
        let info = |gil_enabled| PythonInfo {
            exe: "python3.13t".into(),
            version: "3.13.1".into(),
            gil_enabled,
        };
        let text = render(&ms, 2, Some(&info(false)));
        assert!(
            text.contains("CPython 3.13.1 without a GIL (free-threaded) at 2 workers: Python threads took 2.00×")
                && !text.contains("the GIL at"),
            "{text}"
        );
        let text = render(&ms, 2, Some(&info(true)));
        assert!(
            text.contains("the GIL at 2 workers: Python threads took 2.00×"),
            "{text}"
        );
        assert!(
            text.contains("the cpu loop, one worker: Rust 250000.0 ns"),
            "{text}"
        );
        // The USL needs more CPUs than 2; every other line is a result.
        assert!(
            !text
                .lines()
                .any(|line| line.contains("inconclusive") && !line.contains("USL")),
            "{text}"
        );
    }

    #[test]
    fn on_a_busy_machine_no_line_claims_missing_parallelism() {
        let ms = python_and_rust(Some(1.7));
        let text = render(&ms, 2, None);
        assert!(
            !text.contains("no parallelism") && !text.contains("partial parallelism"),
            "{text}"
        );
        assert!(
            text.contains("cpu · thread: 2 workers took 1.04× as long as 1 → inconclusive: other processes kept 1.7 of the 2 CPUs busy"),
            "{text}"
        );
        // The GIL line and the per-iteration speed are inconclusive too.
        assert!(
            text.lines()
                .filter(|l| l.contains("→ inconclusive: "))
                .count()
                >= 4,
            "{text}"
        );
        assert!(
            text.contains("the cpu loop, one worker: Rust")
                && text.contains("ns (20× slower) → inconclusive: other processes"),
            "{text}"
        );
    }
}
