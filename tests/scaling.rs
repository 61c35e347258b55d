//! The scalability fit as a user meets it: `scaling` in the JSON export,
//! a fit with finite numbers and intervals or `inconclusive` with a reason,
//! from a real sweep on this (shared, small) machine and from a saved
//! sweep of a larger one, and its curve on the speedup plot.

mod common;

use common::{json_of, paralab};
use serde_json::{Value, json};

/// The `[low, high]` at `key` of `object`, finite and ordered.
fn interval(object: &Value, key: &str) -> [f64; 2] {
    let pair = object[key]
        .as_array()
        .unwrap_or_else(|| panic!("{key} missing in {object}"));
    let [low, high] = [pair[0].as_f64().unwrap(), pair[1].as_f64().unwrap()];
    assert!(
        low.is_finite() && high.is_finite() && low <= high,
        "{key}: {low}–{high}"
    );
    [low, high]
}

/// `object` is a fit whose named figures are finite with their interval,
/// or inconclusive with a reason in words.
fn fit_or_reason(object: &Value, figures: &[(&str, &str)]) {
    match object["outcome"].as_str() {
        Some("fit") => {
            for (figure, its_interval) in figures {
                let value = object[figure].as_f64().unwrap();
                assert!(value.is_finite() && value >= 0.0, "{figure} {value}");
                interval(object, its_interval);
            }
        }
        Some("inconclusive") => {
            let reason = object["reason"].as_str().unwrap();
            assert!(reason.split_whitespace().count() > 4, "{reason}");
        }
        other => panic!("outcome {other:?} in {object}"),
    }
}

#[test]
fn a_real_sweep_exports_a_fit_or_the_reason_there_is_none() {
    let plots = tempfile::tempdir().unwrap();
    let output = paralab()
        .args([
            "bench",
            "300000",
            "--workloads",
            "cpu,sleep",
            "--sleep",
            "0.02",
        ])
        .args([
            "--models",
            "thread,gil",
            "--workers",
            "1,2,3",
            "--runs",
            "3",
        ])
        .args(["--format", "json", "--quiet", "--plot"])
        .arg(plots.path())
        .output()
        .unwrap();
    let document = json_of(&output);
    let svg = std::fs::read_to_string(plots.path().join("cpu-speedup.svg")).unwrap();
    let cpus = document["machine"]["logical_cpus"].as_u64().unwrap() as usize;
    let fits = document["scaling"].as_array().expect("a scaling array");
    assert_eq!(fits.len(), 4, "one per (workload, model): {fits:?}");
    for fit in fits {
        let kind = fit["workload"]["kind"].as_str().unwrap();
        let (amdahl, usl) = (&fit["amdahl"], &fit["usl"]);
        fit_or_reason(amdahl, &[("serial_fraction", "interval")]);
        fit_or_reason(
            usl,
            &[
                ("contention", "contention_interval"),
                ("coherency", "coherency_interval"),
            ],
        );
        // The plot draws a fit or names the model whose fit is inconclusive.
        let label = fit["model_label"].as_str().unwrap();
        if kind == "cpu" {
            let said = if usl["outcome"] == "fit" {
                format!("{label}: USL α")
            } else if amdahl["outcome"] == "fit" {
                format!("{label}: Amdahl σ")
            } else {
                "Scalability fit inconclusive for".to_string()
            };
            assert!(svg.contains(&said), "{said} missing from the speedup plot");
        }
        if kind == "sleep" {
            for part in [amdahl, usl] {
                assert_eq!(part["outcome"], "inconclusive");
                assert!(part["reason"].as_str().unwrap().contains("waits"), "{part}");
            }
            continue;
        }
        // Only counts within the CPUs are fitted; the others are named.
        let used: Vec<u64> = fit["fit_workers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n.as_u64().unwrap())
            .collect();
        assert!(
            used.contains(&1) && used.iter().all(|&n| n as usize <= cpus),
            "{fit}"
        );
        if cpus < 3 {
            assert_eq!(fit["left_out_workers"], json!([3]), "{fit}");
            assert_eq!(usl["outcome"], "inconclusive", "{usl}");
            assert!(
                usl["reason"].as_str().unwrap().contains("3 worker counts"),
                "{usl}"
            );
        }
        for point in fit["karp_flatt"].as_array().unwrap() {
            assert!(
                point["serial_fraction"].as_f64().unwrap().is_finite(),
                "{point}"
            );
        }
    }
}

/// A saved sweep of an 8-CPU machine whose `thread` capacity follows the
/// USL with `α = 0.08`, `β = 0.004` (runs within ±1 %), and a `gil`
/// model that never gains: built from the header and a run this machine
/// saves, so the file is in the format paralab writes today.
fn eight_cpu_sweep(dir: &std::path::Path) -> std::path::PathBuf {
    let template = dir.join("template.jsonl");
    paralab()
        .args(["bench", "1000", "--workloads", "cpu", "--models", "thread"])
        .args(["--workers", "1", "--runs", "1", "--quiet", "--save"])
        .arg(&template)
        .assert()
        .success();
    let text = std::fs::read_to_string(&template).unwrap();
    let mut lines = text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap());
    let mut header = lines.next().unwrap();
    let run = lines.next().unwrap();
    header["machine"]["logical_cpus"] = json!(8);
    header["plan"]["workers"] = json!((1..16).collect::<Vec<_>>());
    header["plan"]["runs"] = json!(5);
    header["plan"]["models"] = json!([{"model": "thread"}, {"model": "gil"}]);
    let mut out = vec![header.to_string()];
    let mut jitter = fastrand::Rng::with_seed(7);
    for (model, alpha, beta, busy) in [("thread", 0.08, 0.004, None), ("gil", 1.0, 0.0, Some(1.0))]
    {
        for n in 1..16usize {
            let k = n.min(8) as f64;
            // Beyond the CPUs the workers take turns: n/8 of the time at 8.
            let wall = 0.25 * (1.0 + alpha * (k - 1.0) + beta * k * (k - 1.0)) * n as f64 / k;
            for r in 1..=5 {
                let wall = wall * (1.0 + 0.02 * (jitter.f64() - 0.5));
                let cpu = busy.unwrap_or(k) * wall / n as f64;
                let mut m = run.clone();
                m["model"] = json!(model);
                if model == "gil" {
                    m["switch_interval_ms"] = json!(5);
                }
                m["workers"] = json!(n);
                m["run"] = json!(r);
                m["wall_s"] = json!(wall);
                m["others_cpus"] = json!(0.0);
                m["steal_cpus"] = json!(0.0);
                let outcome = &run["outcomes"][0];
                m["outcomes"] = json!(
                    (0..n)
                        .map(|w| {
                            let mut o = outcome.clone();
                            o["worker"] = json!(w);
                            o["cpu_s"] = json!(cpu);
                            o["user_s"] = json!(cpu);
                            o["system_s"] = json!(0.0);
                            o
                        })
                        .collect::<Vec<_>>()
                );
                out.push(m.to_string());
            }
        }
    }
    let path = dir.join("eight.jsonl");
    std::fs::write(&path, out.join("\n") + "\n").unwrap();
    path
}

#[test]
fn a_usl_sweep_of_a_larger_machine_is_fitted_within_its_intervals() {
    let dir = tempfile::tempdir().unwrap();
    let saved = eight_cpu_sweep(dir.path());
    let plots = dir.path().join("plots");
    let output = paralab()
        .arg("report")
        .arg(&saved)
        .args(["--format", "json", "--plot"])
        .arg(&plots)
        .output()
        .unwrap();
    let document = json_of(&output);
    let fits = document["scaling"].as_array().unwrap();
    let thread = fits.iter().find(|f| f["model"] == "thread").unwrap();
    assert_eq!(thread["fit_workers"], json!([1, 2, 3, 4, 5, 6, 7, 8]));
    assert_eq!(
        thread["left_out_workers"],
        json!([9, 10, 11, 12, 13, 14, 15])
    );
    let usl = &thread["usl"];
    assert_eq!(usl["outcome"], "fit", "{usl}");
    for (figure, truth) in [("contention", 0.08), ("coherency", 0.004)] {
        let [low, high] = interval(usl, &format!("{figure}_interval"));
        assert!(
            low <= truth && truth <= high,
            "{figure} {truth} outside {low}–{high}"
        );
        let value = usl[figure].as_f64().unwrap();
        assert!((value - truth).abs() < 0.5 * truth, "{figure} {value}");
    }
    // Karp–Flatt's serial fraction grows with N where coherency costs.
    let karp_flatt: Vec<f64> = thread["karp_flatt"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["serial_fraction"].as_f64().unwrap())
        .collect();
    assert_eq!(karp_flatt.len(), 7);
    assert!(karp_flatt[6] > karp_flatt[0] + 0.01, "{karp_flatt:?}");
    // One global lock: as serial as can be.
    let gil = fits.iter().find(|f| f["model"] == "gil").unwrap();
    let sigma = gil["amdahl"]["serial_fraction"].as_f64().unwrap();
    assert!((sigma - 1.0).abs() < 0.05, "{gil}");
    // The speedup plot draws the fit and gives its parameters.
    let svg = std::fs::read_to_string(plots.join("cpu-speedup.svg")).unwrap();
    assert!(svg.contains("fitted, N = 1–8"), "legend");
    assert!(svg.contains("thread: USL α 0.0"), "parameters");
}
