//! Percentiles of timing samples.

use serde::Serialize;
use std::time::Duration;

/// Order statistics of a set of samples (milliseconds for durations).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Summary {
    /// Number of samples.
    pub n: usize,
    /// Fastest.
    pub min: f64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Slowest.
    pub max: f64,
    /// Arithmetic mean.
    pub mean: f64,
}

impl Summary {
    /// The summary of `samples` (at least one).
    pub fn of(samples: &[Duration]) -> Summary {
        Summary::of_values(samples.iter().map(|d| d.as_secs_f64() * 1000.0).collect())
    }

    /// The summary of values in any one unit (at least one).
    pub fn of_values(mut values: Vec<f64>) -> Summary {
        assert!(!values.is_empty(), "a summary needs at least one sample");
        values.sort_by(f64::total_cmp);
        Summary {
            n: values.len(),
            min: values[0],
            p50: percentile(&values, 50.0),
            p90: percentile(&values, 90.0),
            p99: percentile(&values, 99.0),
            max: values[values.len() - 1],
            mean: values.iter().sum::<f64>() / values.len() as f64,
        }
    }
}

/// The nearest-rank `p`th percentile of `sorted` (ascending, not empty): the smallest
/// sample that at least `p` % of the samples do not exceed. It is always a measured value,
/// never an interpolation between two.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let values: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&values, 50.0), 50.0);
        assert_eq!(percentile(&values, 90.0), 90.0);
        assert_eq!(percentile(&values, 99.0), 99.0);
        assert_eq!(percentile(&values, 100.0), 100.0);
        assert_eq!(percentile(&values, 0.0), 1.0);
        assert_eq!(percentile(&[7.0], 99.0), 7.0);
        // 20 samples: the median is the 10th, p90 the 18th.
        let twenty: Vec<f64> = (1..=20).map(f64::from).collect();
        assert_eq!(percentile(&twenty, 50.0), 10.0);
        assert_eq!(percentile(&twenty, 90.0), 18.0);
    }

    #[test]
    fn summarises_unsorted_durations_in_milliseconds() {
        let samples = [3, 1, 2, 4].map(Duration::from_millis);
        let summary = Summary::of(&samples);
        assert_eq!(summary.n, 4);
        assert_eq!((summary.min, summary.max), (1.0, 4.0));
        assert_eq!(summary.p50, 2.0);
        assert_eq!(summary.p99, 4.0);
        assert_eq!(summary.mean, 2.5);
    }
}
