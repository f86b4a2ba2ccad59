//! State shared by every connection and request of one relay.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use governor::{DefaultKeyedRateLimiter, Quota as RateQuota, RateLimiter};
use http::StatusCode;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use hyper_util::server::conn::auto;
use qrnm_engine::Engine;
use tokio::sync::Notify;

use crate::auth::{AuthError, Authenticator, SignedParts};
use crate::config::{Config, Limits};
use crate::crypto::OwnerKey;
use crate::ids::MailboxId;
use crate::metrics::Metrics;
use crate::reject::{Reason, RejectionLog};
use crate::routes::ApiError;
use crate::store::{Quota, Store, StoredMessage};

/// Maximum owner keys kept decoded in memory. When full, the cache is
/// cleared; keys are then decoded again from the stored bundles.
const OWNER_CACHE_CAPACITY: usize = 100_000;

/// Number of separately locked long-poll waiter shards.
const WAITER_SHARDS: usize = 16;

/// Everything a request handler needs.
pub(crate) struct Shared {
    pub(crate) config: Config,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) engine: Engine,
    pub(crate) metrics: Metrics,
    pub(crate) rejections: RejectionLog,
    pub(crate) limiter: PeerLimiter,
    /// Connection settings for HTTP/1.1 and HTTP/2 on the same port.
    pub(crate) http: auto::Builder<TokioExecutor>,
    auth: Authenticator,
    owners: RwLock<HashMap<MailboxId, Arc<OwnerKey>>>,
    waiters: Vec<Mutex<HashMap<MailboxId, Arc<Notify>>>>,
    stopping: AtomicBool,
    stop: Notify,
}

impl Shared {
    pub(crate) fn new(config: Config, store: Arc<dyn Store>, engine: Engine) -> Shared {
        let nonce_capacity =
            usize::try_from(config.auth.nonce_cache_capacity).unwrap_or(usize::MAX);
        Shared {
            auth: Authenticator::new(
                engine.clone(),
                config.auth.max_clock_skew_secs,
                nonce_capacity,
            ),
            limiter: PeerLimiter::new(&config.limits),
            http: http_builder(&config.limits),
            metrics: Metrics::new(),
            rejections: RejectionLog::new(),
            owners: RwLock::new(HashMap::new()),
            waiters: (0..WAITER_SHARDS)
                .map(|_| Mutex::new(HashMap::new()))
                .collect(),
            stopping: AtomicBool::new(false),
            stop: Notify::new(),
            config,
            store,
            engine,
        }
    }

    pub(crate) fn quota(&self) -> Quota {
        Quota {
            max_messages: self.config.limits.max_messages_per_mailbox,
            max_bytes: self.config.limits.max_bytes_per_mailbox,
        }
    }

    /// Returns the owner key of `mailbox` from the cache or the stored bundle.
    pub(crate) async fn owner_key(
        &self,
        mailbox: MailboxId,
    ) -> Result<Option<Arc<OwnerKey>>, ApiError> {
        if let Some(key) = self
            .owners
            .read()
            .ok()
            .and_then(|o| o.get(&mailbox).cloned())
        {
            return Ok(Some(key));
        }
        let stored = self
            .store
            .bundle(mailbox)
            .await
            .map_err(|e| ApiError::unavailable(e.to_string()))?;
        let Some(bytes) = stored else {
            return Ok(None);
        };
        let key = OwnerKey::from_stored_bundle(&bytes).map_err(|e| {
            tracing::error!(%mailbox, error = %e, "stored key bundle does not decode");
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "corrupt_bundle",
                "the stored key bundle of this mailbox is unreadable",
            )
        })?;
        let key = Arc::new(key);
        self.remember_owner(mailbox, key.clone());
        Ok(Some(key))
    }

    /// Like [`Shared::owner_key`], but a mailbox without a bundle is an authentication failure.
    pub(crate) async fn require_owner(
        &self,
        mailbox: MailboxId,
    ) -> Result<Arc<OwnerKey>, ApiError> {
        match self.owner_key(mailbox).await? {
            Some(key) => Ok(key),
            None => Err(auth_error(AuthError::UnknownOwner)),
        }
    }

    pub(crate) fn remember_owner(&self, mailbox: MailboxId, key: Arc<OwnerKey>) {
        if let Ok(mut owners) = self.owners.write() {
            if owners.len() >= OWNER_CACHE_CAPACITY {
                owners.clear();
            }
            owners.insert(mailbox, key);
        }
    }

    /// Checks the owner signature, timestamp and nonce of a request.
    pub(crate) fn authenticate(
        &self,
        owner: &OwnerKey,
        parts: &http::request::Parts,
        body: &[u8],
        now: u64,
    ) -> Result<(), ApiError> {
        let path_and_query = parts
            .uri
            .path_and_query()
            .map_or_else(|| parts.uri.path(), |p| p.as_str());
        let signed = SignedParts {
            method: parts.method.as_str(),
            path_and_query,
            headers: &parts.headers,
            body,
        };
        self.auth.check(owner, &signed, now).map_err(auth_error)
    }

    fn waiter_shard(&self, mailbox: &MailboxId) -> &Mutex<HashMap<MailboxId, Arc<Notify>>> {
        &self.waiters[usize::from(mailbox.0[0]) % WAITER_SHARDS]
    }

    /// Wakes the long polls waiting on `mailbox`.
    pub(crate) fn notify_deposit(&self, mailbox: MailboxId) {
        if let Ok(waiters) = self.waiter_shard(&mailbox).lock() {
            if let Some(notify) = waiters.get(&mailbox) {
                notify.notify_waiters();
            }
        }
    }

    /// Fetches up to `limit` messages. When there are none, waits up to
    /// `wait_ms` for a deposit, or until the relay stops.
    pub(crate) async fn wait_for_messages(
        &self,
        mailbox: MailboxId,
        limit: usize,
        wait_ms: u64,
    ) -> Result<Vec<StoredMessage>, ApiError> {
        let fetch = || async {
            self.store
                .fetch(mailbox, limit)
                .await
                .map_err(|e| ApiError::unavailable(e.to_string()))
        };
        if wait_ms == 0 {
            return fetch().await;
        }

        let deadline = tokio::time::Instant::now() + Duration::from_millis(wait_ms);
        let subscription = Subscription::new(self.waiter_shard(&mailbox), mailbox);
        loop {
            // Registering before the fetch means a deposit that lands between
            // the fetch and the wait still wakes this poll.
            let deposited = subscription.notify.notified();
            let stopped = self.stop.notified();
            tokio::pin!(deposited, stopped);
            deposited.as_mut().enable();
            stopped.as_mut().enable();

            let messages = fetch().await?;
            if !messages.is_empty() || self.is_stopping() || tokio::time::Instant::now() >= deadline
            {
                return Ok(messages);
            }
            tokio::select! {
                () = deposited => {}
                () = stopped => {}
                () = tokio::time::sleep_until(deadline) => {}
            }
        }
    }

    /// Marks the relay as stopping and wakes long polls and connections.
    pub(crate) fn begin_stop(&self) {
        self.stopping.store(true, Ordering::Release);
        self.stop.notify_waiters();
    }

    pub(crate) fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::Acquire)
    }

    /// Future that completes when [`Shared::begin_stop`] is called (at once if it was).
    pub(crate) async fn stopped(&self) {
        let notified = self.stop.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        if self.is_stopping() {
            return;
        }
        notified.await;
    }
}

/// Maps an authentication failure to its error response.
fn auth_error(error: AuthError) -> ApiError {
    let reason = match error {
        AuthError::Missing(_) => Reason::AuthMissing,
        AuthError::Malformed(_) => Reason::AuthMalformed,
        AuthError::Stale { .. } => Reason::AuthStale,
        AuthError::UnknownOwner => Reason::AuthUnknownOwner,
        AuthError::BadSignature => Reason::AuthSignature,
        AuthError::Replayed => Reason::AuthReplay,
        AuthError::NonceCacheFull => {
            return ApiError::rejected(
                StatusCode::SERVICE_UNAVAILABLE,
                Reason::NonceCacheFull,
                error.to_string(),
            )
            .retry_after(1);
        }
    };
    ApiError::rejected(StatusCode::UNAUTHORIZED, reason, error.to_string())
}

/// A long poll's registration for deposit wake-ups of one mailbox. The
/// mailbox's entry is removed when its last subscription ends.
struct Subscription<'a> {
    shard: &'a Mutex<HashMap<MailboxId, Arc<Notify>>>,
    mailbox: MailboxId,
    notify: Arc<Notify>,
}

impl<'a> Subscription<'a> {
    fn new(shard: &'a Mutex<HashMap<MailboxId, Arc<Notify>>>, mailbox: MailboxId) -> Self {
        let notify = match shard.lock() {
            Ok(mut waiters) => waiters.entry(mailbox).or_default().clone(),
            // Without the map no deposit can wake this poll; it then ends at its deadline.
            Err(_) => Arc::new(Notify::new()),
        };
        Subscription {
            shard,
            mailbox,
            notify,
        }
    }
}

impl Drop for Subscription<'_> {
    fn drop(&mut self) {
        if let Ok(mut waiters) = self.shard.lock() {
            // Clones are made under this lock, so two references (the map's
            // and this one) mean no other poll waits on the mailbox.
            if Arc::strong_count(&self.notify) == 2 {
                waiters.remove(&self.mailbox);
            }
        }
    }
}

/// Token-bucket request limits per peer IP address.
pub(crate) struct PeerLimiter {
    limiter: DefaultKeyedRateLimiter<IpAddr>,
}

impl PeerLimiter {
    fn new(limits: &Limits) -> PeerLimiter {
        let rate =
            NonZeroU32::new(u32::try_from(limits.requests_per_second_per_peer).unwrap_or(u32::MAX))
                .unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(u32::try_from(limits.burst).unwrap_or(u32::MAX))
            .unwrap_or(NonZeroU32::MIN);
        PeerLimiter {
            limiter: RateLimiter::keyed(RateQuota::per_second(rate).allow_burst(burst)),
        }
    }

    /// Takes one token for `peer`; false when its bucket is empty.
    pub(crate) fn allows(&self, peer: IpAddr) -> bool {
        self.limiter.check_key(&peer).is_ok()
    }

    /// Forgets peers whose buckets are full again, so the map does not grow without bound.
    pub(crate) fn forget_idle_peers(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }
}

/// Builds the connection settings from the limits. Both protocols get a
/// timer, which hyper needs for the header read timeout and HTTP/2 pings.
fn http_builder(limits: &Limits) -> auto::Builder<TokioExecutor> {
    let clamp32 = |value: u64| u32::try_from(value).unwrap_or(u32::MAX);
    let clamp = |value: u64| usize::try_from(value).unwrap_or(usize::MAX);

    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .keep_alive(true)
        .header_read_timeout(Duration::from_millis(limits.header_read_timeout_ms))
        // hyper responds with 431 when a request head does not fit its read buffer.
        .max_buf_size(clamp(limits.max_header_bytes));
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(clamp32(limits.h2_max_concurrent_streams))
        .max_pending_accept_reset_streams(clamp(limits.h2_max_pending_reset_streams))
        .max_local_error_reset_streams(clamp(limits.h2_max_local_error_reset_streams))
        .max_header_list_size(clamp32(limits.max_header_bytes));
    builder
}
