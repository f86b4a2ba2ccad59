//! The run report: the data model serialized as JSON, and its text and SVG renderings.

mod svg;
mod text;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::stats::{LatencySummary, ShortSummary};

pub use svg::render_svg;
pub use text::render_text;

/// Most failures listed one by one in the report; the rest are only counted.
pub const MAX_LISTED_FAILURES: usize = 100;

/// Everything a run measured and checked.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Relay base URL.
    pub target: String,
    /// Whether the harness started the relay itself.
    pub embedded_relay: bool,
    /// The engine's backend choice, as the engine describes it.
    pub engine_backends: String,
    /// "closed" or "open".
    pub load_model: &'static str,
    /// Open-loop rate in messages per second.
    pub rate: Option<f64>,
    /// Simulated users.
    pub users: usize,
    /// Payload bytes per message.
    pub message_size: usize,
    /// Connections asked for with --connections.
    pub connections_requested: usize,
    /// Minimum number of connections open at the start of the run or of any scenario.
    pub connections_held: usize,
    /// Time to open one connection (TCP and HTTP/1.1 handshake).
    pub connect_ms: ShortSummary,
    /// Wall time of the initial connect phase in seconds.
    pub connect_phase_s: f64,
    /// Connections opened again after the server closed them (restarts, idle timeouts).
    pub reconnects: u64,
    /// Sum of the measured send phases in seconds.
    pub duration_s: f64,
    /// Messages the relay acknowledged with 201.
    pub messages_sent: u64,
    /// Messages fetched, opened and found equal to what was sent.
    pub messages_verified: u64,
    /// Messages that failed a check (open error, wrong sender, mode or content, unknown message).
    pub verification_failures: u64,
    /// Acknowledged messages never fetched.
    pub lost: u64,
    /// Messages fetched more than once.
    pub duplicates: u64,
    /// Messages verified whose post got no 201, because the relay stored them but the
    /// response was lost (the relay was killed in between). They are not required to arrive.
    pub delivered_unacknowledged: u64,
    /// Acknowledged messages per second of send phase.
    pub throughput_msgs_per_s: f64,
    /// Send latency: intended (open loop) or actual (closed loop) start to 201.
    pub latency_ms: LatencySummary,
    /// Delivery latency: send start to verification by the receiver.
    pub delivery_ms: LatencySummary,
    /// Time inside seal_many and open_many per message, added.
    pub crypto_ms_per_msg: f64,
    /// Crypto time split into sealing and opening.
    pub crypto: CryptoTimes,
    /// Mean send latency of acknowledged messages, crypto excluded.
    pub transport_ms_per_msg: f64,
    /// Seals in a mode weaker than the sender's preferred one.
    pub fallbacks: u64,
    /// Sealed messages per mode.
    pub modes: BTreeMap<String, u64>,
    /// Errors per kind, expected rejections included.
    pub errors: BTreeMap<String, u64>,
    /// "pass", "fail" or "skipped" per scenario.
    pub scenarios: BTreeMap<String, String>,
    /// Every scenario's numbers and checks.
    pub scenario_details: Vec<ScenarioReport>,
    /// The first [`MAX_LISTED_FAILURES`] failures.
    pub failures: Vec<Failure>,
    /// Number of failures, listed or not.
    pub failures_total: u64,
    /// Thresholds given on the command line and whether they were met.
    pub thresholds: Vec<ThresholdResult>,
    /// Whether every check and threshold passed.
    pub passed: bool,
}

/// Time spent in the engine's batch calls.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct CryptoTimes {
    /// Wall time inside seal_many per sealed message.
    pub seal_ms_per_msg: f64,
    /// Wall time inside open_many per opened envelope.
    pub open_ms_per_msg: f64,
    /// Messages sealed.
    pub sealed: u64,
    /// Envelopes opened.
    pub opened: u64,
}

/// The numbers and checks of one scenario.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioReport {
    /// Scenario name.
    pub name: String,
    /// "pass", "fail" or "skipped".
    pub result: String,
    /// Reason the scenario was skipped, if it was.
    pub skip_reason: Option<String>,
    /// Seconds since the run started when the scenario's send phase began.
    pub started_at_s: f64,
    /// Length of the send phase in seconds.
    pub duration_s: f64,
    /// Connections open when the send phase began.
    pub connections_held: usize,
    /// Messages acknowledged with 201.
    pub messages_sent: u64,
    /// Messages verified.
    pub messages_verified: u64,
    /// Failed checks on single messages.
    pub verification_failures: u64,
    /// Acknowledged messages never fetched.
    pub lost: u64,
    /// Messages fetched more than once.
    pub duplicates: u64,
    /// Messages verified whose post got no 201.
    pub delivered_unacknowledged: u64,
    /// Acknowledged messages per second of send phase.
    pub throughput_msgs_per_s: f64,
    /// Send latency.
    pub latency_ms: LatencySummary,
    /// Delivery latency.
    pub delivery_ms: LatencySummary,
    /// Crypto time.
    pub crypto: CryptoTimes,
    /// Seals that fell back to a weaker mode.
    pub fallbacks: u64,
    /// Sealed messages per mode.
    pub modes: BTreeMap<String, u64>,
    /// Errors per kind.
    pub errors: BTreeMap<String, u64>,
    /// The scenario's checks.
    pub checks: Vec<Check>,
    /// Throughput and latency per second.
    pub timeline: Vec<TimelinePoint>,
}

/// One pass-or-fail check.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// Name of the checked property.
    pub name: String,
    /// Whether it held.
    pub passed: bool,
    /// Expected and found values.
    pub detail: String,
}

impl Check {
    /// Creates a check that `found` equals `expected`.
    pub fn equal<T: PartialEq + std::fmt::Display>(name: &str, expected: T, found: T) -> Check {
        Check {
            name: name.to_owned(),
            passed: expected == found,
            detail: format!("expected {expected}, found {found}"),
        }
    }

    /// Creates a check from a condition and its explanation.
    pub fn that(name: &str, passed: bool, detail: String) -> Check {
        Check {
            name: name.to_owned(),
            passed,
            detail,
        }
    }
}

/// One failed message or operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// Scenario in which it happened.
    pub scenario: String,
    /// Short kind: lost, duplicate, open_failed, wrong_sender, wrong_mode, wrong_content, ...
    pub kind: String,
    /// The relay's message id, when the message got one.
    pub message_id: Option<String>,
    /// Sequence number of the message in the run, when known.
    pub seq: Option<u64>,
    /// Expected and found values.
    pub detail: String,
}

/// One second of a scenario's send phase.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct TimelinePoint {
    /// Seconds since the run started, at the end of this interval.
    pub t_s: f64,
    /// Messages acknowledged in the interval, per second.
    pub msgs_per_s: f64,
    /// Median send latency of the interval.
    pub p50_ms: f64,
    /// 99th percentile send latency of the interval.
    pub p99_ms: f64,
}

/// A threshold from the command line and its outcome.
#[derive(Debug, Clone, Serialize)]
pub struct ThresholdResult {
    /// Option name.
    pub name: String,
    /// Limit given.
    pub limit: f64,
    /// Value measured.
    pub value: f64,
    /// Whether the value is within the limit.
    pub passed: bool,
}
