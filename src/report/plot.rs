//! SVG plots, drawn with plotters: for each workload, wall time against
//! workers and speedup against workers, one line per model.
//!
//! Text is left to the SVG viewer's fonts (plotters' SVG backend without
//! its `ttf` feature), so drawing needs no system font library.

use plotters::element::DashedPathElement;
use plotters::prelude::*;

use super::Grid;
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
pub(crate) const SIZE: (u32, u32) = (800, 500);

/// Distinct colours that stay distinct for colour-blind readers and in
/// greyscale prints (Okabe–Ito), one per model in the order the models
/// were first measured.
const COLOURS: [RGBColor; 7] = [
    RGBColor(0, 114, 178),   // blue
    RGBColor(213, 94, 0),    // vermillion
    RGBColor(0, 158, 115),   // bluish green
    RGBColor(204, 121, 167), // reddish purple
    RGBColor(230, 159, 0),   // orange
    RGBColor(86, 180, 233),  // sky blue
    RGBColor(120, 120, 120), // grey
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
    let mut models: Vec<Model> = Vec::new();
    let mut workloads: Vec<&Workload> = Vec::new();
    for column in &grid.columns {
        if !models.contains(&column.model) {
            models.push(column.model);
        }
        if !workloads.contains(&&column.workload) {
            workloads.push(&column.workload);
        }
    }
    let mut plots = Vec::new();
    for workload in &workloads {
        let kind = workload.kind().name();
        let same_kind = workloads
            .iter()
            .filter(|w| w.kind() == workload.kind())
            .count();
        let stem = if same_kind > 1 {
            let nth = workloads
                .iter()
                .filter(|w| w.kind() == workload.kind())
                .position(|w| w == workload)
                .unwrap_or(0);
            format!("{kind}-{}", nth + 1)
        } else {
            kind.to_string()
        };
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
    // The CPU marker is worth widening the axis for, up to twice the
    // workers measured; beyond that it would squash the data into a corner.
    let show_cpus = cpus <= measured.saturating_mul(2);
    let max_workers = if show_cpus {
        measured.max(cpus)
    } else {
        measured
    } as i32;
    let top = match quantity {
        Quantity::WallTime => series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.max))
            .fold(0.0, f64::max),
        Quantity::Speedup => series
            .iter()
            .flat_map(|s| s.points.iter().filter_map(|p| p.speedup))
            .fold(max_workers as f64, f64::max),
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
    let (y_title, y_format): (&str, fn(&f64) -> String) = match quantity {
        Quantity::WallTime if log => ("wall time (log scale)", |y| fmt::seconds(10f64.powf(*y))),
        Quantity::WallTime if top < 0.5 => ("wall time (ms)", |y| format!("{:.0}", y * 1e3)),
        Quantity::WallTime => ("wall time (s)", |y| format!("{y:.2}")),
        Quantity::Speedup => ("speedup (× one worker's throughput)", |y| {
            let text = format!("{y:.1}");
            format!("×{}", text.strip_suffix(".0").unwrap_or(&text))
        }),
    };

    let notes = if quantity == Quantity::Speedup {
        fit_notes(series)
    } else {
        Vec::new()
    };
    let note_height = NOTE_LINE * notes.len() as i32 + if notes.is_empty() { 0 } else { 6 };
    // The notes take the bottom of the picture, under the axis' title.
    let (upper, lower) = root.split_vertically(SIZE.1 as i32 - note_height);
    let mut chart = ChartBuilder::on(&upper)
        .caption(
            title,
            (
                "sans-serif",
                if title.chars().count() > 48 { 21 } else { 26 },
            ),
        )
        .margin(16)
        .x_label_area_size(56)
        .y_label_area_size(76)
        .build_cartesian_2d(0..max_workers + 1, bottom..top)?;
    chart
        .configure_mesh()
        .x_labels((max_workers as usize + 2).min(14))
        .x_label_formatter(&|&x| {
            if (1..=max_workers).contains(&x) {
                x.to_string()
            } else {
                String::new()
            }
        })
        .y_labels(8)
        .y_label_formatter(&y_format)
        .x_desc("workers (run at once, each doing the whole workload)")
        .y_desc(y_title)
        .axis_desc_style(("sans-serif", 18))
        .label_style(("sans-serif", 15))
        .light_line_style(WHITE.mix(0.0))
        .bold_line_style(BLACK.mix(0.08))
        .draw()?;

    // The CPUs marker: a vertical dashed line at x = cpus.
    let cpu_label = fmt::count(cpus, "CPU");
    if show_cpus {
        chart
            .draw_series(DashedLineSeries::new(
                [(cpus as i32, bottom), (cpus as i32, top)],
                6,
                5,
                REFERENCE.stroke_width(2),
            ))?
            .label(cpu_label)
            .legend(|(x, y)| {
                DashedPathElement::new(
                    [(x + 8, y - 8), (x + 8, y + 8)],
                    4,
                    3,
                    REFERENCE.stroke_width(2),
                )
            });
    }
    if quantity == Quantity::Speedup {
        chart
            .draw_series(DashedLineSeries::new(
                [(1, 1.0), (max_workers, max_workers as f64)],
                10,
                6,
                BLACK.mix(0.55).stroke_width(2),
            ))?
            .label("ideal: ×N")
            .legend(|(x, y)| {
                DashedPathElement::new([(x, y), (x + 20, y)], 6, 3, BLACK.mix(0.55).stroke_width(2))
            });
        // Work that needs a CPU cannot go faster than the CPUs there are.
        if cpu_bound && max_workers > cpus as i32 {
            chart
                .draw_series(DashedLineSeries::new(
                    [(cpus as i32, cpus as f64), (max_workers, cpus as f64)],
                    3,
                    4,
                    REFERENCE.stroke_width(2),
                ))?
                .label(format!("CPU limit: ×{cpus}"))
                .legend(|(x, y)| {
                    DashedPathElement::new([(x, y), (x + 20, y)], 3, 3, REFERENCE.stroke_width(2))
                });
        }
    }

    for s in series {
        let (colour, shape) = (s.colour, s.shape);
        let values: Vec<(i32, f64)> = s
            .points
            .iter()
            .filter_map(|p| {
                let y = match quantity {
                    Quantity::WallTime => Some(to_y(p.median)),
                    Quantity::Speedup => p.speedup,
                };
                Some((p.workers as i32, y?))
            })
            .collect();
        if quantity == Quantity::WallTime {
            chart.draw_series(s.points.iter().filter(|p| p.runs > 1).map(|p| {
                ErrorBar::new_vertical(
                    p.workers as i32,
                    to_y(p.min),
                    to_y(p.median),
                    to_y(p.max),
                    colour.stroke_width(2),
                    10,
                )
            }))?;
        }
        let line = chart
            .draw_series(LineSeries::new(values.clone(), colour.stroke_width(3)))?
            .label(&s.label);
        let sample = move |(x, y)| {
            EmptyElement::at((x, y)) + PathElement::new([(0, 0), (24, 0)], colour.stroke_width(3))
        };
        // A filled dot, a ring, a square, a triangle, each larger than the
        // last, so that models whose points coincide stay visible.
        let outline = colour.stroke_width(2);
        match shape % 4 {
            0 => {
                line.legend(move |at| sample(at) + Circle::new((12, 0), 5, colour.filled()));
                chart.draw_series(values.iter().map(|&at| Circle::new(at, 5, colour.filled())))?;
            }
            1 => {
                line.legend(move |at| sample(at) + Circle::new((12, 0), 8, outline));
                chart.draw_series(values.iter().map(|&at| Circle::new(at, 8, outline)))?;
            }
            2 => {
                let square = [(-7, -7), (7, 7)];
                line.legend(move |at| sample(at) + Rectangle::new([(5, -7), (19, 7)], outline));
                chart.draw_series(
                    values
                        .iter()
                        .map(|&at| EmptyElement::at(at) + Rectangle::new(square, outline)),
                )?;
            }
            _ => {
                line.legend(move |at| sample(at) + TriangleMarker::new((12, 0), 10, outline));
                chart.draw_series(
                    values
                        .iter()
                        .map(|&at| TriangleMarker::new(at, 10, outline)),
                )?;
            }
        }
    }

    if quantity == Quantity::Speedup {
        draw_fits(&root, &mut chart, series)?;
    }
    for (i, (text, colour)) in notes.iter().enumerate() {
        lower.draw(&Text::new(
            text.as_str(),
            (16, NOTE_LINE * i as i32),
            ("sans-serif", 14).into_font().color(colour),
        ))?;
    }

    chart
        .configure_series_labels()
        .position(match quantity {
            // Wall times grow with workers, or stay flat high up: the
            // lower right is where no line goes.
            // On a log scale fast and slow models leave the middle free.
            Quantity::WallTime if log => SeriesLabelPosition::MiddleRight,
            Quantity::WallTime => SeriesLabelPosition::LowerRight,
            Quantity::Speedup => SeriesLabelPosition::UpperLeft,
        })
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK.mix(0.3))
        .label_font(("sans-serif", 16))
        .draw()?;
    root.present()?;
    Ok(())
}

/// Height of one line of notes under the speedup plot, in pixels.
const NOTE_LINE: i32 = 18;

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

/// Each series' fitted `C(N)`, a thin line in its colour from 1 to the
/// last count fitted, with its parameters in the legend. The chart's
/// worker axis is integral, so the curve is placed in pixels, from where
/// the axis puts two counts and two speedups (both axes are linear).
fn draw_fits<'a>(
    root: &DrawingArea<SVGBackend<'a>, plotters::coord::Shift>,
    chart: &mut ChartContext<
        'a,
        SVGBackend<'a>,
        Cartesian2d<plotters::coord::types::RangedCoordi32, plotters::coord::types::RangedCoordf64>,
    >,
    series: &[Series],
) -> Result<(), DrawingAreaErrorKind<std::io::Error>> {
    let (x0, y0) = chart.backend_coord(&(0, 0.0));
    let (x1, y1) = chart.backend_coord(&(1, 1.0));
    let (dx, dy) = (f64::from(x1 - x0), f64::from(y1 - y0));
    let top = chart.y_range().end;
    let pixel = |n: f64, c: f64| {
        (
            x0 + (n * dx).round() as i32,
            y0 + (c.min(top) * dy).round() as i32,
        )
    };
    let mut drawn = None;
    for s in series {
        let Some(fit) = &s.fit else { continue };
        // Darker than the model's line and dashed, so that it shows where
        // it lies on the points.
        let style = darker(s.colour).stroke_width(2);
        let path: Vec<(i32, i32)> = (0..=(fit.last - 1) * CURVE_STEPS)
            .map(|i| {
                let n = 1.0 + i as f64 / CURVE_STEPS as f64;
                pixel(n, (fit.capacity)(n))
            })
            .collect();
        root.draw(&DashedPathElement::new(path, 5, 3, style))?;
        drawn = Some(fit.last);
    }
    if let Some(last) = drawn {
        let style = BLACK.mix(0.7).stroke_width(2);
        chart
            .draw_series(std::iter::empty::<PathElement<(i32, f64)>>())?
            .label(format!("fitted, N = 1–{last}: parameters below"))
            .legend(move |(x, y)| DashedPathElement::new([(x, y), (x + 24, y)], 5, 3, style));
    }
    Ok(())
}
