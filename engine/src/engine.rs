//! The [`Engine`] facade: a set of backends and the operations that use it.

use std::fmt;
use std::sync::{Arc, OnceLock};

use crate::batch;
use crate::bundle::{Recipient, VerifiedBundle};
use crate::envelope::{self, DEFAULT_ENVELOPE_TTL_SECS, Opened, Sealed};
use crate::error::{OpenError, SealError};
use crate::identity::Identity;
use crate::negotiate::Policy;
use crate::primitives::BackendSet;

/// Seals and opens envelopes with one [`BackendSet`].
///
/// Cloning is cheap (the backends sit behind an `Arc`), and the engine is
/// `Send + Sync`, so one engine can serve every thread.
#[derive(Clone)]
pub struct Engine {
    backends: Arc<BackendSet>,
}

/// One message of [`Engine::seal_many`].
#[derive(Clone, Copy, Debug)]
pub struct SealItem<'a> {
    /// Recipient's verified bundle.
    pub to: &'a VerifiedBundle,
    /// Message to seal.
    pub payload: &'a [u8],
}

/// Returns the process-wide default backends, built on first use.
fn default_backends() -> &'static Arc<BackendSet> {
    static DEFAULT: OnceLock<Arc<BackendSet>> = OnceLock::new();
    DEFAULT.get_or_init(|| Arc::new(BackendSet::for_this_cpu()))
}

impl Engine {
    /// Creates an engine with the default backends for this CPU
    /// ([`BackendSet::for_this_cpu`]), chosen once per process.
    pub fn new() -> Engine {
        Engine {
            backends: Arc::clone(default_backends()),
        }
    }

    /// Creates an engine with the given backends, for benchmarks and
    /// comparisons.
    pub fn with_backends(backends: BackendSet) -> Engine {
        Engine {
            backends: Arc::new(backends),
        }
    }

    /// Returns the backends in use.
    pub fn backends(&self) -> &BackendSet {
        &self.backends
    }

    pub(crate) fn backends_arc(&self) -> Arc<BackendSet> {
        Arc::clone(&self.backends)
    }

    /// Seals `payload` from `sender` to the bundle `to`, valid for
    /// [`DEFAULT_ENVELOPE_TTL_SECS`] from `now` (unix seconds).
    ///
    /// The mode is the strongest one that `policy` and the bundle share at
    /// or above the policy's floor; [`Sealed::fallback`] reports whether it
    /// is weaker than the policy's preferred mode. The AEAD is the backends'
    /// choice for this CPU.
    ///
    /// # Errors
    /// [`SealError::BundleExpired`], [`SealError::Negotiation`] without a
    /// common mode, [`SealError::MissingSignatureKey`] if `sender` cannot sign
    /// for the negotiated mode, or a primitive failure.
    pub fn seal(
        &self,
        sender: &Identity,
        to: &VerifiedBundle,
        policy: &Policy,
        payload: &[u8],
        now: u64,
    ) -> Result<Sealed, SealError> {
        self.seal_with_ttl(sender, to, policy, payload, now, DEFAULT_ENVELOPE_TTL_SECS)
    }

    /// Like [`Engine::seal`], with an envelope lifetime of `ttl_secs` seconds.
    ///
    /// # Errors
    /// As [`Engine::seal`], and [`SealError::ExpiryOverflow`] if
    /// `now + ttl_secs` overflows.
    pub fn seal_with_ttl(
        &self,
        sender: &Identity,
        to: &VerifiedBundle,
        policy: &Policy,
        payload: &[u8],
        now: u64,
        ttl_secs: u64,
    ) -> Result<Sealed, SealError> {
        envelope::seal(&self.backends, sender, to, policy, payload, now, ttl_secs)
    }

    /// Opens an envelope addressed to `me` and verifies its sender.
    ///
    /// Checks, in order: the header's magic, version and layout
    /// ([`OpenError::Decode`]); a known mode and AEAD; the mode at or above
    /// `policy.floor`; the mode listed in `me`'s current bundle; the
    /// recipient id; `now < expires_at`; the header's length for its mode
    /// ([`OpenError::Decode`]); decapsulation; decryption; the decrypted
    /// contents ([`OpenError::Decode`]); and every signature of the mode.
    /// No input makes it panic.
    ///
    /// # Errors
    /// The [`OpenError`] of the first failed check. KEM and AEAD failures are
    /// opaque.
    pub fn open(
        &self,
        me: &Recipient,
        policy: &Policy,
        envelope: &[u8],
        now: u64,
    ) -> Result<Opened, OpenError> {
        envelope::decrypt(&self.backends, me, policy, envelope, now)?.verify(&self.backends)
    }

    /// Seals each item in parallel on the rayon pool, as [`Engine::seal`]
    /// does. Results are in input order, one per item.
    pub fn seal_many(
        &self,
        sender: &Identity,
        items: &[SealItem<'_>],
        policy: &Policy,
        now: u64,
    ) -> Vec<Result<Sealed, SealError>> {
        batch::seal_many(&self.backends, sender, items, policy, now)
    }

    /// Opens each envelope as [`Engine::open`] does: decrypts in parallel,
    /// then verifies the Ed25519 signatures with batch verification (one
    /// batch per rayon thread) and the other signatures in parallel. Results
    /// are in input order, and a bad envelope fails only its own result.
    pub fn open_many(
        &self,
        me: &Recipient,
        policy: &Policy,
        envelopes: &[&[u8]],
        now: u64,
    ) -> Vec<Result<Opened, OpenError>> {
        batch::open_many(&self.backends, me, policy, envelopes, now)
    }
}

impl Default for Engine {
    fn default() -> Engine {
        Engine::new()
    }
}

impl fmt::Debug for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Engine")
            .field(&self.backends.describe())
            .finish()
    }
}
