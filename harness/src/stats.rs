//! Latency histograms and their percentile summaries.
//!
//! Samples are recorded in microseconds into an HDR histogram with 3 significant digits, so
//! any recorded value is known to within 0.1 %. Summaries report milliseconds rounded to those
//! same 3 significant digits and clamped to the exact smallest and largest sample, so a
//! percentile never lies outside what was observed.

use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

/// Largest recordable value: one hour, in microseconds. Longer samples are clamped to it.
const MAX_MICROS: u64 = 3_600_000_000;
const SIGNIFICANT_DIGITS: u8 = 3;

/// A latency histogram in microseconds.
#[derive(Clone)]
pub struct LatencyHistogram {
    histogram: Histogram<u64>,
    exact_min: u64,
    exact_max: u64,
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for LatencyHistogram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LatencyHistogram")
            .field("count", &self.histogram.len())
            .field("max_us", &self.exact_max)
            .finish()
    }
}

impl LatencyHistogram {
    /// Creates an empty histogram covering 1 µs to one hour.
    pub fn new() -> LatencyHistogram {
        // The bounds are constants that hdrhistogram accepts, so this cannot fail.
        let histogram = Histogram::new_with_bounds(1, MAX_MICROS, SIGNIFICANT_DIGITS)
            .unwrap_or_else(|_| unreachable!("constant histogram bounds are valid"));
        LatencyHistogram {
            histogram,
            exact_min: u64::MAX,
            exact_max: 0,
        }
    }

    /// Records one sample. Samples under 1 µs count as 1 µs and over an hour as one hour.
    pub fn record(&mut self, latency: Duration) {
        let micros = u64::try_from(latency.as_micros())
            .unwrap_or(MAX_MICROS)
            .clamp(1, MAX_MICROS);
        self.exact_min = self.exact_min.min(micros);
        self.exact_max = self.exact_max.max(micros);
        self.histogram.saturating_record(micros);
    }

    /// Adds every sample of `other`.
    pub fn merge(&mut self, other: &LatencyHistogram) {
        if other.histogram.is_empty() {
            return;
        }
        self.exact_min = self.exact_min.min(other.exact_min);
        self.exact_max = self.exact_max.max(other.exact_max);
        // Both histograms share the same bounds, so adding cannot go out of range.
        let _ = self.histogram.add(&other.histogram);
    }

    /// Returns the number of samples.
    pub fn count(&self) -> u64 {
        self.histogram.len()
    }

    /// Returns the value in milliseconds at `quantile` (0 to 1), or 0 when empty.
    pub fn quantile_ms(&self, quantile: f64) -> f64 {
        if self.histogram.is_empty() {
            return 0.0;
        }
        let micros = self
            .histogram
            .value_at_quantile(quantile)
            .clamp(self.exact_min, self.exact_max);
        round_significant(micros as f64 / 1000.0, SIGNIFICANT_DIGITS)
    }

    /// Returns the exact largest sample in milliseconds, or 0 when empty.
    pub fn max_ms(&self) -> f64 {
        if self.histogram.is_empty() {
            return 0.0;
        }
        self.exact_max as f64 / 1000.0
    }

    /// Returns the mean in milliseconds, or 0 when empty.
    pub fn mean_ms(&self) -> f64 {
        round_significant(self.histogram.mean() / 1000.0, SIGNIFICANT_DIGITS)
    }

    /// Returns the percentiles that the report shows.
    pub fn summary(&self) -> LatencySummary {
        LatencySummary {
            count: self.count(),
            p50: self.quantile_ms(0.50),
            p90: self.quantile_ms(0.90),
            p99: self.quantile_ms(0.99),
            p999: self.quantile_ms(0.999),
            max: self.max_ms(),
            mean: self.mean_ms(),
        }
    }

    /// Returns the connect-time percentiles that the report shows.
    pub fn short_summary(&self) -> ShortSummary {
        ShortSummary {
            p50: self.quantile_ms(0.50),
            p99: self.quantile_ms(0.99),
            max: self.max_ms(),
        }
    }
}

/// Latency percentiles in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LatencySummary {
    /// Number of samples.
    pub count: u64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
    /// Largest sample.
    pub max: f64,
    /// Arithmetic mean.
    pub mean: f64,
}

/// Median, 99th percentile and largest sample in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ShortSummary {
    /// Median.
    pub p50: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Largest sample.
    pub max: f64,
}

/// Rounds `value` to `digits` significant decimal digits.
pub fn round_significant(value: f64, digits: u8) -> f64 {
    if value == 0.0 || !value.is_finite() {
        return value;
    }
    let magnitude = value.abs().log10().floor() as i32;
    let scale = 10f64.powi(i32::from(digits) - 1 - magnitude);
    (value * scale).round() / scale
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_one_to_hundred_ms() {
        let mut histogram = LatencyHistogram::new();
        for ms in 1..=100 {
            histogram.record(Duration::from_millis(ms));
        }
        let summary = histogram.summary();
        assert_eq!(summary.count, 100);
        assert_eq!(summary.p50, 50.0);
        assert_eq!(summary.p90, 90.0);
        assert_eq!(summary.p99, 99.0);
        assert_eq!(summary.max, 100.0);
    }

    #[test]
    fn single_sample_is_every_percentile() {
        let mut histogram = LatencyHistogram::new();
        histogram.record(Duration::from_millis(500));
        let summary = histogram.summary();
        for value in [
            summary.p50,
            summary.p90,
            summary.p99,
            summary.p999,
            summary.max,
        ] {
            assert_eq!(value, 500.0);
        }
    }

    #[test]
    fn empty_histogram_reports_zero() {
        let summary = LatencyHistogram::new().summary();
        assert_eq!(summary.count, 0);
        assert_eq!(summary.p99, 0.0);
        assert_eq!(summary.max, 0.0);
    }

    #[test]
    fn merge_keeps_exact_extremes() {
        let mut a = LatencyHistogram::new();
        a.record(Duration::from_micros(1234));
        let mut b = LatencyHistogram::new();
        b.record(Duration::from_micros(98_765));
        a.merge(&b);
        assert_eq!(a.count(), 2);
        assert_eq!(a.max_ms(), 98.765);
        assert_eq!(a.quantile_ms(0.0), 1.23);
    }

    #[test]
    fn huge_samples_are_clamped() {
        let mut histogram = LatencyHistogram::new();
        histogram.record(Duration::from_secs(10 * 3600));
        assert_eq!(histogram.max_ms(), 3_600_000.0);
    }

    #[test]
    fn rounding_keeps_three_digits() {
        assert_eq!(round_significant(50.015, 3), 50.0);
        assert_eq!(round_significant(0.12345, 3), 0.123);
        assert_eq!(round_significant(1999.6, 3), 2000.0);
        assert_eq!(round_significant(0.0, 3), 0.0);
    }
}
