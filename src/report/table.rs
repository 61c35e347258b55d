//! The terminal table: the notebook's numbers made readable, one block per
//! workload, with speedup and efficiency beside each time.

use crate::dataset::Grid;
use crate::experiment::Measurement;
use crate::fmt::{self, Column, Table, TimeUnit, thousands};
use crate::measure::stats::{Summary, median};
use crate::model::WorkerStatus;
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
    render_in(measurements, None)
}

/// [`render`] with every time in `unit` (`--time-unit`); `None` gives
/// each column the unit its wall times suit, one unit per column.
pub(crate) fn render_in(measurements: &[Measurement], unit: Option<TimeUnit>) -> String {
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

        let table = |part| {
            layout(&if columns.len() > MAX_MODEL_COLUMNS {
                rows_by_model(&grid, &columns, measurements, part, unit)
            } else {
                models_across(&grid, &columns, measurements, part, unit)
            })
        };
        // The figures in one table when it fits a terminal, else in two,
        // else in three: never a line wider than MAX_WIDTH when avoidable.
        let splits: [&[Part]; 3] = [
            &[Part::All],
            &[Part::TimesAndCpu, Part::Speedups],
            &[Part::Times, Part::Cpu, Part::Speedups],
        ];
        let tables: Vec<Vec<(Part, String)>> = splits
            .iter()
            .map(|parts| parts.iter().map(|&p| (p, table(p))).collect())
            .collect();
        let chosen = tables
            .iter()
            .find(|t| t.iter().all(|(_, text)| widest(text) <= MAX_WIDTH))
            .unwrap_or(&tables[2]);
        for (part, text) in chosen {
            if let Some(title) = part.title() {
                out.push_str(title);
            }
            out.push_str(text);
        }
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
            " Cores busy, the last figure after each time, is the workers' CPU time over the wall time, median over the runs."
        } else {
            ""
        },
    ));
    if fields.split {
        out.push_str(
            "user and sys: the workers' user and system (kernel) CPU time, summed over the workers, median over the runs, one unit per column; - where the model does not measure them.\n",
        );
    }
    out
}

/// The widest a table may be before its figures are split in two
/// tables, times and speedups: a common terminal's width.
pub(crate) const MAX_WIDTH: usize = 100;

/// The widest line of `text`, in characters.
fn widest(text: &str) -> usize {
    text.lines().map(|l| l.chars().count()).max().unwrap_or(0)
}

/// Which figures a cell shows: all of them, or, when they do not fit a
/// terminal together, some of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Part {
    /// Time, spread, user and system time, speedup, interval, efficiency,
    /// cores busy.
    All,
    /// Time, spread, cores busy, user and system time.
    TimesAndCpu,
    /// Time, spread, cores busy.
    Times,
    /// User and system time.
    Cpu,
    /// Speedup, interval, efficiency.
    Speedups,
}

impl Part {
    /// The line above a table of this part, when the figures are split.
    fn title(self) -> Option<&'static str> {
        match self {
            Part::All => None,
            Part::TimesAndCpu => Some(" wall time ± spread, cores busy, user and sys time:\n"),
            Part::Times => Some(" wall time ± spread, cores busy:\n"),
            Part::Cpu => Some(" user and sys time (summed over the workers):\n"),
            Part::Speedups => Some(" speedup, its 95% interval, efficiency:\n"),
        }
    }
}

/// One row per worker count, one column per model.
fn models_across(
    grid: &Grid,
    columns: &[usize],
    measurements: &[Measurement],
    part: Part,
    unit: Option<TimeUnit>,
) -> Table {
    let mut table = Table {
        header: std::iter::once("workers".to_string())
            .chain(columns.iter().map(|&c| grid.model_label(c)))
            .collect(),
        ..Table::default()
    };
    for &workers in &grid.workers {
        let mut row = vec![workers.to_string()];
        for &column in columns {
            let cells = grid.workers.iter().map(|&n| (column, n));
            let unit = unit_of(unit, grid, measurements, part, cells);
            row.push(cell(grid, column, workers, measurements, part, unit));
        }
        table.row(row);
    }
    table
}

/// The unit of one column of a table: `forced` (`--time-unit`), else the
/// one its figures suit: the wall times, or for the table of CPU times
/// alone, the user and system times it shows.
fn unit_of(
    forced: Option<TimeUnit>,
    grid: &Grid,
    measurements: &[Measurement],
    part: Part,
    cells: impl Iterator<Item = (usize, usize)>,
) -> TimeUnit {
    let times: Vec<f64> = cells
        .flat_map(|(column, workers)| match part {
            Part::Cpu => {
                let runs = successful_runs(grid, measurements, column, workers);
                [
                    median_of(&runs, Measurement::user_s),
                    median_of(&runs, Measurement::system_s),
                ]
            }
            _ => [grid.median(column, workers), None],
        })
        .flatten()
        .collect();
    TimeUnit::chosen_or(forced, times)
}

/// The successful runs of one cell.
fn successful_runs(
    grid: &Grid,
    measurements: &[Measurement],
    column: usize,
    workers: usize,
) -> Vec<Measurement> {
    let c = &grid.columns[column];
    measurements
        .iter()
        .filter(|m| {
            m.workload == c.workload && m.model == c.model && m.workers == workers && m.succeeded()
        })
        .cloned()
        .collect()
}

/// The median over `runs` of a figure every run has (`None` when one
/// lacks it).
fn median_of(runs: &[Measurement], figure: fn(&Measurement) -> Option<f64>) -> Option<f64> {
    let values: Option<Vec<f64>> = runs.iter().map(figure).collect();
    values.and_then(|v| median(&v))
}

/// Beyond this many models a block turns around: one row per model, one
/// column per worker count, so six models still fit a terminal's width.
const MAX_MODEL_COLUMNS: usize = 3;

/// ```text
///  model          │ 1 worker                 │ 2 workers                │ 3 workers
///  thread         │   0.252 s   ×1.00   100% │   0.256 s   ×1.97    98% │ …
///  gil            │   0.253 s   ×1.00   100% │   0.508 s   ×0.99    50% │ …
/// ```
fn rows_by_model(
    grid: &Grid,
    columns: &[usize],
    measurements: &[Measurement],
    part: Part,
    unit: Option<TimeUnit>,
) -> Table {
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
            let cells = columns.iter().map(|&c| (c, workers));
            let unit = unit_of(unit, grid, measurements, part, cells);
            row.push(cell(grid, column, workers, measurements, part, unit));
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
        (Workload::Command { .. }, _) => command_title(workload, measurements),
        (Workload::Custom { name, expected }, Some(_)) => format!(
            "custom '{name}': result {} checked in every worker",
            thousands(*expected)
        ),
        (Workload::Custom { name, .. }, None) => format!("custom '{name}': no run succeeded"),
    }
}

/// A command's block title: its exit status checked, or the non-zero codes
/// `-i` let through (hyperfine warns of them too), or that no run
/// succeeded.
fn command_title(workload: &Workload, measurements: &[Measurement]) -> String {
    let runs: Vec<&Measurement> = measurements
        .iter()
        .filter(|m| &m.workload == workload && m.succeeded())
        .collect();
    let mut ignored: Vec<i32> = runs
        .iter()
        .flat_map(|m| &m.outcomes)
        .filter_map(|o| match o.status {
            WorkerStatus::IgnoredExit { code } => Some(code),
            _ => None,
        })
        .collect();
    ignored.sort_unstable();
    ignored.dedup();
    let codes = ignored.iter().map(i32::to_string).collect::<Vec<_>>();
    let status = match (runs.is_empty(), codes.is_empty()) {
        (true, _) => return format!("{workload}: no run succeeded"),
        (false, true) => "exit status 0 checked in every worker".to_string(),
        (false, false) => format!(
            "non-zero exit status ignored (-i): {} seen",
            codes.join(", ")
        ),
    };
    format!(
        "{workload}: {status}{}",
        shell_startup_note(workload, &runs)
    )
}

/// Which shell start-up was taken out of a command's times, from the
/// fastest cell's to the slowest's: `; sh's start-up subtracted (0.9–1.6
/// ms), as hyperfine does; -N runs it without a shell`.
fn shell_startup_note(workload: &Workload, runs: &[&Measurement]) -> String {
    let startups: Vec<f64> = runs
        .iter()
        .filter_map(|m| Some(m.shell_startup.as_ref()?.wall_s))
        .collect();
    let (Some(least), Some(most)) = (
        startups.iter().copied().reduce(f64::min),
        startups.iter().copied().reduce(f64::max),
    ) else {
        return String::new();
    };
    let shell = match workload {
        Workload::Command { argv, .. } => argv.first().map_or("the shell", |s| s.as_str()),
        _ => "the shell",
    };
    let range = if fmt::seconds(least) == fmt::seconds(most) {
        fmt::seconds(least)
    } else {
        format!("{}–{}", fmt::seconds(least), fmt::seconds(most))
    };
    format!(
        "; {shell}'s start-up subtracted ({range}), as hyperfine does; -N runs it without a shell"
    )
}

/// What every cell of the table shows beside the median: the spread and
/// the speedup's interval when there are repeated runs, the cores busy
/// when CPU time was measured. The same for every cell, so columns align.
#[derive(Clone, Copy, Debug)]
struct Fields {
    repeated: bool,
    cores: bool,
    /// User and system time, where some model split its CPU time.
    split: bool,
}

impl Fields {
    fn of(measurements: &[Measurement]) -> Fields {
        Fields {
            repeated: runs_per_cell(measurements) > 1,
            cores: measurements.iter().any(|m| m.cores_busy().is_some()),
            split: measurements
                .iter()
                .any(|m| m.user_s().is_some() && m.system_s().is_some()),
        }
    }
}

fn cell(
    grid: &Grid,
    column: usize,
    workers: usize,
    measurements: &[Measurement],
    part: Part,
    unit: TimeUnit,
) -> String {
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
    let runs = successful_runs(grid, measurements, column, workers);
    let cores = if fields.cores {
        cores_busy(&runs).map_or_else(|| format!("  {:>5}", "-"), |busy| format!("  {busy:>5.2}"))
    } else {
        String::new()
    };
    let cpu = if fields.split {
        let of = |figure: fn(&Measurement) -> Option<f64>| {
            median_of(&runs, figure).map_or_else(|| "-".to_string(), |t| unit.format(t))
        };
        format!(
            "  user {:>9} sys {:>9}",
            of(Measurement::user_s),
            of(Measurement::system_s)
        )
    } else {
        String::new()
    };
    let time = unit.format(time);
    match part {
        Part::All => {
            format!("{time:>9}{spread}{cpu}  {speedup:>6}{interval}  {efficiency:>5}{cores}")
        }
        Part::TimesAndCpu => format!("{time:>9}{spread}{cores}{cpu}"),
        Part::Times => format!("{time:>9}{spread}{cores}"),
        Part::Cpu => cpu.trim_start().to_string(),
        Part::Speedups => format!("{speedup:>6}{interval} {efficiency:>5}"),
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Model, StartMethod, WorkerOutcome, WorkerStatus};

    /// A run of `workers` workers of `model` on `workload`, each busy for
    /// half the wall time.
    fn run(
        workload: &Workload,
        model: Model,
        workers: usize,
        run: usize,
        wall_s: f64,
    ) -> Measurement {
        Measurement {
            workload: workload.clone(),
            model,
            workers,
            run,
            wall_s,
            outcomes: (0..workers)
                .map(|w| WorkerOutcome {
                    cpu_s: Some(wall_s / 2.0),
                    ..WorkerOutcome::failed(w, WorkerStatus::Finished { result: 1 })
                })
                .collect(),
            memory: None,
            others_cpus: Some(0.0),
            steal_cpus: Some(0.0),
            cpu_pressure: None,
            launch_s: None,
            shell_startup: None,
        }
    }

    /// Three runs of every cell, spread enough to give every interval,
    /// for `models` at 1, 2 and 3 workers, cpu and sleep.
    fn sweep(models: &[Model]) -> Vec<Measurement> {
        let mut ms = Vec::new();
        for workload in [
            Workload::Cpu { iters: 35_000_000 },
            Workload::Sleep {
                duration: std::time::Duration::from_secs(1),
            },
        ] {
            for &model in models {
                for workers in 1..=3 {
                    for (k, jitter) in [1.0, 1.13, 0.91].into_iter().enumerate() {
                        let wall = 0.2523 * workers as f64 * jitter;
                        ms.push(run(&workload, model, workers, k + 1, wall));
                    }
                }
            }
        }
        ms
    }

    fn widest_table_line(text: &str) -> usize {
        // The footnote is prose, which a terminal wraps.
        text.lines()
            .filter(|l| !l.starts_with("Times are"))
            .map(|l| l.chars().count())
            .max()
            .unwrap()
    }

    #[test]
    fn six_models_with_intervals_fit_a_terminal() {
        let models = [
            Model::THREAD,
            Model::process(StartMethod::Fork),
            Model::ASYNC,
            Model::POOL,
            Model::GIL,
            Model::process(StartMethod::Spawn),
        ];
        let text = render(&sweep(&models));
        assert!(widest_table_line(&text) <= MAX_WIDTH, "{text}");
        // Nothing is lost: every interval and cores busy figure is there.
        assert!(text.contains("95% interval"), "{text}");
        for model in models {
            let label = model.to_string();
            assert!(
                text.lines()
                    .filter(|l| l.contains(&format!(" {label} ")))
                    .count()
                    >= 4,
                "{label}: {text}"
            );
        }
        let cells_with_interval = text
            .lines()
            .flat_map(|l| l.split('│'))
            .filter(|cell| cell.contains('–') && cell.contains('×') && cell.contains('%'))
            .count();
        assert_eq!(cells_with_interval, 6 * 3 * 2, "{text}");
        let times_with_cores = text
            .lines()
            .flat_map(|l| l.split('│'))
            .filter(|cell| {
                cell.contains('±')
                    && cell
                        .split_whitespace()
                        .last()
                        .is_some_and(|busy| busy.parse::<f64>().is_ok())
            })
            .count();
        assert_eq!(times_with_cores, 6 * 3 * 2, "{text}");
    }

    #[test]
    fn a_column_never_mixes_units() {
        let cpu = Workload::Cpu { iters: 1 };
        // 72 ms at one worker, 0.19 s at two: both in seconds, as the larger.
        let ms = vec![
            run(&cpu, Model::THREAD, 1, 1, 0.0717),
            run(&cpu, Model::THREAD, 2, 1, 0.188),
        ];
        let text = render(&ms);
        assert!(
            text.contains("0.072 s") && text.contains("0.188 s") && !text.contains(" ms "),
            "{text}"
        );
        let text = render_in(&ms, Some(TimeUnit::Second));
        assert!(
            text.contains("0.072 s") && text.contains("0.188 s"),
            "{text}"
        );
    }

    #[test]
    fn the_default_two_models_fit_a_terminal_too() {
        let text = render(&sweep(&[Model::THREAD, Model::process(StartMethod::Fork)]));
        assert!(widest_table_line(&text) <= MAX_WIDTH, "{text}");
        // And one run per cell keeps its figures on one line.
        let one_run: Vec<Measurement> = sweep(&[Model::THREAD])
            .into_iter()
            .filter(|m| m.run == 1)
            .collect();
        let text = render(&one_run);
        assert!(!text.contains("speedup, its 95% interval"), "{text}");
    }
}
