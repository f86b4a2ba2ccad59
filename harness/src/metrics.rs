//! Counters and histograms that the load tasks update while a scenario runs.
//!
//! One [`Metrics`] belongs to one scenario. Tasks record through a mutex, which is taken for
//! a few hundred nanoseconds per message and so never limits a run at the rates two cores reach.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::stats::LatencyHistogram;

/// Width of one point of the time series in the report and the chart.
pub const INTERVAL: Duration = Duration::from_secs(1);

/// Counts and latencies of one scenario.
#[derive(Debug)]
pub struct Metrics {
    start: Instant,
    inner: Mutex<MetricsInner>,
    acknowledged: AtomicU64,
    verified: AtomicU64,
    errors_total: AtomicU64,
}

/// The recorded data, taken out of [`Metrics`] at the end of a scenario.
#[derive(Debug, Clone, Default)]
pub struct MetricsInner {
    /// Time from the intended (open loop) or actual (closed loop) send start to the relay's 201.
    pub latency: LatencyHistogram,
    /// Time from the send start until the receiver verified the message.
    pub delivery: LatencyHistogram,
    /// One entry per [`INTERVAL`] since the scenario started.
    pub timeline: Vec<IntervalStats>,
    /// Errors by kind, expected ones included.
    pub errors: BTreeMap<String, u64>,
    /// Sealed messages by mode name.
    pub modes: BTreeMap<&'static str, u64>,
    /// Seals that used a mode weaker than the sender's preferred one.
    pub fallbacks: u64,
    /// Wall time spent inside `seal_many`, and the number of messages it sealed.
    pub seal_time: Duration,
    /// Messages sealed.
    pub sealed: u64,
    /// Wall time spent inside `open_many`, and the number of envelopes it opened.
    pub open_time: Duration,
    /// Envelopes opened.
    pub opened: u64,
}

/// Messages acknowledged by the relay in one interval and their send latencies.
#[derive(Debug, Clone, Default)]
pub struct IntervalStats {
    /// Messages that got a 201.
    pub acknowledged: u64,
    /// Their send latencies.
    pub latency: LatencyHistogram,
}

impl Metrics {
    /// Creates empty metrics whose time series starts now.
    pub fn new() -> Metrics {
        Metrics {
            start: Instant::now(),
            inner: Mutex::new(MetricsInner::default()),
            acknowledged: AtomicU64::new(0),
            verified: AtomicU64::new(0),
            errors_total: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, MetricsInner> {
        // A panic in another load task must not hide the numbers gathered so far.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records a message acknowledged with 201 at `now`, `latency` after its send start.
    pub fn record_acknowledged(&self, now: Instant, latency: Duration) {
        self.acknowledged.fetch_add(1, Ordering::Relaxed);
        let slot = (now.saturating_duration_since(self.start).as_secs_f64()
            / INTERVAL.as_secs_f64()) as usize;
        let mut inner = self.lock();
        inner.latency.record(latency);
        if inner.timeline.len() <= slot {
            inner.timeline.resize_with(slot + 1, IntervalStats::default);
        }
        let interval = &mut inner.timeline[slot];
        interval.acknowledged += 1;
        interval.latency.record(latency);
    }

    /// Records a verified delivery, `latency` after the message's send start when known.
    pub fn record_verified(&self, latency: Option<Duration>) {
        self.verified.fetch_add(1, Ordering::Relaxed);
        if let Some(latency) = latency {
            self.lock().delivery.record(latency);
        }
    }

    /// Counts one error of `kind`.
    pub fn record_error(&self, kind: &str) {
        self.errors_total.fetch_add(1, Ordering::Relaxed);
        let mut inner = self.lock();
        match inner.errors.get_mut(kind) {
            Some(count) => *count += 1,
            None => {
                inner.errors.insert(kind.to_owned(), 1);
            }
        }
    }

    /// Records a `seal_many` call that took `elapsed` for `messages` messages.
    pub fn record_seal_batch(&self, elapsed: Duration, messages: usize) {
        let mut inner = self.lock();
        inner.seal_time += elapsed;
        inner.sealed += messages as u64;
    }

    /// Records one sealed message in `mode`, and whether it was a fallback.
    pub fn record_mode(&self, mode: &'static str, fallback: bool) {
        let mut inner = self.lock();
        *inner.modes.entry(mode).or_insert(0) += 1;
        if fallback {
            inner.fallbacks += 1;
        }
    }

    /// Records an `open_many` call that took `elapsed` for `envelopes` envelopes.
    pub fn record_open_batch(&self, elapsed: Duration, envelopes: usize) {
        let mut inner = self.lock();
        inner.open_time += elapsed;
        inner.opened += envelopes as u64;
    }

    /// Returns the number of messages acknowledged so far.
    pub fn acknowledged(&self) -> u64 {
        self.acknowledged.load(Ordering::Relaxed)
    }

    /// Returns the number of messages verified so far.
    pub fn verified(&self) -> u64 {
        self.verified.load(Ordering::Relaxed)
    }

    /// Returns the number of errors of any kind so far.
    pub fn errors(&self) -> u64 {
        self.errors_total.load(Ordering::Relaxed)
    }

    /// Returns the time since the metrics were created.
    pub fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }

    /// Returns a copy of everything recorded so far.
    pub fn snapshot(&self) -> MetricsInner {
        self.lock().clone()
    }
}

impl MetricsInner {
    /// Adds up the metrics of several scenarios; the time series is left empty.
    pub fn merged(all: &[std::sync::Arc<Metrics>]) -> MetricsInner {
        let mut total = MetricsInner::default();
        for metrics in all {
            let snapshot = metrics.snapshot();
            total.latency.merge(&snapshot.latency);
            total.delivery.merge(&snapshot.delivery);
            total.seal_time += snapshot.seal_time;
            total.sealed += snapshot.sealed;
            total.open_time += snapshot.open_time;
            total.opened += snapshot.opened;
            total.fallbacks += snapshot.fallbacks;
            for (mode, count) in &snapshot.modes {
                *total.modes.entry(mode).or_insert(0) += count;
            }
            for (kind, count) in &snapshot.errors {
                *total.errors.entry(kind.clone()).or_insert(0) += count;
            }
        }
        total
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeline_slots_follow_time() {
        let metrics = Metrics::new();
        let start = metrics.start;
        metrics.record_acknowledged(start + Duration::from_millis(100), Duration::from_millis(5));
        metrics.record_acknowledged(
            start + Duration::from_millis(2500),
            Duration::from_millis(7),
        );
        let inner = metrics.snapshot();
        assert_eq!(inner.timeline.len(), 3);
        assert_eq!(inner.timeline[0].acknowledged, 1);
        assert_eq!(inner.timeline[1].acknowledged, 0);
        assert_eq!(inner.timeline[2].acknowledged, 1);
        assert_eq!(inner.latency.count(), 2);
        assert_eq!(metrics.acknowledged(), 2);
    }

    #[test]
    fn errors_and_modes_count() {
        let metrics = Metrics::new();
        metrics.record_error("timeout");
        metrics.record_error("timeout");
        metrics.record_mode("classical", true);
        metrics.record_mode("hybrid", false);
        let inner = metrics.snapshot();
        assert_eq!(inner.errors["timeout"], 2);
        assert_eq!(inner.modes["classical"], 1);
        assert_eq!(inner.fallbacks, 1);
        assert_eq!(metrics.errors(), 2);
    }
}
