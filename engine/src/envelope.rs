//! Envelopes: one-shot messages sealed to a recipient's verified bundle.
//!
//! Encoding:
//!
//! ```text
//! header     = magic "QRE" | version = 1 | mode u8 | aead u8 | recipient id (32) |
//!              expires_at u64 | KEM ciphertext (fixed length per mode)
//! envelope   = header | AEAD ciphertext of the plaintext, 16-byte tag appended
//! plaintext  = sender PublicIdentity (u32 length + bytes) |
//!              CompositeSignature (u32 length + bytes) | payload (the rest)
//! ```
//!
//! The whole header is the AEAD's associated data, so changing the mode, the
//! AEAD, the recipient, the expiry or the KEM ciphertext makes decryption
//! fail. The AEAD key and nonce come from [`kdf::Transcript`].
//!
//! The sender signs, under [`SignContext::Envelope`] and with every
//! signature algorithm of the envelope's mode,
//!
//! ```text
//! header | BLAKE3 derive_key("qrnm v1 envelope payload hash", payload)
//! ```
//!
//! so the signatures cover the mode, the AEAD, the recipient id, the expiry,
//! the KEM ciphertext and the payload. A recipient cannot re-address a
//! message it received to someone else, because the recipient id and
//! ciphertext change. No one can claim another sender's signed payload,
//! because the signatures verify only under the original sender's keys. The sender's
//! identity and signatures travel inside the ciphertext, so the relay learns
//! the recipient, the mode and the size, but not the sender.

use std::fmt;

use zeroize::Zeroizing;

use crate::bundle::{Recipient, VerifiedBundle};
use crate::codec::{Reader, Writer};
use crate::error::{DecodeError, OpenError, SealError, SignatureError};
use crate::identity::{
    CompositeSignature, Identity, IdentityId, PublicIdentity, SignContext, SignFailure,
    SignatureCheck, SignedMessage,
};
use crate::kdf::{self, Transcript};
use crate::mode::{AeadAlg, Mode};
use crate::negotiate::{Negotiated, Policy, negotiate};
use crate::primitives::{BackendSet, PrimitiveError, SharedSecret};

const ENVELOPE_MAGIC: &[u8] = b"QRE";
const ENVELOPE_VERSION: u8 = 1;
/// Length of the AEAD tag at the end of the ciphertext.
const TAG_LEN: usize = 16;
/// Length of the header before the KEM ciphertext.
const PREFIX_LEN: usize = 3 + 1 + 1 + 1 + IdentityId::LEN + 8;
/// Length of the payload hash that the signatures cover.
const PAYLOAD_HASH_LEN: usize = 32;

/// Default envelope lifetime: 7 days.
///
/// A week lets a recipient who is offline for several days still open its
/// mail, and bounds how long an envelope that leaked from a relay's storage
/// stays openable.
pub const DEFAULT_ENVELOPE_TTL_SECS: u64 = 7 * 24 * 60 * 60;

/// A sealed envelope.
#[derive(Clone, PartialEq, Eq)]
pub struct Sealed {
    /// The envelope encoding, ready to post to the relay.
    pub envelope: Vec<u8>,
    /// Negotiated mode.
    pub mode: Mode,
    /// Whether `mode` is weaker than the sender policy's preferred mode.
    pub fallback: bool,
}

impl fmt::Debug for Sealed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sealed")
            .field("envelope_len", &self.envelope.len())
            .field("mode", &self.mode)
            .field("fallback", &self.fallback)
            .finish()
    }
}

/// An opened and verified envelope.
#[derive(Clone, PartialEq, Eq)]
pub struct Opened {
    /// Id of the sender, whose signatures verified.
    pub sender: IdentityId,
    /// Mode the envelope was sealed in.
    pub mode: Mode,
    /// Decrypted payload.
    pub payload: Vec<u8>,
}

impl fmt::Debug for Opened {
    /// Prints the payload length, never the payload.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Opened")
            .field("sender", &self.sender)
            .field("mode", &self.mode)
            .field("payload_len", &self.payload.len())
            .finish()
    }
}

/// The public header of an envelope: the fields a relay can read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvelopeHeader {
    mode: Mode,
    aead: AeadAlg,
    recipient: IdentityId,
    expires_at: u64,
    header_len: usize,
    total_len: usize,
}

impl EnvelopeHeader {
    /// Parses the header of an envelope without decrypting anything.
    ///
    /// # Errors
    /// [`DecodeError`] on bad magic, an unknown version, an unknown mode or
    /// AEAD, or an envelope too short for its KEM ciphertext and AEAD tag.
    pub fn parse(envelope: &[u8]) -> Result<EnvelopeHeader, DecodeError> {
        let prefix = Prefix::read(envelope)?;
        let mode = Mode::from_id(prefix.mode).ok_or(DecodeError::UnknownAlgorithm {
            what: "envelope mode",
            id: prefix.mode,
        })?;
        let aead = AeadAlg::from_id(prefix.aead).ok_or(DecodeError::UnknownAlgorithm {
            what: "envelope AEAD",
            id: prefix.aead,
        })?;
        let parts = split(envelope, mode)?;

        Ok(EnvelopeHeader {
            mode,
            aead,
            recipient: prefix.recipient,
            expires_at: prefix.expires_at,
            header_len: parts.header.len(),
            total_len: envelope.len(),
        })
    }

    /// Format version.
    pub fn version(&self) -> u8 {
        ENVELOPE_VERSION
    }

    /// Mode the envelope claims. Authenticated only when the recipient opens it.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// AEAD the envelope claims.
    pub fn aead(&self) -> AeadAlg {
        self.aead
    }

    /// Recipient id, which is the mailbox id.
    pub fn recipient(&self) -> IdentityId {
        self.recipient
    }

    /// Expiry, unix seconds.
    pub fn expires_at(&self) -> u64 {
        self.expires_at
    }

    /// Length of the header (the AEAD's associated data).
    pub fn header_len(&self) -> usize {
        self.header_len
    }

    /// Length of the whole envelope.
    pub fn total_len(&self) -> usize {
        self.total_len
    }
}

/// The fixed-length start of a header, with identifiers not yet validated.
struct Prefix {
    mode: u8,
    aead: u8,
    recipient: IdentityId,
    expires_at: u64,
}

impl Prefix {
    fn read(envelope: &[u8]) -> Result<Prefix, DecodeError> {
        let mut reader = Reader::new(envelope);
        reader.magic(ENVELOPE_MAGIC, "envelope")?;
        reader.version(ENVELOPE_VERSION, "envelope")?;
        Ok(Prefix {
            mode: reader.u8("envelope mode")?,
            aead: reader.u8("envelope AEAD")?,
            recipient: IdentityId::from_bytes(reader.array("recipient id")?),
            expires_at: reader.u64("envelope expiry")?,
        })
    }
}

/// An envelope split at the header and KEM ciphertext boundaries.
struct Parts<'a> {
    header: &'a [u8],
    kem_ciphertext: &'a [u8],
    ciphertext: &'a [u8],
}

/// Splits `envelope` for `mode`, checking that it contains the whole KEM
/// ciphertext and at least an AEAD tag.
fn split(envelope: &[u8], mode: Mode) -> Result<Parts<'_>, DecodeError> {
    let mut reader = Reader::new(envelope);
    reader.bytes(PREFIX_LEN, "envelope header")?;
    let kem_ciphertext = reader.bytes(mode.kem().ciphertext_len(), "KEM ciphertext")?;
    let header_len = reader.position();
    let ciphertext = reader.rest();
    if ciphertext.len() < TAG_LEN {
        return Err(DecodeError::Truncated {
            what: "envelope ciphertext",
            needed: TAG_LEN,
            remaining: ciphertext.len(),
        });
    }

    Ok(Parts {
        header: &envelope[..header_len],
        kem_ciphertext,
        ciphertext,
    })
}

/// Seals `payload` from `sender` to the bundle `to`; see [`crate::Engine::seal`].
pub(crate) fn seal(
    backends: &BackendSet,
    sender: &Identity,
    to: &VerifiedBundle,
    policy: &Policy,
    payload: &[u8],
    now: u64,
    ttl_secs: u64,
) -> Result<Sealed, SealError> {
    let (negotiated, expires_at) = check_seal(sender, to, policy, now, ttl_secs)?;
    let mode = negotiated.mode;
    let kem = encapsulate(backends, to, mode)?;

    let aead = backends.aead;
    let recipient = to.owner();
    let capacity = PREFIX_LEN
        + kem.ciphertext.len()
        + plaintext_len(sender.public(), mode, payload.len())
        + TAG_LEN;
    let mut envelope = Writer::with_capacity(capacity);
    write_header(
        &mut envelope,
        mode,
        aead,
        recipient,
        expires_at,
        &kem.ciphertext,
    );
    let mut envelope = envelope.into_vec();

    let message = signed_message(&envelope, payload);
    let signature = sender
        .sign_message(backends, mode.signatures(), &message)
        .map_err(|err| seal_sign_error(mode, err))?;
    let plaintext = encode_plaintext(sender.public(), &signature, payload);

    let keys = Transcript {
        mode,
        aead,
        recipient: recipient.as_bytes(),
        recipient_kem_key_hash: &kem.public_key_hash,
        kem_ciphertext: &kem.ciphertext,
        shared_secret: &kem.shared_secret,
    }
    .derive();
    let ciphertext = backends
        .aead_backend(aead)
        .seal(&keys.key, &keys.nonce, &envelope, &plaintext)
        .map_err(|_| SealError::Aead)?;
    envelope.extend_from_slice(&ciphertext);

    Ok(Sealed {
        envelope,
        mode,
        fallback: negotiated.fallback,
    })
}

/// Checks the bundle's expiry, negotiates the mode, checks that the sender
/// can sign for it, and computes the envelope's expiry.
fn check_seal(
    sender: &Identity,
    to: &VerifiedBundle,
    policy: &Policy,
    now: u64,
    ttl_secs: u64,
) -> Result<(Negotiated, u64), SealError> {
    if now >= to.expires_at() {
        return Err(SealError::BundleExpired {
            expires_at: to.expires_at(),
            now,
        });
    }

    let negotiated = negotiate(policy, to.modes())?;
    let mode = negotiated.mode;
    if let Some(&alg) = mode.signatures().iter().find(|&&a| !sender.has_key(a)) {
        return Err(SealError::MissingSignatureKey { mode, alg });
    }

    let expires_at = now
        .checked_add(ttl_secs)
        .ok_or(SealError::ExpiryOverflow { now, ttl_secs })?;
    Ok((negotiated, expires_at))
}

/// Output of encapsulating to a recipient's KEM key.
struct Encapsulated {
    ciphertext: Vec<u8>,
    shared_secret: SharedSecret,
    public_key_hash: [u8; 32],
}

fn encapsulate(
    backends: &BackendSet,
    to: &VerifiedBundle,
    mode: Mode,
) -> Result<Encapsulated, SealError> {
    // A verified bundle has a key for each of its modes, and negotiation
    // picks one of them, so the key is present.
    let (public_key, public_key_hash) = to
        .kem_key(mode)
        .ok_or(SealError::InvalidRecipientKey(mode))?;

    let (ciphertext, shared_secret) =
        backends
            .kem(mode.kem())
            .encapsulate(public_key)
            .map_err(|err| match err {
                PrimitiveError::InvalidPublicKey | PrimitiveError::InvalidLength { .. } => {
                    SealError::InvalidRecipientKey(mode)
                }
                _ => SealError::Kem,
            })?;

    Ok(Encapsulated {
        ciphertext,
        shared_secret,
        public_key_hash: *public_key_hash,
    })
}

fn write_header(
    writer: &mut Writer,
    mode: Mode,
    aead: AeadAlg,
    recipient: IdentityId,
    expires_at: u64,
    kem_ciphertext: &[u8],
) {
    writer
        .bytes(ENVELOPE_MAGIC)
        .u8(ENVELOPE_VERSION)
        .u8(mode.id())
        .u8(aead.id())
        .bytes(recipient.as_bytes())
        .u64(expires_at)
        .bytes(kem_ciphertext);
}

fn seal_sign_error(mode: Mode, failure: SignFailure) -> SealError {
    match failure {
        SignFailure::MissingKey(alg) => SealError::MissingSignatureKey { mode, alg },
        SignFailure::Backend { alg, source } => SealError::Sign { alg, source },
    }
}

/// Builds the message an envelope's signatures cover: the header and the
/// payload hash.
fn signed_message(header: &[u8], payload: &[u8]) -> SignedMessage {
    let mut message = SignedMessage::new(SignContext::Envelope, header.len() + PAYLOAD_HASH_LEN);
    message.push(header);
    message.push(&kdf::payload_hash(payload));
    message
}

/// Exact plaintext length for a sender signing in `mode`.
fn plaintext_len(sender: &PublicIdentity, mode: Mode, payload_len: usize) -> usize {
    let signatures: usize = mode
        .signatures()
        .iter()
        .map(|a| 1 + a.signature_len())
        .sum();
    4 + sender.as_bytes().len() + 4 + 1 + signatures + payload_len
}

fn encode_plaintext(
    sender: &PublicIdentity,
    signature: &CompositeSignature,
    payload: &[u8],
) -> Vec<u8> {
    let signature = signature.encode();
    let identity = sender.as_bytes();
    let mut writer = Writer::with_capacity(8 + identity.len() + signature.len() + payload.len());
    writer
        .var_bytes(identity)
        .var_bytes(&signature)
        .bytes(payload);
    writer.into_vec()
}

/// A decrypted envelope whose signatures have not been checked yet.
pub(crate) struct Unverified {
    sender: PublicIdentity,
    signature: CompositeSignature,
    message: SignedMessage,
    mode: Mode,
    payload: Vec<u8>,
}

impl Unverified {
    /// Returns the signed message, for batch verification.
    pub(crate) fn message(&self) -> &SignedMessage {
        &self.message
    }

    /// Pairs each signature the mode requires with the sender's key.
    ///
    /// # Errors
    /// [`SignatureError`] if the sender lacks a key, a signature is missing,
    /// or an extra one is present.
    pub(crate) fn signature_checks(&self) -> Result<Vec<SignatureCheck<'_>>, SignatureError> {
        self.sender.signature_checks(self.mode, &self.signature)
    }

    /// Verifies every signature one at a time and returns the opened envelope.
    pub(crate) fn verify(self, backends: &BackendSet) -> Result<Opened, OpenError> {
        for check in self.signature_checks()? {
            check.verify(backends, &self.message)?;
        }
        Ok(self.into_opened())
    }

    /// Returns the envelope as opened; the caller has verified every
    /// signature from [`Unverified::signature_checks`].
    pub(crate) fn into_opened(self) -> Opened {
        Opened {
            sender: self.sender.id(),
            mode: self.mode,
            payload: self.payload,
        }
    }
}

/// Runs every check of opening up to signature verification.
///
/// The order: header prefix decoding, known mode, known AEAD, policy floor,
/// mode listed in `me`'s bundle, recipient id, expiry, header length for the
/// mode, decapsulation, decryption, decoding of the decrypted contents.
pub(crate) fn decrypt(
    backends: &BackendSet,
    me: &Recipient,
    policy: &Policy,
    envelope: &[u8],
    now: u64,
) -> Result<Unverified, OpenError> {
    let (mode, aead) = check_header(me, policy, envelope, now)?;
    let parts = split(envelope, mode)?;

    let secret = me
        .kem_secret(mode)
        .ok_or(OpenError::ModeNotInBundle(mode))?;
    let shared_secret = backends
        .kem(mode.kem())
        .decapsulate(&secret.secret, parts.kem_ciphertext)
        .map_err(|_| OpenError::Kem)?;
    let keys = Transcript {
        mode,
        aead,
        recipient: me.id().as_bytes(),
        recipient_kem_key_hash: &secret.public_key_hash,
        kem_ciphertext: parts.kem_ciphertext,
        shared_secret: &shared_secret,
    }
    .derive();

    let plaintext = backends
        .aead_backend(aead)
        .open(&keys.key, &keys.nonce, parts.header, parts.ciphertext)
        .map_err(|_| OpenError::Aead)?;
    decode_plaintext(mode, parts.header, plaintext)
}

/// Checks the header prefix against the recipient, its policy and `now`.
fn check_header(
    me: &Recipient,
    policy: &Policy,
    envelope: &[u8],
    now: u64,
) -> Result<(Mode, AeadAlg), OpenError> {
    let prefix = Prefix::read(envelope)?;
    let mode = Mode::from_id(prefix.mode).ok_or(OpenError::UnsupportedMode(prefix.mode))?;
    let aead = AeadAlg::from_id(prefix.aead).ok_or(OpenError::UnsupportedAead(prefix.aead))?;

    if mode < policy.floor {
        return Err(OpenError::BelowPolicy {
            mode,
            floor: policy.floor,
        });
    }
    if !me.bundle().modes().contains(mode) {
        return Err(OpenError::ModeNotInBundle(mode));
    }
    if prefix.recipient != me.id() {
        return Err(OpenError::WrongRecipient);
    }
    if now >= prefix.expires_at {
        return Err(OpenError::Expired {
            expires_at: prefix.expires_at,
            now,
        });
    }
    Ok((mode, aead))
}

/// Decodes the decrypted contents and hashes the payload.
fn decode_plaintext(
    mode: Mode,
    header: &[u8],
    mut plaintext: Zeroizing<Vec<u8>>,
) -> Result<Unverified, OpenError> {
    // The payload is returned to the caller in a plain `Vec`, so the buffer
    // leaves the `Zeroizing` wrapper here and is not wiped.
    let mut plaintext = std::mem::take(&mut *plaintext);

    let mut reader = Reader::new(&plaintext);
    let sender = reader.var_bytes(PublicIdentity::MAX_ENCODED_LEN, "sender identity")?;
    let sender = PublicIdentity::decode(sender)?;
    let signature = reader.var_bytes(CompositeSignature::MAX_ENCODED_LEN, "sender signature")?;
    let signature = CompositeSignature::decode(signature)?;
    let payload_start = reader.position();

    let message = signed_message(header, &plaintext[payload_start..]);
    plaintext.drain(..payload_start);

    Ok(Unverified {
        sender,
        signature,
        message,
        mode,
        payload: plaintext,
    })
}

/// Builders of envelopes that only a malicious sender or recipient could
/// produce: valid encryption around tampered contents.
#[cfg(test)]
pub(crate) mod forge {
    use super::*;
    use crate::engine::Engine;
    use crate::mode::SigAlg;

    /// Expiry written into forged envelopes.
    pub(crate) const EXPIRES_AT: u64 = 1_700_003_600;

    /// Encrypts `plaintext` to `to` in `mode` with a fresh KEM ciphertext and
    /// a correct header, returning the header and the envelope.
    pub(crate) fn encrypt(
        engine: &Engine,
        to: &VerifiedBundle,
        mode: Mode,
        plaintext_for: impl FnOnce(&[u8]) -> Vec<u8>,
    ) -> Vec<u8> {
        let backends = engine.backends();
        let kem = encapsulate(backends, to, mode).unwrap();
        let mut envelope = Writer::default();
        let aead = backends.aead;
        write_header(
            &mut envelope,
            mode,
            aead,
            to.owner(),
            EXPIRES_AT,
            &kem.ciphertext,
        );
        let mut envelope = envelope.into_vec();

        let plaintext = plaintext_for(&envelope);
        let keys = Transcript {
            mode,
            aead,
            recipient: to.owner().as_bytes(),
            recipient_kem_key_hash: &kem.public_key_hash,
            kem_ciphertext: &kem.ciphertext,
            shared_secret: &kem.shared_secret,
        }
        .derive();
        let ciphertext = backends
            .aead_backend(aead)
            .seal(&keys.key, &keys.nonce, &envelope, &plaintext)
            .unwrap();
        envelope.extend_from_slice(&ciphertext);
        envelope
    }

    /// Seals `payload` from `sender` to `to` in `mode` with a correct
    /// signature over the real header, then lets `tamper` change the sender
    /// identity and signature before encryption.
    pub(crate) fn seal_tampered(
        engine: &Engine,
        sender: &Identity,
        to: &VerifiedBundle,
        mode: Mode,
        payload: &[u8],
        tamper: impl FnOnce(&mut PublicIdentity, &mut CompositeSignature),
    ) -> Vec<u8> {
        encrypt(engine, to, mode, |header| {
            let message = signed_message(header, payload);
            let algs = mode.signatures();
            let mut signature = sender
                .sign_message(engine.backends(), algs, &message)
                .unwrap();
            let mut identity = sender.public().clone();
            tamper(&mut identity, &mut signature);
            encode_plaintext(&identity, &signature, payload)
        })
    }

    /// Decrypts `envelope` as `me` without checking its signatures.
    pub(crate) fn decrypt_unverified(
        engine: &Engine,
        me: &Recipient,
        envelope: &[u8],
    ) -> Unverified {
        let policy = Policy::at_least(Mode::Classical);
        let now = EXPIRES_AT - 1;
        decrypt(engine.backends(), me, &policy, envelope, now).unwrap()
    }

    /// Encodes the decrypted contents again, unchanged.
    pub(crate) fn reencode(unverified: &Unverified) -> Vec<u8> {
        encode_plaintext(
            &unverified.sender,
            &unverified.signature,
            &unverified.payload,
        )
    }

    /// Returns `signature` with one bit of `alg`'s signature flipped.
    pub(crate) fn flip_signature_bit(
        signature: &CompositeSignature,
        alg: SigAlg,
    ) -> CompositeSignature {
        let mut bytes = signature.encode();
        let mut offset = 1;
        for present in signature.algorithms() {
            if present == alg {
                bytes[offset + 1 + 10] ^= 0x01;
                break;
            }
            offset += 1 + present.signature_len();
        }
        CompositeSignature::decode(&bytes).unwrap()
    }
}

#[cfg(test)]
mod tests {
    use super::forge::{self, EXPIRES_AT};
    use super::*;
    use crate::engine::Engine;
    use crate::mode::{ModeSet, SigAlg};

    const NOW: u64 = EXPIRES_AT - 100;

    fn setup(modes: ModeSet) -> (Engine, Identity, Recipient, VerifiedBundle) {
        let engine = Engine::new();
        let sender = Identity::generate_with(&engine, ModeSet::ALL).unwrap();
        let recipient = Recipient::generate(&engine, modes, NOW - 10, 3600).unwrap();
        let bundle = recipient.bundle().verify(&engine, NOW).unwrap();
        (engine, sender, recipient, bundle)
    }

    fn open(engine: &Engine, me: &Recipient, envelope: &[u8]) -> Result<Opened, OpenError> {
        engine.open(me, &Policy::at_least(Mode::Classical), envelope, NOW)
    }

    #[test]
    fn untampered_forgery_opens() {
        // The forging helpers produce valid envelopes when nothing is
        // changed, so the failures below come from the tampering alone.
        for mode in Mode::ALL {
            let (engine, sender, recipient, bundle) = setup(ModeSet::ALL);
            let envelope = forge::seal_tampered(&engine, &sender, &bundle, mode, b"hi", |_, _| {});
            let opened = open(&engine, &recipient, &envelope).unwrap();
            assert_eq!(opened.sender, sender.id());
            assert_eq!(opened.mode, mode);
            assert_eq!(opened.payload, b"hi");
        }
    }

    #[test]
    fn swapped_sender_is_rejected() {
        let (engine, sender, recipient, bundle) = setup(ModeSet::ALL);
        let mallory = Identity::generate_with(&engine, ModeSet::ALL).unwrap();
        for mode in Mode::ALL {
            let envelope = forge::seal_tampered(&engine, &sender, &bundle, mode, b"hi", |id, _| {
                *id = mallory.public().clone();
            });
            let first_alg = mode.signatures()[0];
            assert_eq!(
                open(&engine, &recipient, &envelope),
                Err(OpenError::Signature(SignatureError::Invalid(first_alg)))
            );
        }
    }

    #[test]
    fn sender_without_mode_keys_is_rejected() {
        let (engine, sender, recipient, bundle) = setup(ModeSet::ALL);
        let classical = Identity::generate_with(&engine, ModeSet::of(&[Mode::Classical])).unwrap();
        let envelope = forge::seal_tampered(&engine, &sender, &bundle, Mode::Pq, b"hi", |id, _| {
            *id = classical.public().clone();
        });
        assert_eq!(
            open(&engine, &recipient, &envelope),
            Err(OpenError::Signature(SignatureError::MissingKey(
                SigAlg::MlDsa87
            )))
        );
    }

    #[test]
    fn signature_set_must_match_mode() {
        let (engine, sender, recipient, bundle) = setup(ModeSet::ALL);

        let missing =
            forge::seal_tampered(&engine, &sender, &bundle, Mode::Hybrid, b"", |_, sig| {
                sig.retain(|alg| alg == SigAlg::Ed25519);
            });
        assert_eq!(
            open(&engine, &recipient, &missing),
            Err(OpenError::Signature(SignatureError::Missing(
                SigAlg::MlDsa65
            )))
        );

        let extra =
            forge::seal_tampered(&engine, &sender, &bundle, Mode::Classical, b"", |_, sig| {
                let other = sender.sign(SignContext::Envelope, b"anything").unwrap();
                let mut bytes = vec![2];
                for (alg, s) in [
                    (SigAlg::Ed25519, sig.get(SigAlg::Ed25519)),
                    (SigAlg::MlDsa87, other.get(SigAlg::MlDsa87)),
                ] {
                    bytes.push(alg.id());
                    bytes.extend_from_slice(s.unwrap());
                }
                *sig = CompositeSignature::decode(&bytes).unwrap();
            });
        assert_eq!(
            open(&engine, &recipient, &extra),
            Err(OpenError::Signature(SignatureError::Unexpected(
                SigAlg::MlDsa87
            )))
        );
    }

    #[test]
    fn corrupted_signature_is_rejected() {
        let (engine, sender, recipient, bundle) = setup(ModeSet::ALL);
        for (mode, alg) in [
            (Mode::Hybrid, SigAlg::Ed25519),
            (Mode::Hybrid, SigAlg::MlDsa65),
            (Mode::Pq, SigAlg::MlDsa87),
        ] {
            let envelope =
                forge::seal_tampered(&engine, &sender, &bundle, mode, b"hi", |_, sig| {
                    *sig = forge::flip_signature_bit(sig, alg);
                });
            assert_eq!(
                open(&engine, &recipient, &envelope),
                Err(OpenError::Signature(SignatureError::Invalid(alg)))
            );
        }
    }

    #[test]
    fn reencrypted_to_another_recipient_is_rejected() {
        // Bob receives a signed envelope from Alice and seals its contents,
        // Alice's identity and signatures included, to Carol.
        let (engine, alice, bob, bob_bundle) = setup(ModeSet::ALL);
        let carol = Recipient::generate(&engine, ModeSet::ALL, NOW - 10, 3600).unwrap();
        let carol_bundle = carol.bundle().verify(&engine, NOW).unwrap();

        for mode in Mode::ALL {
            let policy = Policy::new(ModeSet::of(&[mode]), mode).unwrap();
            let sealed = engine
                .seal(&alice, &bob_bundle, &policy, b"for bob", NOW)
                .unwrap();
            let inner = forge::decrypt_unverified(&engine, &bob, &sealed.envelope);
            let forwarded =
                forge::encrypt(&engine, &carol_bundle, mode, |_| forge::reencode(&inner));

            let first_alg = mode.signatures()[0];
            assert_eq!(
                open(&engine, &carol, &forwarded),
                Err(OpenError::Signature(SignatureError::Invalid(first_alg)))
            );
        }
    }
}
