//! Primitive operations behind small, object-safe backend traits.
//!
//! Every algorithm has at least two implementations (for example libcrux and
//! PQClean for ML-KEM) so that they can be checked against the same vectors
//! and benchmarked side by side. A [`BackendSet`] names one implementation
//! per algorithm; [`BackendSet::for_this_cpu`] picks the default at run time.
//!
//! Keys and outputs cross these traits as bytes of the algorithm's standard
//! encoding. Secret bytes are always wrapped in [`SecretBytes`] or
//! [`SharedSecret`], which zeroize on drop and never print their contents.

pub mod aead;
pub mod backend_set;
pub mod kem;
pub mod sig;

pub use backend_set::{BackendSet, BackendSpecError};

use std::fmt;

use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// Failure of a primitive operation.
///
/// Decapsulation and AEAD failures are deliberately opaque. The variant names
/// the operation that failed and nothing about why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PrimitiveError {
    /// A key, ciphertext or signature had the wrong length for the algorithm.
    #[error("invalid length for {what}: expected {expected} bytes, got {actual}")]
    InvalidLength {
        /// Name of the invalid input.
        what: &'static str,
        /// Length the algorithm requires.
        expected: usize,
        /// Length received.
        actual: usize,
    },
    /// A public key failed the algorithm's validity check (for ML-KEM the
    /// FIPS 203 modulus check; for X25519 a low-order point).
    #[error("invalid public key")]
    InvalidPublicKey,
    /// Decapsulation or key agreement failed.
    #[error("key encapsulation failed")]
    Kem,
    /// The AEAD tag did not verify.
    #[error("authenticated decryption failed")]
    Aead,
    /// The signature did not verify.
    #[error("signature verification failed")]
    Signature,
    /// The backend does not offer this operation (for example derandomized
    /// key generation in PQClean).
    #[error("{backend} does not support {operation}")]
    Unsupported {
        /// Backend name.
        backend: &'static str,
        /// Operation name.
        operation: &'static str,
    },
    /// The operating system's random number generator failed.
    #[error("random number generator failed")]
    Rng,
    /// A signature context string exceeded the 255 bytes FIPS 204 allows.
    #[error("context string too long: at most 255 bytes, got {actual}")]
    ContextTooLong {
        /// Length received.
        actual: usize,
    },
    /// Signing failed inside the backend (for example ML-DSA rejection
    /// sampling exceeded its bound, or a secret key did not parse).
    #[error("signing failed")]
    Signing,
}

/// Secret key material of variable length, zeroized on drop.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct SecretBytes(Vec<u8>);

impl SecretBytes {
    /// Wraps bytes that are secret.
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// Copies a secret slice.
    pub fn from_slice(bytes: &[u8]) -> Self {
        Self(bytes.to_vec())
    }

    /// Exposes the secret bytes to a primitive.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Returns whether the secret is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretBytes([REDACTED; {}])", self.0.len())
    }
}

impl PartialEq for SecretBytes {
    /// Constant time in the contents; the lengths are public.
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl Eq for SecretBytes {}

/// A 32-byte shared secret from a KEM or a key agreement, zeroized on drop.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct SharedSecret([u8; 32]);

impl SharedSecret {
    /// Wraps 32 secret bytes.
    pub fn new(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// Copies a 32-byte secret slice.
    ///
    /// # Errors
    /// [`PrimitiveError::InvalidLength`] unless `bytes` is 32 bytes long.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, PrimitiveError> {
        let mut copy = Zeroizing::new([0u8; 32]);
        if bytes.len() != 32 {
            return Err(PrimitiveError::InvalidLength {
                what: "shared secret",
                expected: 32,
                actual: bytes.len(),
            });
        }
        copy.copy_from_slice(bytes);
        Ok(Self(*copy))
    }

    /// Exposes the secret to a key derivation.
    pub fn expose(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for SharedSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SharedSecret([REDACTED])")
    }
}

impl PartialEq for SharedSecret {
    /// Constant time.
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl Eq for SharedSecret {}

/// A generated key pair: secret key bytes and public key bytes, each in the
/// algorithm's standard encoding.
#[derive(Debug, Clone)]
pub struct KeyPair {
    /// Secret (decapsulation or signing) key.
    pub secret: SecretBytes,
    /// Public (encapsulation or verifying) key.
    pub public: Vec<u8>,
}

/// A key encapsulation mechanism: ML-KEM-768, ML-KEM-1024 or X-Wing.
pub trait Kem: Send + Sync {
    /// Backend name, for example `"libcrux"`.
    fn backend(&self) -> &'static str;
    /// Algorithm this backend implements.
    fn alg(&self) -> crate::mode::KemAlg;
    /// Generates a key pair from the operating system's randomness.
    fn generate(&self) -> Result<KeyPair, PrimitiveError>;
    /// Generates a key pair from a seed (64 bytes `d || z` for ML-KEM, 32
    /// bytes for X-Wing). Backends without a derandomized API return
    /// [`PrimitiveError::Unsupported`].
    fn generate_from_seed(&self, seed: &[u8]) -> Result<KeyPair, PrimitiveError>;
    /// Encapsulates to `public_key`, returning the ciphertext and the shared
    /// secret. Rejects public keys that fail the algorithm's check.
    fn encapsulate(&self, public_key: &[u8]) -> Result<(Vec<u8>, SharedSecret), PrimitiveError>;
    /// Encapsulates with caller-supplied randomness (32 bytes for ML-KEM, 64
    /// for X-Wing), for test vectors.
    fn encapsulate_derand(
        &self,
        public_key: &[u8],
        randomness: &[u8],
    ) -> Result<(Vec<u8>, SharedSecret), PrimitiveError>;
    /// Decapsulates `ciphertext` with `secret_key`.
    fn decapsulate(
        &self,
        secret_key: &SecretBytes,
        ciphertext: &[u8],
    ) -> Result<SharedSecret, PrimitiveError>;
}

/// X25519 key agreement (RFC 7748).
pub trait KeyAgreement: Send + Sync {
    /// Backend name.
    fn backend(&self) -> &'static str;
    /// Generates a key pair from the operating system's randomness.
    fn generate(&self) -> Result<KeyPair, PrimitiveError>;
    /// Derives the public key of a 32-byte secret scalar.
    fn public_key(&self, secret: &SecretBytes) -> Result<Vec<u8>, PrimitiveError>;
    /// Computes the shared secret with `peer_public`. Rejects an all-zero
    /// result (a low-order peer point) with [`PrimitiveError::InvalidPublicKey`].
    fn agree(
        &self,
        secret: &SecretBytes,
        peer_public: &[u8],
    ) -> Result<SharedSecret, PrimitiveError>;
}

/// A signature scheme: Ed25519, ML-DSA-65 or ML-DSA-87.
pub trait Signer: Send + Sync {
    /// Backend name.
    fn backend(&self) -> &'static str;
    /// Algorithm this backend implements.
    fn alg(&self) -> crate::mode::SigAlg;
    /// Generates a key pair from the operating system's randomness.
    fn generate(&self) -> Result<KeyPair, PrimitiveError>;
    /// Generates a key pair from a 32-byte seed (the Ed25519 secret key, or
    /// ML-DSA's `xi`), or returns [`PrimitiveError::Unsupported`].
    fn generate_from_seed(&self, seed: &[u8]) -> Result<KeyPair, PrimitiveError>;
    /// Signs `message` under the ML-DSA `context` string (at most 255 bytes).
    /// Ed25519 accepts only an empty context. ML-DSA signing is hedged
    /// (randomized); Ed25519 is deterministic.
    fn sign(
        &self,
        secret_key: &SecretBytes,
        message: &[u8],
        context: &[u8],
    ) -> Result<Vec<u8>, PrimitiveError>;
    /// Signs with caller-supplied signing randomness, for test vectors: for
    /// ML-DSA the 32-byte `rnd` of FIPS 204, where all zeros gives the
    /// deterministic variant. Backends without it return
    /// [`PrimitiveError::Unsupported`].
    fn sign_derand(
        &self,
        secret_key: &SecretBytes,
        message: &[u8],
        context: &[u8],
        randomness: &[u8],
    ) -> Result<Vec<u8>, PrimitiveError> {
        let _ = (secret_key, message, context, randomness);
        Err(PrimitiveError::Unsupported {
            backend: self.backend(),
            operation: "signing with caller-supplied randomness",
        })
    }
    /// Verifies strictly. For Ed25519: canonical `s`, canonical encodings of
    /// `R` and `A`, and neither of small order.
    fn verify(
        &self,
        public_key: &[u8],
        message: &[u8],
        context: &[u8],
        signature: &[u8],
    ) -> Result<(), PrimitiveError>;
}

/// One Ed25519 item of a batch verification.
#[derive(Debug, Clone, Copy)]
pub struct BatchItem<'a> {
    /// 32-byte verifying key.
    pub public_key: &'a [u8],
    /// Signed message.
    pub message: &'a [u8],
    /// 64-byte signature.
    pub signature: &'a [u8],
}

/// Ed25519 batch verification that accepts exactly what [`Signer::verify`]
/// of the same backend accepts.
pub trait BatchVerifier: Send + Sync {
    /// Backend name.
    fn backend(&self) -> &'static str;
    /// Returns one result per item, in order. A failing batch is retried item
    /// by item so that only the bad items fail.
    fn verify_batch(&self, items: &[BatchItem<'_>]) -> Vec<Result<(), PrimitiveError>>;
}

/// An AEAD with a 32-byte key and a 12-byte nonce.
pub trait Aead: Send + Sync {
    /// Backend name.
    fn backend(&self) -> &'static str;
    /// Algorithm this backend implements.
    fn alg(&self) -> crate::mode::AeadAlg;
    /// Encrypts `plaintext`, returning ciphertext with the 16-byte tag appended.
    fn seal(
        &self,
        key: &[u8; 32],
        nonce: &[u8; 12],
        aad: &[u8],
        plaintext: &[u8],
    ) -> Result<Vec<u8>, PrimitiveError>;
    /// Decrypts and authenticates `ciphertext` (tag appended).
    fn open(
        &self,
        key: &[u8; 32],
        nonce: &[u8; 12],
        aad: &[u8],
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, PrimitiveError>;
}

/// Fills a zeroizing array with bytes from the operating system's random
/// number generator.
///
/// # Errors
/// [`PrimitiveError::Rng`] if the operating system's generator fails.
pub(crate) fn os_random<const N: usize>() -> Result<Zeroizing<[u8; N]>, PrimitiveError> {
    let mut bytes = Zeroizing::new([0u8; N]);
    getrandom::fill(bytes.as_mut_slice()).map_err(|_| PrimitiveError::Rng)?;
    Ok(bytes)
}

/// Copies `bytes` into an array after checking its length.
///
/// # Errors
/// [`PrimitiveError::InvalidLength`], naming `what`, unless `bytes` is `N`
/// bytes long.
pub(crate) fn to_array<const N: usize>(
    what: &'static str,
    bytes: &[u8],
) -> Result<[u8; N], PrimitiveError> {
    <[u8; N]>::try_from(bytes).map_err(|_| PrimitiveError::InvalidLength {
        what,
        expected: N,
        actual: bytes.len(),
    })
}

/// Like [`to_array`], for secret bytes: the copy zeroizes on drop.
///
/// # Errors
/// [`PrimitiveError::InvalidLength`], naming `what`, unless `bytes` is `N`
/// bytes long.
pub(crate) fn to_secret_array<const N: usize>(
    what: &'static str,
    bytes: &[u8],
) -> Result<Zeroizing<[u8; N]>, PrimitiveError> {
    let mut copy = Zeroizing::new([0u8; N]);
    if bytes.len() != N {
        return Err(PrimitiveError::InvalidLength {
            what,
            expected: N,
            actual: bytes.len(),
        });
    }
    copy.copy_from_slice(bytes);
    Ok(copy)
}

/// Checks that a byte slice has the length an algorithm requires.
///
/// # Errors
/// [`PrimitiveError::InvalidLength`], naming `what`, on any other length.
pub(crate) fn check_len(
    what: &'static str,
    bytes: &[u8],
    expected: usize,
) -> Result<(), PrimitiveError> {
    if bytes.len() == expected {
        Ok(())
    } else {
        Err(PrimitiveError::InvalidLength {
            what,
            expected,
            actual: bytes.len(),
        })
    }
}
