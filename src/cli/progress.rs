//! The progress bar on stderr, an observer of the running experiment: what
//! is running, how far the plan has got, and how long the rest should take.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::experiment::{Measurement, Observer, Plan, RunKind};
use crate::fmt::{TimeUnit, count};
use crate::measure::stats::median;
use crate::model::Model;
use crate::workload::Workload;

/// How progress is shown on stderr (`--style`, hyperfine's values).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Style {
    /// The bar on a terminal, nothing otherwise, coloured unless NO_COLOR
    /// is set
    #[default]
    #[value(skip)]
    Auto,
    /// No bar and no colours: one line per finished cell (for logs and CI)
    Basic,
    /// The bar with colours
    Full,
    /// The bar without colours
    Nocolor,
    /// One line per finished cell, coloured
    Color,
    /// No progress at all (warnings are still shown)
    None,
}

impl Style {
    /// Whether the bar is drawn (on a terminal).
    fn bar(self) -> bool {
        matches!(self, Style::Auto | Style::Full | Style::Nocolor)
    }

    /// Whether a line is written per finished cell.
    fn lines(self) -> bool {
        matches!(self, Style::Basic | Style::Color)
    }

    /// Whether colours are used: forced by `full` and `color`, never by
    /// `basic` and `nocolor`, else unless NO_COLOR is set (no-color.org).
    fn colour(self) -> bool {
        match self {
            Style::Full | Style::Color => true,
            Style::Basic | Style::Nocolor | Style::None => false,
            Style::Auto => std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        }
    }
}

/// The style `--style` chose for this process, set once the options are
/// checked; bench's [`Progress::stderr`] reads it, so that the style
/// reaches the bar without another argument through every caller.
static CHOSEN: AtomicU8 = AtomicU8::new(0);

/// The styles in [`CHOSEN`]'s numbering.
const STYLES: [Style; 6] = [
    Style::Auto,
    Style::Basic,
    Style::Full,
    Style::Nocolor,
    Style::Color,
    Style::None,
];

/// Records the style `--style` chose.
pub(crate) fn choose(style: Style) {
    let index = STYLES.iter().position(|&s| s == style).unwrap_or(0);
    CHOSEN.store(index as u8, Ordering::Relaxed);
}

/// The style `--style` chose, [`Style::Auto`] without it.
fn chosen() -> Style {
    STYLES[usize::from(CHOSEN.load(Ordering::Relaxed)).min(STYLES.len() - 1)]
}

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
    /// How progress is shown.
    style: Style,
    /// The timed runs of the cell running now, for its line.
    cell_runs: Vec<Measurement>,
    /// Where each cell's line goes (stderr; a buffer in tests).
    lines: Box<dyn Write + Send>,
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
    /// Progress on stderr in the style `--style` chose (nothing when
    /// `show` is false: `--quiet`).
    pub(crate) fn stderr(show: bool) -> Progress {
        Progress::styled(if show { chosen() } else { Style::None })
    }

    /// Progress on stderr in `style`: a bar only when stderr is a
    /// terminal, lines wherever stderr goes.
    pub(crate) fn styled(style: Style) -> Progress {
        Progress::to(style, Box::new(std::io::stderr()))
    }

    /// Progress in `style`, its lines written to `lines`.
    fn to(style: Style, lines: Box<dyn Write + Send>) -> Progress {
        let visible = style.bar() && std::io::stderr().is_terminal();
        let target = if visible {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        let colour = style.colour();
        let template = if colour {
            "{spinner:.green} [{bar:20.cyan/blue}] {pos}/{len} {msg} · ETA {left:.bold}"
        } else {
            "{spinner} [{bar:20}] {pos}/{len} {msg} · ETA {left}"
        };
        let end = Arc::new(Mutex::new(None));
        let shared_end = Arc::clone(&end);
        let bar_style = ProgressStyle::with_template(template)
            .expect("the template is valid")
            .with_key(
                "left",
                move |_: &indicatif::ProgressState, out: &mut dyn std::fmt::Write| {
                    let end = *shared_end.lock().unwrap_or_else(|e| e.into_inner());
                    let _ = out.write_str(&time_left(end, Instant::now()));
                },
            )
            .progress_chars("=> ");
        let bar = ProgressBar::with_draw_target(Some(0), target).with_style(bar_style);
        Progress {
            ticker: None,
            bar,
            running: false,
            tally: Tally::default(),
            end,
            style,
            cell_runs: Vec::new(),
            lines,
        }
    }

    /// Writes the line of the cell that just ended, in the line styles:
    /// `cpu · thread · 2 workers: 3 runs, median 0.252 s (user 0.497 s,
    /// system 0.004 s) · 4/12 cells · ETA ~9 s`.
    fn cell_ended(&mut self, cell: &(Workload, Model, usize)) {
        let runs = std::mem::take(&mut self.cell_runs);
        if !self.style.lines() {
            return;
        }
        let line = cell_line(cell, &runs, self.tally.done, self.tally.cells, {
            let end = *self.end.lock().unwrap_or_else(|e| e.into_inner());
            (self.tally.done < self.tally.cells).then(|| time_left(end, Instant::now()))
        });
        let line = if self.style.colour() {
            match line.split_once(": ") {
                Some((label, rest)) => format!("\x1b[1m{label}\x1b[0m: {rest}"),
                None => line,
            }
        } else {
            line
        };
        // Progress is best effort: a closed stderr loses it, not the run.
        let _ = writeln!(self.lines, "{line}");
    }
}

/// The line of a finished cell: its timed runs, their median wall time
/// and user and system time (summed over workers) where measured, the
/// cells done, and the time left when some are.
fn cell_line(
    (workload, model, workers): &(Workload, Model, usize),
    runs: &[Measurement],
    done: usize,
    cells: usize,
    left: Option<String>,
) -> String {
    let label = crate::experiment::run_label(workload, *model, *workers);
    let ok: Vec<&Measurement> = runs.iter().filter(|m| m.succeeded()).collect();
    let failed = runs.len() - ok.len();
    let walls: Vec<f64> = ok.iter().map(|m| m.wall_s).collect();
    let mut text = format!("{label}: {}", count(runs.len(), "run"));
    if failed > 0 {
        text.push_str(&format!(" ({failed} failed)"));
    }
    if let Some(wall) = median(&walls) {
        let unit = TimeUnit::for_times([wall]);
        text.push_str(&format!(", median {}", unit.format(wall)));
        let of = |figure: fn(&Measurement) -> Option<f64>| {
            let values: Option<Vec<f64>> = ok.iter().map(|m| figure(m)).collect();
            median(&values?)
        };
        if let (Some(user), Some(system)) = (of(Measurement::user_s), of(Measurement::system_s)) {
            text.push_str(&format!(
                " (user {}, system {})",
                unit.format(user),
                unit.format(system)
            ));
        }
    }
    text.push_str(&format!(" · {done}/{cells} cells"));
    if let Some(left) = left {
        text.push_str(&format!(" · ETA {left}"));
    }
    text
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
        let previous = self.tally.current.clone();
        let change = self.tally.run_started(workload, model, workers);
        let length = self.bar.length().unwrap_or(0) as i64;
        self.bar.set_length((length + change).max(0) as u64);
        if self.tally.done != done {
            *self.end.lock().unwrap_or_else(|e| e.into_inner()) =
                self.tally.expected_end(Instant::now());
            if let Some(cell) = previous {
                self.cell_ended(&cell);
            }
        }
        self.bar
            .set_message(describe(workload, model, workers, kind));
    }

    fn measured(&mut self, measurement: &Measurement) {
        self.cell_runs.push(measurement.clone());
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
        // The last cell ends with the sweep (or an interrupted sweep's
        // cell with what it made).
        if let Some(cell) = self.tally.current.take()
            && !self.cell_runs.is_empty()
        {
            self.tally.done += 1;
            self.cell_ended(&cell);
        }
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
