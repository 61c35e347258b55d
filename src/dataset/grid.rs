//! The measurements arranged as the notebook arranges them ([`Grid`]):
//! the one shape that the reports draw and the verdicts judge, so that
//! neither reaches into the other for it.

use crate::experiment::Measurement;
use crate::measure::stats::{bootstrap_ratio, median};
use crate::model::Model;
use crate::workload::Workload;

/// One column of the notebook's table: a workload run by a model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Column {
    /// What each worker did.
    pub workload: Workload,
    /// How the workers were run.
    pub model: Model,
}

/// Measurements arranged as the notebook arranges them: one row per worker
/// count, one column per (workload, model), each cell the wall times of the
/// successful runs there.
#[derive(Clone, Debug)]
pub(crate) struct Grid {
    /// Columns, workloads outermost, in the order they were first measured.
    pub columns: Vec<Column>,
    /// Worker counts, in the order they were first measured.
    pub workers: Vec<usize>,
    walls: Vec<Vec<Vec<f64>>>,
}

impl Grid {
    /// The models and the workloads of the columns, each once, in the
    /// order the columns first show them.
    pub(crate) fn models_and_workloads(&self) -> (Vec<Model>, Vec<&Workload>) {
        let mut models: Vec<Model> = Vec::new();
        let mut workloads: Vec<&Workload> = Vec::new();
        for column in &self.columns {
            if !models.contains(&column.model) {
                models.push(column.model);
            }
            if !workloads.contains(&&column.workload) {
                workloads.push(&column.workload);
            }
        }
        (models, workloads)
    }

    /// Arranges `measurements`; failed runs are left out of the cells.
    pub(crate) fn new(measurements: &[Measurement]) -> Grid {
        let mut workloads: Vec<&Workload> = Vec::new();
        let mut models: Vec<Model> = Vec::new();
        let mut workers: Vec<usize> = Vec::new();
        for m in measurements {
            if !workloads.contains(&&m.workload) {
                workloads.push(&m.workload);
            }
            if !models.contains(&m.model) {
                models.push(m.model);
            }
            if !workers.contains(&m.workers) {
                workers.push(m.workers);
            }
        }
        let columns: Vec<Column> = workloads
            .iter()
            .flat_map(|w| {
                models.iter().map(|&model| Column {
                    workload: (*w).clone(),
                    model,
                })
            })
            .filter(|c| {
                measurements
                    .iter()
                    .any(|m| m.workload == c.workload && m.model == c.model)
            })
            .collect();
        let mut walls = vec![vec![Vec::new(); workers.len()]; columns.len()];
        for m in measurements.iter().filter(|m| m.succeeded()) {
            let column = columns
                .iter()
                .position(|c| c.workload == m.workload && c.model == m.model);
            let row = workers.iter().position(|&w| w == m.workers);
            if let (Some(column), Some(row)) = (column, row) {
                walls[column][row].push(m.wall_s);
            }
        }
        Grid {
            columns,
            workers,
            walls,
        }
    }

    /// The successful runs of column `column` among `measurements` (those
    /// the grid was made from), by worker count: every count of the grid,
    /// empty where none succeeded. The verdicts judge runs, not only
    /// their wall times.
    pub(crate) fn successful_runs(
        &self,
        column: usize,
        measurements: &[Measurement],
    ) -> Vec<(usize, Vec<Measurement>)> {
        let c = &self.columns[column];
        self.workers
            .iter()
            .map(|&n| {
                let runs = measurements
                    .iter()
                    .filter(|m| {
                        m.workload == c.workload
                            && m.model == c.model
                            && m.workers == n
                            && m.succeeded()
                    })
                    .cloned()
                    .collect();
                (n, runs)
            })
            .collect()
    }

    /// The wall times of column `column` at `workers` workers.
    pub(crate) fn walls(&self, column: usize, workers: usize) -> &[f64] {
        match self.workers.iter().position(|&w| w == workers) {
            Some(row) => &self.walls[column][row],
            None => &[],
        }
    }

    /// The median wall time of column `column` at `workers` workers.
    pub(crate) fn median(&self, column: usize, workers: usize) -> Option<f64> {
        median(self.walls(column, workers))
    }

    /// Throughput gain of N workers over one, for work that grows with N
    /// (each worker does the full workload): `N·T(1)/T(N)`. `None` without
    /// a measurement at one worker.
    pub(crate) fn speedup(&self, column: usize, workers: usize) -> Option<f64> {
        let one = self.median(column, 1)?;
        let n = self.median(column, workers)?;
        // A time of 0 (a command no slower than its shell's start-up, once
        // that is subtracted) gives no ratio.
        (one > 0.0 && n > 0.0).then(|| workers as f64 * one / n)
    }

    /// The 95 % bootstrap interval of [`Grid::speedup`] over the runs;
    /// `None` with fewer than two runs on either side.
    pub(crate) fn speedup_interval(&self, column: usize, workers: usize) -> Option<(f64, f64)> {
        bootstrap_ratio(
            self.walls(column, 1),
            self.walls(column, workers),
            workers as f64,
        )
    }

    /// The 95 % bootstrap interval of [`Grid::efficiency`] over the runs.
    pub(crate) fn efficiency_interval(&self, column: usize, workers: usize) -> Option<(f64, f64)> {
        bootstrap_ratio(self.walls(column, 1), self.walls(column, workers), 1.0)
    }

    /// `T(1)/T(N)`: 1 when N workers take as long as one (perfectly
    /// parallel), 1/N when they take N times as long (one at a time).
    pub(crate) fn efficiency(&self, column: usize, workers: usize) -> Option<f64> {
        Some(self.speedup(column, workers)? / workers as f64)
    }

    /// Whether several process start methods appear, so that names must
    /// say which is which.
    pub(crate) fn mixes_start_methods(&self) -> bool {
        let mut methods = self.columns.iter().filter_map(|c| c.model.start_method());
        methods
            .next()
            .is_some_and(|first| methods.any(|m| m != first))
    }

    /// The notebook's name of a column: `CpuThread`, `IoProcess`,
    /// `CpuPyThread`, and `CpuProcessSpawn` when both start methods are in
    /// the table.
    pub(crate) fn notebook_name(&self, column: usize) -> String {
        let Column { workload, model } = &self.columns[column];
        let mut name = format!(
            "{}{}",
            workload.kind().notebook_prefix(),
            model
                .family()
                .split('-')
                .map(capitalise)
                .collect::<String>()
        );
        if let (true, Some(method)) = (self.mixes_start_methods(), model.start_method()) {
            name.push_str(&capitalise(method.name()));
        }
        // One word per column: `CpuPyThread_3.13.5t` for a free-threaded
        // build, as CPython names its programs.
        if let Some(interpreter) = model.interpreter() {
            let t = if interpreter.gil_enabled() { "" } else { "t" };
            name.push_str(&format!("_{}{t}", interpreter.version()));
            // Two programs of one version (a virtual environment beside
            // its base): the second and later get their rank among them.
            // In column order, repeated: an interpreter's rank is where it
            // first appears.
            let alike: Vec<_> = self
                .columns
                .iter()
                .filter_map(|c| c.model.interpreter())
                .filter(|i| {
                    i.version() == interpreter.version()
                        && i.gil_enabled() == interpreter.gil_enabled()
                })
                .collect();
            if let Some(rank) = alike
                .iter()
                .position(|i| *i == interpreter)
                .filter(|&r| r > 0)
            {
                name.push_str(&format!("_{}", rank + 1));
            }
        }
        name
    }

    /// The model's name as a person reads it in a table header:
    /// `thread`, `process`, or `process:spawn` when start methods mix or
    /// the method is not the default.
    pub(crate) fn model_label(&self, column: usize) -> String {
        let model = self.columns[column].model;
        match model.start_method() {
            Some(method) if self.mixes_start_methods() || method != Default::default() => {
                model.to_string()
            }
            Some(method) => match model.interpreter() {
                Some(interpreter) => {
                    format!("{} ({}, {interpreter})", model.family(), method.name())
                }
                None => format!("{} ({})", model.family(), method.name()),
            },
            None => model.to_string(),
        }
    }
}

fn capitalise(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}
