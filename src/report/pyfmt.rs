//! Python's `'{:.Ne}'` float format, which the notebook's table uses.
//!
//! Rust's `{:.6e}` writes `1.000000e0`; Python writes `1.000000e+00`: a
//! signed exponent of at least two digits. Both round the exact binary
//! value half-to-even, so only the exponent needs rewriting.

/// Formats `value` as Python's `'{:.{precision}e}'.format(value)` does.
///
/// ```
/// use paralab::report::pyfmt::python_sci;
/// assert_eq!(python_sci(1.0, 6), "1.000000e+00");
/// assert_eq!(python_sci(0.04043388, 6), "4.043388e-02");
/// assert_eq!(python_sci(9.9999999, 6), "1.000000e+01");
/// assert_eq!(python_sci(f64::NAN, 6), "nan");
/// ```
pub fn python_sci(value: f64, precision: usize) -> String {
    if value.is_nan() {
        return "nan".to_string();
    }
    if value.is_infinite() {
        return if value > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    let rust = format!("{value:.precision$e}");
    let (mantissa, exponent) = rust
        .split_once('e')
        .expect("Rust's {:e} always writes an exponent");
    let exponent: i32 = exponent.parse().expect("Rust's exponent is an integer");
    let sign = if exponent < 0 { '-' } else { '+' };
    format!("{mantissa}e{sign}{:02}", exponent.abs())
}

#[cfg(test)]
mod tests {
    use super::python_sci;

    /// Expected strings produced by CPython 3.11: `'{:.6e}'.format(x)`.
    #[test]
    fn matches_python_on_edge_cases() {
        let cases: &[(f64, &str)] = &[
            (0.0, "0.000000e+00"),
            (-0.0, "-0.000000e+00"),
            (1.0, "1.000000e+00"),
            (3.0, "3.000000e+00"),
            (-2.5, "-2.500000e+00"),
            (0.04043388, "4.043388e-02"),
            (9.9999995, "9.999999e+00"),
            (9.99999951, "1.000000e+01"),
            (999999.95, "9.999999e+05"),
            (0.00012345675, "1.234567e-04"),
            (1.5e-300, "1.500000e-300"),
            (5e-324, "4.940656e-324"),
            (1.7976931348623157e308, "1.797693e+308"),
            (1e100, "1.000000e+100"),
            (123456789.0, "1.234568e+08"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (f64::NAN, "nan"),
        ];
        for &(value, python) in cases {
            assert_eq!(python_sci(value, 6), python, "value {value:e}");
        }
    }

    #[test]
    fn other_precisions() {
        assert_eq!(python_sci(1234.5, 2), "1.23e+03");
        assert_eq!(python_sci(1234.5, 0), "1e+03");
    }
}
