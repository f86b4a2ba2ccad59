//! Signed key bundles and the recipient state behind them.
//!
//! A bundle lists the modes its owner accepts, one KEM public key per mode,
//! a creation time and an expiry, and is signed by the owner. Its canonical
//! encoding:
//!
//! ```text
//! magic "QRB" | version = 1 | owner PublicIdentity (u32 length + bytes) |
//! modes u8 | created_at u64 | expires_at u64 |
//! [mode u8 | KEM public key (fixed length per mode)]* (one per listed mode, ascending) |
//! CompositeSignature (u32 length + bytes)
//! ```
//!
//! The signature covers every byte before it, under
//! [`SignContext::Bundle`], with every algorithm of the owner's strongest
//! mode. Removing the post-quantum modes and keys from a bundle therefore
//! breaks its signature, and it also changes the owner's id, because the id
//! hashes every public key of the identity.

use std::fmt;
use std::sync::Arc;

use crate::codec::{Reader, Writer};
use crate::engine::Engine;
use crate::error::{BundleError, DecodeError, KeyError, SignatureError, kem_name};
use crate::identity::{
    CompositeSignature, Identity, IdentityId, PublicIdentity, SignContext, SignedMessage,
    read_mode_set,
};
use crate::kdf;
use crate::mode::{Mode, ModeSet};
use crate::primitives::{BackendSet, SecretBytes};

const BUNDLE_MAGIC: &[u8] = b"QRB";
const BUNDLE_VERSION: u8 = 1;

/// A key bundle as published: decoded but not yet verified.
#[derive(Clone, PartialEq, Eq)]
pub struct SignedBundle {
    owner: PublicIdentity,
    modes: ModeSet,
    created_at: u64,
    expires_at: u64,
    kem_keys: Vec<(Mode, Vec<u8>)>,
    signature: CompositeSignature,
    /// Encoding of every field before the signature: the signed bytes.
    body: Vec<u8>,
}

impl SignedBundle {
    /// Builds and signs a bundle. `kem_keys` must be in ascending mode order.
    fn create(
        owner: &Identity,
        backends: &BackendSet,
        modes: ModeSet,
        lifetime: (u64, u64),
        kem_keys: Vec<(Mode, Vec<u8>)>,
    ) -> Result<SignedBundle, KeyError> {
        let (created_at, expires_at) = lifetime;
        let public = owner.public().clone();
        let body = encode_body(&public, modes, created_at, expires_at, &kem_keys);

        let strongest = owner.modes().strongest().ok_or(KeyError::NoModes)?;
        let mut message = SignedMessage::new(SignContext::Bundle, body.len());
        message.push(&body);
        let signature = owner.sign_message(backends, strongest.signatures(), &message);
        let signature = signature.map_err(KeyError::from)?;

        Ok(SignedBundle {
            owner: public,
            modes,
            created_at,
            expires_at,
            kem_keys,
            signature,
            body,
        })
    }

    /// Encodes canonically.
    pub fn encode(&self) -> Vec<u8> {
        let signature = self.signature.encode();
        let mut writer = Writer::with_capacity(self.body.len() + 4 + signature.len());
        writer.bytes(&self.body).var_bytes(&signature);
        writer.into_vec()
    }

    /// Decodes the canonical encoding without checking the signature.
    ///
    /// # Errors
    /// [`DecodeError`] on bad magic, an unknown version, an unknown mode or
    /// algorithm, KEM keys out of ascending order, a wrong key count,
    /// truncation or trailing bytes.
    pub fn decode(bytes: &[u8]) -> Result<SignedBundle, DecodeError> {
        let mut reader = Reader::new(bytes);
        reader.magic(BUNDLE_MAGIC, "key bundle")?;
        reader.version(BUNDLE_VERSION, "key bundle")?;
        let identity = reader.var_bytes(PublicIdentity::MAX_ENCODED_LEN, "bundle identity")?;
        let owner = PublicIdentity::decode(identity)?;

        let modes = read_mode_set(&mut reader, "bundle mode set")?;
        let created_at = reader.u64("bundle creation time")?;
        let expires_at = reader.u64("bundle expiry")?;
        let kem_keys = read_kem_keys(&mut reader, modes.iter().count())?;
        let body_len = reader.position();

        let signature =
            reader.var_bytes(CompositeSignature::MAX_ENCODED_LEN, "bundle signature")?;
        let signature = CompositeSignature::decode(signature)?;
        reader.finish("key bundle")?;

        Ok(SignedBundle {
            owner,
            modes,
            created_at,
            expires_at,
            kem_keys,
            signature,
            body: bytes[..body_len].to_vec(),
        })
    }

    /// Id of the embedded owner identity. Unverified until
    /// [`SignedBundle::verify`] succeeds.
    pub fn owner(&self) -> IdentityId {
        self.owner.id()
    }

    /// Returns the embedded owner identity, whose keys verify the bundle and
    /// the owner's relay requests.
    pub fn identity(&self) -> &PublicIdentity {
        &self.owner
    }

    /// Creation time, unix seconds.
    pub fn created_at(&self) -> u64 {
        self.created_at
    }

    /// Expiry, unix seconds; the bundle is valid while `now < expires_at`.
    pub fn expires_at(&self) -> u64 {
        self.expires_at
    }

    /// Modes the owner accepts.
    pub fn modes(&self) -> ModeSet {
        self.modes
    }

    /// KEM public key for `mode`, if the bundle has one.
    pub fn kem_key(&self, mode: Mode) -> Option<&[u8]> {
        self.kem_keys
            .iter()
            .find(|(m, _)| *m == mode)
            .map(|(_, key)| key.as_slice())
    }

    /// Returns the owner's signature.
    pub fn signature(&self) -> &CompositeSignature {
        &self.signature
    }

    /// Checks the bundle and returns it as verified.
    ///
    /// Checks, in order: at least one mode; a KEM key for every listed mode
    /// and none for another; the owner's keys for every algorithm a listed
    /// mode needs; `created_at <= expires_at`; `now < expires_at`; and the
    /// owner's signature with every algorithm of the owner's strongest mode.
    ///
    /// # Errors
    /// The [`BundleError`] of the first failed check.
    pub fn verify(&self, engine: &Engine, now: u64) -> Result<VerifiedBundle, BundleError> {
        self.check_contents()?;
        if self.created_at > self.expires_at {
            return Err(BundleError::InvalidLifetime {
                created_at: self.created_at,
                expires_at: self.expires_at,
            });
        }
        if now >= self.expires_at {
            return Err(BundleError::Expired {
                expires_at: self.expires_at,
                now,
            });
        }

        let strongest = self.owner.modes().strongest();
        let strongest = strongest.ok_or(SignatureError::NoModes)?;
        let mut message = SignedMessage::new(SignContext::Bundle, self.body.len());
        message.push(&self.body);
        self.owner
            .verify_message(engine.backends(), strongest, &message, &self.signature)?;

        Ok(VerifiedBundle::new(self.clone()))
    }

    /// Checks that modes, KEM keys and the owner's signature keys agree.
    fn check_contents(&self) -> Result<(), BundleError> {
        if self.modes.is_empty() {
            return Err(BundleError::NoModes);
        }
        if let Some(mode) = self.modes.iter().find(|&m| self.kem_key(m).is_none()) {
            return Err(BundleError::MissingKemKey(mode));
        }
        // Decoding reads one key per listed mode, in strictly ascending
        // order, so once no listed mode lacks a key none can be extra. The
        // check stays so that the invariant holds for any constructor.
        if let Some((mode, _)) = self.kem_keys.iter().find(|(m, _)| !self.modes.contains(*m)) {
            return Err(BundleError::UnexpectedKemKey(*mode));
        }

        for mode in self.modes.iter() {
            if let Some(&alg) = mode
                .signatures()
                .iter()
                .find(|&&a| self.owner.key(a).is_none())
            {
                return Err(BundleError::MissingSignatureKey { mode, alg });
            }
        }
        Ok(())
    }

    /// Returns a copy without post-quantum content, as an attacker who
    /// strips it in transit would produce. Used by tests and the load
    /// harness to show that [`SignedBundle::verify`] rejects such bundles.
    ///
    /// Removes the hybrid and pq modes and their KEM keys, the ML-DSA keys
    /// from the owner identity (so the owner's id changes) and the ML-DSA
    /// signatures, and keeps the Ed25519 signature as it is. For a bundle
    /// without post-quantum content the copy equals the original.
    pub fn strip_post_quantum(&self) -> SignedBundle {
        let owner = self.owner.without_post_quantum();
        let mut modes = self.modes;
        modes.remove(Mode::Hybrid);
        modes.remove(Mode::Pq);
        let kem_keys: Vec<(Mode, Vec<u8>)> = self
            .kem_keys
            .iter()
            .filter(|(mode, _)| *mode == Mode::Classical)
            .cloned()
            .collect();
        let mut signature = self.signature.clone();
        signature.retain(|alg| !alg.is_post_quantum());

        let body = encode_body(&owner, modes, self.created_at, self.expires_at, &kem_keys);
        SignedBundle {
            owner,
            modes,
            created_at: self.created_at,
            expires_at: self.expires_at,
            kem_keys,
            signature,
            body,
        }
    }
}

impl fmt::Debug for SignedBundle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignedBundle")
            .field("owner", &self.owner.id())
            .field("modes", &format_args!("{}", self.modes))
            .field("created_at", &self.created_at)
            .field("expires_at", &self.expires_at)
            .field("signature", &self.signature)
            .finish_non_exhaustive()
    }
}

/// Encodes every bundle field before the signature.
fn encode_body(
    owner: &PublicIdentity,
    modes: ModeSet,
    created_at: u64,
    expires_at: u64,
    kem_keys: &[(Mode, Vec<u8>)],
) -> Vec<u8> {
    let keys_len: usize = kem_keys.iter().map(|(_, key)| 1 + key.len()).sum();
    let len = BUNDLE_MAGIC.len() + 1 + 4 + owner.as_bytes().len() + 1 + 16 + keys_len;
    let mut writer = Writer::with_capacity(len);
    writer
        .bytes(BUNDLE_MAGIC)
        .u8(BUNDLE_VERSION)
        .var_bytes(owner.as_bytes())
        .u8(modes.bits())
        .u64(created_at)
        .u64(expires_at);
    for (mode, key) in kem_keys {
        writer.u8(mode.id()).bytes(key);
    }
    writer.into_vec()
}

/// Reads `count` KEM keys in strictly ascending mode order.
fn read_kem_keys(
    reader: &mut Reader<'_>,
    count: usize,
) -> Result<Vec<(Mode, Vec<u8>)>, DecodeError> {
    let mut keys: Vec<(Mode, Vec<u8>)> = Vec::with_capacity(count);
    for _ in 0..count {
        let id = reader.u8("KEM key mode")?;
        let mode = Mode::from_id(id).ok_or(DecodeError::UnknownAlgorithm {
            what: "KEM key mode",
            id,
        })?;
        if keys.last().is_some_and(|(last, _)| *last >= mode) {
            return Err(DecodeError::NotCanonical {
                what: "KEM keys must be in strictly ascending mode order",
            });
        }
        let key = reader.bytes(mode.kem().public_key_len(), "KEM public key")?;
        keys.push((mode, key.to_vec()));
    }
    Ok(keys)
}

/// A bundle whose signature, contents and expiry have been checked.
///
/// Only [`SignedBundle::verify`] creates one. Cloning is cheap.
#[derive(Clone)]
pub struct VerifiedBundle {
    inner: Arc<VerifiedInner>,
}

struct VerifiedInner {
    bundle: SignedBundle,
    /// [`kdf::kem_public_key_hash`] of each KEM key, in the bundle's order.
    kem_key_hashes: Vec<[u8; 32]>,
}

impl VerifiedBundle {
    fn new(bundle: SignedBundle) -> VerifiedBundle {
        let kem_key_hashes = bundle
            .kem_keys
            .iter()
            .map(|(_, key)| kdf::kem_public_key_hash(key))
            .collect();
        VerifiedBundle {
            inner: Arc::new(VerifiedInner {
                bundle,
                kem_key_hashes,
            }),
        }
    }

    /// Id of the verified owner.
    pub fn owner(&self) -> IdentityId {
        self.inner.bundle.owner()
    }

    /// Modes the owner accepts.
    pub fn modes(&self) -> ModeSet {
        self.inner.bundle.modes
    }

    /// Expiry, unix seconds.
    pub fn expires_at(&self) -> u64 {
        self.inner.bundle.expires_at
    }

    /// Returns the bundle as it was verified.
    pub fn bundle(&self) -> &SignedBundle {
        &self.inner.bundle
    }

    /// KEM public key of `mode` and its hash.
    pub(crate) fn kem_key(&self, mode: Mode) -> Option<(&[u8], &[u8; 32])> {
        let bundle = &self.inner.bundle;
        let index = bundle.kem_keys.iter().position(|(m, _)| *m == mode)?;
        Some((&bundle.kem_keys[index].1, &self.inner.kem_key_hashes[index]))
    }
}

impl fmt::Debug for VerifiedBundle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("VerifiedBundle")
            .field(&self.inner.bundle)
            .finish()
    }
}

/// A KEM secret key of a recipient, with the hash of its public key.
pub(crate) struct KemSecret {
    pub(crate) mode: Mode,
    pub(crate) secret: SecretBytes,
    pub(crate) public_key_hash: [u8; 32],
}

/// The receiving side of a mailbox: its identity, one KEM secret key per
/// mode, and the signed bundle that publishes the public keys.
///
/// Secret keys are zeroized on drop and never appear in `Debug` output.
pub struct Recipient {
    identity: Identity,
    kem_secrets: Vec<KemSecret>,
    bundle: SignedBundle,
}

impl Recipient {
    /// Generates an identity and KEM keys for `modes`, and a bundle valid
    /// from `now` for `ttl_secs` seconds, signed by the new identity.
    ///
    /// # Errors
    /// [`KeyError::NoModes`], [`KeyError::LifetimeOverflow`], or a key
    /// generation or signing failure.
    pub fn generate(
        engine: &Engine,
        modes: ModeSet,
        now: u64,
        ttl_secs: u64,
    ) -> Result<Recipient, KeyError> {
        if modes.is_empty() {
            return Err(KeyError::NoModes);
        }
        let expires_at = lifetime_end(now, ttl_secs)?;
        let identity = Identity::generate_with(engine, modes)?;

        let backends = engine.backends();
        let mut kem_secrets = Vec::new();
        let mut kem_keys = Vec::new();
        for mode in modes.iter() {
            let alg = mode.kem();
            let pair = backends
                .kem(alg)
                .generate()
                .map_err(|source| KeyError::Generate {
                    alg: kem_name(alg),
                    source,
                })?;
            kem_secrets.push(KemSecret {
                mode,
                secret: pair.secret,
                public_key_hash: kdf::kem_public_key_hash(&pair.public),
            });
            kem_keys.push((mode, pair.public));
        }

        let bundle = SignedBundle::create(&identity, backends, modes, (now, expires_at), kem_keys)?;
        Ok(Recipient {
            identity,
            kem_secrets,
            bundle,
        })
    }

    /// Replaces the bundle with one valid from `now` for `ttl_secs`
    /// seconds, with the same keys, signed again.
    ///
    /// # Errors
    /// [`KeyError::LifetimeOverflow`] or a signing failure.
    pub fn renew_bundle(
        &mut self,
        engine: &Engine,
        now: u64,
        ttl_secs: u64,
    ) -> Result<(), KeyError> {
        let expires_at = lifetime_end(now, ttl_secs)?;
        let bundle = &self.bundle;
        self.bundle = SignedBundle::create(
            &self.identity,
            engine.backends(),
            bundle.modes,
            (now, expires_at),
            bundle.kem_keys.clone(),
        )?;
        Ok(())
    }

    /// Returns the signing identity.
    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// Id of the identity, which is also the mailbox id.
    pub fn id(&self) -> IdentityId {
        self.identity.id()
    }

    /// Returns the current signed bundle.
    pub fn bundle(&self) -> &SignedBundle {
        &self.bundle
    }

    /// KEM secret key of `mode`.
    pub(crate) fn kem_secret(&self, mode: Mode) -> Option<&KemSecret> {
        self.kem_secrets.iter().find(|k| k.mode == mode)
    }
}

impl fmt::Debug for Recipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recipient")
            .field("identity", &self.identity)
            .field("bundle", &self.bundle)
            .field("kem_secret_keys", &"[REDACTED]")
            .finish()
    }
}

fn lifetime_end(now: u64, ttl_secs: u64) -> Result<u64, KeyError> {
    now.checked_add(ttl_secs)
        .ok_or(KeyError::LifetimeOverflow { now, ttl_secs })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_kem_secrets() {
        let engine = Engine::new();
        let recipient = Recipient::generate(&engine, ModeSet::ALL, 1_000, 100).expect("keys");
        let printed = format!("{recipient:?} {recipient:#?}");
        for secret in &recipient.kem_secrets {
            let bytes = secret.secret.expose();
            assert!(!printed.contains(&hex::encode(bytes)));
            assert!(!printed.contains(&format!("{:?}", &bytes[..8])));
        }
        assert!(printed.contains("[REDACTED]"));
    }

    #[test]
    fn renewed_bundle_verifies_with_new_times() {
        let engine = Engine::new();
        let modes = ModeSet::of(&[Mode::Hybrid]);
        let mut recipient = Recipient::generate(&engine, modes, 1_000, 100).expect("keys");
        let old = recipient.bundle().clone();
        recipient.renew_bundle(&engine, 1_050, 100).expect("renew");

        let renewed = recipient.bundle();
        assert_eq!(renewed.created_at(), 1_050);
        assert_eq!(renewed.kem_key(Mode::Hybrid), old.kem_key(Mode::Hybrid));
        assert!(renewed.verify(&engine, 1_120).is_ok());
        assert!(old.verify(&engine, 1_120).is_err());
    }
}
