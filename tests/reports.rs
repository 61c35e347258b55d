//! Reports from known measurements: exports read back, plots are
//! well-formed SVG with one line per model, the HTML page renders.

use std::time::Duration;

use paralab::dataset::Record;
use paralab::export::Format as ExportFormat;
use paralab::export::json::JsonExport;
use paralab::machine::Machine;
use paralab::report::{html, plot};
use paralab::{Experiment, Measurement, Model, Plan, StartMethod, WorkerStatus, Workload};

const MODELS: [Model; 3] = [
    Model::Thread,
    Model::Process(StartMethod::Fork),
    Model::Process(StartMethod::Spawn),
];

fn workloads() -> [Workload; 2] {
    [
        Workload::Cpu { iters: 10 },
        Workload::Sleep {
            duration: Duration::from_millis(50),
        },
    ]
}

/// Three runs of every (workload, model, workers) for workers 1, 2, 3, with
/// made-up times: cpu twice as slow at 3 workers, sleep flat.
fn record() -> Record {
    let mut measurements = Vec::new();
    for workers in 1..=3 {
        for workload in workloads() {
            for (m, model) in MODELS.into_iter().enumerate() {
                for run in 1..=3 {
                    let base = if let Workload::Cpu { .. } = workload {
                        0.25 * if workers == 3 { 1.5 } else { 1.0 }
                    } else {
                        0.05
                    };
                    let wall_s = base * (1.0 + 0.01 * m as f64) + 0.001 * run as f64;
                    let status = WorkerStatus::Finished {
                        result: workload.expected_result(),
                    };
                    measurements.push(measurement(&workload, model, workers, run, wall_s, &status));
                }
            }
        }
    }
    Record {
        machine: Some(Machine::this(vec![
            "paralab".into(),
            "--runs".into(),
            "3".into(),
        ])),
        plan: Some(Plan {
            workloads: workloads().to_vec(),
            models: MODELS.to_vec(),
            workers: vec![1, 2, 3],
            runs: 3,
            warmup: 0,
        }),
        measurements,
    }
}

/// A measurement built from JSON rather than a struct literal, so that
/// fields added to measurements later (with serde defaults) need no change
/// here.
fn measurement(
    workload: &Workload,
    model: Model,
    workers: usize,
    run: usize,
    wall_s: f64,
    status: &WorkerStatus,
) -> Measurement {
    let outcomes: Vec<serde_json::Value> = (0..workers)
        .map(|worker| {
            let mut outcome = serde_json::to_value(status).unwrap();
            outcome["worker"] = worker.into();
            outcome["start_s"] = 0.0001.into();
            outcome["end_s"] = wall_s.into();
            outcome["cpu_s"] = 0.0.into();
            outcome
        })
        .collect();
    let mut value = serde_json::to_value(model).unwrap();
    value["workload"] = serde_json::to_value(workload).unwrap();
    value["workers"] = workers.into();
    value["run"] = run.into();
    value["wall_s"] = wall_s.into();
    value["outcomes"] = outcomes.into();
    serde_json::from_value(value).unwrap()
}

fn export(format: ExportFormat, record: &Record) -> String {
    let output = format.exporter().export(record).unwrap();
    String::from_utf8(output.into_document().unwrap()).unwrap()
}

#[test]
fn json_export_parses_back_into_the_same_measurements() {
    // Real measurements, with real outcomes, not only made-up ones.
    let plan = Plan {
        workloads: vec![Workload::Cpu { iters: 1000 }],
        models: vec![Model::Thread, Model::Process(StartMethod::Fork)],
        workers: vec![1, 2],
        runs: 2,
        warmup: 0,
    };
    let results = Experiment::new(plan.clone()).run();
    let record = Record {
        machine: Some(Machine::current()),
        plan: Some(plan),
        measurements: results.measurements,
    };
    let text = export(ExportFormat::Json, &record);
    let back: JsonExport = serde_json::from_str(&text).unwrap();
    assert_eq!(back.measurements, record.measurements);
    assert_eq!(back.machine, record.machine);
    assert_eq!(back.plan, record.plan);
    assert_eq!(back.summaries.len(), 4);
    for summary in &back.summaries {
        let walls: Vec<f64> = record
            .measurements
            .iter()
            .filter(|m| m.model == summary.model && m.workers == summary.workers)
            .map(|m| m.wall_s)
            .collect();
        let s = summary.wall_s.unwrap();
        assert_eq!(s.runs, 2);
        assert_eq!(s.min, walls.iter().copied().fold(f64::INFINITY, f64::min));
        assert_eq!(s.max, walls.iter().copied().fold(0.0, f64::max));
        assert!((s.mean - (walls[0] + walls[1]) / 2.0).abs() < 1e-15);
    }
    // The machine block says where and how.
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    let machine = &value["machine"];
    for key in [
        "cpu_model",
        "logical_cpus",
        "physical_cores",
        "memory_bytes",
        "kernel",
        "os",
        "paralab_version",
        "command_line",
    ] {
        assert!(
            machine.get(key).is_some(),
            "machine has no {key}: {machine}"
        );
    }
}

#[test]
fn csv_export_has_its_header_and_one_row_per_cell() {
    let record = record();
    let text = export(ExportFormat::Csv, &record);
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(header, paralab::export::csv::HEADER);
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2 * 3 * 3, "{text}");
    let column = |name: &str| header.iter().position(|h| h == name).unwrap();
    // cpu · thread · 3 workers: runs of 0.376, 0.377, 0.378 s.
    let row = rows
        .iter()
        .find(|r| {
            &r[column("workload")] == "cpu"
                && &r[column("model")] == "thread"
                && &r[column("workers")] == "3"
        })
        .unwrap();
    assert_eq!(&row[column("runs")], "3");
    let median: f64 = row[column("median_s")].parse().unwrap();
    assert!((median - 0.377).abs() < 1e-12, "{median}");
    let speedup: f64 = row[column("speedup")].parse().unwrap();
    assert!((speedup - 3.0 * 0.252 / 0.377).abs() < 1e-9, "{speedup}");
    assert_eq!(&row[column("iters")], "10");
    assert_eq!(&row[column("sleep_s")], "");
}

#[test]
fn markdown_export_has_one_table_per_workload() {
    let text = export(ExportFormat::Markdown, &record());
    assert_eq!(
        text.matches("| model | workers | median |").count(),
        2,
        "{text}"
    );
    let rows = text
        .lines()
        .filter(|l| l.starts_with("| thread |") || l.starts_with("| process:"))
        .count();
    assert_eq!(rows, 2 * 3 * 3, "{text}");
    assert!(text.contains("| process:spawn | 3 | 0.385 s | 0.385 s ± 1.0 ms | 0.384 s | 0.386 s | ×2.01 | 67 % | 3 |"), "{text}");
    assert!(text.contains("### Conclusions"));
}

/// Polylines drawn 3 px wide with one vertex per worker count: the models'
/// lines (legend samples have two vertices, error bars and references are
/// thinner).
fn series_lines(svg: &str) -> Vec<(String, usize)> {
    let document = roxmltree::Document::parse(svg).expect("the SVG is well-formed XML");
    assert_eq!(document.root_element().tag_name().name(), "svg");
    document
        .descendants()
        .filter(|n| n.has_tag_name("polyline") && n.attribute("stroke-width") == Some("3"))
        .map(|n| {
            let points = n
                .attribute("points")
                .unwrap_or("")
                .split_whitespace()
                .count();
            (n.attribute("stroke").unwrap_or("").to_string(), points)
        })
        .filter(|(_, points)| *points >= 3)
        .collect()
}

#[test]
fn plots_are_well_formed_svg_with_one_series_per_model() {
    let record = record();
    let plots = plot::plots(&record);
    let names: Vec<&str> = plots.iter().map(|p| p.file_name.as_str()).collect();
    assert_eq!(
        names,
        [
            "cpu-wall-time.svg",
            "cpu-speedup.svg",
            "sleep-wall-time.svg",
            "sleep-speedup.svg"
        ]
    );
    for plot in &plots {
        let lines = series_lines(&plot.svg);
        assert_eq!(lines.len(), MODELS.len(), "{}: {lines:?}", plot.file_name);
        let mut colours: Vec<&str> = lines.iter().map(|(c, _)| c.as_str()).collect();
        colours.dedup();
        assert_eq!(
            colours.len(),
            MODELS.len(),
            "{}: one colour per model",
            plot.file_name
        );
        for label in [
            "thread",
            "process:fork",
            "process:spawn",
            "2 CPUs",
            "workers (run at once",
        ] {
            let label = if label.ends_with("CPUs") {
                format!("{} CPU", record.cpus())
            } else {
                label.to_string()
            };
            assert!(
                plot.svg.contains(&label),
                "{} has no '{label}'",
                plot.file_name
            );
        }
    }
    assert!(
        plots[0].svg.contains("wall time (ms)"),
        "cpu times of 0.25 to 0.39 s are in ms"
    );
    assert!(plots[1].svg.contains("ideal: ×N"));
    // 3 workers on the record's 2 CPUs: cpu work is capped, sleep is not.
    assert!(plots[1].svg.contains("CPU limit: ×2"));
    assert!(!plots[3].svg.contains("CPU limit"));
    // Error bars (2 px) where there are several runs.
    assert!(plots[0].svg.contains("stroke-width=\"2\""));
}

#[test]
fn plots_are_written_into_a_directory() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("new").join("plots");
    std::fs::create_dir(dir.path().join("new")).unwrap();
    let written = plot::write_dir(&target, &record()).unwrap();
    assert_eq!(written.len(), 4);
    for path in written {
        let svg = std::fs::read_to_string(&path).unwrap();
        assert_eq!(series_lines(&svg).len(), 3, "{}", path.display());
    }
}

#[test]
fn html_page_is_self_contained() {
    let page = html::render(&record());
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert_eq!(page.matches("<svg").count(), 4);
    for section in [
        "id=\"conclusions\"",
        "id=\"plots\"",
        "id=\"summary\"",
        "id=\"plan\"",
        "id=\"machine\"",
    ] {
        assert!(page.contains(section), "no {section}");
    }
    assert!(
        !page.contains("http://")
            || page.matches("http://").count()
                == page.matches("xmlns=\"http://www.w3.org/2000/svg\"").count(),
        "the page refers to something outside itself"
    );
    assert!(!page.contains("https://"));
    assert!(page.contains("<code>paralab --runs 3</code>"));
}

/// Opens the page in headless Chromium (Debian's `chromium`), dumps the DOM
/// it built and takes a screenshot. `.ci/run` installs chromium; elsewhere
/// the test is skipped with a message when it is missing, unless
/// PARALAB_REQUIRE_CHROMIUM=1.
#[test]
fn html_page_renders_in_chromium() {
    let Some(chromium) = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|name| {
            std::process::Command::new(name)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
    else {
        let required = std::env::var("PARALAB_REQUIRE_CHROMIUM").is_ok_and(|v| v == "1");
        assert!(
            !required,
            "PARALAB_REQUIRE_CHROMIUM=1 but no chromium found; install it: apt-get install chromium"
        );
        eprintln!(
            "SKIPPED html_page_renders_in_chromium: no chromium on PATH (apt-get install chromium, or run .ci/run as root)"
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("report.html");
    std::fs::write(&page, html::render(&record())).unwrap();
    let url = format!("file://{}", page.display());
    let profile = dir.path().join("profile");
    let common = [
        "--headless".to_string(),
        "--no-sandbox".to_string(),
        "--disable-gpu".to_string(),
        "--no-first-run".to_string(),
        format!("--user-data-dir={}", profile.display()),
    ];
    let dom = std::process::Command::new(chromium)
        .args(&common)
        .args(["--dump-dom", &url])
        .output()
        .unwrap();
    assert!(
        dom.status.success(),
        "{}",
        String::from_utf8_lossy(&dom.stderr)
    );
    let dom = String::from_utf8(dom.stdout).unwrap();
    // Parsed by the browser: the plots are SVG elements in the DOM, with
    // their lines, and the tables are there.
    assert_eq!(dom.matches("<svg").count(), 4, "{dom}");
    assert!(dom.matches("<polyline").count() >= 4 * 3);
    assert!(dom.contains("<table class=\"summary\">"));
    assert!(dom.contains("paralab report"));

    let screenshot = dir.path().join("report.png");
    let shot = std::process::Command::new(chromium)
        .args(&common)
        .args(["--hide-scrollbars", "--window-size=1280,2000"])
        .arg(format!("--screenshot={}", screenshot.display()))
        .arg(&url)
        .output()
        .unwrap();
    assert!(
        shot.status.success(),
        "{}",
        String::from_utf8_lossy(&shot.stderr)
    );
    let png = std::fs::read(&screenshot).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    // A blank 1280×2000 page compresses to a few KiB; plots and tables do not.
    assert!(
        png.len() > 60_000,
        "the screenshot is {} bytes: was anything drawn?",
        png.len()
    );
}

#[test]
fn many_cpus_do_not_squash_a_small_sweep() {
    let mut record = record();
    if let Some(machine) = &mut record.machine {
        machine.logical_cpus = 64;
    }
    for plot in plot::plots(&record) {
        assert!(!plot.svg.contains("64 CPUs"), "{}", plot.file_name);
        assert!(!plot.svg.contains("CPU limit"), "{}", plot.file_name);
        assert_eq!(series_lines(&plot.svg).len(), 3);
    }
    if let Some(machine) = &mut record.machine {
        machine.logical_cpus = 4;
    }
    assert!(plot::plots(&record)[0].svg.contains("4 CPUs"));
}

/// Wall times 100× apart (CPython beside Rust) are drawn on a log scale so
/// that the fast lines do not lie flat on the axis; close ones stay linear.
#[test]
fn wall_times_far_apart_get_a_log_scale() {
    let mut record = record();
    let linear = plot::plots(&record);
    assert!(!linear[0].svg.contains("log scale"), "{}", linear[0].title);
    for m in &mut record.measurements {
        if m.model == MODELS[0] {
            m.wall_s /= 100.0;
        }
    }
    let plots = plot::plots(&record);
    assert!(plots[0].file_name.ends_with("wall-time.svg"));
    assert!(plots[0].svg.contains("wall time (log scale)"));
    assert!(!plots[1].svg.contains("log scale"), "speedups stay linear");
    roxmltree::Document::parse(&plots[0].svg).unwrap();
}
