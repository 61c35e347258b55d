//! Statistics over the wall times of repeated runs: the summary hyperfine
//! and criterion users expect (min, median, mean, standard deviation, max)
//! and outlier detection by modified z-score, as hyperfine does it.

use serde::{Deserialize, Serialize};

/// The median of `samples`, or `None` for none. With an even count it is
/// the mean of the two middle values, as hyperfine and NumPy compute it.
pub(crate) fn median(samples: &[f64]) -> Option<f64> {
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

/// The arithmetic mean, or `None` for no samples.
pub(crate) fn mean(samples: &[f64]) -> Option<f64> {
    (!samples.is_empty()).then(|| samples.iter().sum::<f64>() / samples.len() as f64)
}

/// The sample standard deviation (divided by n − 1, as hyperfine, NumPy's
/// `std(ddof=1)` and Python's `statistics.stdev` compute it); `None` for
/// fewer than two samples, where it is not defined.
pub(crate) fn stddev(samples: &[f64]) -> Option<f64> {
    if samples.len() < 2 {
        return None;
    }
    let mean = mean(samples)?;
    let squares: f64 = samples.iter().map(|x| (x - mean).powi(2)).sum();
    Some((squares / (samples.len() - 1) as f64).sqrt())
}

/// The median absolute deviation from the median (unscaled).
pub(crate) fn mad(samples: &[f64]) -> Option<f64> {
    let centre = median(samples)?;
    let deviations: Vec<f64> = samples.iter().map(|x| (x - centre).abs()).collect();
    median(&deviations)
}

/// A modified z-score beyond this marks an outlier. hyperfine uses 14, far
/// above Iglewicz and Hoaglin's 3.5, so that only runs disturbed by
/// something else (another program, a page-cache miss) are flagged, not the
/// ordinary jitter of short runs.
pub(crate) const OUTLIER_THRESHOLD: f64 = 14.0;

/// `(x − median) / (1.4826 · MAD)` for each sample: 1.4826 makes the MAD
/// estimate the standard deviation of normally distributed samples. The
/// MAD is taken as at least `min_relative_mad` of the median (and never
/// zero), so that when most samples are equal a differing one stands out
/// without ordinary jitter doing so; hyperfine's own score is
/// `min_relative_mad = 0`.
pub(crate) fn modified_z_scores(samples: &[f64], min_relative_mad: f64) -> Vec<f64> {
    let (Some(centre), Some(mad)) = (median(samples), mad(samples)) else {
        return Vec::new();
    };
    let mad = mad.max(min_relative_mad * centre.abs()).max(f64::EPSILON);
    samples
        .iter()
        .map(|x| (x - centre) / (1.4826 * mad))
        .collect()
}

/// The smallest MAD [`outliers`] uses, relative to the median: timer and
/// scheduler jitter. Without it, three runs of which two agree to the
/// nanosecond (MAD ≈ 0) make a third run 0.1 % slower an "outlier".
pub(crate) const MIN_RELATIVE_MAD: f64 = 0.005;

/// The indices of the samples whose modified z-score (with the MAD at
/// least [`MIN_RELATIVE_MAD`] of the median) exceeds [`OUTLIER_THRESHOLD`]
/// in absolute value. Fewer than three samples have no outliers: with two,
/// neither can be told from the other.
pub(crate) fn outliers(samples: &[f64]) -> Vec<usize> {
    if samples.len() < 3 {
        return Vec::new();
    }
    modified_z_scores(samples, MIN_RELATIVE_MAD)
        .into_iter()
        .enumerate()
        .filter(|(_, z)| z.abs() > OUTLIER_THRESHOLD)
        .map(|(i, _)| i)
        .collect()
}

/// Resamples drawn by [`bootstrap_ratio`]: enough that the 2.5 % and
/// 97.5 % quantiles are stable to a few parts in a thousand.
pub(crate) const BOOTSTRAP_RESAMPLES: usize = 2000;

/// A 95 % confidence interval, by the percentile bootstrap, for
/// `scale · median(a) / median(b)`: both samples resampled with
/// replacement, independently, from a fixed seed so that the same runs
/// always give the same interval. `None` unless both have two samples or
/// more (one run has no spread to resample) and every median is positive.
///
/// Speedup is `N · T(1) / T(N)` (`a` the runs at one worker, `b` at N);
/// efficiency `T(1) / T(N)`.
pub(crate) fn bootstrap_ratio(a: &[f64], b: &[f64], scale: f64) -> Option<(f64, f64)> {
    if a.len() < 2 || b.len() < 2 {
        return None;
    }
    let mut rng = SplitMix64(0x0005_EED0_F9A7_A1AB);
    let mut draw = |samples: &[f64], scratch: &mut Vec<f64>| {
        scratch.clear();
        scratch.extend((0..samples.len()).map(|_| samples[rng.below(samples.len())]));
        median(scratch)
    };
    let (mut sa, mut sb) = (Vec::new(), Vec::new());
    let mut ratios = Vec::with_capacity(BOOTSTRAP_RESAMPLES);
    for _ in 0..BOOTSTRAP_RESAMPLES {
        let (top, bottom) = (draw(a, &mut sa)?, draw(b, &mut sb)?);
        if bottom <= 0.0 || !top.is_finite() {
            return None;
        }
        ratios.push(scale * top / bottom);
    }
    ratios.sort_by(f64::total_cmp);
    let at =
        |q: f64| ratios[((q * (ratios.len() - 1) as f64).round() as usize).min(ratios.len() - 1)];
    Some((at(0.025), at(0.975)))
}

/// Sebastiano Vigna's SplitMix64: a tiny, well-mixed generator; the
/// bootstrap needs reproducibility, not cryptography.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (the modulo bias is below 1e-15 for small n).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// The summary of repeated wall times, in seconds.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Summary {
    /// How many samples.
    pub runs: usize,
    /// The shortest.
    pub min: f64,
    /// The middle one; what tables show.
    pub median: f64,
    /// The arithmetic mean.
    pub mean: f64,
    /// The sample standard deviation; `None` for a single run.
    pub stddev: Option<f64>,
    /// The longest.
    pub max: f64,
}

impl Summary {
    /// The summary of `samples`, or `None` for no samples.
    pub(crate) fn of(samples: &[f64]) -> Option<Summary> {
        Some(Summary {
            runs: samples.len(),
            min: samples.iter().copied().min_by(f64::total_cmp)?,
            median: median(samples)?,
            mean: mean(samples)?,
            stddev: stddev(samples),
            max: samples.iter().copied().max_by(f64::total_cmp)?,
        })
    }

    /// The standard deviation relative to the mean (0 for a single run).
    pub(crate) fn relative_stddev(&self) -> f64 {
        self.stddev.unwrap_or(0.0) / self.mean
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * b.abs().max(1.0)
    }

    #[test]
    fn median_of_nothing_is_none() {
        assert_eq!(median(&[]), None);
        assert_eq!(Summary::of(&[]), None);
        assert!(modified_z_scores(&[], 0.0).is_empty());
    }

    #[test]
    fn median_ignores_order_and_outliers() {
        assert_eq!(median(&[100.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[5.0]), Some(5.0));
    }

    /// Reference values from Python 3.11's `statistics` module:
    /// `mean`, `median`, `stdev` of the same samples.
    #[test]
    fn summary_matches_pythons_statistics_module() {
        let samples = [0.251, 0.249, 0.262, 0.250, 0.305, 0.248];
        let s = Summary::of(&samples).unwrap();
        assert_eq!(s.runs, 6);
        assert_eq!(s.min, 0.248);
        assert_eq!(s.max, 0.305);
        assert!(close(s.median, 0.2505), "{}", s.median);
        assert!(close(s.mean, 0.26083333333333336), "{}", s.mean);
        assert!(
            close(s.stddev.unwrap(), 0.02222985979862821),
            "{:?}",
            s.stddev
        );
        assert!(close(
            s.relative_stddev(),
            0.02222985979862821 / 0.26083333333333336
        ));
    }

    #[test]
    fn one_run_has_no_spread() {
        let s = Summary::of(&[1.5]).unwrap();
        assert_eq!((s.min, s.median, s.mean, s.max), (1.5, 1.5, 1.5, 1.5));
        assert_eq!(s.stddev, None);
        assert_eq!(s.relative_stddev(), 0.0);
    }

    /// MAD of [1, 2, 3, 4, 100]: median 3, deviations [2, 1, 0, 1, 97] → 1.
    #[test]
    fn mad_and_z_scores_on_a_known_sample() {
        let samples = [1.0, 2.0, 3.0, 4.0, 100.0];
        assert_eq!(mad(&samples), Some(1.0));
        let z = modified_z_scores(&samples, 0.0);
        assert!(close(z[4], 97.0 / 1.4826));
        assert!(close(z[0], -2.0 / 1.4826));
        assert_eq!(outliers(&samples), vec![4]);
    }

    #[test]
    fn ordinary_jitter_is_not_an_outlier() {
        assert!(outliers(&[0.250, 0.252, 0.249, 0.251, 0.262]).is_empty());
        // Too few runs to judge, however far apart.
        assert!(outliers(&[0.25, 2.5]).is_empty());
    }

    #[test]
    fn a_busy_machine_run_is_an_outlier() {
        // Four quiet runs and one disturbed by another program.
        let samples = [0.2501, 0.2503, 0.2502, 0.2504, 0.4100];
        assert_eq!(outliers(&samples), vec![4]);
    }

    #[test]
    fn equal_samples_make_a_real_difference_an_outlier() {
        // MAD 0: the floor of 0.5 % of the median decides.
        assert_eq!(outliers(&[1.0, 1.0, 1.0, 1.2]), vec![3]);
        assert!(outliers(&[1.0, 1.0, 1.0, 1.05]).is_empty());
        assert!(outliers(&[1.0, 1.0, 1.0]).is_empty());
        // hyperfine's bare z-scores would flag the 1.001.
        assert!(modified_z_scores(&[1.0, 1.0, 1.0, 1.001], 0.0)[3] > OUTLIER_THRESHOLD);
        assert!(outliers(&[1.0, 1.0, 1.0, 1.001]).is_empty());
    }

    #[test]
    fn summary_example() {
        use crate::measure::stats::Summary;
        let s = Summary::of(&[0.30, 0.10, 0.20]).unwrap();
        assert_eq!((s.runs, s.min, s.median, s.max), (3, 0.10, 0.20, 0.30));
    }

    #[test]
    fn median_example() {
        assert_eq!(crate::measure::stats::median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(
            crate::measure::stats::median(&[4.0, 1.0, 2.0, 3.0]),
            Some(2.5)
        );
    }

    #[test]
    fn modified_z_scores_example() {
        use crate::measure::stats::modified_z_scores;
        let z = modified_z_scores(&[1.0, 2.0, 3.0], 0.0);
        assert_eq!(z[1], 0.0);
        assert!((z[2] - 1.0 / 1.4826).abs() < 1e-12);
    }

    #[test]
    fn outliers_example() {
        use crate::measure::stats::outliers;
        assert_eq!(outliers(&[0.2501, 0.2503, 0.2502, 0.2504, 0.41]), vec![4]);
        assert!(outliers(&[0.029457, 0.0294786, 0.0294786]).is_empty());
    }

    #[test]
    fn stddev_example() {
        let sd = crate::measure::stats::stddev(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]).unwrap();
        assert!((sd - 2.138089935299395).abs() < 1e-12);
    }

    #[test]
    fn bootstrap_interval_holds_the_ratio_and_is_reproducible() {
        let one = [1.00, 1.02, 0.98, 1.01, 0.99];
        let two = [1.00, 1.05, 0.97, 1.02, 1.01];
        let (lo, hi) = bootstrap_ratio(&one, &two, 2.0).unwrap();
        let point = 2.0 * median(&one).unwrap() / median(&two).unwrap();
        assert!(lo <= point && point <= hi, "{lo} {point} {hi}");
        assert!(hi - lo < 0.2, "{lo} {hi}");
        assert_eq!(bootstrap_ratio(&one, &two, 2.0), Some((lo, hi)));
        // Wider spread, wider interval.
        let noisy = [0.7, 1.3, 1.0, 0.8, 1.2];
        let (nlo, nhi) = bootstrap_ratio(&one, &noisy, 2.0).unwrap();
        assert!(nhi - nlo > 2.0 * (hi - lo), "{nlo} {nhi}");
        // One run has no interval.
        assert_eq!(bootstrap_ratio(&[1.0], &two, 2.0), None);
    }
}
