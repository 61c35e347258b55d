//! The HTML report: one self-contained page (styles inline, plots as inline
//! SVG, nothing fetched) with the machine, the plan, the conclusions, the
//! plots and the summary tables.

use super::plot::{Plot, headline, plots};
use super::rows::{COLUMNS, Row, rows};
use super::summary;
use super::timeline::timelines;
use crate::dataset::Grid;
use crate::dataset::Record;
use crate::fmt::TimeUnit;
use crate::workload::Workload;

const STYLE: &str = "
body { font-family: system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; color: #222;
       max-width: 1680px; margin: 2em auto; padding: 0 1.5em; line-height: 1.45; }
h1 { margin-bottom: 0.1em; } h1 + p { margin-top: 0; color: #555; }
h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.2em; margin-top: 1.8em; }
table { border-collapse: collapse; margin: 0.6em 0 1.2em; font-variant-numeric: tabular-nums; }
th, td { padding: 0.25em 0.8em; border-bottom: 1px solid #e4e4e4; }
th { text-align: left; background: #f6f6f6; }
td.n { text-align: right; }
table.kv th { background: none; font-weight: 600; }
code { background: #f3f3f3; padding: 0.1em 0.3em; border-radius: 3px; word-break: break-all; }
.plots { display: flex; flex-wrap: wrap; gap: 1em; }
figure { margin: 0; flex: 1 1 600px; max-width: 1000px; }
figure svg { width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #555; font-size: 0.9em; text-align: center; }
ul.conclusions li { margin: 0.3em 0; }
.headline figure { max-width: 1000px; }
ul.findings { font-size: 1.1em; } ul.findings li { margin: 0.5em 0; }
.failed { color: #b00020; }
";

/// The whole page.
pub(crate) fn render(record: &Record) -> String {
    let mut page = String::new();
    page.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    page.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    page.push_str("<title>paralab report</title>\n<style>");
    page.push_str(STYLE);
    page.push_str("</style>\n</head>\n<body>\n<h1>paralab report</h1>\n");
    page.push_str(
        "<p>N workers run at once, each doing the whole workload; wall time from before the first \
         starts to after the last ends. Speedup = N·T(1)/T(N); efficiency = T(1)/T(N).</p>\n",
    );

    let conclusions = summary::of_record(record);
    let lines: Vec<&str> = conclusions.lines().collect();
    // First what a reader came for: the headline chart and three verdicts.
    if let Some(chart) = headline(record) {
        page.push_str("<div class=\"headline\">\n");
        figure(&mut page, &chart);
        page.push_str("</div>\n");
    }
    page.push_str("<h2 id=\"findings\">Findings</h2>\n");
    if lines.is_empty() {
        page.push_str("<p>Not enough measurements to conclude anything (a run at 1 worker and at more is needed).</p>\n");
    } else {
        page.push_str("<ul class=\"findings\">\n");
        for line in key_findings(&lines) {
            page.push_str(&format!("<li>{}</li>\n", escape(line)));
        }
        page.push_str(
            "</ul>\n<p><a href=\"#conclusions\">Every conclusion</a> follows the plots.</p>\n",
        );
    }
    failures(&mut page, record);

    page.push_str("<h2 id=\"plots\">Plots</h2>\n<div class=\"plots\">\n");
    for plot in plots(record) {
        figure(&mut page, &plot);
    }
    page.push_str("</div>\n");

    let timelines = timelines(record);
    if !timelines.is_empty() {
        page.push_str(
            "<h2 id=\"timelines\">Timelines</h2>\n<p>One bar per worker of the median run: \
             bars side by side ran at once; bars one after another waited for each other (a lock, \
             the GIL); late starts are start-up; bars in rounds queued for a pool's threads. \
             Where the turns at a lock or at CPython's GIL were recorded, a worker's bar is pale \
             and its turns solid over it.</p>\n\
             <div class=\"plots\">\n",
        );
        for plot in &timelines {
            figure(&mut page, plot);
        }
        page.push_str("</div>\n");
    }

    page.push_str("<h2 id=\"conclusions\">Conclusions</h2>\n");
    if lines.is_empty() {
        page.push_str("<p>Not enough measurements to conclude anything.</p>\n");
    } else {
        page.push_str("<ul class=\"conclusions\">\n");
        for line in &lines {
            page.push_str(&format!("<li>{}</li>\n", escape(line)));
        }
        page.push_str("</ul>\n");
    }

    page.push_str("<h2 id=\"summary\">Summary</h2>\n");
    summary_tables(&mut page, record);

    page.push_str("<h2 id=\"plan\">Plan</h2>\n");
    plan(&mut page, record);

    page.push_str("<h2 id=\"machine\">Machine</h2>\n");
    if !record.other_machines.is_empty() {
        page.push_str(&format!(
            "<p>These runs come from {} machines, each described below.</p>\n",
            record.other_machines.len() + 1
        ));
    }
    match &record.machine {
        Some(machine) => {
            for machine in std::iter::once(machine).chain(&record.other_machines) {
                page.push_str("<table class=\"kv\">\n");
                for (name, value) in machine.describe() {
                    let value = if name == "command" {
                        format!("<code>{}</code>", escape(&value))
                    } else {
                        escape(&value)
                    };
                    page.push_str(&format!("<tr><th>{name}</th><td>{value}</td></tr>\n"));
                }
                page.push_str("</table>\n");
            }
        }
        None => page.push_str("<p>Not recorded (the measurements were read from a file without its header line).</p>\n"),
    }
    page.push_str("</body>\n</html>\n");
    page
}

/// One plot as a figure, its file name as the caption.
fn figure(page: &mut String, plot: &Plot) {
    page.push_str(&format!(
        "<figure data-file=\"{0}\" title=\"{1}\">\n{2}\n<figcaption>{0}</figcaption>\n</figure>\n",
        escape(&plot.file_name),
        escape(&plot.title),
        strip_xml_declaration(&plot.svg),
    ));
}

/// Which conclusions a reader needs first, by what they are about: the
/// GIL (Python's threads against processes, or the gil model), then
/// whether threads use the cores, then processes; the first lines fill up
/// to three when some are missing. Each is the summary's line, unchanged.
const FIRST: [&[&str]; 3] = [
    &[
        "the GIL at ",
        "\"threads cannot use",
        "cpu · gil:",
        "cpu · py-thread",
    ],
    &["cpu · thread:", "cpu · thread "],
    &["cpu · process", "sleep · thread:"],
];

/// The three conclusions shown first.
pub(crate) fn key_findings<'a>(lines: &[&'a str]) -> Vec<&'a str> {
    let mut chosen: Vec<&str> = Vec::new();
    for prefixes in FIRST {
        let found = prefixes.iter().find_map(|p| {
            lines
                .iter()
                .find(|l| l.starts_with(p) && !chosen.contains(l))
        });
        if let Some(line) = found {
            chosen.push(line);
        }
    }
    for line in lines {
        if chosen.len() >= 3 {
            break;
        }
        if !chosen.contains(line) {
            chosen.push(line);
        }
    }
    chosen
}

fn failures(page: &mut String, record: &Record) {
    let failed: Vec<String> = record
        .measurements
        .iter()
        .filter(|m| !m.succeeded())
        .map(|m| {
            let why: Vec<String> = m
                .failures()
                .map(|o| format!("worker {} {}", o.worker, o.status))
                .collect();
            format!("{} (run {}): {}", m.label(), m.run, why.join("; "))
        })
        .collect();
    if !failed.is_empty() {
        page.push_str("<p class=\"failed\">Failed runs, left out of the numbers:</p>\n<ul class=\"failed\">\n");
        for line in failed {
            page.push_str(&format!("<li>{}</li>\n", escape(&line)));
        }
        page.push_str("</ul>\n");
    }
}

fn summary_tables(page: &mut String, record: &Record) {
    let rows = rows(&record.measurements);
    let mut workloads: Vec<&Workload> = Vec::new();
    for row in &rows {
        if !workloads.contains(&&row.workload) {
            workloads.push(&row.workload);
        }
    }
    for workload in workloads {
        page.push_str(&format!(
            "<h3>{}</h3>\n<table class=\"summary\">\n",
            escape(&workload.to_string())
        ));
        let header: String = COLUMNS.iter().map(|c| format!("<th>{c}</th>")).collect();
        page.push_str(&format!("<tr>{header}</tr>\n"));
        // One unit per column: the one the table's times suit.
        let unit = TimeUnit::for_times(
            rows.iter()
                .filter(|r| &r.workload == workload)
                .flat_map(Row::times),
        );
        for row in rows.iter().filter(|r| &r.workload == workload) {
            page.push_str(&table_row(row, unit));
        }
        page.push_str("</table>\n");
    }
}

fn table_row(row: &Row, unit: TimeUnit) -> String {
    let n = |text: &str| format!("<td class=\"n\">{}</td>", escape(text));
    let text = row.text_in(unit);
    let timings = match &text.timings {
        Some(timings) => timings.iter().map(|t| n(t)).collect(),
        None => "<td class=\"failed\" colspan=\"6\">failed</td>".to_string(),
    };
    format!(
        "<tr><td>{}</td>{}{timings}{}</tr>\n",
        escape(&text.model),
        n(&text.workers),
        n(&text.runs)
    )
}

fn plan(page: &mut String, record: &Record) {
    let grid = Grid::new(&record.measurements);
    let list = |items: Vec<String>| items.join(", ");
    let (workloads, models, workers, runs, warmup) = match &record.plan {
        Some(plan) => (
            list(plan.workloads.iter().map(ToString::to_string).collect()),
            list(plan.models.iter().map(ToString::to_string).collect()),
            list(plan.workers.iter().map(ToString::to_string).collect()),
            plan.runs.to_string(),
            plan.warmup.to_string(),
        ),
        None => {
            let mut workloads: Vec<String> = Vec::new();
            let mut models: Vec<String> = Vec::new();
            for c in &grid.columns {
                let (w, m) = (c.workload.to_string(), c.model.to_string());
                if !workloads.contains(&w) {
                    workloads.push(w);
                }
                if !models.contains(&m) {
                    models.push(m);
                }
            }
            (
                list(workloads),
                list(models),
                list(grid.workers.iter().map(ToString::to_string).collect()),
                record.runs().to_string(),
                "not recorded".to_string(),
            )
        }
    };
    page.push_str("<table class=\"kv\">\n");
    for (name, value) in [
        ("workloads", workloads),
        ("models", models),
        ("workers", workers),
        ("timed runs each", runs),
        ("warm-up runs each", warmup),
        ("measurements", record.measurements.len().to_string()),
    ] {
        page.push_str(&format!(
            "<tr><th>{name}</th><td>{}</td></tr>\n",
            escape(&value)
        ));
    }
    page.push_str("</table>\n");
}

fn strip_xml_declaration(svg: &str) -> &str {
    match svg.find("<svg") {
        Some(start) => &svg[start..],
        None => svg,
    }
}

/// Escapes text for HTML element content and attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
