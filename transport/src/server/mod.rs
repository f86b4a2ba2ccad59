//! The relay server: listening socket, accept loop, background tasks and shutdown.

mod connection;
mod idle;
mod shared;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use qrnm_engine::Engine;
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::config::{Config, ConfigError, StoreKind};
use crate::reject::Reason;
use crate::routes::unix_now;
use crate::store::{MemoryStore, SqliteStore, Store, StoreError};

pub(crate) use shared::Shared;

/// Pending connections the kernel queues before `accept`, so that thousands
/// of clients connecting at once are not refused. Linux caps it at
/// `net.core.somaxconn`.
const LISTEN_BACKLOG: u32 = 4096;

/// Pause after an accept error such as running out of file descriptors, so
/// the loop does not spin while nothing can be accepted.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(100);

/// Interval of metric upkeep and rate-limiter cleanup.
const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

/// Error that kept the relay from starting or ended it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RelayError {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The store could not be opened or closed.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// The listening socket could not be set up.
    #[error("cannot listen on {address}: {source}")]
    Bind {
        /// The configured address.
        address: SocketAddr,
        /// The socket error.
        source: std::io::Error,
    },
}

/// A relay with its listening socket bound, ready to serve.
pub struct Relay {
    listener: TcpListener,
    local_addr: SocketAddr,
    shared: Arc<Shared>,
}

impl Relay {
    /// Validates `config`, opens the configured store and binds the listen
    /// address (port 0 picks a free port; see [`Relay::local_addr`]).
    ///
    /// # Errors
    ///
    /// [`RelayError`] when the configuration is invalid, the store cannot be
    /// opened, or the address cannot be bound.
    pub async fn bind(config: Config) -> Result<Relay, RelayError> {
        config.validate_as("relay configuration")?;
        let store: Arc<dyn Store> = match config.store {
            StoreKind::Memory => Arc::new(MemoryStore::new()),
            StoreKind::Durable => {
                let dir = config.data_dir.clone();
                let opened = tokio::task::spawn_blocking(move || SqliteStore::open(&dir))
                    .await
                    .map_err(|e| StoreError::Unavailable(format!("store open task failed: {e}")))?;
                Arc::new(opened?)
            }
        };
        Self::bind_with_store(config, store).await
    }

    /// Like [`Relay::bind`], with a store the caller opened. The `store` key
    /// of `config` is ignored.
    ///
    /// # Errors
    ///
    /// As [`Relay::bind`], except for opening the store.
    pub async fn bind_with_store(
        config: Config,
        store: Arc<dyn Store>,
    ) -> Result<Relay, RelayError> {
        config.validate_as("relay configuration")?;
        let address = config.listen;
        let listener = listen(address).map_err(|source| RelayError::Bind { address, source })?;
        let local_addr = listener
            .local_addr()
            .map_err(|source| RelayError::Bind { address, source })?;

        let shared = Arc::new(Shared::new(config, store, Engine::new()));
        Ok(Relay {
            listener,
            local_addr,
            shared,
        })
    }

    /// Returns the bound address, with the port the system picked if the configured port was 0.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Short description of the store for logs.
    pub fn store_description(&self) -> String {
        self.shared.store.describe()
    }

    /// Serves until `shutdown` completes, then stops accepting, lets
    /// in-flight requests finish within `shutdown_deadline_ms`, closes the
    /// remaining connections and closes the store.
    ///
    /// # Errors
    ///
    /// [`RelayError::Store`] when the store cannot be closed cleanly.
    pub async fn serve(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), RelayError> {
        let Relay {
            listener, shared, ..
        } = self;
        let maintenance = tokio::spawn(maintain(shared.clone()));
        let slots = usize::try_from(shared.config.limits.max_connections).unwrap_or(usize::MAX);
        let slots = Arc::new(Semaphore::new(slots.min(Semaphore::MAX_PERMITS)));
        let mut connections = JoinSet::new();
        tokio::pin!(shutdown);

        loop {
            tokio::select! {
                biased;
                () = &mut shutdown => break,
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
                accepted = listener.accept() => match accepted {
                    Ok((stream, peer)) => match slots.clone().try_acquire_owned() {
                        Ok(permit) => {
                            connections.spawn(connection::serve(shared.clone(), stream, peer, permit));
                        }
                        Err(_) => {
                            drop(stream);
                            shared.metrics.rejection(Reason::ConnectionLimit);
                            shared.rejections.log(
                                Reason::ConnectionLimit,
                                Some(peer.ip()),
                                &"limits.max_connections reached; connection closed",
                            );
                        }
                    },
                    Err(error) => {
                        tracing::warn!(%error, "accept failed; pausing before the next accept");
                        tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
                    }
                },
            }
        }

        drop(listener);
        drain(&shared, connections).await;
        maintenance.abort();
        let closed = shared.store.close().await;
        if let Err(error) = &closed {
            tracing::error!(%error, "closing the store failed");
        }
        tracing::info!("relay stopped");
        Ok(closed?)
    }
}

fn listen(address: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if address.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(address)?;
    socket.listen(LISTEN_BACKLOG)
}

/// Asks every connection to finish its in-flight requests and close, then
/// waits up to the shutdown deadline before closing the rest.
async fn drain(shared: &Shared, mut connections: JoinSet<()>) {
    let deadline = Duration::from_millis(shared.config.shutdown_deadline_ms);
    tracing::info!(
        open_connections = connections.len(),
        deadline_ms = deadline.as_millis() as u64,
        "stopping: no longer accepting connections, draining in-flight requests"
    );
    shared.begin_stop();

    let drained = tokio::time::timeout(deadline, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            open_connections = connections.len(),
            "shutdown deadline passed; closing the remaining connections"
        );
        connections.abort_all();
        while connections.join_next().await.is_some() {}
    }
}

/// Background work: the retention sweep, metric upkeep and rate-limiter cleanup.
async fn maintain(shared: Arc<Shared>) {
    let mut sweep = tokio::time::interval(Duration::from_millis(
        shared.config.retention_sweep_interval_ms,
    ));
    let mut upkeep = tokio::time::interval(UPKEEP_INTERVAL);
    sweep.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    upkeep.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);

    loop {
        tokio::select! {
            _ = sweep.tick() => erase_expired(&shared).await,
            _ = upkeep.tick() => {
                shared.metrics.run_upkeep();
                shared.limiter.forget_idle_peers();
            }
        }
    }
}

async fn erase_expired(shared: &Shared) {
    let (_, now_ms) = unix_now();
    let cutoff_ms = now_ms.saturating_sub(shared.config.retention_secs.saturating_mul(1000));
    match shared.store.erase_older_than(cutoff_ms).await {
        Ok(0) => {}
        Ok(erased) => tracing::info!(erased, "retention erased expired messages"),
        Err(error) => {
            tracing::warn!(%error, "retention sweep failed; retrying at the next interval")
        }
    }
}
