//! The notebook's own table: a header of class names, then one line per
//! worker count, every number (the count too) in Python's `'{:.6e}'`.

use crate::dataset::Grid;
use crate::experiment::Measurement;
use crate::fmt::python_sci;

/// ```text
/// nthreads CpuThread CpuProcess IoThread IoProcess
/// 1.000000e+00 2.523101e-01 2.541213e-01 1.000142e+00 1.001234e+00
/// ```
///
/// A cell whose runs all failed prints `nan`; with several runs a cell is
/// their median.
pub(crate) fn render(measurements: &[Measurement]) -> String {
    let grid = Grid::new(measurements);
    let mut out = String::from("nthreads");
    for column in 0..grid.columns.len() {
        out.push(' ');
        out.push_str(&grid.notebook_name(column));
    }
    out.push('\n');
    for &workers in &grid.workers {
        out.push_str(&python_sci(workers as f64, 6));
        for column in 0..grid.columns.len() {
            out.push(' ');
            out.push_str(&python_sci(
                grid.median(column, workers).unwrap_or(f64::NAN),
                6,
            ));
        }
        out.push('\n');
    }
    out
}
