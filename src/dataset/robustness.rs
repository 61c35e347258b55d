//! Property tests of the saved file: random, truncated and mutated files
//! never make the reader or a report panic; corrupt lines are reported
//! with their line numbers; every report renders whatever measurements a
//! file holds. (`tests/garbage.rs` runs the binary on such files.)

use std::sync::OnceLock;
use std::time::Duration;

use proptest::prelude::*;
use serde_json::Value;

use super::Record;
use super::jsonl::{self, JsonLines};
use crate::experiment::{Experiment, Plan};
use crate::export::{Format, Output};
use crate::machine::Machine;
use crate::model::{Model, StartMethod};
use crate::report::{html, notebook, summary, table};
use crate::workload::Workload;

/// A real saved file, written by this process as `paralab bench --save`
/// writes one: the header, then measurements of two models and two
/// workloads; then a second header and one failed run (workers that
/// exited with code 3).
fn saved_text() -> &'static str {
    static TEXT: OnceLock<String> = OnceLock::new();
    TEXT.get_or_init(|| {
        let machine = Machine::this(vec!["paralab".into(), "bench".into()]);
        let mut out = Vec::new();
        let mut writer = JsonLines::new(&mut out, machine.clone());
        let plan = Plan {
            workloads: vec![
                Workload::Cpu { iters: 1000 },
                Workload::Sleep {
                    duration: Duration::from_millis(1),
                },
            ],
            models: vec![Model::THREAD, Model::process(StartMethod::Fork)],
            workers: vec![1, 2],
            runs: 2,
            warmup: 0,
        };
        let results = Experiment::new(plan).observe(&mut writer).run();
        assert!(results.failure.is_none(), "{:?}", results.failure);
        let mut writer = JsonLines::new(&mut out, machine);
        let plan = Plan {
            workloads: vec![Workload::Command {
                argv: vec!["sh".into(), "-c".into(), "exit 3".into()],
                name: None,
                parameters: Default::default(),
            }],
            models: vec![Model::process(StartMethod::Fork)],
            workers: vec![2],
            runs: 1,
            warmup: 0,
        };
        let results = Experiment::new(plan).observe(&mut writer).run();
        assert!(results.failure.is_some());
        String::from_utf8(out).unwrap()
    })
}

/// Whether a saved line is a header (each experiment writes one).
fn is_header(line: &str) -> bool {
    line.starts_with("{\"paralab\"")
}

/// Every report paralab can make of `record`: none may panic.
fn render_everything(record: &Record, plots: bool) {
    let ms = &record.measurements;
    let cpus = record.cpus();
    let _ = table::render(ms);
    let _ = summary::render(ms, cpus, None);
    let _ = notebook::render(ms);
    for format in [Format::Json, Format::Csv, Format::Markdown] {
        let _ = format.exporter().export(record);
    }
    let _ = html::render(record);
    if plots {
        let dir = tempfile::tempdir().unwrap();
        if let Ok(Output::Files(files)) = Format::Plots.exporter().export(record) {
            let _ = crate::export::write_files(dir.path(), &files);
        }
    }
}

/// Values a hostile file may put where a number or a count belongs.
fn odd_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::from(0)),
        Just(Value::from(-1)),
        Just(Value::from(1)),
        Just(Value::from(u64::MAX)),
        Just(Value::from(i64::MIN)),
        Just(Value::from(1e308)),
        Just(Value::from(-1e308)),
        Just(Value::from(5e-324)),
        Just(Value::from(0.5)),
        Just(Value::Null),
        Just(Value::from("")),
        Just(Value::from("process")),
        Just(Value::Array(vec![])),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("JSON has no NaN", |f| f.is_finite())
            .prop_map(Value::from),
    ]
}

/// Replaces the value at a random place in `value` (every object field and
/// array element is a candidate), chosen by `pick`.
fn mutate(value: &mut Value, pick: &mut usize, replacement: &Value) {
    if *pick == 0 {
        *value = replacement.clone();
        *pick = usize::MAX;
        return;
    }
    *pick -= 1;
    match value {
        Value::Object(map) => {
            for (_, v) in map.iter_mut() {
                if *pick == usize::MAX {
                    return;
                }
                mutate(v, pick, replacement);
            }
        }
        Value::Array(items) => {
            for v in items.iter_mut() {
                if *pick == usize::MAX {
                    return;
                }
                mutate(v, pick, replacement);
            }
        }
        _ => {}
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// Random bytes: read never panics, and whatever it keeps renders.
    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2000)) {
        if let Ok(saved) = jsonl::read(&bytes[..]) {
            for (line, _) in &saved.bad_lines {
                prop_assert!(*line >= 1);
            }
            render_everything(&saved.record, false);
        }
    }

    /// A saved file cut at any byte: the lines before the cut are all kept,
    /// the cut line is left out, nothing is reported as corrupt.
    #[test]
    fn a_file_cut_anywhere_keeps_every_whole_line(cut in 0usize..100_000) {
        let text = saved_text();
        let cut = cut % (text.len() + 1);
        let kept = &text.as_bytes()[..cut];
        let saved = jsonl::read(kept).unwrap();
        // A piece that ends right before its newline is a whole line.
        let partial = !kept.is_empty() && kept.last() != Some(&b'\n');
        let whole_piece = partial && text.as_bytes()[cut] == b'\n';
        let complete = String::from_utf8_lossy(kept);
        let complete: Vec<&str> = complete
            .lines()
            .take(complete.lines().count() - usize::from(partial && !whole_piece))
            .collect();
        let measurements = complete.iter().filter(|l| !is_header(l)).count();
        prop_assert_eq!(saved.record.measurements.len(), measurements);
        prop_assert!(saved.bad_lines.is_empty(), "{:?}", saved.bad_lines);
        prop_assert_eq!(saved.cut_last_line.is_some(), partial && !whole_piece);
        render_everything(&saved.record, false);
    }

    /// One line replaced by garbage: it is reported with its number, and
    /// every other line is kept.
    #[test]
    fn a_corrupt_line_is_named_and_the_others_kept(
        which in 0usize..100,
        garbage in prop::collection::vec(any::<u8>(), 1..80),
    ) {
        let text = saved_text();
        let mut lines: Vec<Vec<u8>> = text.lines().map(|l| l.as_bytes().to_vec()).collect();
        let which = which % lines.len();
        let mut garbage: Vec<u8> = garbage.into_iter().filter(|&b| b != b'\n').collect();
        garbage.insert(0, b'#');
        lines[which] = garbage;
        let file: Vec<u8> = lines.iter().flat_map(|l| l.iter().copied().chain([b'\n'])).collect();
        let saved = jsonl::read(&file[..]).unwrap();
        prop_assert_eq!(saved.bad_lines.len(), 1);
        prop_assert_eq!(saved.bad_lines[0].0, which + 1);
        let expected = text
            .lines()
            .enumerate()
            .filter(|&(n, l)| n != which && !is_header(l))
            .count();
        prop_assert_eq!(saved.record.measurements.len(), expected);
    }

    /// A measurement with any one value replaced by an odd one (0 workers,
    /// a negative or enormous time, an empty list…): if it still reads as a
    /// measurement, every report of it renders without a panic.
    #[test]
    fn odd_values_in_measurements_never_panic_a_report(
        line in 1usize..100,
        place in 0usize..200,
        replacement in odd_value(),
        plots in prop::bool::weighted(0.05),
    ) {
        let text = saved_text();
        let lines: Vec<&str> = text.lines().collect();
        let line = 1 + line % (lines.len() - 1);
        let mut value: Value = serde_json::from_str(lines[line]).unwrap();
        let mut pick = place;
        mutate(&mut value, &mut pick, &replacement);
        let mut file = format!("{}\n", lines[0]);
        for (n, l) in lines.iter().enumerate().skip(1) {
            if n == line {
                file.push_str(&value.to_string());
            } else {
                file.push_str(l);
            }
            file.push('\n');
        }
        let saved = jsonl::read(file.as_bytes()).unwrap();
        prop_assert!(saved.bad_lines.len() <= 1);
        render_everything(&saved.record, plots);
    }
}
