//! The crypto engine of qrnm: hybrid post-quantum envelopes between
//! identities that publish signed key bundles.
//!
//! - [`Identity`] and [`PublicIdentity`]: signing keys for every signature
//!   algorithm of the identity's modes; the [`IdentityId`] hashes all the
//!   public keys and doubles as the mailbox id.
//! - [`Recipient`] and [`SignedBundle`]: one KEM key per mode, published in
//!   a bundle signed by the owner. [`SignedBundle::verify`] turns it into a
//!   [`VerifiedBundle`] that senders can seal to.
//! - [`negotiate`] and [`Policy`]: the sender picks the strongest mode both
//!   sides accept, never one below its floor.
//! - [`Engine`]: [`Engine::seal`] and [`Engine::open`], and their batch forms
//!   [`Engine::seal_many`] and [`Engine::open_many`] on rayon.
//! - [`primitives`]: the backend traits and the [`BackendSet`] that picks an
//!   implementation per algorithm at run time.
//!
//! # Modes
//!
//! | mode | key encapsulation | signatures (all must verify) |
//! | --- | --- | --- |
//! | `classical` | X25519 | Ed25519 |
//! | `hybrid` | X-Wing (ML-KEM-768 + X25519) | Ed25519 and ML-DSA-65 |
//! | `pq` | ML-KEM-1024 | ML-DSA-87 |
//!
//! # Example
//!
//! ```
//! use qrnm_engine::{Engine, Identity, Mode, ModeSet, Policy, Recipient};
//!
//! let engine = Engine::new();
//! let now = 1_700_000_000;
//! let modes = ModeSet::of(&[Mode::Hybrid, Mode::Pq]);
//! let alice = Identity::generate_with(&engine, modes)?;
//! let bob = Recipient::generate(&engine, modes, now, 30 * 24 * 3600)?;
//!
//! // Alice fetches Bob's bundle from the relay and verifies it.
//! let bundle = bob.bundle().verify(&engine, now)?;
//! let sealed = engine.seal(&alice, &bundle, &Policy::default(), b"hello", now)?;
//! assert_eq!(sealed.mode, Mode::Pq);
//!
//! let opened = engine.open(&bob, &Policy::default(), &sealed.envelope, now)?;
//! assert_eq!(opened.sender, alice.id());
//! assert_eq!(opened.payload, b"hello");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Secrets
//!
//! Secret keys and shared secrets live in types that zeroize on drop, print
//! as `[REDACTED]` in `Debug` output, and compare in constant time. Payloads
//! are not treated as key material: the buffers that hold them are not
//! zeroized, and [`Opened`]'s `Debug` prints only the payload length.

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(
    rust_2018_idioms,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::todo,
    clippy::unimplemented,
    clippy::dbg_macro,
    clippy::print_stdout,
    clippy::print_stderr
)]
// Unit tests may unwrap: a failure there is the test's report.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

mod batch;
pub mod bundle;
pub mod codec;
pub mod engine;
pub mod envelope;
pub mod error;
pub mod identity;
pub mod kdf;
pub mod mode;
pub mod negotiate;
pub mod primitives;

pub use bundle::{Recipient, SignedBundle, VerifiedBundle};
pub use engine::{Engine, SealItem};
pub use envelope::{DEFAULT_ENVELOPE_TTL_SECS, EnvelopeHeader, Opened, Sealed};
pub use error::{
    BundleError, DecodeError, KeyError, NegotiationError, OpenError, PolicyError, SealError,
    SignatureError,
};
pub use identity::{CompositeSignature, Identity, IdentityId, PublicIdentity, SignContext};
pub use mode::{AeadAlg, KemAlg, Mode, ModeSet, SigAlg, UnknownMode};
pub use negotiate::{Negotiated, Policy, negotiate};
pub use primitives::{BackendSet, PrimitiveError};
