#![doc = include_str!("../README.md")]
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
