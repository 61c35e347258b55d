//! SVG plots, drawn with plotters: for each workload, wall time against
//! workers and speedup against workers, one line per model.
//!
//! Text is left to the SVG viewer's fonts (plotters' SVG backend without
//! its `ttf` feature), so drawing needs no system font library.

use plotters::element::DashedPathElement;
use plotters::prelude::*;

use crate::dataset::Grid;
use crate::dataset::Record;
use crate::fmt;
use crate::model::Model;
use crate::verdict::scaling::{AmdahlFit, ScalingFit, UslFit, fits};
use crate::workload::{Workload, WorkloadKind};

/// One drawn plot.
#[derive(Clone, Debug)]
pub(crate) struct Plot {
    /// The file name it is saved under: `cpu-wall-time.svg`.
    pub file_name: String,
    /// What it shows, for captions and alt text.
    pub title: String,
    /// The SVG document.
    pub svg: String,
}

/// Pixel size of each plot: a 16:10 slide's half-width is about 800 px.
pub(crate) const SIZE: (u32, u32) = (1000, 500);

/// Eight distinct colours that stay distinct for colour-blind readers and in
/// greyscale prints (Okabe–Ito), one per model in the order the models
/// were first measured.
const COLOURS: [RGBColor; 8] = [
    RGBColor(0, 114, 178),   // blue
    RGBColor(213, 94, 0),    // vermillion
    RGBColor(0, 158, 115),   // bluish green
    RGBColor(204, 121, 167), // reddish purple
    RGBColor(230, 159, 0),   // orange
    RGBColor(86, 180, 233),  // sky blue
    RGBColor(120, 120, 120), // grey
    RGBColor(20, 20, 20),    // black
];

const REFERENCE: RGBColor = RGBColor(110, 110, 110);

/// The colour of the `index`-th model.
pub(crate) fn colour(index: usize) -> RGBColor {
    COLOURS[index % COLOURS.len()]
}

/// Every plot of `record`: for each workload, wall time then speedup.
pub(crate) fn plots(record: &Record) -> Vec<Plot> {
    let grid = Grid::new(&record.measurements);
    let fits = fits(record);
    let (models, workloads) = grid.models_and_workloads();
    let mut plots = Vec::new();
    for workload in &workloads {
        let stem = stem(&workloads, workload);
        let series: Vec<Series> = (0..grid.columns.len())
            .filter(|&c| &grid.columns[c].workload == *workload)
            .map(|c| {
                let column = &grid.columns[c];
                let fit = fits
                    .iter()
                    .find(|f| f.workload == column.workload && f.model == column.model);
                Series::of(&grid, c, &models, fit)
            })
            .collect();
        let cpus = record.cpus();
        let cpu_bound = workload.kind() == WorkloadKind::Cpu;
        let runs = record.runs();
        let title = if runs > 1 {
            format!("{workload}: wall time, median of {runs} runs (bars: min to max)")
        } else {
            format!("{workload}: wall time")
        };
        plots.push(Plot {
            file_name: format!("{stem}-wall-time.svg"),
            svg: draw(&title, &series, cpus, Quantity::WallTime, cpu_bound),
            title,
        });
        let title = format!("{workload}: speedup");
        plots.push(Plot {
            file_name: format!("{stem}-speedup.svg"),
            svg: draw(&title, &series, cpus, Quantity::Speedup, cpu_bound),
            title,
        });
    }
    plots
}

/// The start of a workload's file names: its kind (`cpu`), numbered
/// (`cpu-2`) when several workloads of that kind were run.
pub(crate) fn stem(workloads: &[&Workload], workload: &Workload) -> String {
    let kind = workload.kind().name();
    let same_kind: Vec<&&Workload> = workloads
        .iter()
        .filter(|w| w.kind() == workload.kind())
        .collect();
    if same_kind.len() > 1 {
        let nth = same_kind.iter().position(|w| **w == workload).unwrap_or(0);
        format!("{kind}-{}", nth + 1)
    } else {
        kind.to_string()
    }
}

/// Row height of the headline chart, in pixels.
const HEADLINE_ROW: f64 = 28.0;

/// The headline chart (`headline-speedup.svg`): every model's speedup at
/// the CPUs' count of workers (or the largest count under it), one bar
/// each, grouped by workload, each Rust model beside its CPython
/// counterpart. `None` without a count above one worker.
pub(crate) fn headline(record: &Record) -> Option<Plot> {
    let grid = Grid::new(&record.measurements);
    let cpus = record.cpus();
    let n = grid
        .workers
        .iter()
        .copied()
        .filter(|&n| n > 1 && n <= cpus)
        .max()?;
    let (models, workloads) = grid.models_and_workloads();
    // `thread` then `py-thread`, `process` then `py-process`: families in
    // the order first measured, Rust first.
    let family = |m: Model| m.family().trim_start_matches("py-").to_string();
    let mut families: Vec<String> = Vec::new();
    for &m in &models {
        if !families.contains(&family(m)) {
            families.push(family(m));
        }
    }
    let order = |m: Model| (families.iter().position(|f| *f == family(m)), m.is_python());
    let mut groups: Vec<(String, Vec<Bar>)> = Vec::new();
    for workload in &workloads {
        let mut columns: Vec<usize> = (0..grid.columns.len())
            .filter(|&c| grid.columns[c].workload == **workload)
            .collect();
        columns.sort_by_key(|&c| order(grid.columns[c].model));
        let bars: Vec<Bar> = columns
            .into_iter()
            .filter_map(|c| {
                let model = grid.columns[c].model;
                Some(Bar {
                    label: grid.model_label(c),
                    colour: colour(models.iter().position(|&m| m == model).unwrap_or(0)),
                    speedup: grid.speedup(c, n)?,
                    interval: grid.speedup_interval(c, n),
                })
            })
            .collect();
        if !bars.is_empty() {
            groups.push((workload.to_string(), bars));
        }
    }
    if groups.is_empty() {
        return None;
    }
    let title = if n == cpus {
        format!(
            "Speedup at {} (one per CPU), per model",
            fmt::count(n, "worker")
        )
    } else {
        format!(
            "Speedup at {} (the most run, of {}), per model",
            fmt::count(n, "worker"),
            fmt::count(cpus, "CPU")
        )
    };
    Some(Plot {
        file_name: "headline-speedup.svg".to_string(),
        svg: draw_headline(&title, &groups, n, record.runs()),
        title,
    })
}

/// One bar of the headline chart.
struct Bar {
    label: String,
    colour: RGBColor,
    speedup: f64,
    interval: Option<(f64, f64)>,
}

fn draw_headline(title: &str, groups: &[(String, Vec<Bar>)], n: usize, runs: usize) -> String {
    use std::fmt::Write as _;
    let (width, left, right, top) = (SIZE.0 as f64, 230.0, 90.0, 86.0);
    let rows: usize = groups.iter().map(|(_, bars)| bars.len() + 1).sum();
    let bars_height = HEADLINE_ROW * rows as f64;
    let height = top + bars_height + 60.0;
    let highest = groups
        .iter()
        .flat_map(|(_, bars)| bars.iter())
        .map(|b| {
            b.interval
                .map_or(b.speedup, |(_, high)| high)
                .max(b.speedup)
        })
        .fold(n as f64, f64::max)
        .min(MAX_AXIS_VALUE);
    let ticks = linear_ticks(0.0, highest);
    let x_end = ticks
        .last()
        .copied()
        .filter(|&t| t >= highest)
        .unwrap_or(highest);
    let plot_width = width - left - right;
    let x = |v: f64| left + v.clamp(0.0, x_end) / x_end * plot_width;
    let axis_y = top + bars_height;
    let mut svg = String::new();
    let spread = if runs > 1 {
        format!("Median of {runs} runs; whiskers: 95 % interval. ")
    } else {
        String::new()
    };
    let _ = write!(
        svg,
        "<svg width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" \
         xmlns=\"http://www.w3.org/2000/svg\" font-family=\"sans-serif\">\n\
         <rect width=\"{width}\" height=\"{height}\" fill=\"white\"/>\n\
         <text x=\"16\" y=\"30\" font-size=\"{TITLE_PX}\">{}</text>\n\
         <text x=\"16\" y=\"54\" font-size=\"13\" fill=\"#444\">{}</text>\n",
        super::html::escape(title),
        super::html::escape(&format!(
            "N·T(1)/T(N): ×{n} when the {n} workers run side by side, ×1 when one at a time. \
             {spread}Dashed: ×{n}."
        )),
    );
    vertical_grid(&mut svg, &ticks, x, top, axis_y, |t| {
        format!("×{}", trim(t))
    });
    let mut y = top;
    for (workload, bars) in groups {
        let _ = writeln!(
            svg,
            "<text x=\"16\" y=\"{:.1}\" font-size=\"14\" font-weight=\"bold\">{}</text>",
            y + HEADLINE_ROW * 0.65,
            super::html::escape(workload)
        );
        y += HEADLINE_ROW;
        for bar in bars {
            let RGBColor(r, g, b) = bar.colour;
            let mid = y + HEADLINE_ROW / 2.0;
            let _ = write!(
                svg,
                "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"14\" text-anchor=\"end\">{}</text>\n\
                 <rect x=\"{left}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"rgb({r},{g},{b})\"/>\n",
                left - 10.0,
                mid + 5.0,
                super::html::escape(&bar.label),
                y + HEADLINE_ROW * 0.15,
                x(bar.speedup) - left,
                HEADLINE_ROW * 0.7,
            );
            let mut end = x(bar.speedup);
            if let Some((low, high)) = bar.interval {
                let _ = writeln!(
                    svg,
                    "<line x1=\"{:.1}\" y1=\"{mid:.1}\" x2=\"{:.1}\" y2=\"{mid:.1}\" stroke=\"#222\" stroke-width=\"2\"/>",
                    x(low),
                    x(high)
                );
                end = end.max(x(high));
            }
            let _ = writeln!(
                svg,
                "<text class=\"value\" x=\"{:.1}\" y=\"{:.1}\" font-size=\"14\">×{:.2}</text>",
                end + 6.0,
                mid + 5.0,
                bar.speedup
            );
            y += HEADLINE_ROW;
        }
    }
    let _ = write!(
        svg,
        "<line x1=\"{0:.1}\" y1=\"{top}\" x2=\"{0:.1}\" y2=\"{axis_y}\" stroke=\"#555\" \
         stroke-width=\"2\" stroke-dasharray=\"6 4\"/>\n\
         <line x1=\"{left}\" y1=\"{axis_y}\" x2=\"{1:.1}\" y2=\"{axis_y}\" stroke=\"#222\"/>\n\
         <text x=\"{2:.1}\" y=\"{3:.1}\" font-size=\"15\" text-anchor=\"middle\">\
         speedup at {n} workers (× one worker's throughput)</text>\n</svg>\n",
        x(n as f64),
        left + plot_width,
        left + plot_width / 2.0,
        axis_y + 44.0,
    );
    svg
}

/// The widest worker axis drawn (paralab runs at most a million workers;
/// a file claiming more is drawn cut at that).
const MAX_AXIS_WORKERS: usize = 1_000_000;

/// The highest value axis drawn, in seconds or × (beyond it lies garbage
/// read from a file, which the axis cuts off).
const MAX_AXIS_VALUE: f64 = 1e12;

/// One model's line: per worker count, median with min and max of the
/// wall times, and the speedup.
struct Series {
    label: String,
    colour: RGBColor,
    /// Which marker: models whose lines coincide stay visible because
    /// their markers differ in shape and size (and in print, in colour).
    shape: usize,
    points: Vec<Point>,
    /// The scalability fit drawn on the speedup plot, when one was made.
    fit: Option<Fitted>,
    /// The fit was tried and is inconclusive (the summary says why).
    fit_inconclusive: bool,
}

/// A conclusive scalability fit as drawn: its curve over the counts it
/// used, and its parameters for the legend.
struct Fitted {
    /// `C(N)` of the fit.
    capacity: Box<dyn Fn(f64) -> f64>,
    /// The largest worker count fitted: the curve stops there, as the
    /// counts beyond the CPUs were not fitted.
    last: usize,
    /// `USL α 0.031 (0.02–0.04), β 0.0004 (0–0.001)`.
    label: String,
}

impl Fitted {
    /// The curve and legend of `fit`: the USL's when it is conclusive,
    /// else Amdahl's; `None` when neither is.
    fn of(fit: &ScalingFit) -> Option<Fitted> {
        let last = *fit.fit_workers.last()?;
        match (&fit.usl, &fit.amdahl) {
            (
                UslFit::Fit {
                    contention,
                    contention_interval: [al, ah],
                    coherency,
                    coherency_interval: [bl, bh],
                    ..
                },
                _,
            ) => {
                let (a, b) = (*contention, *coherency);
                Some(Fitted {
                    capacity: Box::new(move |n| crate::verdict::scaling::usl_capacity(n, a, b)),
                    last,
                    label: format!("USL α {a:.3} ({al:.3}–{ah:.3}), β {b:.4} ({bl:.4}–{bh:.4})"),
                })
            }
            (
                _,
                AmdahlFit::Fit {
                    serial_fraction,
                    interval: [low, high],
                    ..
                },
            ) => {
                let sigma = *serial_fraction;
                Some(Fitted {
                    capacity: Box::new(move |n| {
                        crate::verdict::scaling::usl_capacity(n, sigma, 0.0)
                    }),
                    last,
                    label: format!(
                        "Amdahl σ {:.1}% ({:.1}–{:.1}%); USL inconclusive",
                        sigma * 100.0,
                        low * 100.0,
                        high * 100.0
                    ),
                })
            }
            _ => None,
        }
    }
}

struct Point {
    workers: usize,
    min: f64,
    median: f64,
    max: f64,
    runs: usize,
    speedup: Option<f64>,
}

impl Series {
    fn of(grid: &Grid, column: usize, models: &[Model], fit: Option<&ScalingFit>) -> Series {
        let model = grid.columns[column].model;
        let points = grid
            .workers
            .iter()
            .filter_map(|&workers| {
                let walls = grid.walls(column, workers);
                Some(Point {
                    workers,
                    min: walls.iter().copied().min_by(f64::total_cmp)?,
                    median: grid.median(column, workers)?,
                    max: walls.iter().copied().max_by(f64::total_cmp)?,
                    runs: walls.len(),
                    speedup: grid.speedup(column, workers),
                })
            })
            .collect::<Vec<_>>();
        let mut points = points;
        points.sort_by_key(|p| p.workers);
        let index = models.iter().position(|&m| m == model).unwrap_or(0);
        Series {
            label: grid.model_label(column),
            colour: colour(index),
            shape: index,
            points,
            fit: fit.and_then(Fitted::of),
            // A workload that waits is not fitted at all (no counts used):
            // nothing to say on its plot.
            fit_inconclusive: fit
                .is_some_and(|f| !f.fit_workers.is_empty() && Fitted::of(f).is_none()),
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Quantity {
    WallTime,
    Speedup,
}

fn draw(
    title: &str,
    series: &[Series],
    cpus: usize,
    quantity: Quantity,
    cpu_bound: bool,
) -> String {
    let mut svg = String::new();
    // Drawing into a String can only fail on a bug in the layout.
    draw_into(&mut svg, title, series, cpus, quantity, cpu_bound)
        .expect("plotters draws into a String");
    svg
}

fn draw_into(
    svg: &mut String,
    title: &str,
    series: &[Series],
    cpus: usize,
    quantity: Quantity,
    cpu_bound: bool,
) -> Result<(), String> {
    draw_chart(svg, title, series, cpus, quantity, cpu_bound).map_err(|e| e.to_string())
}

fn draw_chart(
    svg: &mut String,
    title: &str,
    series: &[Series],
    cpus: usize,
    quantity: Quantity,
    cpu_bound: bool,
) -> Result<(), DrawingAreaErrorKind<std::io::Error>> {
    let root = SVGBackend::with_string(svg, SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let measured = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.workers))
        .max()
        .unwrap_or(1)
        // A file may claim any count; the axis stays drawable.
        .min(MAX_AXIS_WORKERS);
    let max_workers = measured.max(1) as f64;
    let top = match quantity {
        Quantity::WallTime => series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.max))
            .fold(0.0, f64::max),
        Quantity::Speedup => series
            .iter()
            .flat_map(|s| s.points.iter().filter_map(|p| p.speedup))
            .fold(max_workers, f64::max),
    };
    // Wall times that span more than 20× (CPython beside Rust) are drawn on
    // a log scale, or the fast models' lines would lie flat on the axis.
    let smallest = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.min))
        .filter(|&v| v > 0.0)
        .fold(f64::INFINITY, f64::min);
    let log = quantity == Quantity::WallTime
        && smallest.is_finite()
        && top.min(MAX_AXIS_VALUE) / smallest > 20.0;
    let to_y = move |v: f64| if log { v.max(smallest).log10() } else { v };
    let (bottom, top) = if log {
        (to_y(smallest) - 0.15, to_y(top.min(MAX_AXIS_VALUE)) + 0.15)
    } else if top > 0.0 {
        (0.0, top.min(MAX_AXIS_VALUE) * 1.12)
    } else {
        (0.0, 1.0)
    };
    let y_title = match quantity {
        Quantity::WallTime if log => "wall time (log scale)",
        Quantity::WallTime if top < 0.5 => "wall time (ms)",
        Quantity::WallTime => "wall time (s)",
        Quantity::Speedup => "speedup (× one worker's throughput)",
    };
    let y_format = move |y: &f64| match quantity {
        Quantity::WallTime if log => tick_seconds(10f64.powf(*y)),
        Quantity::WallTime if top < 0.5 => trim(y * 1e3),
        Quantity::WallTime => trim(*y),
        Quantity::Speedup => format!("×{}", trim(*y)),
    };

    let notes: Vec<(String, RGBColor)> = if quantity == Quantity::Speedup {
        fit_notes(series)
            .into_iter()
            .flat_map(|(text, colour)| {
                wrap(&text, NOTE_CHARS)
                    .into_iter()
                    .map(move |line| (line, colour))
            })
            .collect()
    } else {
        Vec::new()
    };
    let note_height = NOTE_LINE * notes.len() as i32 + if notes.is_empty() { 0 } else { 6 };
    // The title across the top, the legend in its own column at the right
    // (never over a point), the notes under the axis' title.
    let (head, body) = root.split_vertically(TITLE_HEIGHT);
    head.draw(&Text::new(
        title.to_string(),
        (16, 10),
        ("sans-serif", TITLE_FONT).into_font().color(&BLACK),
    ))?;
    let (upper, lower) = body.split_vertically(SIZE.1 as i32 - TITLE_HEIGHT - note_height);
    let (plot_area, legend_area) = upper.split_horizontally(SIZE.0 as i32 - LEGEND_WIDTH);
    // Half a worker of room on either side of the data, no more.
    let (x_low, x_high) = (0.5, max_workers + 0.5);
    let y_range = if log {
        Ticked::new(bottom..top, log_ticks(bottom, top))
    } else {
        Ticked::new(bottom..top, linear_ticks(bottom, top))
    };
    let mut chart = ChartBuilder::on(&plot_area)
        .margin(12)
        .x_label_area_size(56)
        .y_label_area_size(76)
        .build_cartesian_2d(Ticked::new(x_low..x_high, worker_ticks(measured)), y_range)?;
    chart
        .configure_mesh()
        .x_label_formatter(&|&x| trim(x))
        .y_label_formatter(&y_format)
        .x_desc("workers (run at once, each doing the whole workload)")
        .y_desc(y_title)
        .axis_desc_style(("sans-serif", 18))
        .label_style(("sans-serif", 16))
        .light_line_style(WHITE.mix(0.0))
        .bold_line_style(BLACK.mix(0.08))
        .draw()?;

    let mut legend: Vec<LegendEntry> = Vec::new();
    // More workers than CPUs: a shaded band from half-way past the CPUs'
    // count, behind the points, so that no line crosses the points there.
    let oversubscribed = (cpus as f64) < max_workers;
    if oversubscribed {
        chart.draw_series(std::iter::once(Rectangle::new(
            [(cpus as f64 + 0.5, bottom), (x_high, top)],
            SHADE.filled(),
        )))?;
        legend.push(LegendEntry::reference(
            format!("more workers than {}", fmt::count(cpus, "CPU")),
            Glyph::Band,
        ));
    } else {
        legend.push(LegendEntry::reference(
            format!("machine: {}", fmt::count(cpus, "CPU")),
            Glyph::None,
        ));
    }
    if quantity == Quantity::Speedup {
        chart.draw_series(DashedLineSeries::new(
            [(1.0, 1.0), (max_workers, max_workers)],
            10,
            6,
            BLACK.mix(0.55).stroke_width(2),
        ))?;
        legend.push(LegendEntry::reference(
            "ideal: ×N".into(),
            Glyph::Dashed(10, 6),
        ));
        // Work that needs a CPU cannot go faster than the CPUs there are.
        if cpu_bound && oversubscribed {
            chart.draw_series(DashedLineSeries::new(
                [(cpus as f64, cpus as f64), (max_workers, cpus as f64)],
                3,
                4,
                REFERENCE.stroke_width(2),
            ))?;
            legend.push(LegendEntry::reference(
                format!("CPU limit: ×{cpus}"),
                Glyph::Dashed(3, 4),
            ));
        }
    }

    // Models whose points coincide are set a little apart along the
    // worker axis, each to its own side, so every marker shows.
    let dodge_step = (x_high - x_low) * 0.012;
    let middle = (series.len() as f64 - 1.0) / 2.0;
    let mut model_entries = Vec::new();
    for (rank, s) in series.iter().enumerate() {
        let (colour, shape) = (s.colour, s.shape);
        let dodge = (rank as f64 - middle) * dodge_step;
        let values: Vec<(f64, f64)> = s
            .points
            .iter()
            .filter_map(|p| {
                let y = match quantity {
                    Quantity::WallTime => Some(to_y(p.median)),
                    Quantity::Speedup => p.speedup,
                };
                Some((p.workers as f64 + dodge, y?))
            })
            .collect();
        if quantity == Quantity::WallTime {
            for p in s.points.iter().filter(|p| p.runs > 1) {
                let x = p.workers as f64 + dodge;
                chart.draw_series(std::iter::once(PathElement::new(
                    [(x, to_y(p.min)), (x, to_y(p.max))],
                    colour.stroke_width(2),
                )))?;
            }
        }
        chart.draw_series(LineSeries::new(values.clone(), colour.stroke_width(3)))?;
        for &at in &values {
            let at = chart.backend_coord(&at);
            root.draw(&marker(shape, colour, at))?;
        }
        // The legend lists the models in the order their lines end, top to
        // bottom, so the name beside a line's end is its own.
        let end = values.last().map_or(f64::NEG_INFINITY, |&(_, y)| y);
        model_entries.push((
            end,
            LegendEntry {
                text: s.label.clone(),
                colour,
                glyph: Glyph::Marker(shape),
            },
        ));
    }
    model_entries.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut entries: Vec<LegendEntry> = model_entries.into_iter().map(|(_, e)| e).collect();
    if quantity == Quantity::Speedup
        && let Some(last) = draw_fits(&mut chart, series)?
    {
        legend.push(LegendEntry::reference(
            format!("fitted, N = 1–{last}"),
            Glyph::Dashed(5, 3),
        ));
    }
    entries.extend(legend);
    draw_legend(&legend_area, &entries)?;
    for (i, (text, colour)) in notes.iter().enumerate() {
        lower.draw(&Text::new(
            text.as_str(),
            (16, NOTE_LINE * i as i32),
            ("sans-serif", 15).into_font().color(colour),
        ))?;
    }
    root.present()?;
    Ok(())
}

/// Height of the band the title is written in, and its font size (the
/// same on every plot; plotters' SVG writes its sizes at 0.8 of those it
/// is given, so 23 is 18.5 px like the hand-drawn charts' 18.5).
const TITLE_HEIGHT: i32 = 40;
const TITLE_FONT: i32 = 23;

/// The title's size in pixels in the charts drawn without plotters.
pub(crate) const TITLE_PX: f64 = 18.5;

/// Width of the legend's column at the right of every plot.
const LEGEND_WIDTH: i32 = 250;

/// The band behind worker counts beyond the CPUs.
const SHADE: RGBColor = RGBColor(236, 236, 236);

/// Height of one line of notes under the speedup plot, in pixels.
const NOTE_LINE: i32 = 18;

/// Longest line of notes, in characters, that fits the plot's width.
const NOTE_CHARS: usize = 130;

/// How a legend entry shows what it names.
#[derive(Clone, Copy)]
enum Glyph {
    None,
    Band,
    Dashed(u32, u32),
    Marker(usize),
}

/// One line of a legend.
struct LegendEntry {
    text: String,
    colour: RGBColor,
    glyph: Glyph,
}

impl LegendEntry {
    fn reference(text: String, glyph: Glyph) -> LegendEntry {
        LegendEntry {
            text,
            colour: REFERENCE,
            glyph,
        }
    }
}

/// Longest legend line, in characters, that fits the legend's column at
/// its font size; longer labels wrap at a space.
const LEGEND_CHARS: usize = 26;

/// Draws `entries` down the legend's column, each with its glyph.
fn draw_legend(
    area: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    entries: &[LegendEntry],
) -> Result<(), DrawingAreaErrorKind<std::io::Error>> {
    let mut y = 20;
    for entry in entries {
        let (x, mid) = (8, y + 8);
        match entry.glyph {
            Glyph::None => {}
            Glyph::Band => {
                area.draw(&Rectangle::new([(x, y), (x + 28, y + 16)], SHADE.filled()))?;
            }
            Glyph::Dashed(size, gap) => {
                area.draw(&DashedPathElement::new(
                    [(x, mid), (x + 28, mid)],
                    size.min(6),
                    gap.min(4),
                    entry.colour.stroke_width(2),
                ))?;
            }
            Glyph::Marker(shape) => {
                area.draw(&PathElement::new(
                    [(x, mid), (x + 28, mid)],
                    entry.colour.stroke_width(3),
                ))?;
                area.draw(&marker(shape, entry.colour, (x + 14, mid)))?;
            }
        }
        for line in wrap(&entry.text, LEGEND_CHARS) {
            area.draw(&Text::new(
                line,
                (x + 38, y + 1),
                ("sans-serif", 16).into_font().color(&BLACK),
            ))?;
            y += 18;
        }
        y += 6;
    }
    Ok(())
}

/// `text` cut at spaces into lines of at most `width` characters (a word
/// longer than that keeps a line of its own).
pub(crate) fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for word in text.split(' ') {
        match lines.last_mut() {
            Some(line) if line.chars().count() + 1 + word.chars().count() <= width => {
                line.push(' ');
                line.push_str(word);
            }
            _ => lines.push(word.to_string()),
        }
    }
    lines
}

/// The marker of the `shape`-th model at pixel `at`: eight shapes, each
/// told from the others without colour, so that coinciding lines stay
/// apart in greyscale too.
fn marker<'a>(
    shape: usize,
    colour: RGBColor,
    at: (i32, i32),
) -> DynElement<'a, SVGBackend<'a>, (i32, i32)> {
    let outline = colour.stroke_width(2);
    let at = EmptyElement::at(at);
    match shape % 8 {
        0 => (at + Circle::new((0, 0), 5, colour.filled())).into_dyn(),
        1 => (at + Circle::new((0, 0), 8, outline)).into_dyn(),
        2 => (at + Rectangle::new([(-7, -7), (7, 7)], outline)).into_dyn(),
        3 => (at + TriangleMarker::new((0, 0), 10, outline)).into_dyn(),
        4 => (at + Rectangle::new([(-5, -5), (5, 5)], colour.filled())).into_dyn(),
        5 => (at + Cross::new((0, 0), 7, colour.stroke_width(3))).into_dyn(),
        6 => (at + TriangleMarker::new((0, 0), 8, colour.filled())).into_dyn(),
        _ => (at + Circle::new((0, 0), 8, outline) + Circle::new((0, 0), 3, colour.filled()))
            .into_dyn(),
    }
}

/// `value` with at most three decimals and none that are zeros at the end:
/// `2`, `0.5`, `12.25`.
/// The hand-written charts' grid: a faint vertical line at each of
/// `ticks` from `top` to the axis at `axis_y`, and its `label` under the
/// axis.
pub(crate) fn vertical_grid(
    svg: &mut String,
    ticks: &[f64],
    x: impl Fn(f64) -> f64,
    top: f64,
    axis_y: f64,
    label: impl Fn(f64) -> String,
) {
    use std::fmt::Write as _;
    for &t in ticks {
        let _ = write!(
            svg,
            "<line x1=\"{0:.1}\" y1=\"{top}\" x2=\"{0:.1}\" y2=\"{axis_y}\" stroke=\"#e6e6e6\"/>\n\
             <text x=\"{0:.1}\" y=\"{1:.1}\" font-size=\"13\" text-anchor=\"middle\">{2}</text>\n",
            x(t),
            axis_y + 18.0,
            super::html::escape(&label(t)),
        );
    }
}

pub(crate) fn trim(value: f64) -> String {
    let text = format!("{value:.3}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".to_string()
    } else {
        text.to_string()
    }
}

/// A tick's duration in the unit that keeps it short: `500 µs`, `20 ms`,
/// `2 s`.
pub(crate) fn tick_seconds(seconds: f64) -> String {
    if seconds == 0.0 {
        "0".to_string()
    } else if seconds >= 1.0 {
        format!("{} s", trim(seconds))
    } else if seconds >= 1e-3 {
        format!("{} ms", trim(seconds * 1e3))
    } else {
        format!("{} µs", trim(seconds * 1e6))
    }
}

/// The 1-2-5 step that gives about `count` ticks over `span`.
pub(crate) fn nice_step(span: f64, count: f64) -> f64 {
    let raw = (span / count).max(f64::MIN_POSITIVE);
    let power = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * power)
        .find(|&step| step >= raw)
        .unwrap_or(10.0 * power)
}

/// Ticks at multiples of a 1-2-5 step between `low` and `high`.
pub(crate) fn linear_ticks(low: f64, high: f64) -> Vec<f64> {
    let step = nice_step(high - low, 6.0);
    let first = (low / step).ceil() as i64;
    let last = (high / step).floor() as i64;
    (first..=last).map(|i| i as f64 * step).collect()
}

/// Ticks at 1, 2 and 5 times the powers of ten between `10^low` and
/// `10^high` (as log10 values); only the powers of ten when that would
/// give more than ten.
fn log_ticks(low: f64, high: f64) -> Vec<f64> {
    let decades = (low.floor() as i32)..=(high.ceil() as i32);
    let dense = high - low <= 3.0;
    decades
        .flat_map(|d| {
            let multiples: &[f64] = if dense { &[1.0, 2.0, 5.0] } else { &[1.0] };
            multiples.iter().map(move |m| (m * 10f64.powi(d)).log10())
        })
        .filter(|&y| y >= low && y <= high)
        .collect()
}

/// The worker counts labelled on the x axis: every count up to 12, else
/// a 1-2-5 step.
fn worker_ticks(max: usize) -> Vec<f64> {
    if max <= 12 {
        (1..=max).map(|n| n as f64).collect()
    } else {
        let step = nice_step(max as f64, 8.0).max(1.0);
        let mut ticks = vec![1.0];
        ticks.extend(
            (1..)
                .map(|i| i as f64 * step)
                .take_while(|&n| n <= max as f64),
        );
        ticks
    }
}

/// A linear axis with the ticks it is given (1-2-5 steps, or 1-2-5
/// times powers of ten on a log scale) instead of those plotters picks.
pub(crate) struct Ticked {
    range: std::ops::Range<f64>,
    ticks: Vec<f64>,
}

impl Ticked {
    pub(crate) fn new(range: std::ops::Range<f64>, ticks: Vec<f64>) -> Ticked {
        Ticked { range, ticks }
    }
}

impl plotters::coord::ranged1d::Ranged for Ticked {
    type FormatOption = plotters::coord::ranged1d::DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let span = self.range.end - self.range.start;
        let fraction = if span > 0.0 {
            (value - self.range.start) / span
        } else {
            0.0
        };
        limit.0 + (fraction * f64::from(limit.1 - limit.0)).round() as i32
    }

    fn key_points<Hint: plotters::coord::ranged1d::KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.max_num_points() == 0 {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.range.clone()
    }
}

/// `colour` at 60 % of its brightness.
fn darker(colour: RGBColor) -> RGBColor {
    let RGBColor(r, g, b) = colour;
    let dim = |c: u8| (f64::from(c) * 0.6) as u8;
    RGBColor(dim(r), dim(g), dim(b))
}

/// The lines under the speedup plot: each conclusive fit's parameters
/// in its model's colour, then one line naming the models whose fit is
/// inconclusive (so that a missing curve is not read as one hidden behind
/// the points).
fn fit_notes(series: &[Series]) -> Vec<(String, RGBColor)> {
    let mut notes: Vec<(String, RGBColor)> = series
        .iter()
        .filter_map(|s| {
            let fit = s.fit.as_ref()?;
            Some((format!("{}: {}", s.label, fit.label), darker(s.colour)))
        })
        .collect();
    let unfitted: Vec<&str> = series
        .iter()
        .filter(|s| s.fit_inconclusive)
        .map(|s| s.label.as_str())
        .collect();
    if !unfitted.is_empty() {
        notes.push((
            format!(
                "Scalability fit inconclusive for {}: the summary and the JSON export say why",
                unfitted.join(", ")
            ),
            RGBColor(70, 70, 70),
        ));
    }
    notes
}

/// Points per worker along a fitted curve: enough for it to look smooth
/// between the integer counts.
const CURVE_STEPS: usize = 12;

type Chart<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<Ticked, Ticked>>;

/// Each series' fitted `C(N)`, a dashed line in a darker shade of its
/// colour from 1 to the last count fitted; returns that last count when a
/// curve was drawn.
fn draw_fits(
    chart: &mut Chart<'_, '_>,
    series: &[Series],
) -> Result<Option<usize>, DrawingAreaErrorKind<std::io::Error>> {
    let top = chart.y_range().end;
    let mut drawn = None;
    for s in series {
        let Some(fit) = &s.fit else { continue };
        let style = darker(s.colour).stroke_width(2);
        let path: Vec<(f64, f64)> = (0..=(fit.last - 1) * CURVE_STEPS)
            .map(|i| {
                let n = 1.0 + i as f64 / CURVE_STEPS as f64;
                (n, (fit.capacity)(n).min(top))
            })
            .collect();
        chart.draw_series(DashedLineSeries::new(path, 5, 3, style))?;
        drawn = Some(fit.last);
    }
    Ok(drawn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_ticks_are_one_two_five() {
        let ticks: Vec<String> = log_ticks(0.02f64.log10(), 2f64.log10())
            .into_iter()
            .map(|y| tick_seconds(10f64.powf(y)))
            .collect();
        assert_eq!(
            ticks,
            ["20 ms", "50 ms", "100 ms", "200 ms", "500 ms", "1 s", "2 s"]
        );
    }

    #[test]
    fn linear_ticks_step_by_one_two_or_five() {
        assert_eq!(linear_ticks(0.0, 4.4), [0.0, 1.0, 2.0, 3.0, 4.0]);
        assert_eq!(nice_step(0.37, 6.0), 0.1);
        assert_eq!(worker_ticks(3), [1.0, 2.0, 3.0]);
        assert_eq!(worker_ticks(64), [1.0, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0]);
    }

    #[test]
    fn long_legend_labels_wrap_at_spaces() {
        assert_eq!(
            wrap("py-thread (CPython 3.13.5)", 12),
            ["py-thread", "(CPython", "3.13.5)"]
        );
        assert_eq!(wrap("thread", 26), ["thread"]);
    }
}
