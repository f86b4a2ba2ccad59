//! Prometheus metrics of one relay, recorded through the `metrics` crate.
//!
//! Each relay owns its recorder instead of installing a global one, so that
//! tests and benchmarks can run several relays in one process. Every series
//! is registered up front, and recording a request is a few atomic
//! additions with no lookup.

use std::time::Duration;

use metrics::{Counter, Gauge, Histogram, Key, Label, Metadata, Recorder, Unit};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle, PrometheusRecorder};

use crate::reject::Reason;
use crate::routes::Endpoint;

/// Upper bounds in seconds of the request latency histogram buckets.
const LATENCY_BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0, 30.0,
];

/// Statuses the relay responds with. Any other status is counted as `other`.
const STATUSES: &[u16] = &[
    200, 201, 204, 400, 401, 403, 404, 405, 408, 409, 413, 415, 429, 431, 500, 503,
];

const REQUESTS: &str = "qrnm_http_requests_total";
const DURATION: &str = "qrnm_http_request_duration_seconds";
const REJECTIONS: &str = "qrnm_rejections_total";
const CONNECTIONS: &str = "qrnm_open_connections";
const PARKED: &str = "qrnm_parked_connections";
const MESSAGES: &str = "qrnm_stored_messages";
const BYTES: &str = "qrnm_stored_bytes";
const DEPOSITS: &str = "qrnm_deposits_total";
const FALLBACKS: &str = "qrnm_deposit_fallbacks_total";

static METADATA: Metadata<'static> =
    Metadata::new(module_path!(), metrics::Level::INFO, Some(module_path!()));

/// The relay's metric handles and the recorder that renders them.
pub(crate) struct Metrics {
    handle: PrometheusHandle,
    /// One counter per endpoint and status, indexed by [`Metrics::request_index`].
    requests: Vec<Counter>,
    durations: Vec<Histogram>,
    rejections: Vec<Counter>,
    open_connections: Gauge,
    parked_connections: Gauge,
    stored_messages: Gauge,
    stored_bytes: Gauge,
    /// Deposits by envelope mode: classical, hybrid, pq, unknown.
    deposits: Vec<Counter>,
    fallbacks: Counter,
}

impl Metrics {
    pub(crate) fn new() -> Metrics {
        // Only a malformed bucket list fails, and the list above is not.
        let builder = PrometheusBuilder::new()
            .set_buckets(LATENCY_BUCKETS)
            .unwrap_or_else(|_| PrometheusBuilder::new());
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        describe(&recorder);

        let status_labels: Vec<String> = STATUSES
            .iter()
            .map(u16::to_string)
            .chain(["other".to_owned()])
            .collect();
        let mut requests = Vec::new();
        let mut durations = Vec::new();
        for endpoint in Endpoint::ALL {
            for status in &status_labels {
                requests.push(counter(
                    &recorder,
                    REQUESTS,
                    vec![
                        Label::new("route", endpoint.as_str()),
                        Label::new("status", status.clone()),
                    ],
                ));
            }
            let key = Key::from_parts(DURATION, vec![Label::new("route", endpoint.as_str())]);
            durations.push(recorder.register_histogram(&key, &METADATA));
        }

        let rejections = Reason::ALL
            .iter()
            .map(|reason| {
                counter(
                    &recorder,
                    REJECTIONS,
                    vec![Label::new("reason", reason.as_str())],
                )
            })
            .collect();
        let deposits = ["classical", "hybrid", "pq", "unknown"]
            .into_iter()
            .map(|mode| counter(&recorder, DEPOSITS, vec![Label::new("mode", mode)]))
            .collect();

        Metrics {
            requests,
            durations,
            rejections,
            open_connections: recorder.register_gauge(&Key::from_name(CONNECTIONS), &METADATA),
            parked_connections: recorder.register_gauge(&Key::from_name(PARKED), &METADATA),
            stored_messages: recorder.register_gauge(&Key::from_name(MESSAGES), &METADATA),
            stored_bytes: recorder.register_gauge(&Key::from_name(BYTES), &METADATA),
            deposits,
            fallbacks: counter(&recorder, FALLBACKS, Vec::new()),
            handle,
        }
    }

    fn request_index(endpoint: Endpoint, status: u16) -> usize {
        let status_index = STATUSES
            .iter()
            .position(|s| *s == status)
            .unwrap_or(STATUSES.len());
        endpoint.index() * (STATUSES.len() + 1) + status_index
    }

    /// Counts a finished request and records its latency.
    pub(crate) fn request(&self, endpoint: Endpoint, status: u16, elapsed: Duration) {
        if let Some(counter) = self.requests.get(Self::request_index(endpoint, status)) {
            counter.increment(1);
        }
        if let Some(histogram) = self.durations.get(endpoint.index()) {
            histogram.record(elapsed.as_secs_f64());
        }
    }

    /// Counts a rejected request or connection.
    pub(crate) fn rejection(&self, reason: Reason) {
        if let Some(counter) = self.rejections.get(reason.index()) {
            counter.increment(1);
        }
    }

    /// Counts a stored deposit by mode id (1 classical, 2 hybrid, 3 pq), and
    /// whether the mode is weaker than the strongest one the recipient lists.
    pub(crate) fn deposit(&self, mode_id: u8, fallback: bool) {
        let index = match mode_id {
            1..=3 => usize::from(mode_id) - 1,
            _ => 3,
        };
        if let Some(counter) = self.deposits.get(index) {
            counter.increment(1);
        }
        if fallback {
            self.fallbacks.increment(1);
        }
    }

    pub(crate) fn connection_opened(&self) {
        self.open_connections.increment(1.0);
    }

    pub(crate) fn connection_closed(&self) {
        self.open_connections.decrement(1.0);
    }

    /// Counts an idle HTTP/1.1 connection whose hyper session was ended (see `server::idle`).
    pub(crate) fn connection_parked(&self) {
        self.parked_connections.increment(1.0);
    }

    pub(crate) fn connection_unparked(&self) {
        self.parked_connections.decrement(1.0);
    }

    /// Renders every series in the Prometheus text format, with the store totals given.
    pub(crate) fn render(&self, messages: u64, bytes: u64) -> String {
        // Gauges are f64; the totals stay exact below 2^53.
        self.stored_messages.set(messages as f64);
        self.stored_bytes.set(bytes as f64);
        self.handle.render()
    }

    /// Moves buffered latency samples into the histogram buckets. Without
    /// this, samples recorded between two scrapes stay buffered in memory.
    pub(crate) fn run_upkeep(&self) {
        self.handle.run_upkeep();
    }
}

fn counter(recorder: &PrometheusRecorder, name: &'static str, labels: Vec<Label>) -> Counter {
    recorder.register_counter(&Key::from_parts(name, labels), &METADATA)
}

fn describe(recorder: &PrometheusRecorder) {
    let counters = [
        (REQUESTS, "HTTP requests answered, by route and status."),
        (
            REJECTIONS,
            "Requests and connections rejected by a limit or check, by reason.",
        ),
        (
            DEPOSITS,
            "Envelopes stored, by the mode written in their header.",
        ),
        (
            FALLBACKS,
            "Envelopes stored in a mode weaker than the strongest mode of the recipient's bundle.",
        ),
    ];
    for (name, help) in counters {
        recorder.describe_counter(name.into(), Some(Unit::Count), help.into());
    }
    recorder.describe_histogram(
        DURATION.into(),
        Some(Unit::Seconds),
        "Time from receiving a request head to producing its response, by route.".into(),
    );
    recorder.describe_gauge(CONNECTIONS.into(), None, "Open client connections.".into());
    recorder.describe_gauge(
        PARKED.into(),
        None,
        "Idle HTTP/1.1 connections held without HTTP state until they send again.".into(),
    );
    recorder.describe_gauge(
        MESSAGES.into(),
        None,
        "Messages stored in all mailboxes.".into(),
    );
    recorder.describe_gauge(
        BYTES.into(),
        Some(Unit::Bytes),
        "Envelope bytes stored in all mailboxes.".into(),
    );
}
