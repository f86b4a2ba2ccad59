//! A whole load run: start or reach the relay, create and publish the users, open every
//! connection, run the scenarios, sweep the mailboxes, and assemble the report.

use std::collections::BTreeMap;
use std::hash::{BuildHasher, Hasher};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

use http::Method;
use qrnm_engine::{Engine, VerifiedBundle};
use rayon::prelude::*;
use tokio::sync::Mutex;
use tokio::task::JoinSet;

use crate::cli::{Options, ScenarioArg};
use crate::net::api::{self, SignedRequest};
use crate::net::lane::{Endpoint, Lane};
use crate::net::parse_target;
use crate::net::pool::{ConnectOutcome, Pool};
use crate::offload::on_rayon;
use crate::progress::{self, Display, Phase};
use crate::relay_process::RelayProcess;
use crate::report::{Check, Failure, MAX_LISTED_FAILURES, Report, ScenarioReport, ThresholdResult};
use crate::scenarios::{Context, crypto_times, run_scenario};
use crate::schedule::LoadModel;
use crate::stats::LatencyHistogram;
use crate::users::{User, generate_users, plan_kinds};
use crate::world::World;
use crate::{receiver, report};

/// Why a run could not start or could not reach its measured phase.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// An option is invalid.
    #[error("{0}")]
    Options(String),
    /// The relay child could not be started.
    #[error(transparent)]
    Relay(#[from] crate::relay_process::RelayProcessError),
    /// A file or directory could not be created.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Key generation failed.
    #[error("generating the users' keys failed: {0}")]
    Keys(String),
    /// Fewer connections than requested could be opened.
    #[error(
        "held {held} of {requested} connections after the connect phase; a run never continues \
         with fewer connections than requested{}",
        first_error.as_ref().map(|e| format!(" (first error: {e})")).unwrap_or_default()
    )]
    Connections {
        /// Connections open.
        held: usize,
        /// Connections requested.
        requested: usize,
        /// The first connect error.
        first_error: Option<String>,
    },
    /// Publishing or fetching the users' bundles failed.
    #[error("setting up the users' bundles failed: {0}")]
    Bundles(String),
}

impl RunError {
    /// Returns the process exit status for this error: 1 when the run started but a
    /// requirement of the measured phase failed, 2 when it could not start.
    pub fn exit_code(&self) -> u8 {
        match self {
            RunError::Connections { .. } | RunError::Bundles(_) => 1,
            _ => 2,
        }
    }
}

/// The relay and what keeps it running.
struct Target {
    addr: SocketAddr,
    relay: Option<Arc<Mutex<RelayProcess>>>,
    // Removed, with the relay's data, when the run ends.
    _data_dir: Option<tempfile::TempDir>,
}

/// Runs the load test described by `options`. `exe` is the harness's own executable, which
/// is started with `__relay` when no `--target` is given.
pub async fn run(options: Options, exe: PathBuf) -> Result<Report, RunError> {
    let run_start = Instant::now();
    let display = Display::resolve(options.progress);
    let model = match options.rate {
        Some(rate) => LoadModel::Open { rate },
        None => LoadModel::Closed,
    };

    let target = start_target(&options, &exe).await?;
    let engine = Engine::new();
    let users = create_users(&options, &engine, display).await?;

    let pool = Arc::new(Pool::new(Endpoint::new(target.addr), options.connections));
    let connect = connect_all(&pool, &options, display).await;
    if connect.held < options.connections {
        return Err(RunError::Connections {
            held: connect.held,
            requested: options.connections,
            first_error: connect.first_error.clone(),
        });
    }

    let receive_lanes: Vec<Arc<Lane>> = pool.lanes()[..users.len()].to_vec();
    let send_lanes: Vec<Arc<Lane>> = pool.lanes()[users.len()..].to_vec();
    let (users, directory) = publish_and_fetch(&engine, users, &receive_lanes, display).await?;
    let world = Arc::new(World::new(
        engine,
        random_run_id(),
        users,
        directory,
        options.message_size,
        options.batch,
    ));

    let stop = Arc::new(AtomicBool::new(false));
    let mut receivers = JoinSet::new();
    for (user, lane) in receive_lanes.iter().enumerate() {
        receivers.spawn(receiver::run_receiver(
            Arc::clone(&world),
            user as u32,
            Arc::clone(lane),
            Arc::clone(&stop),
        ));
    }

    let context = Context {
        world: Arc::clone(&world),
        options: options.clone(),
        pool: Arc::clone(&pool),
        send_lanes,
        model,
        relay: target.relay.clone(),
        run_start,
        display,
    };
    let mut scenarios = Vec::new();
    for scenario in options.selected_scenarios() {
        scenarios.push(run_scenario(&context, scenario).await);
    }

    stop.store(true, Ordering::Relaxed);
    while receivers.join_next().await.is_some() {}
    let leftovers = sweep_mailboxes(&world, &receive_lanes).await;

    let report = assemble_report(&options, &context, &connect, scenarios, leftovers);
    if let Some(relay) = target.relay {
        let relay = Arc::try_unwrap(relay).map(Mutex::into_inner);
        if let Ok(relay) = relay {
            // The report is complete; a relay that fails to stop cleanly changes nothing in it.
            let _ = relay.stop().await;
        }
    }
    Ok(report)
}

async fn start_target(options: &Options, exe: &Path) -> Result<Target, RunError> {
    if let Some(url) = &options.target {
        let addr = parse_target(url).map_err(RunError::Options)?;
        return Ok(Target {
            addr,
            relay: None,
            _data_dir: None,
        });
    }
    let config = match &options.config {
        Some(path) => path.clone(),
        None => default_config_path().ok_or_else(|| {
            RunError::Options(
                "config/testing.toml was not found in the current directory or above it; \
                 run from the workspace or give --config FILE"
                    .to_owned(),
            )
        })?,
    };
    let data_dir = tempfile::Builder::new()
        .prefix("qrnm-load-")
        .tempdir()
        .map_err(|source| RunError::Io {
            what: "creating the relay's data directory".to_owned(),
            source,
        })?;
    let log = data_dir.path().join("relay.log");
    let listen = SocketAddr::from(([127, 0, 0, 1], 0));
    let relay =
        RelayProcess::start(exe, &config, &data_dir.path().join("store"), &log, listen).await?;
    let addr = relay.addr();
    Ok(Target {
        addr,
        relay: Some(Arc::new(Mutex::new(relay))),
        _data_dir: Some(data_dir),
    })
}

/// Finds `config/testing.toml` in the current directory or one of its parents, and then
/// beside the workspace this crate was built from.
fn default_config_path() -> Option<PathBuf> {
    let relative = Path::new("config").join("testing.toml");
    if let Ok(current) = std::env::current_dir() {
        for dir in current.ancestors() {
            let candidate = dir.join(&relative);
            if candidate.is_file() {
                return Some(candidate);
            }
        }
    }
    let built_from = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()?
        .join(&relative);
    built_from.is_file().then_some(built_from)
}

async fn create_users(
    options: &Options,
    engine: &Engine,
    display: Display,
) -> Result<Vec<User>, RunError> {
    let total = options.user_count();
    let classical = if options.selected_scenarios().contains(&ScenarioArg::Mixed) {
        // At least one classical user, and at least two others so that they can send.
        ((total as f64 * options.classical_share).round() as usize)
            .clamp(1, total.saturating_sub(2))
    } else {
        0
    };
    let kinds = plan_kinds(total, classical, &options.mode_mix);
    let phase = Phase::start(display, "users", total as u64);
    let engine = engine.clone();
    let users = on_rayon(move || generate_users(&engine, &kinds, api::unix_now()))
        .await
        .map_err(|e| RunError::Keys(e.to_string()))?
        .map_err(|e| RunError::Keys(e.to_string()))?;
    phase.finish(&format!(
        "{} identities and bundles generated ({classical} classical-only)",
        users.len()
    ));
    Ok(users)
}

async fn connect_all(pool: &Pool, options: &Options, display: Display) -> ConnectOutcome {
    let phase = Phase::start(display, "connect", options.connections as u64);
    let done = Arc::new(AtomicUsize::new(0));
    let ticker = {
        let (done, endpoint) = (Arc::clone(&done), Arc::clone(pool.endpoint()));
        progress::spawn_ticker(Arc::clone(&phase), move || {
            (
                done.load(Ordering::Relaxed) as u64,
                format!("{} open", endpoint.open_connections()),
            )
        })
    };
    let outcome = pool.connect_all(options.connect_concurrency, &done).await;
    ticker.abort();
    phase.finish(&format!(
        "{} of {} connections open in {:.1} s",
        outcome.held,
        options.connections,
        outcome.elapsed.as_secs_f64()
    ));
    outcome
}

/// Publishes every user's bundle over the user's own lane, then fetches every bundle back and
/// verifies it, which gives the directory that senders seal to.
async fn publish_and_fetch(
    engine: &Engine,
    users: Vec<User>,
    lanes: &[Arc<Lane>],
    display: Display,
) -> Result<(Vec<User>, Vec<VerifiedBundle>), RunError> {
    let phase = Phase::start(display, "publish", users.len() as u64);
    let (users, signed) = sign_publications(users).await?;

    let mut tasks = JoinSet::new();
    for ((request, body), lane) in signed.into_iter().zip(lanes) {
        let lane = Arc::clone(lane);
        tasks.spawn(async move { api::put_bundle(&lane, &request, body).await });
    }
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                return Err(RunError::Bundles(format!(
                    "publishing a bundle failed: {error}"
                )));
            }
            Err(error) => return Err(RunError::Bundles(format!("a publish task failed: {error}"))),
        }
    }

    let mut fetches = JoinSet::new();
    for (user, lane) in users.iter().zip(lanes) {
        let (lane, id, index) = (Arc::clone(lane), user.id(), user.index);
        fetches.spawn(async move { (index, api::get_bundle(&lane, &id).await) });
    }
    let mut fetched = vec![None; users.len()];
    while let Some(joined) = fetches.join_next().await {
        let (index, result) =
            joined.map_err(|e| RunError::Bundles(format!("a fetch task failed: {e}")))?;
        let bundle = result.map_err(|e| {
            RunError::Bundles(format!("fetching the bundle of user {index} failed: {e}"))
        })?;
        fetched[index as usize] = Some(bundle);
    }

    let engine = engine.clone();
    let verified = on_rayon(move || {
        let now = api::unix_now();
        fetched
            .into_par_iter()
            .enumerate()
            .map(|(index, bundle)| {
                let bundle =
                    bundle.ok_or_else(|| format!("the bundle of user {index} was not fetched"))?;
                bundle
                    .verify(&engine, now)
                    .map_err(|e| format!("the bundle of user {index} does not verify: {e}"))
            })
            .collect::<Result<Vec<VerifiedBundle>, String>>()
    })
    .await
    .map_err(|e| RunError::Bundles(e.to_string()))?
    .map_err(RunError::Bundles)?;
    phase.finish(&format!(
        "{} bundles published, fetched and verified",
        verified.len()
    ));
    Ok((users, verified))
}

/// Signs every user's publish request on the rayon pool, and hands the users back.
async fn sign_publications(
    users: Vec<User>,
) -> Result<(Vec<User>, Vec<(SignedRequest, Vec<u8>)>), RunError> {
    let (users, signed) = on_rayon(move || {
        let signed: Result<Vec<_>, _> = users
            .par_iter()
            .map(|user| {
                let body = user.recipient.bundle().encode();
                let path = api::keys_path(&user.id());
                api::sign(user.recipient.identity(), Method::PUT, path, &body)
                    .map(|request| (request, body))
            })
            .collect();
        (users, signed)
    })
    .await
    .map_err(|e| RunError::Bundles(e.to_string()))?;
    let signed =
        signed.map_err(|e| RunError::Bundles(format!("signing a publish request failed: {e}")))?;
    Ok((users, signed))
}

/// Fetches every mailbox once more after the scenarios. Each message still there is checked
/// like any other (so a duplicate is caught), and counted as a leftover.
async fn sweep_mailboxes(world: &Arc<World>, lanes: &[Arc<Lane>]) -> u64 {
    let mut tasks = JoinSet::new();
    for (user, lane) in lanes.iter().enumerate() {
        let (world, lane) = (Arc::clone(world), Arc::clone(lane));
        tasks.spawn(async move {
            let mut found = 0u64;
            // Bounded: a mailbox that keeps refilling is not swept forever.
            for _ in 0..10 {
                match receiver::receive_once(&world, user as u32, &lane, 0).await {
                    Ok(0) => break,
                    Ok(count) => found += count as u64,
                    Err(error) => {
                        world
                            .current()
                            .1
                            .record_error(&format!("sweep_{}", error.kind()));
                        break;
                    }
                }
            }
            found
        });
    }
    let mut leftovers = 0;
    while let Some(joined) = tasks.join_next().await {
        leftovers += joined.unwrap_or(0);
    }
    leftovers
}

fn random_run_id() -> u64 {
    // RandomState is seeded from the operating system's randomness in each process.
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(Instant::now().elapsed().as_nanos());
    hasher.finish()
}

fn assemble_report(
    options: &Options,
    context: &Context,
    connect: &ConnectOutcome,
    mut scenarios: Vec<ScenarioReport>,
    leftovers: u64,
) -> Report {
    if let Some(last) = scenarios.iter_mut().rev().find(|s| s.result != "skipped") {
        let check = Check::equal("mailboxes empty after the run", 0, leftovers);
        if !check.passed {
            last.result = "fail".to_owned();
        }
        last.checks.push(check);
    }
    let world = &context.world;
    let mut latency = LatencyHistogram::new();
    let mut delivery = LatencyHistogram::new();
    let mut snapshots = Vec::new();
    for metrics in world.all_metrics() {
        let snapshot = metrics.snapshot();
        latency.merge(&snapshot.latency);
        delivery.merge(&snapshot.delivery);
        snapshots.push(snapshot);
    }
    let mut total = crate::metrics::MetricsInner::default();
    for snapshot in &snapshots {
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

    let sum = |f: fn(&ScenarioReport) -> u64| scenarios.iter().map(f).sum::<u64>();
    let messages_sent = sum(|s| s.messages_sent);
    let duration_s: f64 = scenarios
        .iter()
        .filter(|s| s.messages_sent > 0)
        .map(|s| s.duration_s)
        .sum();
    let throughput = if duration_s > 0.0 {
        messages_sent as f64 / duration_s
    } else {
        0.0
    };
    let crypto = crypto_times(&total);
    let latency_summary = latency.summary();
    let held = scenarios
        .iter()
        .filter(|s| s.result != "skipped")
        .map(|s| s.connections_held)
        .chain([connect.held])
        .min()
        .unwrap_or(connect.held);

    let thresholds = thresholds(options, latency_summary.p99, throughput);
    let failures: Vec<Failure> = world.failures();
    let failures_total = scenarios
        .iter()
        .map(|s| s.verification_failures + s.lost + s.duplicates)
        .sum::<u64>()
        .max(failures.len() as u64);
    let passed = held == options.connections
        && scenarios.iter().all(|s| s.result != "fail")
        && thresholds.iter().all(|t| t.passed)
        && failures.is_empty();

    Report {
        target: format!("http://{}", context.pool.endpoint().addr()),
        embedded_relay: context.relay.is_some(),
        engine_backends: world.engine.backends().describe(),
        load_model: context.model.name(),
        rate: options.rate,
        users: world.users.len(),
        message_size: options.message_size,
        connections_requested: options.connections,
        connections_held: held,
        connect_ms: connect.times.short_summary(),
        connect_phase_s: connect.elapsed.as_secs_f64(),
        reconnects: context.pool.endpoint().reconnects(),
        duration_s,
        messages_sent,
        messages_verified: sum(|s| s.messages_verified),
        verification_failures: sum(|s| s.verification_failures),
        lost: sum(|s| s.lost),
        duplicates: sum(|s| s.duplicates),
        throughput_msgs_per_s: throughput,
        latency_ms: latency_summary,
        delivery_ms: delivery.summary(),
        crypto_ms_per_msg: crypto.seal_ms_per_msg + crypto.open_ms_per_msg,
        crypto,
        transport_ms_per_msg: latency.mean_ms(),
        fallbacks: total.fallbacks,
        modes: total
            .modes
            .iter()
            .map(|(k, v)| ((*k).to_owned(), *v))
            .collect(),
        errors: total.errors,
        scenarios: scenarios
            .iter()
            .map(|s| (s.name.clone(), s.result.clone()))
            .collect::<BTreeMap<_, _>>(),
        scenario_details: scenarios,
        failures: failures.into_iter().take(MAX_LISTED_FAILURES).collect(),
        failures_total,
        thresholds,
        passed,
    }
}

fn thresholds(options: &Options, p99_ms: f64, throughput: f64) -> Vec<ThresholdResult> {
    let mut results = Vec::new();
    if let Some(limit) = options.max_p99_ms {
        results.push(ThresholdResult {
            name: "--max-p99-ms".to_owned(),
            limit,
            value: p99_ms,
            passed: p99_ms <= limit,
        });
    }
    if let Some(limit) = options.min_rate {
        results.push(ThresholdResult {
            name: "--min-rate".to_owned(),
            limit,
            value: throughput,
            passed: throughput >= limit,
        });
    }
    results
}

/// Writes the JSON and SVG files that the options ask for.
///
/// # Errors
///
/// Returns a sentence naming the file that could not be written.
pub fn write_outputs(options: &Options, report: &Report) -> Result<(), String> {
    if let Some(path) = &options.json {
        let json = serde_json::to_string_pretty(report)
            .map_err(|e| format!("encoding the JSON report failed: {e}"))?;
        std::fs::write(path, json)
            .map_err(|e| format!("writing {} failed: {e}", path.display()))?;
    }
    if let Some(path) = &options.svg {
        std::fs::write(path, report::render_svg(report))
            .map_err(|e| format!("writing {} failed: {e}", path.display()))?;
    }
    Ok(())
}
