//! Error types of the protocol layer.
//!
//! Failures that could leak secret state (decapsulation, AEAD tags) are
//! opaque unit variants. Every other failure names the check that failed and
//! the values involved, so that callers can count and act on it.

use crate::mode::{KemAlg, Mode, ModeSet, SigAlg};
use crate::primitives::PrimitiveError;

/// Standard name of a signature algorithm, for messages.
pub(crate) fn sig_name(alg: SigAlg) -> &'static str {
    match alg {
        SigAlg::Ed25519 => "Ed25519",
        SigAlg::MlDsa65 => "ML-DSA-65",
        SigAlg::MlDsa87 => "ML-DSA-87",
    }
}

/// Standard name of a KEM, for messages.
pub(crate) fn kem_name(alg: KemAlg) -> &'static str {
    match alg {
        KemAlg::X25519 => "X25519",
        KemAlg::XWing => "X-Wing",
        KemAlg::MlKem768 => "ML-KEM-768",
        KemAlg::MlKem1024 => "ML-KEM-1024",
    }
}

/// A mode set in braces, for messages: `{hybrid,pq}` or `{}`.
pub(crate) struct Braced(pub ModeSet);

impl std::fmt::Display for Braced {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0.is_empty() {
            f.write_str("{}")
        } else {
            write!(f, "{{{}}}", self.0)
        }
    }
}

/// Failure to decode a canonical binary encoding.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The input ended inside a field.
    #[error("truncated {what}: {needed} bytes needed, {remaining} left")]
    Truncated {
        /// Field being read.
        what: &'static str,
        /// Bytes the field needs.
        needed: usize,
        /// Bytes that were left.
        remaining: usize,
    },
    /// Bytes remained after the last field.
    #[error("{count} trailing bytes after {what}")]
    TrailingBytes {
        /// Value that was complete.
        what: &'static str,
        /// Number of extra bytes.
        count: usize,
    },
    /// The version byte is not one this build reads.
    #[error("unknown {what} version {version}")]
    UnknownVersion {
        /// Encoding whose version was read.
        what: &'static str,
        /// Version found.
        version: u8,
    },
    /// The magic bytes do not match.
    #[error("bad magic bytes: input is not an encoded {what}")]
    BadMagic {
        /// Encoding that was expected.
        what: &'static str,
    },
    /// A mode, algorithm or mode-set identifier is not one this build supports.
    #[error("unknown {what} identifier {id}")]
    UnknownAlgorithm {
        /// Kind of identifier.
        what: &'static str,
        /// Identifier found.
        id: u8,
    },
    /// A fixed-length value has the wrong length.
    #[error("{what} has {actual} bytes, expected {expected}")]
    WrongLength {
        /// Value whose length is fixed.
        what: &'static str,
        /// Required length.
        expected: usize,
        /// Length found.
        actual: usize,
    },
    /// A length prefix exceeds the maximum for its field.
    #[error("{what} is {len} bytes, above the maximum of {max}")]
    TooLong {
        /// Field with the length prefix.
        what: &'static str,
        /// Length in the prefix.
        len: usize,
        /// Maximum the field allows.
        max: usize,
    },
    /// The input parses but is not the single canonical encoding, for
    /// example entries out of ascending order, duplicates, an empty mode set,
    /// or entries that do not match the set they belong to.
    #[error("non-canonical encoding: {what}")]
    NotCanonical {
        /// Rule that was broken.
        what: &'static str,
    },
    /// Text that should be lowercase hex contains another character.
    #[error("invalid {what}: expected lowercase hex digits")]
    InvalidHex {
        /// Value being parsed.
        what: &'static str,
    },
}

/// Failure to verify a composite signature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// The signer's identity lists no modes, so no algorithm can be required.
    #[error("the signer's identity lists no modes")]
    NoModes,
    /// A signature that the mode requires is absent.
    #[error("missing {} signature", sig_name(*.0))]
    Missing(SigAlg),
    /// A signature of an algorithm that the mode does not use is present.
    #[error("unexpected {} signature", sig_name(*.0))]
    Unexpected(SigAlg),
    /// The signer's identity has no public key for an algorithm the mode requires.
    #[error("the signer's identity has no {} key", sig_name(*.0))]
    MissingKey(SigAlg),
    /// The signature of this algorithm did not verify.
    #[error("invalid {} signature", sig_name(*.0))]
    Invalid(SigAlg),
}

/// Failure to generate keys or to sign with them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// An identity or recipient was requested with an empty mode set.
    #[error("an identity needs at least one mode")]
    NoModes,
    /// A backend failed to generate a key pair.
    #[error("{alg} key generation failed: {source}")]
    Generate {
        /// Algorithm name.
        alg: &'static str,
        /// Backend failure.
        source: PrimitiveError,
    },
    /// The identity has no signing key for an algorithm it was asked to use.
    #[error("the identity has no {} signing key", sig_name(*.0))]
    MissingKey(SigAlg),
    /// A backend failed to sign.
    #[error("{} signing failed: {source}", sig_name(*.alg))]
    Sign {
        /// Signature algorithm.
        alg: SigAlg,
        /// Backend failure.
        source: PrimitiveError,
    },
    /// `now + ttl_secs` does not fit in a `u64`.
    #[error("lifetime overflows: now {now} + ttl {ttl_secs} s")]
    LifetimeOverflow {
        /// Start time, unix seconds.
        now: u64,
        /// Requested lifetime in seconds.
        ttl_secs: u64,
    },
}

/// Failure to verify a signed key bundle.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BundleError {
    /// The bundle lists no modes.
    #[error("the bundle lists no modes")]
    NoModes,
    /// A listed mode has no KEM public key.
    #[error("the bundle lists mode {0} but has no KEM key for it")]
    MissingKemKey(Mode),
    /// The bundle has a KEM public key for a mode it does not list.
    #[error("the bundle has a KEM key for mode {0}, which it does not list")]
    UnexpectedKemKey(Mode),
    /// The owner's identity lacks a signature key that a listed mode needs.
    #[error("the bundle lists mode {mode} but its owner has no {} key", sig_name(*.alg))]
    MissingSignatureKey {
        /// Mode that needs the key.
        mode: Mode,
        /// Missing algorithm.
        alg: SigAlg,
    },
    /// The creation time is after the expiry.
    #[error("the bundle was created at {created_at}, after its expiry {expires_at}")]
    InvalidLifetime {
        /// Creation time, unix seconds.
        created_at: u64,
        /// Expiry, unix seconds.
        expires_at: u64,
    },
    /// The bundle has expired (`now >= expires_at`).
    #[error("the bundle expired at {expires_at} (now {now})")]
    Expired {
        /// Expiry, unix seconds.
        expires_at: u64,
        /// Time of the check, unix seconds.
        now: u64,
    },
    /// The owner's signature does not verify.
    #[error("bundle signature: {0}")]
    Signature(#[from] SignatureError),
}

/// Failure to find a mode that both parties accept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NegotiationError {
    /// No mode is in our allowed set, in the peer's set, and at or above our floor.
    #[error("no common mode: ours {} at or above {floor}, theirs {}", Braced(*.ours), Braced(*.theirs))]
    NoCommonMode {
        /// Modes our policy allows.
        ours: ModeSet,
        /// Modes the peer's bundle lists.
        theirs: ModeSet,
        /// Weakest mode our policy accepts.
        floor: Mode,
    },
}

/// Invalid policy passed to [`Policy::new`](crate::Policy::new).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// The policy allows no mode.
    #[error("the policy allows no mode")]
    NoModes,
    /// Every allowed mode is below the floor, so nothing could be negotiated.
    #[error("floor {floor} is above every allowed mode {}", Braced(*.allowed))]
    FloorAboveAllowed {
        /// Modes the policy allows.
        allowed: ModeSet,
        /// Requested floor.
        floor: Mode,
    },
}

/// Failure to seal an envelope.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SealError {
    /// Our policy and the recipient's bundle share no acceptable mode.
    #[error(transparent)]
    Negotiation(#[from] NegotiationError),
    /// The recipient's bundle has expired (`now >= expires_at`).
    #[error("the recipient's bundle expired at {expires_at} (now {now})")]
    BundleExpired {
        /// Bundle expiry, unix seconds.
        expires_at: u64,
        /// Time of sealing, unix seconds.
        now: u64,
    },
    /// The sender's identity has no signing key for an algorithm the
    /// negotiated mode needs.
    #[error("the sender has no {} key, which mode {mode} needs", sig_name(*.alg))]
    MissingSignatureKey {
        /// Negotiated mode.
        mode: Mode,
        /// Missing algorithm.
        alg: SigAlg,
    },
    /// The recipient's KEM public key failed the algorithm's validity check.
    #[error("the recipient's {0} KEM public key is invalid")]
    InvalidRecipientKey(Mode),
    /// Encapsulation failed.
    #[error("key encapsulation failed")]
    Kem,
    /// Signing failed.
    #[error("{} signing failed: {source}", sig_name(*.alg))]
    Sign {
        /// Signature algorithm.
        alg: SigAlg,
        /// Backend failure.
        source: PrimitiveError,
    },
    /// Encryption failed.
    #[error("authenticated encryption failed")]
    Aead,
    /// `now + ttl_secs` does not fit in a `u64`.
    #[error("envelope expiry overflows: now {now} + ttl {ttl_secs} s")]
    ExpiryOverflow {
        /// Time of sealing, unix seconds.
        now: u64,
        /// Requested lifetime in seconds.
        ttl_secs: u64,
    },
}

impl SealError {
    /// Short snake_case name of the variant, for metrics and reports.
    pub fn kind(&self) -> &'static str {
        match self {
            SealError::Negotiation(_) => "negotiation",
            SealError::BundleExpired { .. } => "bundle_expired",
            SealError::MissingSignatureKey { .. } => "missing_signature_key",
            SealError::InvalidRecipientKey(_) => "invalid_recipient_key",
            SealError::Kem => "kem",
            SealError::Sign { .. } => "sign",
            SealError::Aead => "aead",
            SealError::ExpiryOverflow { .. } => "expiry_overflow",
        }
    }
}

/// Failure to open an envelope, naming the first check that failed.
///
/// [`Engine::open`](crate::Engine::open) documents the order of the checks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    /// The header or the decrypted contents are malformed.
    #[error("malformed envelope: {0}")]
    Decode(#[from] DecodeError),
    /// The mode identifier is not one this build supports.
    #[error("unsupported mode identifier {0}")]
    UnsupportedMode(u8),
    /// The AEAD identifier is not one this build supports.
    #[error("unsupported AEAD identifier {0}")]
    UnsupportedAead(u8),
    /// The mode is below the recipient's policy floor.
    #[error("mode {mode} is below the policy floor {floor}")]
    BelowPolicy {
        /// Mode of the envelope.
        mode: Mode,
        /// Recipient's floor.
        floor: Mode,
    },
    /// The recipient's current bundle does not list the envelope's mode.
    #[error("mode {0} is not in the recipient's bundle")]
    ModeNotInBundle(Mode),
    /// The envelope is addressed to another identity.
    #[error("the envelope is addressed to another recipient")]
    WrongRecipient,
    /// The envelope has expired (`now >= expires_at`).
    #[error("the envelope expired at {expires_at} (now {now})")]
    Expired {
        /// Expiry in the header, unix seconds.
        expires_at: u64,
        /// Time of opening, unix seconds.
        now: u64,
    },
    /// Decapsulation failed.
    #[error("key decapsulation failed")]
    Kem,
    /// The AEAD tag did not verify.
    #[error("authenticated decryption failed")]
    Aead,
    /// The sender's signatures do not verify.
    #[error("sender signature: {0}")]
    Signature(#[from] SignatureError),
}

impl OpenError {
    /// Short snake_case name of the variant, for metrics and reports.
    pub fn kind(&self) -> &'static str {
        match self {
            OpenError::Decode(_) => "decode",
            OpenError::UnsupportedMode(_) => "unsupported_mode",
            OpenError::UnsupportedAead(_) => "unsupported_aead",
            OpenError::BelowPolicy { .. } => "below_policy",
            OpenError::ModeNotInBundle(_) => "mode_not_in_bundle",
            OpenError::WrongRecipient => "wrong_recipient",
            OpenError::Expired { .. } => "expired",
            OpenError::Kem => "kem",
            OpenError::Aead => "aead",
            OpenError::Signature(_) => "signature",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_common_mode_names_both_sets() {
        let err = NegotiationError::NoCommonMode {
            ours: ModeSet::of(&[Mode::Hybrid, Mode::Pq]),
            theirs: ModeSet::of(&[Mode::Classical]),
            floor: Mode::Hybrid,
        };
        assert_eq!(
            err.to_string(),
            "no common mode: ours {hybrid,pq} at or above hybrid, theirs {classical}"
        );
    }

    #[test]
    fn empty_set_prints_as_braces() {
        assert_eq!(Braced(ModeSet::EMPTY).to_string(), "{}");
    }
}
