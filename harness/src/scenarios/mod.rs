//! The scenarios of a run and what they share: the connection check before each one, the
//! send phase with progress output, the drain after it, and the scenario's report.

mod mixed;
mod restart;
mod steady;
mod strip;

use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::time::{Duration, Instant};

use qrnm_engine::{Mode, ModeSet, Policy};
use tokio::sync::Mutex;

use crate::cli::{Options, ScenarioArg};
use crate::metrics::Metrics;
use crate::net::lane::Lane;
use crate::net::pool::Pool;
use crate::progress::{self, Display, Phase};
use crate::relay_process::RelayProcess;
use crate::report::{Check, CryptoTimes, ScenarioReport, TimelinePoint};
use crate::schedule::{LoadModel, ScheduleOutcome};
use crate::traffic::{SendPhase, run_send_phase};
use crate::world::{DUPLICATE_KINDS, LOST_KINDS, World};

/// Inputs shared by every scenario: the world, the options, the connections and the relay.
#[derive(Debug)]
pub struct Context {
    /// Shared state.
    pub world: Arc<World>,
    /// Command-line options.
    pub options: Options,
    /// Every connection of the run.
    pub pool: Arc<Pool>,
    /// The lanes that post messages; the others belong to the receivers.
    pub send_lanes: Vec<Arc<Lane>>,
    /// Closed or open loop.
    pub model: LoadModel,
    /// The relay child, when the harness started one.
    pub relay: Option<Arc<Mutex<RelayProcess>>>,
    /// Start of the run, the zero of the report's time axis.
    pub run_start: Instant,
    /// Progress output.
    pub display: Display,
}

/// Result of one scenario, which `finish` turns into its report.
#[derive(Debug)]
pub struct Outcome {
    /// Index of the scenario in the world.
    pub index: usize,
    /// Its metrics.
    pub metrics: Arc<Metrics>,
    /// Start of its send phase.
    pub started: Instant,
    /// Total length of its send phases.
    pub send_time: Duration,
    /// Connections open when it started.
    pub connections_held: usize,
    /// Checks specific to the scenario.
    pub checks: Vec<Check>,
    /// Whether the common message checks (failures, losses, duplicates, traffic) apply.
    pub carries_messages: bool,
}

/// Runs one scenario and returns its report.
pub async fn run_scenario(context: &Context, scenario: ScenarioArg) -> ScenarioReport {
    let outcome = match scenario {
        ScenarioArg::Steady => steady::run(context).await,
        ScenarioArg::Mixed => mixed::run(context).await,
        ScenarioArg::Strip => strip::run(context).await,
        ScenarioArg::Restart => match restart::run(context).await {
            Ok(outcome) => outcome,
            Err(reason) => return skipped(context, scenario.name(), reason),
        },
        ScenarioArg::All => unreachable!("`all` is expanded into the scenarios before running"),
    };
    finish(context, scenario.name(), outcome).await
}

/// Returns the sender policy of the load scenarios: the modes of the mode mix, floor hybrid.
pub fn modern_policy(options: &Options) -> Policy {
    let mut allowed = ModeSet::of(&[Mode::Hybrid]);
    if options.mode_mix.pq > 0 {
        allowed.insert(Mode::Pq);
    }
    Policy {
        allowed,
        floor: Mode::Hybrid,
    }
}

/// Opens the lanes that are closed (a relay restart or idle timeout closes them) and returns
/// the number open, with a check that it equals the number requested.
pub async fn reconnect(context: &Context, label: &str) -> (usize, Check) {
    let done = Arc::new(AtomicUsize::new(0));
    let outcome = context
        .pool
        .connect_all(context.options.connect_concurrency, &done)
        .await;
    let requested = context.options.connections;
    let mut detail = format!("{} of {requested} connections open", outcome.held);
    if let Some(error) = outcome.first_error {
        detail.push_str(&format!("; first error: {error}"));
    }
    (
        outcome.held,
        Check::that(
            &format!("connections held {label}"),
            outcome.held == requested,
            detail,
        ),
    )
}

/// Runs one send phase with progress output.
pub async fn send_with_progress(
    context: &Context,
    phase: &Arc<SendPhase>,
    label: &str,
    duration: Duration,
) -> ScheduleOutcome {
    let display = Phase::start(context.display, label, duration.as_secs().max(1));
    let started = Instant::now();
    let metrics = Arc::clone(&phase.metrics);
    let ticker = progress::spawn_ticker(Arc::clone(&display), move || {
        let status = format!(
            "sent {} verified {} errors {}",
            metrics.acknowledged(),
            metrics.verified(),
            metrics.errors()
        );
        (started.elapsed().as_secs(), status)
    });
    let outcome = run_send_phase(
        &context.world,
        phase,
        &context.send_lanes,
        context.model,
        duration,
    )
    .await;
    ticker.abort();
    display.finish(&format!(
        "{} acknowledged in {:.1} s, {} abandoned",
        phase.metrics.acknowledged(),
        started.elapsed().as_secs_f64(),
        outcome.abandoned
    ));
    outcome
}

/// Waits until every acknowledged message of scenario `index` is verified, or the drain
/// timeout passes.
async fn drain(context: &Context, index: usize, label: &str) {
    let world = Arc::clone(&context.world);
    let total = world.ledger.totals(index).acknowledged;
    let display = Phase::start(context.display, &format!("{label} drain"), total);
    let deadline = Instant::now() + context.options.drain_timeout;
    loop {
        let outstanding = world.ledger.outstanding(index);
        display.update(
            total.saturating_sub(outstanding),
            &format!("{outstanding} outstanding"),
        );
        if outstanding == 0 || Instant::now() >= deadline {
            display.finish(&format!(
                "{outstanding} acknowledged messages not delivered"
            ));
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn finish(context: &Context, name: &str, outcome: Outcome) -> ScenarioReport {
    let world = &context.world;
    if outcome.carries_messages {
        drain(context, outcome.index, name).await;
        for failure in world.ledger.lost_messages(outcome.index) {
            world.fail(Some(outcome.index), failure);
        }
    }

    let totals = world.ledger.totals(outcome.index);
    let kinds = world.failure_kinds(outcome.index);
    let count = |set: &[&str]| {
        kinds
            .iter()
            .filter(|(k, _)| set.contains(&k.as_str()))
            .map(|(_, v)| v)
            .sum::<u64>()
    };
    let duplicates = count(&DUPLICATE_KINDS);
    let lost = count(&LOST_KINDS);
    let verification_failures = kinds.values().sum::<u64>() - duplicates - lost;

    let mut checks = outcome.checks;
    if outcome.carries_messages {
        checks.push(Check::that(
            "messages acknowledged",
            totals.acknowledged > 0,
            format!("{} acknowledged with 201", totals.acknowledged),
        ));
        checks.push(Check::equal(
            "verification failures",
            0,
            verification_failures,
        ));
        checks.push(Check::equal("lost messages", 0, lost));
        checks.push(Check::equal("duplicate deliveries", 0, duplicates));
    } else if verification_failures > 0 {
        checks.push(Check::equal("failures", 0, verification_failures));
    }

    let snapshot = outcome.metrics.snapshot();
    let send_secs = outcome.send_time.as_secs_f64();
    let started_at_s = outcome
        .started
        .saturating_duration_since(context.run_start)
        .as_secs_f64();
    let passed = checks.iter().all(|c| c.passed);
    ScenarioReport {
        name: name.to_owned(),
        result: if passed { "pass" } else { "fail" }.to_owned(),
        skip_reason: None,
        started_at_s,
        duration_s: send_secs,
        connections_held: outcome.connections_held,
        messages_sent: totals.acknowledged,
        messages_verified: totals.verified,
        verification_failures,
        lost,
        duplicates,
        delivered_unacknowledged: totals.delivered_unacknowledged,
        throughput_msgs_per_s: if send_secs > 0.0 {
            totals.acknowledged as f64 / send_secs
        } else {
            0.0
        },
        latency_ms: snapshot.latency.summary(),
        delivery_ms: snapshot.delivery.summary(),
        crypto: crypto_times(&snapshot),
        fallbacks: snapshot.fallbacks,
        modes: snapshot
            .modes
            .iter()
            .map(|(k, v)| ((*k).to_owned(), *v))
            .collect(),
        errors: snapshot.errors.clone(),
        checks,
        timeline: timeline(&snapshot, started_at_s, send_secs),
    }
}

fn skipped(context: &Context, name: &str, reason: String) -> ScenarioReport {
    let empty = crate::stats::LatencyHistogram::new().summary();
    ScenarioReport {
        name: name.to_owned(),
        result: "skipped".to_owned(),
        skip_reason: Some(reason),
        started_at_s: context.run_start.elapsed().as_secs_f64(),
        duration_s: 0.0,
        connections_held: 0,
        messages_sent: 0,
        messages_verified: 0,
        verification_failures: 0,
        lost: 0,
        duplicates: 0,
        delivered_unacknowledged: 0,
        throughput_msgs_per_s: 0.0,
        latency_ms: empty,
        delivery_ms: empty,
        crypto: CryptoTimes::default(),
        fallbacks: 0,
        modes: Default::default(),
        errors: Default::default(),
        checks: Vec::new(),
        timeline: Vec::new(),
    }
}

/// Returns the crypto time per message of a metrics snapshot.
pub fn crypto_times(snapshot: &crate::metrics::MetricsInner) -> CryptoTimes {
    let per_message = |time: Duration, count: u64| {
        if count == 0 {
            0.0
        } else {
            time.as_secs_f64() * 1000.0 / count as f64
        }
    };
    CryptoTimes {
        seal_ms_per_msg: per_message(snapshot.seal_time, snapshot.sealed),
        open_ms_per_msg: per_message(snapshot.open_time, snapshot.opened),
        sealed: snapshot.sealed,
        opened: snapshot.opened,
    }
}

fn timeline(
    snapshot: &crate::metrics::MetricsInner,
    started_at_s: f64,
    send_secs: f64,
) -> Vec<TimelinePoint> {
    let width = crate::metrics::INTERVAL.as_secs_f64();
    snapshot
        .timeline
        .iter()
        .enumerate()
        .map(|(slot, interval)| {
            let slot_start = slot as f64 * width;
            // The last interval of a phase is usually cut short; its rate uses its real length.
            let covered = (send_secs - slot_start).clamp(width / 10.0, width);
            TimelinePoint {
                t_s: started_at_s + slot_start + covered,
                msgs_per_s: interval.acknowledged as f64 / covered,
                p50_ms: interval.latency.quantile_ms(0.5),
                p99_ms: interval.latency.quantile_ms(0.99),
            }
        })
        .collect()
}
