//! X-Wing, the hybrid KEM of ML-KEM-768 and X25519, exactly as
//! draft-connolly-cfrg-xwing-kem-11 (23 September 2026) specifies it.
//!
//! - Key generation expands a 32-byte seed with SHAKE256 to 96 bytes:
//!   `d || z` (64 bytes) for ML-KEM-768 key generation and the X25519 secret
//!   `sk_X` (32 bytes). The public key is `pk_M || pk_X` (1184 + 32 bytes).
//! - Encapsulation: `ct = ct_M || ct_X` (1088 + 32 bytes); the derandomized
//!   form takes 64 bytes `eseed`, the ML-KEM randomness `m` then the X25519
//!   ephemeral secret.
//! - Combiner: `SHA3-256(ss_M || ss_X || ct_X || pk_X || XWingLabel)` with the
//!   6-byte label `\./` `/^\` (hex `5c2e2f2f5e5c`).
//!
//! # Secret key forms
//!
//! The draft's decapsulation key is the 32-byte seed, and `decapsulate`
//! accepts it. To avoid repeating the expansion (an ML-KEM key generation
//! and an X25519 base-point multiplication) on every decapsulation,
//! `generate` and `generate_from_seed` return an expanded form instead,
//! which `decapsulate` also accepts:
//!
//! | offset | bytes | field |
//! | --- | --- | --- |
//! | 0 | 32 | seed (the draft's decapsulation key) |
//! | 32 | 2400 | `sk_M`, the ML-KEM-768 decapsulation key |
//! | 2432 | 32 | `sk_X`, the X25519 secret scalar |
//! | 2464 | 32 | `pk_X`, the X25519 public key |
//!
//! [`XWing::seed_of`] recovers the seed. The draft forbids transmitting the
//! expanded form between implementations (it would lose the binding
//! properties), so only the seed should ever leave this process.
//!
//! # Deviation from the draft
//!
//! The draft computes X25519 without checking its output. Here an all-zero
//! X25519 output, which only a low-order `pk_X` (at encapsulation) or
//! low-order `ct_X` (at decapsulation) can produce, is an error. Keys and
//! ciphertexts made by the draft's algorithms are never low order, so the
//! outputs on every honest input are unchanged.

use std::sync::Arc;

use zeroize::Zeroizing;

use crate::mode::KemAlg;
use crate::primitives::kem::ml_kem::{
    ENCAPS_RANDOMNESS_LEN, KEYGEN_SEED_LEN, ML_KEM_768_SECRET_KEY_LEN,
};
use crate::primitives::kem::x25519::X25519_LEN;
use crate::primitives::{
    Kem, KeyAgreement, KeyPair, PrimitiveError, SecretBytes, SharedSecret, check_len, os_random,
    to_secret_array,
};

/// The combiner's domain separation label, `\./` followed by `/^\`.
pub const XWING_LABEL: [u8; 6] = *b"\\.//^\\";

/// Bytes of the seed, the draft's decapsulation key.
pub const SEED_LEN: usize = 32;

/// Bytes of the derandomized encapsulation input `eseed`.
pub const ESEED_LEN: usize = 64;

/// Bytes of an ML-KEM-768 encapsulation key.
const ML_KEM_PUBLIC_LEN: usize = 1184;

/// Bytes of an ML-KEM-768 ciphertext.
const ML_KEM_CIPHERTEXT_LEN: usize = 1088;

/// Bytes of an X-Wing public key.
pub const PUBLIC_KEY_LEN: usize = ML_KEM_PUBLIC_LEN + X25519_LEN;

/// Bytes of an X-Wing ciphertext.
pub const CIPHERTEXT_LEN: usize = ML_KEM_CIPHERTEXT_LEN + X25519_LEN;

/// Bytes of the expanded secret key form (see the module documentation).
pub const EXPANDED_SECRET_KEY_LEN: usize = SEED_LEN + ML_KEM_768_SECRET_KEY_LEN + 2 * X25519_LEN;

/// Offsets of the expanded secret key fields.
const SK_M_START: usize = SEED_LEN;
const SK_X_START: usize = SK_M_START + ML_KEM_768_SECRET_KEY_LEN;
const PK_X_START: usize = SK_X_START + X25519_LEN;

/// The parts of an expanded decapsulation key that decapsulation needs.
struct Expanded {
    sk_m: SecretBytes,
    sk_x: SecretBytes,
    pk_x: [u8; X25519_LEN],
}

/// X-Wing over an ML-KEM-768 backend and an X25519 backend.
#[derive(Clone)]
pub struct XWing {
    ml_kem: Arc<dyn Kem>,
    keygen: Arc<dyn Kem>,
    x25519: Arc<dyn KeyAgreement>,
}

impl XWing {
    /// Builds X-Wing from `ml_kem` (encapsulation and decapsulation),
    /// `keygen` (the ML-KEM-768 backend that expands seeds, which must
    /// support derandomized key generation) and `x25519`.
    ///
    /// `keygen` exists because PQClean and AWS-LC offer no derandomized key
    /// generation, while X-Wing keys are defined by their seed. Any backend
    /// gives the same keys for the same seed, so the choice only affects
    /// speed.
    pub fn new(ml_kem: Arc<dyn Kem>, keygen: Arc<dyn Kem>, x25519: Arc<dyn KeyAgreement>) -> Self {
        Self {
            ml_kem,
            keygen,
            x25519,
        }
    }

    /// Returns the ML-KEM-768 backend used for encapsulation and decapsulation.
    pub fn ml_kem(&self) -> &dyn Kem {
        self.ml_kem.as_ref()
    }

    /// Returns the X25519 backend.
    pub fn x25519(&self) -> &dyn KeyAgreement {
        self.x25519.as_ref()
    }

    /// Returns the 32-byte seed (the draft's decapsulation key) of a secret
    /// key in either form.
    ///
    /// # Errors
    /// [`PrimitiveError::InvalidLength`] unless the key is 32 or
    /// [`EXPANDED_SECRET_KEY_LEN`] bytes long.
    pub fn seed_of(secret_key: &SecretBytes) -> Result<SecretBytes, PrimitiveError> {
        let bytes = secret_key.expose();
        if bytes.len() != SEED_LEN && bytes.len() != EXPANDED_SECRET_KEY_LEN {
            return Err(invalid_secret_key_len(bytes.len()));
        }
        let seed = bytes
            .get(..SEED_LEN)
            .ok_or(invalid_secret_key_len(bytes.len()))?;
        Ok(SecretBytes::from_slice(seed))
    }

    /// Expands a seed into the expanded secret key and the public key.
    fn expand_seed(&self, seed: &[u8; SEED_LEN]) -> Result<(SecretBytes, Vec<u8>), PrimitiveError> {
        let expanded = Zeroizing::new(libcrux_sha3::shake256::<96>(seed));
        let (ml_kem_seed, sk_x) = expanded.split_at(KEYGEN_SEED_LEN);

        let ml_kem = self.keygen.generate_from_seed(ml_kem_seed)?;
        let sk_x = SecretBytes::from_slice(sk_x);
        let pk_x = self.x25519.public_key(&sk_x)?;

        let mut secret = Zeroizing::new(Vec::with_capacity(EXPANDED_SECRET_KEY_LEN));
        secret.extend_from_slice(seed);
        secret.extend_from_slice(ml_kem.secret.expose());
        secret.extend_from_slice(sk_x.expose());
        secret.extend_from_slice(&pk_x);
        check_len(
            "X-Wing expanded secret key",
            &secret,
            EXPANDED_SECRET_KEY_LEN,
        )?;

        let mut public = ml_kem.public;
        public.extend_from_slice(&pk_x);
        Ok((SecretBytes::from_slice(&secret), public))
    }

    /// Splits a secret key of either form into the parts decapsulation needs.
    fn expanded(&self, secret_key: &SecretBytes) -> Result<Expanded, PrimitiveError> {
        let bytes = secret_key.expose();
        if bytes.len() == SEED_LEN {
            let seed = to_secret_array::<SEED_LEN>("X-Wing seed", bytes)?;
            let (secret, _public) = self.expand_seed(&seed)?;
            return Self::split_expanded(secret.expose());
        }
        Self::split_expanded(bytes)
    }

    /// Splits the expanded form at the offsets of the module documentation.
    fn split_expanded(bytes: &[u8]) -> Result<Expanded, PrimitiveError> {
        if bytes.len() != EXPANDED_SECRET_KEY_LEN {
            return Err(invalid_secret_key_len(bytes.len()));
        }
        let field = |start: usize, end: usize| {
            bytes
                .get(start..end)
                .ok_or(invalid_secret_key_len(bytes.len()))
        };

        let sk_m = SecretBytes::from_slice(field(SK_M_START, SK_X_START)?);
        let sk_x = SecretBytes::from_slice(field(SK_X_START, PK_X_START)?);
        let pk_x = field(PK_X_START, EXPANDED_SECRET_KEY_LEN)?;
        let pk_x =
            <[u8; X25519_LEN]>::try_from(pk_x).map_err(|_| invalid_secret_key_len(bytes.len()))?;
        Ok(Expanded { sk_m, sk_x, pk_x })
    }

    /// Encapsulates with the X25519 ephemeral secret `ek_x`, after the
    /// ML-KEM half produced `ct_m` and `ss_m`.
    fn finish_encapsulation(
        &self,
        pk_x: &[u8],
        ek_x: &[u8],
        ct_m: Vec<u8>,
        ss_m: &SharedSecret,
    ) -> Result<(Vec<u8>, SharedSecret), PrimitiveError> {
        let ek_x = SecretBytes::from_slice(ek_x);
        let ct_x = self.x25519.public_key(&ek_x)?;
        let ss_x = self.x25519.agree(&ek_x, pk_x)?;

        let shared = combine(ss_m, &ss_x, &ct_x, pk_x);
        let mut ciphertext = ct_m;
        ciphertext.extend_from_slice(&ct_x);
        Ok((ciphertext, shared))
    }
}

/// Combines the two shared secrets as X-Wing specifies:
/// `SHA3-256(ss_M || ss_X || ct_X || pk_X || XWingLabel)`.
fn combine(ss_m: &SharedSecret, ss_x: &SharedSecret, ct_x: &[u8], pk_x: &[u8]) -> SharedSecret {
    let mut input = Zeroizing::new(Vec::with_capacity(4 * 32 + XWING_LABEL.len()));
    input.extend_from_slice(ss_m.expose());
    input.extend_from_slice(ss_x.expose());
    input.extend_from_slice(ct_x);
    input.extend_from_slice(pk_x);
    input.extend_from_slice(&XWING_LABEL);

    let digest = Zeroizing::new(libcrux_sha3::sha256(&input));
    SharedSecret::new(*digest)
}

/// Builds the error for a secret key of neither accepted length.
fn invalid_secret_key_len(actual: usize) -> PrimitiveError {
    PrimitiveError::InvalidLength {
        what: "X-Wing secret key (32-byte seed or expanded form)",
        expected: SEED_LEN,
        actual,
    }
}

/// Splits a public key into `pk_M` and `pk_X` after checking its length.
fn split_public_key(public_key: &[u8]) -> Result<(&[u8], &[u8]), PrimitiveError> {
    check_len("X-Wing public key", public_key, PUBLIC_KEY_LEN)?;
    Ok(public_key.split_at(ML_KEM_PUBLIC_LEN))
}

impl Kem for XWing {
    fn backend(&self) -> &'static str {
        match (self.ml_kem.backend(), self.x25519.backend()) {
            ("libcrux", "dalek") => "libcrux+dalek",
            ("libcrux", "aws-lc-rs") => "libcrux+aws-lc-rs",
            ("pqclean", "dalek") => "pqclean+dalek",
            ("pqclean", "aws-lc-rs") => "pqclean+aws-lc-rs",
            ("aws-lc-rs", "dalek") => "aws-lc-rs+dalek",
            ("aws-lc-rs", "aws-lc-rs") => "aws-lc-rs+aws-lc-rs",
            _ => "custom",
        }
    }

    fn alg(&self) -> KemAlg {
        KemAlg::XWing
    }

    fn generate(&self) -> Result<KeyPair, PrimitiveError> {
        let seed = os_random::<SEED_LEN>()?;
        self.generate_from_seed(seed.as_slice())
    }

    fn generate_from_seed(&self, seed: &[u8]) -> Result<KeyPair, PrimitiveError> {
        let seed = to_secret_array::<SEED_LEN>("X-Wing seed", seed)?;
        let (secret, public) = self.expand_seed(&seed)?;
        Ok(KeyPair { secret, public })
    }

    fn encapsulate(&self, public_key: &[u8]) -> Result<(Vec<u8>, SharedSecret), PrimitiveError> {
        let (pk_m, pk_x) = split_public_key(public_key)?;

        let (ct_m, ss_m) = self.ml_kem.encapsulate(pk_m)?;
        let ek_x = os_random::<X25519_LEN>()?;
        self.finish_encapsulation(pk_x, ek_x.as_slice(), ct_m, &ss_m)
    }

    fn encapsulate_derand(
        &self,
        public_key: &[u8],
        randomness: &[u8],
    ) -> Result<(Vec<u8>, SharedSecret), PrimitiveError> {
        let (pk_m, pk_x) = split_public_key(public_key)?;
        let eseed = to_secret_array::<ESEED_LEN>("X-Wing eseed", randomness)?;
        let (m, ek_x) = eseed.split_at(ENCAPS_RANDOMNESS_LEN);

        let (ct_m, ss_m) = self.ml_kem.encapsulate_derand(pk_m, m)?;
        self.finish_encapsulation(pk_x, ek_x, ct_m, &ss_m)
    }

    fn decapsulate(
        &self,
        secret_key: &SecretBytes,
        ciphertext: &[u8],
    ) -> Result<SharedSecret, PrimitiveError> {
        check_len("X-Wing ciphertext", ciphertext, CIPHERTEXT_LEN)?;
        let (ct_m, ct_x) = ciphertext.split_at(ML_KEM_CIPHERTEXT_LEN);
        let key = self.expanded(secret_key)?;

        let ss_m = self.ml_kem.decapsulate(&key.sk_m, ct_m)?;
        let ss_x = self
            .x25519
            .agree(&key.sk_x, ct_x)
            .map_err(|_| PrimitiveError::Kem)?;
        Ok(combine(&ss_m, &ss_x, ct_x, &key.pk_x))
    }
}
