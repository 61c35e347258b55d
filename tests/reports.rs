//! Reports from known measurements, through `paralab report` on a saved
//! file of made-up times: exports read back, plots are well-formed SVG
//! with one line per model, the HTML page renders.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use common::paralab;
use paralab::{Measurement, Model, Plan, StartMethod, WorkerStatus, Workload};
use serde_json::Value;

const MODELS: [Model; 3] = [
    Model::THREAD,
    Model::process(StartMethod::Fork),
    Model::process(StartMethod::Spawn),
];

fn workloads() -> [Workload; 2] {
    [
        Workload::Cpu { iters: 10 },
        Workload::Sleep {
            duration: Duration::from_millis(50),
        },
    ]
}

/// The machine block of a real saved file (so that it has every field
/// paralab writes), from one tiny run.
fn this_machine() -> &'static Value {
    static MACHINE: OnceLock<Value> = OnceLock::new();
    MACHINE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let saved = dir.path().join("tiny.jsonl");
        paralab()
            .args(["10", "--workloads", "cpu", "--models", "thread"])
            .args(["--workers", "1", "-q", "--save"])
            .arg(&saved)
            .assert()
            .success();
        let text = std::fs::read_to_string(&saved).unwrap();
        let header: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        header["machine"].clone()
    })
}

/// A saved file, line by line: its header (machine and plan), then its
/// measurements.
#[derive(Clone)]
struct Saved {
    header: Value,
    measurements: Vec<Value>,
}

impl Saved {
    /// Three runs of every (workload, model, workers) for workers 1, 2, 3,
    /// with made-up times: cpu twice as slow at 3 workers, sleep flat; made
    /// on a machine of 2 logical CPUs by `paralab --runs 3`.
    fn made_up() -> Saved {
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
                        measurements
                            .push(measurement(&workload, model, workers, run, wall_s, &status));
                    }
                }
            }
        }
        let mut machine = this_machine().clone();
        machine["logical_cpus"] = 2.into();
        machine["command_line"] = serde_json::json!(["paralab", "--runs", "3"]);
        let plan = Plan {
            workloads: workloads().to_vec(),
            models: MODELS.to_vec(),
            workers: vec![1, 2, 3],
            runs: 3,
            warmup: 0,
        };
        let header = serde_json::json!({
            "paralab": machine["paralab_version"].clone(),
            "machine": machine,
            "plan": plan,
        });
        Saved {
            header,
            measurements,
        }
    }

    /// The same, with the thread model's runs 100 times as fast (the log
    /// scale's case: CPython beside Rust).
    fn with_thread_far_faster(mut self) -> Saved {
        let thread = serde_json::to_value(MODELS[0]).unwrap();
        for m in &mut self.measurements {
            if m["model"] == thread["model"] {
                m["wall_s"] = (m["wall_s"].as_f64().unwrap() / 100.0).into();
            }
        }
        self
    }

    /// The same, said to come from a machine of `cpus` logical CPUs.
    fn with_cpus(mut self, cpus: usize) -> Saved {
        self.header["machine"]["logical_cpus"] = cpus.into();
        self
    }

    /// Writes the file into `dir`.
    fn write(&self, dir: &Path) -> PathBuf {
        let path = dir.join("saved.jsonl");
        let mut text = format!("{}\n", self.header);
        for m in &self.measurements {
            text.push_str(&format!("{m}\n"));
        }
        std::fs::write(&path, text).unwrap();
        path
    }
}

/// A measurement as a saved line: JSON built from JSON rather than from a
/// struct literal, so that fields added to measurements later (with serde
/// defaults) need no change here. It must read back as a measurement.
fn measurement(
    workload: &Workload,
    model: Model,
    workers: usize,
    run: usize,
    wall_s: f64,
    status: &WorkerStatus,
) -> Value {
    let outcomes: Vec<Value> = (0..workers)
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
    serde_json::from_value::<Measurement>(value.clone()).unwrap();
    value
}

/// What `paralab report` on `saved`, with `args`, printed on stdout; it
/// runs in `dir`, where relative output paths land.
fn report(saved: &Saved, dir: &Path, args: &[&str]) -> String {
    let file = saved.write(dir);
    let output = paralab()
        .current_dir(dir)
        .arg("report")
        .arg(&file)
        .args(args)
        .output()
        .unwrap();
    common::stdout_of(&output)
}

/// An export of `saved` written to stdout (`--export-csv -`, …).
fn export(saved: &Saved, option: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    report(saved, dir.path(), &[option, "-"])
}

/// The per-workload SVG plots `paralab report --plot` writes for `saved`
/// (wall time and speedup), by file name.
fn plots(saved: &Saved) -> BTreeMap<String, String> {
    all_plots(saved)
        .into_iter()
        .filter(|(name, _)| !is_extra(name))
        .collect()
}

/// Every SVG `paralab report --plot` writes for `saved`, by file name.
fn all_plots(saved: &Saved) -> BTreeMap<String, String> {
    let dir = tempfile::tempdir().unwrap();
    report(saved, dir.path(), &["--plot", "plots", "-q"]);
    read_dir(&dir.path().join("plots"))
}

/// The headline chart and the timelines, drawn beside the line plots.
fn is_extra(name: &str) -> bool {
    name == "headline-speedup.svg" || name.starts_with("timeline-")
}

/// Every file of `dir`, by name.
fn read_dir(dir: &Path) -> BTreeMap<String, String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&path).unwrap())
        })
        .collect()
}

/// The page `paralab report --html` writes for `saved`.
fn html(saved: &Saved) -> String {
    let dir = tempfile::tempdir().unwrap();
    report(saved, dir.path(), &["--html", "r.html", "-q"]);
    std::fs::read_to_string(dir.path().join("r.html")).unwrap()
}

/// Real measurements, with real outcomes, not only made-up ones: the JSON
/// export holds what `--save` wrote, and summaries of it.
#[test]
fn json_export_parses_back_into_the_same_measurements() {
    let dir = tempfile::tempdir().unwrap();
    let output = paralab()
        .current_dir(dir.path())
        .args(["bench", "1000", "--workloads", "cpu"])
        .args([
            "--models",
            "thread,process:fork",
            "--workers",
            "1,2",
            "--runs",
            "2",
        ])
        .args(["--save", "s.jsonl", "--export-json", "r.json", "-q"])
        .output()
        .unwrap();
    common::stdout_of(&output);
    let saved = std::fs::read_to_string(dir.path().join("s.jsonl")).unwrap();
    let mut lines = saved
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap());
    let header = lines.next().unwrap();
    let saved: Vec<Measurement> = lines.map(|l| serde_json::from_value(l).unwrap()).collect();
    let text = std::fs::read_to_string(dir.path().join("r.json")).unwrap();
    let back: Value = serde_json::from_str(&text).unwrap();
    let measurements: Vec<Measurement> =
        serde_json::from_value(back["measurements"].clone()).unwrap();
    assert_eq!(measurements, saved);
    assert_eq!(back["machine"], header["machine"]);
    assert_eq!(back["plan"], header["plan"]);
    let summaries = back["summaries"].as_array().unwrap();
    assert_eq!(summaries.len(), 4);
    for summary in summaries {
        let walls: Vec<f64> = back["measurements"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| {
                m["model"] == summary["model"]
                    && m["start_method"] == summary["start_method"]
                    && m["workers"] == summary["workers"]
            })
            .map(|m| m["wall_s"].as_f64().unwrap())
            .collect();
        let s = &summary["wall_s"];
        let at = |key: &str| s[key].as_f64().unwrap();
        assert_eq!(s["runs"], 2, "{summary}");
        assert_eq!(walls.len(), 2, "{summary}");
        assert_eq!(
            at("min"),
            walls.iter().copied().fold(f64::INFINITY, f64::min)
        );
        assert_eq!(at("max"), walls.iter().copied().fold(0.0, f64::max));
        assert!((at("mean") - (walls[0] + walls[1]) / 2.0).abs() < 1e-15);
    }
    // The machine block says where and how.
    let machine = &back["machine"];
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
    let text = export(&Saved::made_up(), "--export-csv");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    // Every column named once.
    let mut names = header.clone();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), header.len(), "{header:?}");
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2 * 3 * 3, "{text}");
    let column = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name} in {header:?}"))
    };
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
    let text = export(&Saved::made_up(), "--export-markdown");
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
    assert!(text.contains("| process:spawn | 3 | 0.385 s | 0.385 s ± 0.0010 s | 0.384 s | 0.386 s | ×2.01 | 67 % | 3 |"), "{text}");
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
    let plots = plots(&Saved::made_up());
    let names: Vec<&str> = plots.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "cpu-speedup.svg",
            "cpu-wall-time.svg",
            "sleep-speedup.svg",
            "sleep-wall-time.svg",
        ]
    );
    for (name, svg) in &plots {
        let lines = series_lines(svg);
        assert_eq!(lines.len(), MODELS.len(), "{name}: {lines:?}");
        let mut colours: Vec<&str> = lines.iter().map(|(c, _)| c.as_str()).collect();
        colours.dedup();
        assert_eq!(colours.len(), MODELS.len(), "{name}: one colour per model");
        // The saved machine had 2 CPUs.
        for label in [
            "thread",
            "process:fork",
            "process:spawn",
            "2 CPU",
            "workers (run at once",
        ] {
            assert!(svg.contains(label), "{name} has no '{label}'");
        }
    }
    assert!(
        plots["cpu-wall-time.svg"].contains("wall time (ms)"),
        "cpu times of 0.25 to 0.39 s are in ms"
    );
    assert!(plots["cpu-speedup.svg"].contains("ideal: ×N"));
    // 3 workers on the record's 2 CPUs: cpu work is capped, sleep is not.
    assert!(plots["cpu-speedup.svg"].contains("CPU limit: ×2"));
    assert!(!plots["sleep-speedup.svg"].contains("CPU limit"));
    // Error bars (2 px) where there are several runs.
    assert!(plots["cpu-wall-time.svg"].contains("stroke-width=\"2\""));
}

#[test]
fn plots_are_written_into_a_directory() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("new")).unwrap();
    report(
        &Saved::made_up(),
        dir.path(),
        &["--plot", "new/plots", "-q"],
    );
    let written = read_dir(&dir.path().join("new").join("plots"));
    assert!(written.contains_key("headline-speedup.svg"));
    // A timeline per workload and model at 2 workers (the CPUs) and 3.
    let timelines = written
        .keys()
        .filter(|n| n.starts_with("timeline-"))
        .count();
    assert_eq!(timelines, 2 * MODELS.len() * 2, "{:?}", written.keys());
    assert!(written.contains_key("timeline-cpu-process-spawn-n2.svg"));
    let lines: Vec<_> = written.iter().filter(|(name, _)| !is_extra(name)).collect();
    assert_eq!(lines.len(), 4);
    for (name, svg) in lines {
        assert_eq!(series_lines(svg).len(), 3, "{name}");
    }
}

#[test]
fn html_page_is_self_contained() {
    let page = html(&Saved::made_up());
    assert!(page.starts_with("<!DOCTYPE html>"));
    // The headline, 4 line plots, 2 timelines per workload and model.
    assert_eq!(page.matches("<svg").count(), 1 + 4 + 2 * 2 * MODELS.len());
    // The page opens with the headline chart and the findings, then the
    // plots; every conclusion comes after them.
    let at = |needle: &str| page.find(needle).unwrap_or_else(|| panic!("no {needle}"));
    assert!(at("data-file=\"headline-speedup.svg\"") < at("id=\"findings\""));
    assert!(at("id=\"findings\"") < at("id=\"plots\""));
    assert!(at("id=\"plots\"") < at("id=\"timelines\""));
    assert!(at("id=\"timelines\"") < at("id=\"conclusions\""));
    let findings = &page[at("<ul class=\"findings\">")..];
    let findings = &findings[..findings.find("</ul>").unwrap()];
    assert_eq!(findings.matches("<li>").count(), 3, "{findings}");
    for section in [
        "id=\"findings\"",
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
/// it built and takes a screenshot. `.ci/run` installs chromium and sets
/// PARALAB_REQUIRE_CHROMIUM=1; elsewhere the test is skipped with a line
/// when it is missing.
#[test]
fn html_page_renders_in_chromium() {
    let Some(chromium) = common::chromium() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("report.html");
    std::fs::write(&page, html(&Saved::made_up())).unwrap();
    let url = format!("file://{}", page.display());
    let profile = dir.path().join("profile");
    let flags = [
        "--headless".to_string(),
        "--no-sandbox".to_string(),
        "--disable-gpu".to_string(),
        "--no-first-run".to_string(),
        format!("--user-data-dir={}", profile.display()),
    ];
    let dom = std::process::Command::new(chromium)
        .args(&flags)
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
    assert_eq!(
        dom.matches("<svg").count(),
        1 + 4 + 2 * 2 * MODELS.len(),
        "{dom}"
    );
    assert!(dom.matches("<polyline").count() >= 4 * 3);
    assert!(dom.contains("<table class=\"summary\">"));
    assert!(dom.contains("paralab report"));

    let screenshot = dir.path().join("report.png");
    let shot = std::process::Command::new(chromium)
        .args(&flags)
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
    // The check itself sees what it must refuse.
    let broken = "<!DOCTYPE html><html><body><svg width=\"400\" height=\"100\" \
        xmlns=\"http://www.w3.org/2000/svg\"><text x=\"10\" y=\"20\" font-size=\"14\">thread</text>\
        <text x=\"20\" y=\"24\" font-size=\"14\">process</text>\
        <text x=\"200\" y=\"60\" font-size=\"14\">31.6 ms</text>\
        <text x=\"300\" y=\"60\" font-size=\"8\">tiny</text></svg></body></html>";
    let problems = text_problems(chromium, &flags, broken, dir.path());
    assert_eq!(problems.len(), 3, "{problems:#?}");
    for saved in [
        Saved::made_up(),
        Saved::made_up().with_cpus(64),
        Saved::made_up().with_thread_far_faster(),
    ] {
        let problems = text_problems(chromium, &flags, &html(&saved), dir.path());
        assert!(problems.is_empty(), "{problems:#?}");
    }
    // A blank 1280×2000 page compresses to a few KiB; plots and tables do not.
    assert!(
        png.len() > 60_000,
        "the screenshot is {} bytes: was anything drawn?",
        png.len()
    );
}

/// The script the page is opened with to check its text: in every SVG,
/// the boxes the browser laid each text out in (none may overlap another
/// by more than a pixel each way), each text's font size (10 px or more),
/// and every number that is not a value label (a tick) has at most two
/// significant digits, as 1-2-5 ticks do ("31.6 ms" is refused). It writes
/// what it found into the DOM, which `--dump-dom` prints.
const TEXT_CHECK: &str = r#"<script>
const problems = [];
document.querySelectorAll('svg').forEach((svg, s) => {
  const boxes = [];
  svg.querySelectorAll('text').forEach(t => {
    const r = t.getBoundingClientRect();
    const text = t.textContent.trim();
    if (r.width === 0 || text === '') return;
    const size = parseFloat(getComputedStyle(t).fontSize);
    if (size < 10) problems.push(`svg ${s}: '${text}' is ${size}px`);
    const number = text.match(/^×?([0-9.]+)( (s|ms|µs))?$/);
    if (number && !t.classList.contains('value')) {
      const digits = number[1].replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
      if (digits.length > 2) problems.push(`svg ${s}: tick '${text}'`);
    }
    boxes.push([text, r]);
  });
  for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
    const [a, p] = boxes[i], [b, q] = boxes[j];
    const w = Math.min(p.right, q.right) - Math.max(p.left, q.left);
    const h = Math.min(p.bottom, q.bottom) - Math.max(p.top, q.top);
    if (w > 1 && h > 1) problems.push(`svg ${s}: '${a}' overlaps '${b}'`);
  }
});
const out = document.createElement('pre');
out.id = 'text-check';
out.textContent = JSON.stringify(problems);
document.body.appendChild(out);
</script>"#;

/// What [`TEXT_CHECK`] found wrong with the text of `page` in Chromium.
fn text_problems(chromium: &str, flags: &[String], page: &str, dir: &Path) -> Vec<String> {
    let file = dir.join("checked.html");
    std::fs::write(
        &file,
        page.replace("</body>", &format!("{TEXT_CHECK}</body>")),
    )
    .unwrap();
    let dom = std::process::Command::new(chromium)
        .args(flags)
        .args(["--window-size=1280,2000", "--dump-dom"])
        .arg(format!("file://{}", file.display()))
        .output()
        .unwrap();
    let dom = String::from_utf8(dom.stdout).unwrap();
    let start = dom
        .find("<pre id=\"text-check\">")
        .expect("the check ran and wrote its result")
        + "<pre id=\"text-check\">".len();
    let json = &dom[start..start + dom[start..].find("</pre>").unwrap()];
    let json = json
        .replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"");
    let problems: Vec<String> = serde_json::from_str(&json).unwrap();
    problems
}

#[test]
fn many_cpus_do_not_squash_a_small_sweep() {
    for (name, svg) in plots(&Saved::made_up().with_cpus(64)) {
        assert!(svg.contains("machine: 64 CPUs"), "{name}");
        assert!(!svg.contains("more workers than"), "{name}");
        assert!(!svg.contains("CPU limit"), "{name}");
        assert_eq!(series_lines(&svg).len(), 3);
    }
    let plots = plots(&Saved::made_up().with_cpus(4));
    assert!(plots["cpu-wall-time.svg"].contains("4 CPUs"));
}

/// The legend has a column of its own, right of the plot area: no legend
/// text starts left of the rightmost point drawn (roxmltree reads where
/// plotters put them).
#[test]
fn the_legend_is_outside_the_plot_area() {
    for saved in [Saved::made_up(), Saved::made_up().with_thread_far_faster()] {
        for (name, svg) in plots(&saved) {
            let document = roxmltree::Document::parse(&svg).unwrap();
            let rightmost_point = document
                .descendants()
                .filter(|n| n.has_tag_name("polyline") && n.attribute("stroke-width") == Some("3"))
                .map(|n| n.attribute("points").unwrap_or("").split_whitespace())
                // A model's line has a vertex per worker count (3); the
                // legend's samples have two.
                .filter(|points| points.clone().count() >= 3)
                .flat_map(|points| {
                    points
                        .filter_map(|p| p.split(',').next()?.parse::<f64>().ok())
                        .collect::<Vec<_>>()
                })
                .fold(0.0, f64::max);
            let legend_x: Vec<f64> = document
                .descendants()
                .filter(|n| n.has_tag_name("text"))
                .filter(|n| {
                    n.text()
                        .map(str::trim)
                        .is_some_and(|t| t == "thread" || t.starts_with("ideal"))
                })
                .filter_map(|n| n.attribute("x")?.parse().ok())
                .collect();
            assert!(!legend_x.is_empty(), "{name}");
            for x in legend_x {
                assert!(
                    x > rightmost_point + 20.0,
                    "{name}: legend at {x}, points to {rightmost_point}"
                );
            }
        }
    }
}

/// The headline chart: one bar per model and workload at 2 workers (the
/// saved machine's CPUs), each with its speedup written beside it.
#[test]
fn the_headline_chart_has_a_bar_per_model_at_the_cpus() {
    let all = all_plots(&Saved::made_up());
    let svg = &all["headline-speedup.svg"];
    let document = roxmltree::Document::parse(svg).unwrap();
    let values: Vec<&str> = document
        .descendants()
        .filter(|n| n.attribute("class") == Some("value"))
        .filter_map(|n| n.text())
        .collect();
    assert_eq!(values.len(), 2 * MODELS.len(), "{values:?}");
    // Made up: cpu and sleep take as long at 2 workers as at 1, so ×2.
    for value in values {
        let speedup: f64 = value.trim_start_matches('×').parse().unwrap();
        assert!((1.9..=2.1).contains(&speedup), "{value}");
    }
    assert!(svg.contains("Speedup at 2 workers (one per CPU)"));
}

/// Wall times 100× apart (CPython beside Rust) are drawn on a log scale so
/// that the fast lines do not lie flat on the axis; close ones stay linear.
#[test]
fn wall_times_far_apart_get_a_log_scale() {
    let mut saved = Saved::made_up();
    let linear = plots(&saved);
    assert!(!linear["cpu-wall-time.svg"].contains("log scale"));
    let thread = serde_json::to_value(MODELS[0]).unwrap();
    for m in &mut saved.measurements {
        if m["model"] == thread["model"] {
            m["wall_s"] = (m["wall_s"].as_f64().unwrap() / 100.0).into();
        }
    }
    let plots = plots(&saved);
    assert!(plots["cpu-wall-time.svg"].contains("wall time (log scale)"));
    assert!(
        !plots["cpu-speedup.svg"].contains("log scale"),
        "speedups stay linear"
    );
    roxmltree::Document::parse(&plots["cpu-wall-time.svg"]).unwrap();
}

// ─── `report` tells the truth about files (issue 12) ─────────────────────

/// A real file saved by `paralab --save`: one run of 10,000 iterations on
/// one thread, in `dir`.
fn real_save(dir: &Path) -> PathBuf {
    let saved = dir.join("real.jsonl");
    paralab()
        .args(["10000", "--workloads", "cpu", "--models", "thread"])
        .args(["--workers", "1", "--runs", "1", "-q", "--save"])
        .arg(&saved)
        .assert()
        .success();
    saved
}

/// `paralab report FILES… ARGS…`, run to its end, in `dir`.
fn report_files(dir: &Path, files: &[&Path], args: &[&str]) -> std::process::Output {
    paralab()
        .current_dir(dir)
        .arg("report")
        .args(files)
        .args(args)
        .output()
        .unwrap()
}

fn stderr_of(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// How many measurements `--format json` holds.
fn measurements_in_json(output: &std::process::Output) -> usize {
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    json["measurements"].as_array().unwrap().len()
}

#[test]
fn a_tampered_result_is_compared_with_the_reference_and_never_called_checked() {
    let dir = tempfile::tempdir().unwrap();
    let saved = real_save(dir.path());
    let text = std::fs::read_to_string(&saved).unwrap();
    let reference = Workload::Cpu { iters: 10_000 }.expected_result();
    assert!(text.contains(&format!("\"result\":{reference}")), "{text}");

    let honest = report_files(dir.path(), &[&saved], &[]);
    assert!(common::stdout_of(&honest).contains("checked in every worker"));

    let tampered = dir.path().join("tampered.jsonl");
    std::fs::write(
        &tampered,
        text.replace(&format!("\"result\":{reference}"), "\"result\":42"),
    )
    .unwrap();
    let output = report_files(dir.path(), &[&tampered], &[]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(!stdout.contains("checked"), "{stdout}");
    assert!(stdout.contains("failed"), "{stdout}");
    assert!(
        stderr.contains("returned 42") && stderr.contains("counted as failed"),
        "{stderr}"
    );
    // The JSON export says the run failed, with the true reference.
    let output = report_files(dir.path(), &[&tampered], &["--format", "json"]);
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    let outcome = &json["measurements"][0]["outcomes"][0];
    assert_eq!(outcome["status"], "wrong_result", "{outcome}");
    assert_eq!(outcome["expected"], reference, "{outcome}");
}

#[test]
fn the_same_file_given_twice_is_read_once_with_one_warning() {
    let dir = tempfile::tempdir().unwrap();
    let file = Saved::made_up().write(dir.path());
    let link = dir.path().join("link.jsonl");
    std::os::unix::fs::symlink(&file, &link).unwrap();
    let once = report_files(dir.path(), &[&file], &["--format", "json"]);
    let twice = report_files(dir.path(), &[&file, &link], &["--format", "json"]);
    assert!(twice.status.success(), "{}", stderr_of(&twice));
    assert_eq!(measurements_in_json(&twice), measurements_in_json(&once));
    let stderr = stderr_of(&twice);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("same file") && stderr.contains("read once"),
        "{stderr}"
    );
}

/// A change made to a saved measurement.
type Mutation = fn(&mut Value);

#[test]
fn impossible_values_are_corrupt_lines_never_figures() {
    let saved = Saved::made_up();
    let total = saved.measurements.len();
    let mutations: [(&str, Mutation); 6] = [
        ("negative wall time", |m| m["wall_s"] = (-0.5).into()),
        ("enormous wall time", |m| m["wall_s"] = 1e308.into()),
        ("negative cpu time", |m| {
            m["outcomes"][0]["cpu_s"] = (-1.0).into()
        }),
        ("more cores busy than CPUs", |m| {
            m["outcomes"][0]["cpu_s"] = 1000.0.into()
        }),
        ("no workers", |m| m["workers"] = 0.into()),
        ("pressure above 1", |m| m["cpu_pressure"] = 3.0.into()),
    ];
    for (what, mutate) in mutations {
        let dir = tempfile::tempdir().unwrap();
        let mut bad = saved.clone();
        mutate(&mut bad.measurements[0]);
        let file = bad.write(dir.path());
        let output = report_files(dir.path(), &[&file], &["--format", "json"]);
        let stderr = stderr_of(&output);
        assert_eq!(output.status.code(), Some(1), "{what}: {stderr}");
        assert!(
            stderr.contains("line 2 is not a paralab measurement"),
            "{what}: {stderr}"
        );
        assert_eq!(measurements_in_json(&output), total - 1, "{what}");
        assert!(
            !String::from_utf8_lossy(&output.stdout).contains("1e308"),
            "{what}"
        );
    }
    // Not a number at all: JSON has no NaN, and serde refuses it.
    let dir = tempfile::tempdir().unwrap();
    let file = saved.write(dir.path());
    let text = std::fs::read_to_string(&file).unwrap();
    let first = text.lines().nth(1).unwrap();
    let nan = regex_free_replace(first, "\"wall_s\":", "NaN");
    std::fs::write(&file, text.replacen(first, &nan, 1)).unwrap();
    let output = report_files(dir.path(), &[&file], &["--format", "json"]);
    assert!(stderr_of(&output).contains("line 2 is not a paralab measurement"));
    assert_eq!(measurements_in_json(&output), total - 1);
}

/// `line` with the number after `key` replaced by `by`.
fn regex_free_replace(line: &str, key: &str, by: &str) -> String {
    let start = line.find(key).unwrap() + key.len();
    let end = start
        + line[start..]
            .find(|c: char| !(c.is_ascii_digit() || ".eE+-".contains(c)))
            .unwrap();
    format!("{}{by}{}", &line[..start], &line[end..])
}

#[test]
fn files_from_several_machines_say_so() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a");
    let b = dir.path().join("b");
    std::fs::create_dir_all(&a).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    let first = Saved::made_up().write(&a);
    let same = Saved::made_up().write(&b);
    let output = report_files(dir.path(), &[&first, &same], &[]);
    assert!(
        !stderr_of(&output).contains("machines"),
        "{}",
        stderr_of(&output)
    );

    let other = Saved::made_up().with_cpus(64).write(&b);
    let output = report_files(dir.path(), &[&first, &other], &[]);
    let stderr = stderr_of(&output);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("come from 2 machines"), "{stderr}");
    assert!(
        stderr.contains("64 CPUs") && stderr.contains("2 CPUs"),
        "{stderr}"
    );
    // No verdict is drawn from runs of two machines, and the JSON keeps
    // each machine whole.
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("no conclusions: these runs come from 2 machines"),
        "{stdout}"
    );
    assert!(!stdout.contains(" → "), "{stdout}");
    let output = report_files(dir.path(), &[&first, &other], &["--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["machine"]["logical_cpus"], 2);
    assert_eq!(json["other_machines"][0]["logical_cpus"], 64);
}

#[test]
fn an_empty_file_is_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.jsonl");
    std::fs::write(&empty, "").unwrap();
    let output = report_files(dir.path(), &[&empty], &[]);
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("empty"), "{stderr}");
}

#[test]
fn a_fifo_nobody_writes_is_refused_instead_of_waited_for() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo.jsonl");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let started = std::time::Instant::now();
    let mut child = std::process::Command::new(common::PARALAB)
        .arg("report")
        .arg(&fifo)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Generous: the bound is a few seconds, on a shared machine.
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(30) {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("paralab report waited for a FIFO nobody writes");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let output = child.wait_with_output().unwrap();
    let stderr = stderr_of(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("FIFO"), "{stderr}");
}

#[test]
fn a_fifo_with_a_writer_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let file = Saved::made_up().write(dir.path());
    let fifo = dir.path().join("fifo.jsonl");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let text = std::fs::read(&file).unwrap();
    let writer_path = fifo.clone();
    let writer = std::thread::spawn(move || std::fs::write(writer_path, text));
    let output = report_files(dir.path(), &[&fifo], &["--format", "json"]);
    writer.join().unwrap().unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert_eq!(
        measurements_in_json(&output),
        Saved::made_up().measurements.len()
    );
}

#[test]
fn save_under_ulimit_f_leaves_only_whole_lines() {
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("limited.jsonl");
    // 4 KiB: the header and some measurements fit, then a line is cut.
    let output = std::process::Command::new("sh")
        .arg("-c")
        .arg("ulimit -f 4; exec \"$0\" \"$@\"")
        .arg(common::PARALAB)
        .args(["1000", "--workloads", "cpu", "--models", "thread"])
        .args(["--workers", "1", "--runs", "30", "-q", "--save"])
        .arg(&saved)
        .output()
        .unwrap();
    assert!(!output.status.success(), "the limit was not reached");
    let text = std::fs::read_to_string(&saved).unwrap();
    assert!(text.len() <= 4096, "{} bytes", text.len());
    assert!(text.lines().count() >= 2, "{text}");
    assert!(text.ends_with('\n'), "the last line is cut: {text:?}");
    for line in text.lines() {
        serde_json::from_str::<Value>(line).unwrap();
    }
    let output = report_files(dir.path(), &[&saved], &[]);
    let stderr = stderr_of(&output);
    assert!(output.status.success(), "{stderr}");
    assert!(!stderr.contains("cut short"), "{stderr}");
}

/// `report` reads an `--export-json` document as `compare` does: the same
/// measurements as the run that wrote it.
#[test]
fn report_reads_a_json_export_too() {
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("run.json");
    paralab()
        .args(["bench", "1000", "--workloads", "cpu", "--models", "thread"])
        .args(["--workers", "1,2", "-r", "2", "-q", "--export-json"])
        .arg(&export)
        .assert()
        .success();
    let written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&export).unwrap()).unwrap();
    let output = paralab()
        .arg("report")
        .arg(&export)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let read: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(read["measurements"], written["measurements"]);
}
