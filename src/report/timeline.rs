//! Timelines: when each worker of one run began and ended its workload,
//! drawn as a Gantt chart (one bar per worker, time from the run's start
//! along x), so that a lock's serialisation (bars one after another), a
//! start method's start-up (late starts) and a pool's queueing (bars in
//! rounds) show at a glance.
//!
//! One chart per (workload, model) at a chosen worker count, for the run
//! of median wall time there. The SVG is written by hand: bars and text
//! only, laid out so that no two labels overlap.

use std::fmt::Write as _;

use super::html::escape;
use super::plot::{Plot, TITLE_PX, colour, linear_ticks, stem, tick_seconds, trim, vertical_grid};
use crate::dataset::Grid;
use crate::dataset::Record;
use crate::experiment::Measurement;
use crate::fmt;
use crate::model::Model;
use crate::workload::Workload;

/// Width of every timeline, in pixels (as wide as the other plots).
const WIDTH: f64 = 1000.0;
/// Room at the left for the workers' names.
const LEFT: f64 = 100.0;
/// Room at the right, so that the last tick's label is not cut.
const RIGHT: f64 = 40.0;
/// Room above the bars for the title.
const TOP: f64 = 52.0;
/// Room under the bars for the axis and its title, above the notes.
const AXIS_ROOM: f64 = 66.0;
/// Height of one line of notes under the axis.
const NOTE_LINE: f64 = 18.0;
/// Height given to one worker's row while the rows fit in [`MAX_BARS`].
const ROW: f64 = 22.0;
/// The most height the bars may take, however many workers there are.
const MAX_BARS: f64 = 480.0;
/// The smallest row a worker's name is written beside (font 12 px).
const NAMED_ROW: f64 = 14.0;
/// The opacity of a bar whose worker took turns at a global lock: the
/// turns are drawn solid over it.
const HELD_BACKGROUND: f64 = 0.22;

/// Every timeline of `record`: for each workload and model, at the CPUs'
/// count (or the largest count under it) and at the largest count run.
pub(crate) fn timelines(record: &Record) -> Vec<Plot> {
    let grid = Grid::new(&record.measurements);
    let (models, workloads) = grid.models_and_workloads();
    let mut plots = Vec::new();
    for workload in &workloads {
        let stem = stem(&workloads, workload);
        for workers in chosen_counts(&grid, record.cpus()) {
            for (column, c) in grid.columns.iter().enumerate() {
                if &c.workload != *workload {
                    continue;
                }
                let Some(run) = median_run(record, workload, c.model, workers) else {
                    continue;
                };
                let index = models.iter().position(|&m| m == c.model).unwrap_or(0);
                let label = grid.model_label(column);
                let title = format!(
                    "{workload} · {label} · {}: run {} of {}, the median",
                    fmt::count(workers, "worker"),
                    run.run,
                    record.runs().max(run.run),
                );
                let alone = alone(record, workload, c.model);
                plots.push(Plot {
                    file_name: format!("timeline-{stem}-{}-n{workers}.svg", slug(&label)),
                    svg: draw(&title, run, alone, colour(index)),
                    title,
                });
            }
        }
    }
    plots
}

/// The worker counts drawn: the largest one run that is at most the
/// CPUs (where the models should run side by side), and the largest one
/// run (where they must share); a single worker says nothing of either.
fn chosen_counts(grid: &Grid, cpus: usize) -> Vec<usize> {
    let mut counts: Vec<usize> = Vec::new();
    let at_most_cpus = grid
        .workers
        .iter()
        .copied()
        .filter(|&n| n > 1 && n <= cpus)
        .max();
    let largest = grid.workers.iter().copied().filter(|&n| n > 1).max();
    for n in [at_most_cpus, largest].into_iter().flatten() {
        if !counts.contains(&n) {
            counts.push(n);
        }
    }
    counts
}

/// The successful run of median wall time at (`workload`, `model`,
/// `workers`) with a start time for some worker; the faster of the two
/// middle runs when there is an even number.
fn median_run<'a>(
    record: &'a Record,
    workload: &Workload,
    model: Model,
    workers: usize,
) -> Option<&'a Measurement> {
    let mut runs: Vec<&Measurement> = record
        .measurements
        .iter()
        .filter(|m| {
            &m.workload == workload
                && m.model == model
                && m.workers == workers
                && m.succeeded()
                && m.outcomes.iter().any(|o| o.start_s.is_some())
        })
        .collect();
    runs.sort_by(|a, b| a.wall_s.total_cmp(&b.wall_s));
    runs.get(runs.len().checked_sub(1)? / 2).copied()
}

/// How long one worker alone took from its start to its end: the median
/// over the runs at one worker. Bars longer than this at N workers waited
/// for each other (a lock, the GIL, a shared CPU).
fn alone(record: &Record, workload: &Workload, model: Model) -> Option<f64> {
    let spans: Vec<f64> = record
        .measurements
        .iter()
        .filter(|m| &m.workload == workload && m.model == model && m.workers == 1 && m.succeeded())
        .filter_map(|m| {
            let o = m.outcomes.first()?;
            Some(o.end_s? - o.start_s?)
        })
        .filter(|span| *span > 0.0)
        .collect();
    crate::measure::stats::median(&spans)
}

/// A file name's part from a model's label: `process (fork)` →
/// `process-fork`.
fn slug(label: &str) -> String {
    let mut out = String::new();
    for c in label.chars() {
        if c.is_ascii_alphanumeric() || c == '.' {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_string()
}

/// What the bars say, in numbers: how many workers ran at once on
/// average, and how late the last one started.
#[derive(Debug, PartialEq)]
pub(crate) struct Overlap {
    /// Sum of the workers' busy spans over the span from the first start
    /// to the last end: N when all ran side by side, 1 when one after
    /// another.
    pub at_once: f64,
    /// The latest start, in seconds after the run began.
    pub last_start: f64,
}

/// [`Overlap`] of `run`'s workers that have both times; `None` with none.
pub(crate) fn overlap(run: &Measurement) -> Option<Overlap> {
    let spans: Vec<(f64, f64)> = run
        .outcomes
        .iter()
        .filter_map(|o| Some((o.start_s?, o.end_s?)))
        .filter(|(s, e)| e >= s)
        .collect();
    let first = spans.iter().map(|s| s.0).fold(f64::INFINITY, f64::min);
    let last = spans.iter().map(|s| s.1).fold(f64::NEG_INFINITY, f64::max);
    if spans.is_empty() || last <= first {
        return None;
    }
    Some(Overlap {
        at_once: spans.iter().map(|(s, e)| e - s).sum::<f64>() / (last - first),
        last_start: spans.iter().map(|s| s.0).fold(0.0, f64::max),
    })
}

fn draw(
    title: &str,
    run: &Measurement,
    alone: Option<f64>,
    colour: plotters::style::RGBColor,
) -> String {
    let plotters::style::RGBColor(r, g, b) = colour;
    let fill = format!("rgb({r},{g},{b})");
    // The first row, when known: one worker alone, for scale.
    let reference = usize::from(alone.is_some());
    let workers = run.outcomes.len().max(1) + reference;
    let row = (MAX_BARS / workers as f64).min(ROW);
    let bars_height = row * workers as f64;
    let unstarted = run.outcomes.iter().filter(|o| o.start_s.is_none()).count();
    let unended = run
        .outcomes
        .iter()
        .filter(|o| o.start_s.is_some() && o.end_s.is_none())
        .count();
    let notes = notes(run, alone, unended, unstarted);
    let height = TOP + bars_height + AXIS_ROOM + NOTE_LINE * notes.len() as f64;
    let ends = run.outcomes.iter().filter_map(|o| o.end_s);
    let span = ends
        .fold(run.wall_s, f64::max)
        .max(alone.unwrap_or(0.0))
        .max(f64::MIN_POSITIVE);
    let ticks = linear_ticks(0.0, span);
    let x_end = ticks.last().copied().filter(|&t| t >= span).unwrap_or(span);
    let plot_width = WIDTH - LEFT - RIGHT;
    let x = |t: f64| LEFT + t / x_end * plot_width;
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg width=\"{WIDTH}\" height=\"{height}\" viewBox=\"0 0 {WIDTH} {height}\" \
         xmlns=\"http://www.w3.org/2000/svg\" font-family=\"sans-serif\">\n\
         <rect width=\"{WIDTH}\" height=\"{height}\" fill=\"white\"/>\n\
         <text x=\"16\" y=\"30\" font-size=\"{TITLE_PX}\">{}</text>\n",
        escape(title)
    );
    // The ticks' grid, then the bars over it.
    let axis_y = TOP + bars_height;
    vertical_grid(&mut svg, &ticks, x, TOP, axis_y, tick_seconds);
    let label_every = (NAMED_ROW / row).ceil().max(1.0) as usize;
    if let Some(alone) = alone {
        let bar = (row * 0.7).max(1.0);
        let _ = writeln!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"{}\" text-anchor=\"end\" fill=\"#555\">alone</text>\n\
             <rect x=\"{LEFT}\" y=\"{:.2}\" width=\"{:.2}\" height=\"{bar:.2}\" fill=\"none\" \
             stroke=\"{fill}\" stroke-width=\"1.5\" stroke-dasharray=\"4 2\">\
             <title>one worker alone: {}</title></rect>",
            LEFT - 8.0,
            TOP + row / 2.0 + 4.0,
            if row >= 18.0 { 13 } else { 12 },
            TOP + (row - bar) / 2.0,
            (x(alone) - LEFT).max(1.0),
            fmt::seconds(alone),
        );
    }
    // Workers that took turns at a global lock: their spans pale, the
    // turns in which they held it solid over them.
    let turns = run.outcomes.iter().any(|o| !o.held_s.is_empty());
    for (i, outcome) in run.outcomes.iter().enumerate() {
        let y = TOP + (i + reference) as f64 * row;
        let bar = (row * 0.7).max(1.0);
        if i % label_every == 0 || i + 1 == run.outcomes.len() && label_every == 1 {
            let _ = writeln!(
                svg,
                "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"{}\" text-anchor=\"end\">worker {}</text>",
                LEFT - 8.0,
                y + row / 2.0 + 4.0,
                if row >= 18.0 { 13 } else { 12 },
                outcome.worker
            );
        }
        let Some(start) = outcome.start_s else {
            continue;
        };
        // A worker whose end is not known is drawn faint up to the run's
        // end: it ended at some time before the run did.
        let (end, opacity) = match outcome.end_s {
            Some(end) => (end, 1.0),
            None => (run.wall_s, 0.3),
        };
        let _ = writeln!(
            svg,
            "<rect x=\"{:.2}\" y=\"{:.2}\" width=\"{:.2}\" height=\"{bar:.2}\" fill=\"{fill}\" \
             fill-opacity=\"{}\"><title>worker {}: {} to {}</title></rect>",
            x(start),
            y + (row - bar) / 2.0,
            (x(end.max(start)) - x(start)).max(1.0),
            if turns { HELD_BACKGROUND } else { opacity },
            outcome.worker,
            fmt::seconds(start),
            fmt::seconds(end),
        );
        for [from, to] in merged_turns(&outcome.held_s, x_end / plot_width) {
            let _ = writeln!(
                svg,
                "<rect x=\"{:.2}\" y=\"{:.2}\" width=\"{:.2}\" height=\"{bar:.2}\" fill=\"{fill}\">\
                 <title>worker {} held the lock: {} to {}</title></rect>",
                x(from),
                y + (row - bar) / 2.0,
                (x(to) - x(from)).max(0.5),
                outcome.worker,
                fmt::seconds_fine(from),
                fmt::seconds_fine(to),
            );
        }
    }
    // The run's end: the last worker reaped or joined.
    let _ = write!(
        svg,
        "<line x1=\"{0:.1}\" y1=\"{1}\" x2=\"{0:.1}\" y2=\"{axis_y}\" stroke=\"#444\" \
         stroke-width=\"2\" stroke-dasharray=\"6 4\"/>\n\
         <line x1=\"{LEFT}\" y1=\"{axis_y}\" x2=\"{2:.1}\" y2=\"{axis_y}\" stroke=\"#222\"/>\n\
         <text x=\"{3:.1}\" y=\"{4:.1}\" font-size=\"15\" text-anchor=\"middle\">\
         time from the run's start</text>\n",
        x(run.wall_s),
        TOP - 6.0,
        LEFT + plot_width,
        LEFT + plot_width / 2.0,
        axis_y + 42.0,
    );
    for (i, note) in notes.iter().enumerate() {
        let _ = writeln!(
            svg,
            "<text x=\"16\" y=\"{:.1}\" font-size=\"13\" fill=\"#333\">{}</text>",
            axis_y + AXIS_ROOM + NOTE_LINE * i as f64,
            escape(note)
        );
    }
    svg.push_str("</svg>\n");
    svg
}

/// A worker's turns at the lock as drawn: turns less than a pixel
/// (`pixel`, in seconds) apart become one rectangle, so that a thousand
/// turns on a short axis stay a readable, small picture.
fn merged_turns(held: &[[f64; 2]], pixel: f64) -> Vec<[f64; 2]> {
    // A saved file may hold anything: turns out of order, reversed or
    // not numbers are sorted or left out, never drawn as they are.
    let mut turns: Vec<[f64; 2]> = held
        .iter()
        .copied()
        .filter(|[from, to]| from.is_finite() && to.is_finite() && from <= to)
        .collect();
    turns.sort_by(|a, b| a[0].total_cmp(&b[0]));
    let mut merged: Vec<[f64; 2]> = Vec::new();
    for [from, to] in turns {
        match merged.last_mut() {
            Some(last) if from - last[1] < pixel => last[1] = last[1].max(to),
            _ => merged.push([from, to]),
        }
    }
    merged
}

/// The lines under the bars: what they add up to, and what is missing.
fn notes(run: &Measurement, alone: Option<f64>, unended: usize, unstarted: usize) -> Vec<String> {
    let mut notes = Vec::new();
    let workers = run.outcomes.len();
    let spans: Vec<f64> = run
        .outcomes
        .iter()
        .filter_map(|o| Some(o.end_s? - o.start_s?))
        .collect();
    if let (Some(alone), Some(span)) = (alone, crate::measure::stats::median(&spans)) {
        notes.push(format!(
            "Dashed outline: one worker alone ({}). Here a worker took {:.1}× that from its start \
             to its end (median): ×1 when nothing held it back, ×{workers} when the {workers} took turns.",
            fmt::seconds(alone),
            span / alone
        ));
    }
    match overlap(run) {
        Some(o) => notes.push(format!(
            "On average {} of the {workers} workers ran at once; the last started {} after \
             the run began ({} of it). Dashed line: the run's end ({}).",
            trim((o.at_once * 10.0).round() / 10.0),
            fmt::seconds(o.last_start),
            fmt::percent(o.last_start / run.wall_s),
            fmt::seconds(run.wall_s),
        )),
        None => notes.push(format!(
            "Dashed line: the run's end ({}).",
            fmt::seconds(run.wall_s)
        )),
    }
    let spans: Vec<f64> = run
        .outcomes
        .iter()
        .flat_map(|o| &o.held_s)
        .map(|[from, to]| to - from)
        .filter(|span| span.is_finite() && *span >= 0.0)
        .collect();
    let turns = spans.len();
    if turns > 0 {
        let held: f64 = spans.iter().sum();
        let lock = if run.model.is_python() {
            "the GIL"
        } else {
            "the lock"
        };
        let pale = match run.workload {
            Workload::Sleep { .. } => {
                format!("the worker slept, which releases {lock}, as time.sleep does")
            }
            _ => format!("the worker waited for its turn at {lock}"),
        };
        let share = format!(
            "{}, {} of the run in all",
            fmt::count(turns, "turn"),
            fmt::percent(held / run.wall_s)
        );
        if run.model.is_python() {
            // Sampled from outside: a thread seen running under the GIL
            // is the one that holds it.
            notes.push(format!(
                "Solid: the thread ran, which under the GIL means it held it ({share}; seen in /proc every {} ms).",
                crate::measure::running::SAMPLE_EVERY.as_millis(),
            ));
        } else {
            notes.push(format!("Solid: the worker held the global lock ({share})."));
        }
        notes.push(format!("Pale: {pale}."));
    }
    if unended > 0 {
        notes.push(format!(
            "The end of {} was not recorded: faint bars run to the run's end.",
            fmt::count(unended, "worker")
        ));
    }
    if unstarted > 0 {
        notes.push(format!(
            "The start of {} was not recorded: no bar.",
            fmt::count(unstarted, "worker")
        ));
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn turns_closer_than_a_pixel_are_drawn_as_one() {
        let held = [[0.0, 1.0], [1.05, 2.0], [3.0, 4.0]];
        assert_eq!(merged_turns(&held, 0.1), [[0.0, 2.0], [3.0, 4.0]]);
        assert_eq!(merged_turns(&held, 0.01), held);
        assert!(merged_turns(&[], 0.1).is_empty());
        let garbage = [[3.0, 4.0], [f64::NAN, 1.0], [2.0, 1.0], [0.0, 1.0]];
        assert_eq!(merged_turns(&garbage, 0.01), [[0.0, 1.0], [3.0, 4.0]]);
    }

    #[test]
    fn labels_become_file_names() {
        assert_eq!(slug("process (fork)"), "process-fork");
        assert_eq!(
            slug("py-thread (CPython 3.13.5)"),
            "py-thread-cpython-3.13.5"
        );
    }
}
