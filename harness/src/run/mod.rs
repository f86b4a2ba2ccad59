//! A whole load run: start or reach the relay, create and publish the users, open every
//! connection, run the scenarios, sweep the mailboxes, and assemble the report.

use std::hash::{BuildHasher, Hasher};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use qrnm_engine::Engine;
use tokio::sync::Mutex;
use tokio::task::JoinSet;

use crate::cli::Options;
use crate::net::api::{self, ApiError};
use crate::net::lane::{Endpoint, Lane};
use crate::net::parse_target;
use crate::net::pool::Pool;
use crate::progress::Display;
use crate::receiver;
use crate::relay_process::RelayProcess;
use crate::report::Report;
use crate::scenarios::{Context, run_scenario};
use crate::schedule::LoadModel;
use crate::world::World;

mod setup;
mod summary;

use setup::{connect_all, create_users, publish_and_fetch};
use summary::assemble_report;
pub use summary::{check_outputs, write_outputs};

/// Error that stops a run before or at the start of its measured phase.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// An option is invalid.
    #[error("{0}")]
    Options(String),
    /// The relay child could not be started.
    #[error(transparent)]
    Relay(#[from] crate::relay_process::RelayProcessError),
    /// A file or directory could not be created.
    #[error("{action}: {source}")]
    Io {
        /// The step that failed.
        action: String,
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
    /// The `--target` server responded, but not as a qrnm relay.
    #[error("--target {url} is not a qrnm relay: {detail}")]
    NotARelay {
        /// The URL given.
        url: String,
        /// What it responded and what was expected.
        detail: String,
    },
    /// SIGINT or SIGTERM arrived before the report was complete.
    #[error(
        "run interrupted by {}; the relay child was stopped and its data directory removed",
        .0.name()
    )]
    Interrupted(Interruption),
}

/// A signal that stops a run early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interruption {
    /// SIGINT, as sent by Ctrl-C.
    Interrupt,
    /// SIGTERM.
    Terminate,
}

impl Interruption {
    /// Returns the signal's name.
    pub fn name(self) -> &'static str {
        match self {
            Interruption::Interrupt => "SIGINT",
            Interruption::Terminate => "SIGTERM",
        }
    }

    /// Returns the exit status of a process stopped by the signal: 128 plus its number.
    pub fn exit_code(self) -> u8 {
        match self {
            Interruption::Interrupt => 130,
            Interruption::Terminate => 143,
        }
    }
}

/// Installs handlers for SIGINT and SIGTERM and returns a future that resolves with the first
/// of them to arrive. From this call on, neither signal ends the process by itself.
///
/// # Errors
///
/// Returns the error of installing a handler. It must be called inside a Tokio runtime.
pub fn listen_for_interruption()
-> std::io::Result<impl std::future::Future<Output = Interruption> + Send + 'static> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => Interruption::Interrupt,
            _ = terminate.recv() => Interruption::Terminate,
        }
    })
}

impl RunError {
    /// Returns the process exit status for this error: 1 when the run started but a
    /// requirement of the measured phase failed, 2 when it could not start.
    pub fn exit_code(&self) -> u8 {
        match self {
            RunError::Connections { .. } | RunError::Bundles(_) => 1,
            RunError::Interrupted(signal) => signal.exit_code(),
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
///
/// When `interrupted` resolves first, the run stops: its tasks end, the relay child is
/// killed and waited for, and its data directory is removed before this returns.
pub async fn run(
    options: Options,
    exe: PathBuf,
    interrupted: impl std::future::Future<Output = Interruption>,
) -> Result<Report, RunError> {
    let run_start = Instant::now();
    tokio::pin!(interrupted);
    // Dropping a half-started target kills the relay child and removes the directory.
    let target = tokio::select! {
        target = start_target(&options, &exe) => target?,
        signal = &mut interrupted => return Err(RunError::Interrupted(signal)),
    };
    let result = tokio::select! {
        result = run_on_target(options, &target, run_start) => result,
        signal = &mut interrupted => Err(RunError::Interrupted(signal)),
    };
    if let Some(relay) = &target.relay {
        let mut relay = relay.lock().await;
        if matches!(result, Err(RunError::Interrupted(_))) {
            // The process is stopping, so the relay gets no time to drain.
            let _ = relay.kill().await;
        } else {
            // The report is complete, and a relay that fails to stop cleanly changes nothing in it.
            let _ = relay.stop().await;
        }
    }
    // The relay has exited, so nothing writes to its data directory while it is removed.
    drop(target);
    result
}

async fn run_on_target(
    options: Options,
    target: &Target,
    run_start: Instant,
) -> Result<Report, RunError> {
    let display = Display::resolve(options.progress);
    let model = match options.rate {
        Some(rate) => LoadModel::Open { rate },
        None => LoadModel::Closed,
    };

    if let Some(url) = &options.target {
        check_target(url, target.addr).await?;
    }
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
    // Closing the connections first lets the relay's graceful shutdown finish at once.
    pool.close_all().await;
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
            action: "creating the relay's data directory".to_owned(),
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

/// Checks that the server behind `--target` is a qrnm relay before the users are made. A
/// server that cannot be reached is left to the connect phase, which reports it.
async fn check_target(url: &str, addr: SocketAddr) -> Result<(), RunError> {
    let probe = Lane::new(0, Endpoint::new(addr));
    if probe.connect().await.is_err() {
        return Ok(());
    }
    let checked = api::check_relay(&probe).await;
    probe.close().await;
    checked.map_err(|error| RunError::NotARelay {
        url: url.to_owned(),
        detail: match error {
            ApiError::Status { status, .. } => {
                format!("GET /healthz returned {status}, expected 200 with {{\"status\":\"ok\"}}")
            }
            other => other.to_string(),
        },
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
