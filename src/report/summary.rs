//! The plain-language summary: what the numbers mean, one line per
//! (workload, model).

use super::Grid;
use crate::experiment::Measurement;
use crate::workload::WorkloadKind;

/// Lines such as
/// `cpu · thread: 2 workers took 1.02× as long as 1 → both CPUs used (speedup ×1.96)`.
///
/// `cpus` is the number of logical CPUs the run had; the line compares with
/// what that many CPUs allow.
pub fn render(measurements: &[Measurement], cpus: usize) -> String {
    let grid = Grid::new(measurements);
    let mut out = String::new();
    for column in 0..grid.columns.len() {
        if let Some(line) = line(&grid, column, cpus) {
            out.push_str(&line);
            out.push('\n');
        }
    }
    out
}

fn line(grid: &Grid, column: usize, cpus: usize) -> Option<String> {
    let kind = grid.columns[column].workload.kind();
    let name = format!("{kind} · {}", grid.model_label(column));
    let one = grid.median(column, 1)?;
    // The most telling count: the most workers that still fit on the CPUs
    // (for sleep, which needs no CPU, simply the most workers).
    let measured = grid
        .workers
        .iter()
        .copied()
        .filter(|&n| n > 1 && grid.median(column, n).is_some());
    let n = match kind {
        WorkloadKind::Cpu => measured.clone().filter(|&n| n <= cpus).max(),
        WorkloadKind::Sleep => measured.clone().max(),
    }?;
    let ratio = grid.median(column, n)? / one;
    let speedup = n as f64 / ratio;
    let verdict = match kind {
        WorkloadKind::Cpu => cpu_verdict(n, speedup),
        WorkloadKind::Sleep if ratio < 1.5 => "the waits overlapped".to_string(),
        WorkloadKind::Sleep => "the waits did not overlap: they ran one after another".to_string(),
    };
    let mut text = format!(
        "{name}: {n} workers took {ratio:.2}× as long as 1 → {verdict} (speedup ×{speedup:.2})"
    );
    if kind == WorkloadKind::Cpu
        && let Some(over) = measured.filter(|&m| m > cpus).max()
    {
        let over_ratio = grid.median(column, over)? / one;
        let fair = over as f64 / cpus as f64;
        text.push_str(&format!(
            "; {over} workers on {cpus} CPUs took {over_ratio:.2}× (sharing the CPUs fairly gives {fair:.2}×)"
        ));
    }
    Some(text)
}

fn cpu_verdict(n: usize, speedup: f64) -> String {
    let n_f = n as f64;
    if speedup >= 0.8 * n_f {
        if n == 2 {
            "both CPUs used".to_string()
        } else {
            format!("all {n} CPUs used")
        }
    } else if speedup <= 1.25 {
        "no parallelism: the workers ran one at a time".to_string()
    } else {
        format!("partial parallelism, as if {speedup:.1} of the {n} workers ran at once")
    }
}
