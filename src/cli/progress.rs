//! The progress bar on stderr, an observer of the running experiment: what
//! is running, how far the plan has got, and how long the rest should take.

use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::experiment::{Observer, Plan, RunKind};
use crate::fmt::count;
use crate::model::Model;
use crate::workload::Workload;

/// An indicatif bar on stderr, advanced once per run (warm-ups included).
///
/// Runs per cell may be chosen as the sweep goes (fewer for long cells,
/// more where runs disagree), so the bar's length is the plan's count
/// corrected as each cell ends, and the time left is estimated from the
/// time the finished cells took, not from a fixed count of runs.
///
/// It draws nothing when hidden, so callers may always attach it. The
/// bar is cleared when dropped, before anything is printed on stdout, so
/// it never mixes with the results.
pub(crate) struct Progress {
    // Dropped first: the ticker stops before the bar is cleared.
    ticker: Option<crate::sys::threads::Ticker>,
    bar: ProgressBar,
    running: bool,
    tally: Tally,
    /// When the sweep should end, as the finished cells tell; read by
    /// the bar at every tick.
    end: Arc<Mutex<Option<Instant>>>,
}

/// How far the sweep has got, cell by cell.
#[derive(Debug, Default)]
struct Tally {
    /// Runs the plan gives each cell, warm-ups included.
    planned: usize,
    /// Cells in the plan.
    cells: usize,
    /// Cells finished.
    done: usize,
    /// The cell running now, and the runs it has started.
    current: Option<(Workload, Model, usize)>,
    made: usize,
    started: Option<Instant>,
}

impl Progress {
    /// A bar on stderr, shown only when `show` is true and stderr is a
    /// terminal; coloured unless `NO_COLOR` is set (see no-color.org).
    pub(crate) fn stderr(show: bool) -> Progress {
        let visible = show && std::io::stderr().is_terminal();
        let target = if visible {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        let colour = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        let template = if colour {
            "{spinner:.green} [{bar:20.cyan/blue}] {pos}/{len} {msg} · ETA {left:.bold}"
        } else {
            "{spinner} [{bar:20}] {pos}/{len} {msg} · ETA {left}"
        };
        let end = Arc::new(Mutex::new(None));
        let shared_end = Arc::clone(&end);
        let style = ProgressStyle::with_template(template)
            .expect("the template is valid")
            .with_key(
                "left",
                move |_: &indicatif::ProgressState, out: &mut dyn std::fmt::Write| {
                    let end = *shared_end.lock().unwrap_or_else(|e| e.into_inner());
                    let _ = out.write_str(&time_left(end, Instant::now()));
                },
            )
            .progress_chars("=> ");
        let bar = ProgressBar::with_draw_target(Some(0), target).with_style(style);
        Progress {
            ticker: None,
            bar,
            running: false,
            tally: Tally::default(),
            end,
        }
    }
}

/// `~12 s`, from when the sweep should end; `…` before any cell has
/// ended, with nothing to estimate from.
fn time_left(end: Option<Instant>, now: Instant) -> String {
    match end {
        None => "…".to_string(),
        Some(end) => {
            let left = end.saturating_duration_since(now).as_secs_f64();
            format!("~{:.0} s", left.ceil())
        }
    }
}

impl Tally {
    /// A run of (`workload`, `model`, `workers`) starts: how much the
    /// bar's length changes. A new cell takes off the runs the one before
    /// did not make; a cell's run beyond the plan's adds one.
    fn run_started(&mut self, workload: &Workload, model: Model, workers: usize) -> i64 {
        let mut change = 0;
        let same = self
            .current
            .as_ref()
            .is_some_and(|(w, m, n)| w == workload && *m == model && *n == workers);
        if !same {
            if self.current.is_some() {
                change -= self.planned.saturating_sub(self.made) as i64;
                self.done += 1;
            }
            self.current = Some((workload.clone(), model, workers));
            self.made = 0;
        }
        self.made += 1;
        if self.made > self.planned {
            change += 1;
        }
        change
    }

    /// When the sweep should end, at `now`: the cells left (this one
    /// included) at the finished cells' average time each.
    fn expected_end(&self, now: Instant) -> Option<Instant> {
        let started = self.started?;
        if self.done == 0 {
            return None;
        }
        let per_cell = now.duration_since(started).as_secs_f64() / self.done as f64;
        let left = self.cells.saturating_sub(self.done) as f64 * per_cell;
        Some(now + Duration::from_secs_f64(left))
    }
}

/// `cpu · thread · 3 workers · run 2/5`, `… · warm-up 1/1`.
pub(crate) fn describe(workload: &Workload, model: Model, workers: usize, kind: RunKind) -> String {
    let run = match kind {
        RunKind::Warmup(k, n) => format!("warm-up {k}/{n}"),
        RunKind::Timed(k, n) if k <= n => format!("run {k}/{n}"),
        // Adaptive runs go beyond the plan's count only while the runs
        // disagree.
        RunKind::Timed(k, _) => format!("run {k}, more as the runs disagree"),
    };
    format!(
        "{} · {model} · {} · {run}",
        workload.kind(),
        count(workers, "worker")
    )
}

impl Observer for Progress {
    fn plan_started(&mut self, plan: &Plan) {
        self.tally = Tally {
            planned: plan.runs + plan.warmup,
            cells: plan.workloads.len() * plan.models.len() * plan.workers.len(),
            started: Some(Instant::now()),
            ..Tally::default()
        };
        self.bar.set_length(plan.total_runs() as u64);
        // indicatif's enable_steady_tick panics when the OS refuses its
        // thread; a hidden bar needs no ticks, a shown one goes without.
        if !self.bar.is_hidden() {
            let bar = self.bar.clone();
            self.ticker =
                crate::sys::threads::Ticker::start(Duration::from_millis(120), move || bar.tick())
                    .ok();
        }
    }

    fn run_started(&mut self, workload: &Workload, model: Model, workers: usize, kind: RunKind) {
        if self.running {
            self.bar.inc(1);
        }
        self.running = true;
        let done = self.tally.done;
        let change = self.tally.run_started(workload, model, workers);
        let length = self.bar.length().unwrap_or(0) as i64;
        self.bar.set_length((length + change).max(0) as u64);
        if self.tally.done != done {
            *self.end.lock().unwrap_or_else(|e| e.into_inner()) =
                self.tally.expected_end(Instant::now());
        }
        self.bar
            .set_message(describe(workload, model, workers, kind));
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describes_what_is_running() {
        let cpu = Workload::Cpu { iters: 1 };
        assert_eq!(
            describe(&cpu, Model::THREAD, 3, RunKind::Timed(2, 5)),
            "cpu · thread · 3 workers · run 2/5"
        );
        assert_eq!(
            describe(&cpu, Model::THREAD, 1, RunKind::Warmup(1, 1)),
            "cpu · thread · 1 worker · warm-up 1/1"
        );
    }

    #[test]
    fn a_run_beyond_the_plan_says_why() {
        let cpu = Workload::Cpu { iters: 1 };
        assert_eq!(
            describe(&cpu, Model::THREAD, 2, RunKind::Timed(4, 3)),
            "cpu · thread · 2 workers · run 4, more as the runs disagree"
        );
    }

    fn plan(runs: usize) -> Plan {
        Plan {
            workloads: vec![Workload::Cpu { iters: 1 }],
            models: vec![Model::THREAD, Model::POOL],
            workers: vec![1, 2],
            runs,
            warmup: 0,
        }
    }

    #[test]
    fn the_length_follows_the_runs_each_cell_makes() {
        let cpu = Workload::Cpu { iters: 1 };
        let mut progress = Progress::stderr(false);
        progress.plan_started(&plan(3));
        assert_eq!(progress.bar.length(), Some(12));
        // A long cell stops after one run: its two others are taken off
        // when the next cell starts.
        progress.run_started(&cpu, Model::THREAD, 1, RunKind::Timed(1, 3));
        progress.run_started(&cpu, Model::POOL, 1, RunKind::Timed(1, 3));
        assert_eq!(progress.bar.length(), Some(10));
        assert_eq!(progress.bar.position(), 1);
        // A cell whose runs disagree makes five: two more than planned.
        for k in 2..=5 {
            progress.run_started(&cpu, Model::POOL, 1, RunKind::Timed(k, 3));
        }
        assert_eq!(progress.bar.length(), Some(12));
        // Then two cells of three as planned: the length stays.
        for (model, workers) in [(Model::THREAD, 2), (Model::POOL, 2)] {
            for k in 1..=3 {
                progress.run_started(&cpu, model, workers, RunKind::Timed(k, 3));
            }
        }
        assert_eq!(progress.bar.length(), Some(12));
        assert_eq!(progress.bar.position(), 11);
        // Three cells finished: the time left is estimated from them.
        assert_eq!(progress.tally.done, 3);
        assert!(progress.end.lock().unwrap().is_some());
    }

    #[test]
    fn the_time_left_comes_from_the_cells_finished() {
        let start = Instant::now();
        let tally = Tally {
            planned: 3,
            cells: 12,
            done: 3,
            started: Some(start),
            ..Tally::default()
        };
        // Three cells in 6 s: 2 s each, nine left.
        let now = start + Duration::from_secs(6);
        let end = tally.expected_end(now).unwrap();
        assert_eq!(end.duration_since(now), Duration::from_secs(18));
        assert_eq!(time_left(Some(end), now), "~18 s");
        assert_eq!(time_left(Some(end), end + Duration::from_secs(1)), "~0 s");
        assert_eq!(time_left(None, now), "…");
        let fresh = Tally { done: 0, ..tally };
        assert_eq!(fresh.expected_end(now), None);
    }

    #[test]
    fn hidden_when_asked() {
        assert!(Progress::stderr(false).bar.is_hidden());
    }
}
