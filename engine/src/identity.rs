//! Identities: signing keys, their public half, ids and composite signatures.
//!
//! An [`Identity`] contains one signing key per signature algorithm that its
//! modes need. Its [`PublicIdentity`] has one canonical encoding:
//!
//! ```text
//! version = 1 | modes u8 | [alg u8 | public key (fixed length per alg)]*
//! ```
//!
//! with exactly the algorithms the mode set needs, in ascending identifier
//! order. The [`IdentityId`] is BLAKE3 `derive_key` over that encoding, so it
//! commits to every public key: removing or replacing any key changes the id.
//!
//! A [`CompositeSignature`] contains one signature per algorithm of a mode and
//! verifies only if every algorithm the mode requires is present and valid.
//! Signatures are domain-separated by [`SignContext`]: ML-DSA receives the
//! context as its FIPS 204 context string, and Ed25519, which has no context
//! input in its pure form, signs the context length and bytes prefixed to the
//! message.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use zeroize::ZeroizeOnDrop;

use crate::codec::{Reader, Writer};
use crate::engine::Engine;
use crate::error::{DecodeError, KeyError, SignatureError};
use crate::kdf;
use crate::mode::{Mode, ModeSet, SigAlg};
use crate::primitives::{BackendSet, PrimitiveError, SecretBytes};

/// Version byte of the public identity encoding.
const IDENTITY_VERSION: u8 = 1;

/// Identifier of an identity and of its mailbox: a BLAKE3 hash of the
/// canonical encoding of its public keys.
///
/// Displayed and parsed as 64 lowercase hex digits.
#[derive(Copy, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IdentityId([u8; 32]);

impl IdentityId {
    /// Length of the id in bytes.
    pub const LEN: usize = 32;

    /// Wraps raw id bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> IdentityId {
        IdentityId(bytes)
    }

    /// Copies an id from a slice.
    ///
    /// # Errors
    /// [`DecodeError::WrongLength`] unless `bytes` has 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<IdentityId, DecodeError> {
        let array = <[u8; 32]>::try_from(bytes).map_err(|_| DecodeError::WrongLength {
            what: "identity id",
            expected: Self::LEN,
            actual: bytes.len(),
        })?;
        Ok(IdentityId(array))
    }

    /// Returns the raw id bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Display for IdentityId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for IdentityId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for IdentityId {
    type Err = DecodeError;

    /// Parses exactly 64 lowercase hex digits; uppercase is rejected so that
    /// each id (and mailbox path) has one spelling.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() != 2 * Self::LEN {
            return Err(DecodeError::WrongLength {
                what: "identity id hex",
                expected: 2 * Self::LEN,
                actual: s.len(),
            });
        }
        if !s
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(DecodeError::InvalidHex {
                what: "identity id",
            });
        }

        let mut bytes = [0u8; 32];
        hex::decode_to_slice(s, &mut bytes).map_err(|_| DecodeError::InvalidHex {
            what: "identity id",
        })?;
        Ok(IdentityId(bytes))
    }
}

/// Purpose of a signature. Each purpose signs under its own context string,
/// so a signature made for one purpose never verifies for another.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum SignContext {
    /// A key bundle signed by its owner.
    Bundle,
    /// An envelope signed by its sender.
    Envelope,
    /// A relay request signed by a mailbox owner.
    Request,
}

impl SignContext {
    /// Returns the context string, at most 255 bytes as FIPS 204 requires.
    pub fn as_bytes(self) -> &'static [u8] {
        match self {
            SignContext::Bundle => b"qrnm v1 bundle signature",
            SignContext::Envelope => b"qrnm v1 envelope signature",
            SignContext::Request => b"qrnm v1 request signature",
        }
    }
}

/// A message with its context prefix, laid out so that every algorithm can
/// take its input without a copy: Ed25519 signs the whole buffer
/// (`context length u8 | context | body`), ML-DSA signs the body and gets the
/// context as its context string.
pub(crate) struct SignedMessage {
    bytes: Vec<u8>,
    body_start: usize,
    context: SignContext,
}

impl SignedMessage {
    /// Starts a message under `context` with room for `body_capacity` bytes.
    pub(crate) fn new(context: SignContext, body_capacity: usize) -> SignedMessage {
        let prefix = context.as_bytes();
        let mut bytes = Vec::with_capacity(1 + prefix.len() + body_capacity);
        // Context strings are constants shorter than 256 bytes.
        bytes.push(prefix.len() as u8);
        bytes.extend_from_slice(prefix);
        let body_start = bytes.len();
        SignedMessage {
            bytes,
            body_start,
            context,
        }
    }

    /// Appends to the body.
    pub(crate) fn push(&mut self, data: &[u8]) {
        self.bytes.extend_from_slice(data);
    }

    /// Returns the `(message, context)` pair that algorithm `alg` signs.
    pub(crate) fn input_for(&self, alg: SigAlg) -> (&[u8], &[u8]) {
        match alg {
            SigAlg::Ed25519 => (&self.bytes, &[]),
            SigAlg::MlDsa65 | SigAlg::MlDsa87 => {
                (&self.bytes[self.body_start..], self.context.as_bytes())
            }
        }
    }
}

/// One signature per algorithm, in ascending algorithm order.
///
/// Encoding: `count u8 | [alg u8 | signature (fixed length per alg)]*`.
#[derive(Clone, PartialEq, Eq)]
pub struct CompositeSignature {
    entries: Vec<(SigAlg, Vec<u8>)>,
}

impl CompositeSignature {
    /// Maximum encoded length: every algorithm present.
    pub const MAX_ENCODED_LEN: usize = 1 + 3 + SIG_LENS[0] + SIG_LENS[1] + SIG_LENS[2];

    /// Encodes canonically.
    pub fn encode(&self) -> Vec<u8> {
        let len = 1 + self.entries.iter().map(|(_, s)| 1 + s.len()).sum::<usize>();
        let mut writer = Writer::with_capacity(len);
        // At most three entries, one per algorithm.
        writer.u8(self.entries.len() as u8);
        for (alg, signature) in &self.entries {
            writer.u8(alg.id()).bytes(signature);
        }
        writer.into_vec()
    }

    /// Decodes the canonical encoding.
    ///
    /// # Errors
    /// [`DecodeError`] on truncation, trailing bytes, an unknown algorithm,
    /// more entries than algorithms, or entries not in strictly ascending order.
    pub fn decode(bytes: &[u8]) -> Result<CompositeSignature, DecodeError> {
        let mut reader = Reader::new(bytes);
        let signature = Self::read(&mut reader)?;
        reader.finish("composite signature")?;
        Ok(signature)
    }

    fn read(reader: &mut Reader<'_>) -> Result<CompositeSignature, DecodeError> {
        let count = usize::from(reader.u8("signature count")?);
        if count > SIG_LENS.len() {
            return Err(DecodeError::TooLong {
                what: "signature count",
                len: count,
                max: SIG_LENS.len(),
            });
        }

        let mut entries: Vec<(SigAlg, Vec<u8>)> = Vec::with_capacity(count);
        for _ in 0..count {
            let alg = read_sig_alg(reader)?;
            if entries.last().is_some_and(|(last, _)| *last >= alg) {
                return Err(DecodeError::NotCanonical {
                    what: "signatures must be in strictly ascending algorithm order",
                });
            }
            let signature = reader.bytes(alg.signature_len(), "signature")?;
            entries.push((alg, signature.to_vec()));
        }
        Ok(CompositeSignature { entries })
    }

    /// Algorithms present, ascending.
    pub fn algorithms(&self) -> impl Iterator<Item = SigAlg> + '_ {
        self.entries.iter().map(|(alg, _)| *alg)
    }

    /// Returns the signature of `alg`, if present.
    pub fn get(&self, alg: SigAlg) -> Option<&[u8]> {
        self.entries
            .iter()
            .find(|(a, _)| *a == alg)
            .map(|(_, s)| s.as_slice())
    }

    /// Keeps only the signatures whose algorithm satisfies `keep`.
    pub(crate) fn retain(&mut self, keep: impl Fn(SigAlg) -> bool) {
        self.entries.retain(|(alg, _)| keep(*alg));
    }
}

impl fmt::Debug for CompositeSignature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.entries.iter().map(|(alg, s)| (alg, s.len())))
            .finish()
    }
}

/// Signature lengths in algorithm id order.
const SIG_LENS: [usize; 3] = [
    64,   // Ed25519
    3309, // ML-DSA-65
    4627, // ML-DSA-87
];

/// Public key lengths in algorithm id order.
const KEY_LENS: [usize; 3] = [
    32,   // Ed25519
    1952, // ML-DSA-65
    2592, // ML-DSA-87
];

fn read_sig_alg(reader: &mut Reader<'_>) -> Result<SigAlg, DecodeError> {
    let id = reader.u8("signature algorithm")?;
    SigAlg::from_id(id).ok_or(DecodeError::UnknownAlgorithm {
        what: "signature algorithm",
        id,
    })
}

/// One signature of a composite, ready to verify against one public key.
pub(crate) struct SignatureCheck<'a> {
    pub(crate) alg: SigAlg,
    pub(crate) public_key: &'a [u8],
    pub(crate) signature: &'a [u8],
}

impl SignatureCheck<'_> {
    /// Verifies this signature alone.
    pub(crate) fn verify(
        &self,
        backends: &BackendSet,
        message: &SignedMessage,
    ) -> Result<(), SignatureError> {
        let (msg, context) = message.input_for(self.alg);
        backends
            .signer(self.alg)
            .verify(self.public_key, msg, context, self.signature)
            .map_err(|_| SignatureError::Invalid(self.alg))
    }
}

/// The public half of an [`Identity`]: its modes and verifying keys.
#[derive(Clone)]
pub struct PublicIdentity {
    modes: ModeSet,
    keys: Vec<(SigAlg, Vec<u8>)>,
    encoding: Vec<u8>,
    id: IdentityId,
}

impl PublicIdentity {
    /// Maximum encoded length: every algorithm's key present.
    pub const MAX_ENCODED_LEN: usize = 2 + 3 + KEY_LENS[0] + KEY_LENS[1] + KEY_LENS[2];

    /// Builds an identity from keys in ascending algorithm order, computing
    /// its encoding and id. Does not check that `keys` matches `modes`.
    fn from_parts(modes: ModeSet, keys: Vec<(SigAlg, Vec<u8>)>) -> PublicIdentity {
        let len = 2 + keys.iter().map(|(_, k)| 1 + k.len()).sum::<usize>();
        let mut writer = Writer::with_capacity(len);
        writer.u8(IDENTITY_VERSION).u8(modes.bits());
        for (alg, key) in &keys {
            writer.u8(alg.id()).bytes(key);
        }

        let encoding = writer.into_vec();
        let id = IdentityId(kdf::identity_id(&encoding));
        PublicIdentity {
            modes,
            keys,
            encoding,
            id,
        }
    }

    /// Decodes the canonical encoding.
    ///
    /// # Errors
    /// [`DecodeError`] on an unknown version, an unknown or empty mode set,
    /// keys that are not exactly the mode set's algorithms in ascending
    /// order, truncation or trailing bytes.
    pub fn decode(bytes: &[u8]) -> Result<PublicIdentity, DecodeError> {
        let mut reader = Reader::new(bytes);
        reader.version(IDENTITY_VERSION, "public identity")?;
        let modes = read_mode_set(&mut reader, "identity mode set")?;

        let needed = modes.signature_algs();
        let mut keys = Vec::with_capacity(needed.len());
        for expected in needed {
            let alg = read_sig_alg(&mut reader)?;
            if alg != expected {
                return Err(DecodeError::NotCanonical {
                    what: "identity keys must be exactly its modes' algorithms, ascending",
                });
            }
            let key = reader.bytes(alg.public_key_len(), "public key")?;
            keys.push((alg, key.to_vec()));
        }
        reader.finish("public identity")?;

        Ok(PublicIdentity {
            modes,
            keys,
            encoding: bytes.to_vec(),
            id: IdentityId(kdf::identity_id(bytes)),
        })
    }

    /// Returns a copy of the canonical encoding.
    pub fn encode(&self) -> Vec<u8> {
        self.encoding.clone()
    }

    /// Returns the canonical encoding without copying it.
    pub fn as_bytes(&self) -> &[u8] {
        &self.encoding
    }

    /// Returns the id, BLAKE3 `derive_key` over the canonical encoding.
    pub fn id(&self) -> IdentityId {
        self.id
    }

    /// Modes this identity can sign for.
    pub fn modes(&self) -> ModeSet {
        self.modes
    }

    /// Returns the verifying key of `alg`, if the identity has one.
    pub fn key(&self, alg: SigAlg) -> Option<&[u8]> {
        self.keys
            .iter()
            .find(|(a, _)| *a == alg)
            .map(|(_, k)| k.as_slice())
    }

    /// Verifies `signature` over `msg` with every algorithm of this
    /// identity's strongest mode, using the default backends.
    ///
    /// # Errors
    /// [`SignatureError`] if a required signature is missing or invalid, or
    /// if `signature` contains one the mode does not use.
    pub fn verify(
        &self,
        context: SignContext,
        msg: &[u8],
        signature: &CompositeSignature,
    ) -> Result<(), SignatureError> {
        self.verify_with(&Engine::new(), context, msg, signature)
    }

    /// Like [`PublicIdentity::verify`], with the backends of `engine`.
    ///
    /// # Errors
    /// As [`PublicIdentity::verify`].
    pub fn verify_with(
        &self,
        engine: &Engine,
        context: SignContext,
        msg: &[u8],
        signature: &CompositeSignature,
    ) -> Result<(), SignatureError> {
        let mode = self.modes.strongest().ok_or(SignatureError::NoModes)?;
        let mut message = SignedMessage::new(context, msg.len());
        message.push(msg);
        self.verify_message(engine.backends(), mode, &message, signature)
    }

    /// Verifies every signature that `mode` requires, one at a time.
    pub(crate) fn verify_message(
        &self,
        backends: &BackendSet,
        mode: Mode,
        message: &SignedMessage,
        signature: &CompositeSignature,
    ) -> Result<(), SignatureError> {
        for check in self.signature_checks(mode, signature)? {
            check.verify(backends, message)?;
        }
        Ok(())
    }

    /// Pairs each signature that `mode` requires with this identity's key.
    ///
    /// # Errors
    /// [`SignatureError::MissingKey`] or [`SignatureError::Missing`] for a
    /// required algorithm (checked in ascending order), then
    /// [`SignatureError::Unexpected`] for a signature the mode does not use.
    pub(crate) fn signature_checks<'a>(
        &'a self,
        mode: Mode,
        signature: &'a CompositeSignature,
    ) -> Result<Vec<SignatureCheck<'a>>, SignatureError> {
        let required = mode.signatures();
        let mut checks = Vec::with_capacity(required.len());
        for &alg in required {
            let public_key = self.key(alg).ok_or(SignatureError::MissingKey(alg))?;
            let sig = signature.get(alg).ok_or(SignatureError::Missing(alg))?;
            checks.push(SignatureCheck {
                alg,
                public_key,
                signature: sig,
            });
        }

        if let Some(extra) = signature.algorithms().find(|alg| !required.contains(alg)) {
            return Err(SignatureError::Unexpected(extra));
        }
        Ok(checks)
    }

    /// Drops the post-quantum modes and ML-DSA keys, keeping the rest.
    pub(crate) fn without_post_quantum(&self) -> PublicIdentity {
        let mut modes = self.modes;
        modes.remove(Mode::Hybrid);
        modes.remove(Mode::Pq);
        let keys = self
            .keys
            .iter()
            .filter(|(alg, _)| !alg.is_post_quantum())
            .cloned()
            .collect();
        PublicIdentity::from_parts(modes, keys)
    }
}

impl PartialEq for PublicIdentity {
    fn eq(&self, other: &Self) -> bool {
        self.encoding == other.encoding
    }
}

impl Eq for PublicIdentity {}

impl fmt::Debug for PublicIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublicIdentity")
            .field("id", &self.id)
            .field("modes", &format_args!("{}", self.modes))
            .finish_non_exhaustive()
    }
}

/// Reads a mode-set byte; rejects unknown bits and the empty set.
pub(crate) fn read_mode_set(
    reader: &mut Reader<'_>,
    what: &'static str,
) -> Result<ModeSet, DecodeError> {
    let bits = reader.u8(what)?;
    let modes = ModeSet::from_bits(bits).ok_or(DecodeError::UnknownAlgorithm { what, id: bits })?;
    if modes.is_empty() {
        return Err(DecodeError::NotCanonical {
            what: "empty mode set",
        });
    }
    Ok(modes)
}

/// A signing identity: one secret key per signature algorithm its modes
/// need, and the public identity.
///
/// Secret keys are zeroized when the identity is dropped and never appear
/// in its `Debug` output. The type is not `Clone`, so each secret key has a
/// single owner; share an identity through `Arc` instead.
pub struct Identity {
    public: PublicIdentity,
    secrets: Vec<(SigAlg, SecretBytes)>,
    backends: Arc<BackendSet>,
}

// Each `SecretBytes` zeroizes itself on drop, and nothing else is secret.
impl ZeroizeOnDrop for Identity {}

impl Identity {
    /// Generates keys for `modes` from the operating system's randomness,
    /// with the default backends.
    ///
    /// # Errors
    /// [`KeyError::NoModes`] for an empty set, [`KeyError::Generate`] if a
    /// backend fails.
    pub fn generate(modes: ModeSet) -> Result<Identity, KeyError> {
        Self::generate_with(&Engine::new(), modes)
    }

    /// Generates keys for `modes` with the backends of `engine`, which
    /// [`Identity::sign`] keeps using.
    ///
    /// # Errors
    /// As [`Identity::generate`].
    pub fn generate_with(engine: &Engine, modes: ModeSet) -> Result<Identity, KeyError> {
        if modes.is_empty() {
            return Err(KeyError::NoModes);
        }

        let backends = engine.backends_arc();
        let algs = modes.signature_algs();
        let mut secrets = Vec::with_capacity(algs.len());
        let mut keys = Vec::with_capacity(algs.len());
        for alg in algs {
            let pair = backends
                .signer(alg)
                .generate()
                .map_err(|source| KeyError::Generate {
                    alg: crate::error::sig_name(alg),
                    source,
                })?;
            secrets.push((alg, pair.secret));
            keys.push((alg, pair.public));
        }

        Ok(Identity {
            public: PublicIdentity::from_parts(modes, keys),
            secrets,
            backends,
        })
    }

    /// Returns the id of the public identity.
    pub fn id(&self) -> IdentityId {
        self.public.id
    }

    /// Modes this identity can sign for.
    pub fn modes(&self) -> ModeSet {
        self.public.modes
    }

    /// Returns the public identity.
    pub fn public(&self) -> &PublicIdentity {
        &self.public
    }

    /// Returns whether the identity has a signing key for `alg`.
    pub fn has_key(&self, alg: SigAlg) -> bool {
        self.secrets.iter().any(|(a, _)| *a == alg)
    }

    /// Signs `msg` under `context` with every signature algorithm of the
    /// identity's strongest mode.
    ///
    /// # Errors
    /// [`KeyError::Sign`] if a backend fails, for example when ML-DSA's
    /// hedged signing cannot draw randomness.
    pub fn sign(&self, context: SignContext, msg: &[u8]) -> Result<CompositeSignature, KeyError> {
        let mode = self.modes().strongest().ok_or(KeyError::NoModes)?;
        let mut message = SignedMessage::new(context, msg.len());
        message.push(msg);
        Ok(self.sign_message(&self.backends, mode.signatures(), &message)?)
    }

    /// Signs `message` with each of `algs` (ascending) using `backends`.
    pub(crate) fn sign_message(
        &self,
        backends: &BackendSet,
        algs: &[SigAlg],
        message: &SignedMessage,
    ) -> Result<CompositeSignature, SignFailure> {
        let mut entries = Vec::with_capacity(algs.len());
        for &alg in algs {
            let secret = self.secret(alg).ok_or(SignFailure::MissingKey(alg))?;
            let (msg, context) = message.input_for(alg);
            let signature = backends
                .signer(alg)
                .sign(secret, msg, context)
                .map_err(|source| SignFailure::Backend { alg, source })?;
            entries.push((alg, signature));
        }
        Ok(CompositeSignature { entries })
    }

    fn secret(&self, alg: SigAlg) -> Option<&SecretBytes> {
        self.secrets.iter().find(|(a, _)| *a == alg).map(|(_, s)| s)
    }
}

/// Why [`Identity::sign_message`] failed.
#[derive(Debug)]
pub(crate) enum SignFailure {
    /// The identity has no key for this algorithm.
    MissingKey(SigAlg),
    /// The backend failed to sign.
    Backend { alg: SigAlg, source: PrimitiveError },
}

impl From<SignFailure> for KeyError {
    fn from(failure: SignFailure) -> KeyError {
        match failure {
            SignFailure::MissingKey(alg) => KeyError::MissingKey(alg),
            SignFailure::Backend { alg, source } => KeyError::Sign { alg, source },
        }
    }
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identity")
            .field("id", &self.public.id)
            .field("modes", &format_args!("{}", self.public.modes))
            .field("secret_keys", &"[REDACTED]")
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_hex_round_trip() {
        let id = IdentityId::from_bytes([0xab; 32]);
        let text = id.to_string();
        assert_eq!(text, "ab".repeat(32));
        assert_eq!(format!("{id:?}"), text);
        assert_eq!(text.parse::<IdentityId>(), Ok(id));
    }

    #[test]
    fn id_parse_rejects_uppercase_and_bad_length() {
        assert_eq!(
            "AB".repeat(32).parse::<IdentityId>(),
            Err(DecodeError::InvalidHex {
                what: "identity id"
            })
        );
        assert!(matches!(
            "ab".repeat(31).parse::<IdentityId>(),
            Err(DecodeError::WrongLength { .. })
        ));
        assert!(matches!(
            "zz".repeat(32).parse::<IdentityId>(),
            Err(DecodeError::InvalidHex { .. })
        ));
    }

    #[test]
    fn length_tables_match_algorithms() {
        for (i, alg) in [SigAlg::Ed25519, SigAlg::MlDsa65, SigAlg::MlDsa87]
            .into_iter()
            .enumerate()
        {
            assert_eq!(SIG_LENS[i], alg.signature_len());
            assert_eq!(KEY_LENS[i], alg.public_key_len());
        }
    }

    #[test]
    fn debug_hides_secret_keys() {
        let identity = Identity::generate(ModeSet::ALL).expect("key generation");
        let printed = format!("{identity:?} {identity:#?}");
        for (_, secret) in &identity.secrets {
            let bytes = secret.expose();
            assert!(!printed.contains(&hex::encode(bytes)));
            assert!(!printed.contains(&format!("{:?}", &bytes[..8])));
            assert!(!printed.contains(&format!("{:x?}", &bytes[..8])));
        }
        assert!(printed.contains("[REDACTED]"));
    }

    #[test]
    fn contexts_separate_signatures() {
        let identity = Identity::generate(ModeSet::ALL).expect("key generation");
        let public = identity.public();
        let signature = identity
            .sign(SignContext::Bundle, b"message")
            .expect("signing");
        assert_eq!(
            public.verify(SignContext::Bundle, b"message", &signature),
            Ok(())
        );
        assert_eq!(
            public.verify(SignContext::Request, b"message", &signature),
            Err(SignatureError::Invalid(SigAlg::MlDsa87))
        );
    }

    #[test]
    fn ed25519_signs_the_context_prefix() {
        let identity = Identity::generate(ModeSet::of(&[Mode::Classical])).expect("keys");
        let signature = identity
            .sign(SignContext::Envelope, b"message")
            .expect("signing");
        let public = identity.public();
        assert_eq!(
            public.verify(SignContext::Request, b"message", &signature),
            Err(SignatureError::Invalid(SigAlg::Ed25519))
        );
        assert_eq!(
            public.verify(SignContext::Envelope, b"message", &signature),
            Ok(())
        );
    }
}
