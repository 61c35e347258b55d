//! Statistics over the wall times of repeated runs.

/// The median of `samples`, or `None` for none. With an even count it is
/// the mean of the two middle values, as hyperfine and NumPy compute it.
///
/// ```
/// assert_eq!(paralab::measure::stats::median(&[3.0, 1.0, 2.0]), Some(2.0));
/// assert_eq!(paralab::measure::stats::median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
/// ```
pub fn median(samples: &[f64]) -> Option<f64> {
    if samples.is_empty() {
        return None;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    Some(if sorted.len() % 2 == 1 {
        sorted[mid]
    } else {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_nothing_is_none() {
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn median_ignores_order_and_outliers() {
        assert_eq!(median(&[100.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[5.0]), Some(5.0));
    }
}
