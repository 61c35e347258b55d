//! Timelines (`timeline-*.svg`, and in the HTML page): one bar per worker
//! of a cell's median run, from saved files whose worker times are known,
//! and from one real run.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::paralab;
use paralab::{Model, StartMethod, WorkerStatus, Workload};
use serde_json::Value;

const CPU: Workload = Workload::Cpu { iters: 10 };

/// A saved file's header, from a tiny real run (so it has every field),
/// said to come from a machine of 2 CPUs.
fn header() -> Value {
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("tiny.jsonl");
    paralab()
        .args(["10", "--workloads", "cpu", "--models", "thread"])
        .args(["--workers", "1", "-q", "--save"])
        .arg(&saved)
        .assert()
        .success();
    let text = std::fs::read_to_string(&saved).unwrap();
    let mut header: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    header["machine"]["logical_cpus"] = 2.into();
    header.as_object_mut().unwrap().remove("plan");
    header
}

/// One saved run of `model` at `spans.len()` workers, each worker's start
/// and end given (`None`: not recorded).
fn run(model: Model, run: usize, wall_s: f64, spans: &[(f64, Option<f64>)]) -> Value {
    let outcomes: Vec<Value> = spans
        .iter()
        .enumerate()
        .map(|(worker, &(start, end))| {
            let mut outcome = serde_json::to_value(WorkerStatus::Finished {
                result: CPU.expected_result(),
            })
            .unwrap();
            outcome["worker"] = worker.into();
            outcome["start_s"] = start.into();
            outcome["end_s"] = end.into();
            outcome["cpu_s"] = 0.0.into();
            outcome
        })
        .collect();
    let mut value = serde_json::to_value(model).unwrap();
    value["workload"] = serde_json::to_value(CPU).unwrap();
    value["workers"] = spans.len().into();
    value["run"] = run.into();
    value["wall_s"] = wall_s.into();
    value["outcomes"] = outcomes.into();
    value
}

/// The files `paralab report --plot` writes for `lines`, by name.
fn plot(dir: &Path, lines: &[Value]) -> BTreeMap<String, String> {
    let file = dir.join("saved.jsonl");
    let mut text = format!("{}\n", header());
    for line in lines {
        text.push_str(&format!("{line}\n"));
    }
    std::fs::write(&file, text).unwrap();
    paralab()
        .current_dir(dir)
        .arg("report")
        .arg(&file)
        .args(["--plot", "plots", "--html", "page.html", "-q"])
        .assert()
        .success();
    std::fs::read_dir(dir.join("plots"))
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&path).unwrap())
        })
        .collect()
}

/// A worker's bar: its left edge, width and opacity, in worker order.
fn bars(svg: &str) -> Vec<(f64, f64, f64)> {
    titled_rects(svg, |t| {
        t.starts_with("worker") && !t.contains("held the lock")
    })
    .into_iter()
    .map(|(x, width, opacity, _)| (x, width, opacity.unwrap()))
    .collect()
}

/// The turns drawn solid over the bars: left edge, width, and the
/// worker's row (its y).
fn turns(svg: &str) -> Vec<(f64, f64, f64)> {
    titled_rects(svg, |t| t.contains("held the lock"))
        .into_iter()
        .map(|(x, width, _, y)| (x, width, y))
        .collect()
}

/// The rectangles whose title `wanted` accepts: x, width, fill-opacity
/// and y.
fn titled_rects(svg: &str, wanted: impl Fn(&str) -> bool) -> Vec<(f64, f64, Option<f64>, f64)> {
    let document = roxmltree::Document::parse(svg).expect("well-formed SVG");
    document
        .descendants()
        .filter(|n| n.has_tag_name("rect"))
        .filter(|n| {
            n.children()
                .any(|c| c.has_tag_name("title") && c.text().is_some_and(&wanted))
        })
        .map(|n| {
            let number = |name: &str| n.attribute(name).map(|v| v.parse::<f64>().unwrap());
            (
                number("x").unwrap(),
                number("width").unwrap(),
                number("fill-opacity"),
                number("y").unwrap(),
            )
        })
        .collect()
}

/// Every text of `svg`, trimmed, joined by line breaks.
fn texts(svg: &str) -> String {
    let document = roxmltree::Document::parse(svg).unwrap();
    document
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|n| n.text())
        .map(str::trim)
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn workers_that_took_turns_are_drawn_one_after_another() {
    let dir = tempfile::tempdir().unwrap();
    let lines = [
        run(Model::GIL, 1, 0.101, &[(0.0, Some(0.1))]),
        // Three runs at 2 workers: the median (0.21 s) is drawn.
        run(Model::GIL, 1, 0.30, &[(0.0, Some(0.1)), (0.0, Some(0.3))]),
        run(Model::GIL, 2, 0.21, &[(0.0, Some(0.1)), (0.1, Some(0.2))]),
        run(Model::GIL, 3, 0.11, &[(0.0, Some(0.1)), (0.0, Some(0.1))]),
    ];
    let files = plot(dir.path(), &lines);
    let svg = &files["timeline-cpu-gil-n2.svg"];
    let bars = bars(svg);
    assert_eq!(bars.len(), 2, "{svg}");
    let (first, second) = (bars[0], bars[1]);
    // The second starts where the first ends (to the pixel) and both
    // are as long: one after another.
    assert!((second.0 - (first.0 + first.1)).abs() <= 1.0, "{bars:?}");
    assert!((first.1 - second.1).abs() <= 1.0, "{bars:?}");
    let text = texts(svg);
    assert!(text.contains("run 2 of 3, the median"), "{text}");
    assert!(
        text.contains("On average 1 of the 2 workers ran at once"),
        "{text}"
    );
    assert!(text.contains("the last started 0.100 s after"), "{text}");
    assert!(text.contains("one worker alone (0.100 s)"), "{text}");
    // No timeline at one worker: it shows nothing of running at once.
    assert!(!files.keys().any(|n| n.ends_with("-n1.svg")), "{files:?}");
    let page = std::fs::read_to_string(dir.path().join("page.html")).unwrap();
    assert!(page.contains("data-file=\"timeline-cpu-gil-n2.svg\""));
}

#[test]
fn workers_side_by_side_overlap_and_late_starts_show() {
    let dir = tempfile::tempdir().unwrap();
    let model = Model::process(StartMethod::Spawn);
    let lines = [
        run(model, 1, 0.1, &[(0.0, Some(0.1))]),
        run(model, 1, 0.15, &[(0.0, Some(0.1)), (0.05, Some(0.15))]),
    ];
    let files = plot(dir.path(), &lines);
    let svg = &files["timeline-cpu-process-spawn-n2.svg"];
    let bars = bars(svg);
    assert_eq!(bars.len(), 2);
    // The second starts a third of the way in, before the first ends.
    let plot_width = bars[0].1 * 1.5;
    assert!(
        ((bars[1].0 - bars[0].0) / plot_width - 1.0 / 3.0).abs() < 0.02,
        "{bars:?}"
    );
    assert!(bars[1].0 < bars[0].0 + bars[0].1);
    let text = texts(svg);
    assert!(
        text.contains("On average 1.3 of the 2 workers ran at once"),
        "{text}"
    );
}

/// Commands' workers whose end is not recorded are drawn faint to the
/// run's end, and the chart says so; the counts drawn are the CPUs' (2)
/// and the largest (4).
#[test]
fn unknown_ends_are_faint_and_said() {
    let dir = tempfile::tempdir().unwrap();
    let model = Model::process(StartMethod::Fork);
    let lines = [
        run(model, 1, 0.1, &[(0.0, None)]),
        run(model, 1, 0.1, &[(0.0, None), (0.01, None)]),
        run(model, 1, 0.1, &[(0.0, None), (0.0, None), (0.0, None)]),
        run(model, 1, 0.2, &[(0.0, Some(0.2)); 4]),
    ];
    let files = plot(dir.path(), &lines);
    let names: Vec<&String> = files
        .keys()
        .filter(|n| n.starts_with("timeline-"))
        .collect();
    assert_eq!(
        names,
        [
            "timeline-cpu-process-fork-n2.svg",
            "timeline-cpu-process-fork-n4.svg"
        ]
    );
    let svg = &files["timeline-cpu-process-fork-n2.svg"];
    assert!(bars(svg).iter().all(|&(_, _, opacity)| opacity < 1.0));
    assert!(texts(svg).contains("The end of 2 workers was not recorded"));
    let svg = &files["timeline-cpu-process-fork-n4.svg"];
    assert!(bars(svg).iter().all(|&(_, _, opacity)| opacity == 1.0));
    assert!(!texts(svg).contains("not recorded"));
}

/// A real run of two threads: each bar lies within the chart and the
/// run's end; the page shows the timeline.
#[test]
fn a_real_run_has_a_bar_per_worker() {
    let dir = tempfile::tempdir().unwrap();
    paralab()
        .current_dir(dir.path())
        .args(["200000", "--workloads", "cpu", "--models", "thread"])
        .args(["--workers", "1,2", "--runs", "1", "-q"])
        .args(["--plot", "plots"])
        .assert()
        .success();
    let svg = std::fs::read_to_string(dir.path().join("plots/timeline-cpu-thread-n2.svg")).unwrap();
    let bars = bars(&svg);
    assert_eq!(bars.len(), 2, "{svg}");
    let width: f64 = roxmltree::Document::parse(&svg)
        .unwrap()
        .root_element()
        .attribute("width")
        .unwrap()
        .parse()
        .unwrap();
    for (x, w, opacity) in bars {
        assert!(x >= 0.0 && x + w <= width, "{x} + {w} of {width}");
        assert!(w > 1.0);
        assert_eq!(opacity, 1.0);
    }
}

/// A real run of the gil model: each worker's bar is pale, the turns in
/// which it held the lock solid over it, and no two workers' turns
/// overlap (to the pixel): the serialisation is seen.
#[test]
fn the_gil_models_turns_are_drawn_and_never_overlap() {
    let dir = tempfile::tempdir().unwrap();
    paralab()
        .current_dir(dir.path())
        .args(["20000000", "--workloads", "cpu", "--models", "gil"])
        .args(["--workers", "1,2", "--runs", "1", "-q"])
        .args(["--plot", "plots"])
        .assert()
        .success();
    let svg = std::fs::read_to_string(dir.path().join("plots/timeline-cpu-gil-n2.svg")).unwrap();
    let bars = bars(&svg);
    assert_eq!(bars.len(), 2, "{svg}");
    assert!(
        bars.iter().all(|&(_, _, opacity)| opacity < 0.5),
        "{bars:?}"
    );
    let mut turns = turns(&svg);
    let rows: std::collections::BTreeSet<u64> = turns.iter().map(|t| t.2 as u64).collect();
    assert_eq!(rows.len(), 2, "both workers had turns: {turns:?}");
    turns.sort_by(|a, b| a.0.total_cmp(&b.0));
    for pair in turns.windows(2) {
        let (first, next) = (pair[0], pair[1]);
        assert!(
            next.0 >= first.0 + first.1 - 1.0,
            "turns overlap: {first:?} {next:?}"
        );
    }
    let text = texts(&svg);
    assert!(
        text.contains("Solid: the worker held the global lock")
            && text.contains("waited for its turn"),
        "{text}"
    );
}
