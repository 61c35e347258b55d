//! The terminal table: the notebook's numbers made readable, one block per
//! workload, with speedup and efficiency beside each time.

use super::Grid;
use crate::experiment::Measurement;
use crate::fmt::{self, Column, Table, thousands};
use crate::measure::stats::Summary;
use crate::verdict::evidence::cores_busy;
use crate::workload::Workload;

/// One block per workload:
///
/// ```text
/// cpu: 35,000,000 iterations per worker, result 9,246,240 checked in every worker
///  workers │ thread                  │ process (fork)
///        1 │ 0.252 s  ×1.00   100%   │ 0.254 s  ×1.00   100%
///        2 │ 0.256 s  ×1.97    98%   │ 0.259 s  ×1.96    98%
/// ```
pub(crate) fn render(measurements: &[Measurement]) -> String {
    let grid = Grid::new(measurements);
    let mut out = String::new();
    let mut workloads: Vec<&Workload> = Vec::new();
    for column in &grid.columns {
        if !workloads.contains(&&column.workload) {
            workloads.push(&column.workload);
        }
    }
    for workload in workloads {
        let columns: Vec<usize> = (0..grid.columns.len())
            .filter(|&c| &grid.columns[c].workload == workload)
            .collect();
        out.push_str(&block_title(workload, measurements));
        out.push('\n');

        if columns.len() > MAX_MODEL_COLUMNS {
            out.push_str(&layout(&rows_by_model(&grid, &columns, measurements)));
            continue;
        }
        let mut table = Table {
            header: std::iter::once("workers".to_string())
                .chain(columns.iter().map(|&c| grid.model_label(c)))
                .collect(),
            ..Table::default()
        };
        for &workers in &grid.workers {
            let mut row = vec![workers.to_string()];
            for &column in &columns {
                row.push(cell(&grid, column, workers, measurements));
            }
            table.row(row);
        }
        out.push_str(&layout(&table));
    }
    let runs = runs_per_cell(measurements);
    let fields = Fields::of(measurements);
    out.push_str(&format!(
        "Times are wall times{}. speedup = N·T(1)/T(N): work done per second compared with one worker \
         (each worker does the whole workload){}. efficiency = T(1)/T(N): 100% when N workers take as long as one.{}\n",
        if runs > 1 {
            let up_to = if runs_vary(measurements) { "up to " } else { "" };
            format!(", median of {up_to}{runs} runs, ± their standard deviation relative to the mean")
        } else {
            String::new()
        },
        if fields.repeated {
            ", beside it its 95% interval over the runs (bootstrap)"
        } else {
            ""
        },
        if fields.cores {
            " The last figure is cores busy: the workers' CPU time over the wall time, median over the runs."
        } else {
            ""
        }
    ));
    out
}

/// Beyond this many models a block turns around: one row per model, one
/// column per worker count, so six models still fit a terminal's width.
const MAX_MODEL_COLUMNS: usize = 3;

/// ```text
///  model          │ 1 worker                 │ 2 workers                │ 3 workers
///  thread         │   0.252 s   ×1.00   100% │   0.256 s   ×1.97    98% │ …
///  gil            │   0.253 s   ×1.00   100% │   0.508 s   ×0.99    50% │ …
/// ```
fn rows_by_model(grid: &Grid, columns: &[usize], measurements: &[Measurement]) -> Table {
    let width = columns
        .iter()
        .map(|&c| grid.model_label(c).chars().count())
        .max()
        .unwrap_or(0);
    let mut table = Table {
        header: std::iter::once(format!("{:<width$}", "model"))
            .chain(grid.workers.iter().map(|&n| fmt::count(n, "worker")))
            .collect(),
        ..Table::default()
    };
    for &column in columns {
        let mut row = vec![format!("{:<width$}", grid.model_label(column))];
        for &workers in &grid.workers {
            row.push(cell(grid, column, workers, measurements));
        }
        table.row(row);
    }
    table
}

fn block_title(workload: &Workload, measurements: &[Measurement]) -> String {
    let result = measurements
        .iter()
        .filter(|m| &m.workload == workload && m.succeeded())
        .find_map(|m| m.results().first().copied());
    match (workload, result) {
        (Workload::Cpu { iters }, Some(result)) => format!(
            "cpu: {} iterations per worker, result {} checked in every worker",
            thousands(*iters),
            thousands(result)
        ),
        (Workload::Cpu { iters }, None) => {
            format!("cpu: {} iterations per worker", thousands(*iters))
        }
        (Workload::Sleep { duration }, _) => {
            format!("sleep: {} s per worker", duration.as_secs_f64())
        }
        (Workload::Command { .. }, _) => {
            format!("{workload}: exit status 0 checked in every worker")
        }
        (Workload::Custom { name, expected }, _) => format!(
            "custom '{name}': result {} checked in every worker",
            thousands(*expected)
        ),
    }
}

/// What every cell of the table shows beside the median: the spread and
/// the speedup's interval when there are repeated runs, the cores busy
/// when CPU time was measured. The same for every cell, so columns align.
#[derive(Clone, Copy, Debug)]
struct Fields {
    repeated: bool,
    cores: bool,
}

impl Fields {
    fn of(measurements: &[Measurement]) -> Fields {
        Fields {
            repeated: runs_per_cell(measurements) > 1,
            cores: measurements.iter().any(|m| m.cores_busy().is_some()),
        }
    }
}

fn cell(grid: &Grid, column: usize, workers: usize, measurements: &[Measurement]) -> String {
    let fields = Fields::of(measurements);
    let Some(time) = grid.median(column, workers) else {
        let c = &grid.columns[column];
        let tried = measurements
            .iter()
            .any(|m| m.workload == c.workload && m.model == c.model && m.workers == workers);
        return if tried { "failed".into() } else { "-".into() };
    };
    let speedup = grid
        .speedup(column, workers)
        .map_or("-".into(), |s| format!("×{s:.2}"));
    let efficiency = grid
        .efficiency(column, workers)
        .map_or("-".into(), fmt::percent);
    // With repeated runs, the spread beside the median and the speedup's
    // 95 % interval beside it, so that a difference smaller than the noise
    // is not read as one.
    let (spread, interval) = if fields.repeated {
        let spread = match Summary::of(grid.walls(column, workers)) {
            Some(s) if s.runs > 1 => format!(" ±{:>3}", fmt::percent(s.relative_stddev())),
            _ => " ".repeat(5),
        };
        let interval = grid
            .speedup_interval(column, workers)
            .map_or_else(String::new, |(low, high)| format!("{low:.2}–{high:.2}"));
        (spread, format!(" {interval:<9}"))
    } else {
        (String::new(), String::new())
    };
    let cores = if fields.cores {
        let c = &grid.columns[column];
        let runs: Vec<Measurement> = measurements
            .iter()
            .filter(|m| {
                m.workload == c.workload
                    && m.model == c.model
                    && m.workers == workers
                    && m.succeeded()
            })
            .cloned()
            .collect();
        cores_busy(&runs).map_or_else(|| format!("  {:>5}", "-"), |busy| format!("  {busy:>5.2}"))
    } else {
        String::new()
    };
    format!(
        "{:>9}{spread}  {:>6}{interval}  {:>5}{cores}",
        fmt::seconds(time),
        speedup,
        efficiency
    )
}

/// Right-aligns the worker counts, left-aligns the rest, with `│` between.
fn layout(table: &Table) -> String {
    table.render_rows(" ", &[Column::RIGHT])
}

/// How many timed runs each cell had, as the plan asked for them.
fn runs_per_cell(measurements: &[Measurement]) -> usize {
    measurements.iter().map(|m| m.run).max().unwrap_or(0)
}

/// Whether the cells had different numbers of runs (adaptive runs).
fn runs_vary(measurements: &[Measurement]) -> bool {
    let runs = runs_per_cell(measurements);
    measurements.iter().any(|m| {
        !measurements.iter().any(|o| {
            o.workload == m.workload
                && o.model == m.model
                && o.workers == m.workers
                && o.run == runs
        })
    })
}
