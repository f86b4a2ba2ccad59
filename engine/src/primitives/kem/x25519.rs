//! X25519 (RFC 7748) key agreement, and X25519 used as a KEM.
//!
//! Two [`KeyAgreement`] backends: [`DalekX25519`] (`x25519-dalek`) and
//! [`AwsLcX25519`] (`aws-lc-rs`). Both reject an all-zero shared secret,
//! which is what every low-order peer point produces (RFC 7748 section 6.1),
//! so a peer cannot force a known shared secret.
//!
//! [`X25519Kem`] turns any of them into the classical mode's KEM: the
//! ciphertext is a fresh ephemeral public key and the shared secret is the
//! raw X25519 output. The key derivation that consumes it binds the
//! ciphertext and both public keys, as a DH-based KEM must.

use std::sync::Arc;

use aws_lc_rs::agreement;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::mode::KemAlg;
use crate::primitives::{
    Kem, KeyAgreement, KeyPair, PrimitiveError, SecretBytes, SharedSecret, os_random, to_array,
    to_secret_array,
};

/// Bytes of an X25519 secret scalar, public key and shared secret.
pub const X25519_LEN: usize = 32;

/// Returns the shared secret unless it is all zero.
///
/// # Errors
/// [`PrimitiveError::InvalidPublicKey`] for the all-zero output of a
/// low-order peer point. The comparison is constant time.
fn reject_all_zero(shared: &[u8; X25519_LEN]) -> Result<SharedSecret, PrimitiveError> {
    if bool::from(shared.ct_eq(&[0u8; X25519_LEN])) {
        return Err(PrimitiveError::InvalidPublicKey);
    }
    Ok(SharedSecret::new(*shared))
}

/// X25519 from `x25519-dalek`.
#[derive(Debug, Clone, Copy, Default)]
pub struct DalekX25519;

impl KeyAgreement for DalekX25519 {
    fn backend(&self) -> &'static str {
        "dalek"
    }

    fn generate(&self) -> Result<KeyPair, PrimitiveError> {
        let secret = os_random::<X25519_LEN>()?;
        let secret = SecretBytes::from_slice(secret.as_slice());
        let public = self.public_key(&secret)?;
        Ok(KeyPair { secret, public })
    }

    fn public_key(&self, secret: &SecretBytes) -> Result<Vec<u8>, PrimitiveError> {
        let scalar = to_secret_array::<X25519_LEN>("X25519 secret key", secret.expose())?;
        let public = x25519_dalek::x25519(*scalar, x25519_dalek::X25519_BASEPOINT_BYTES);
        Ok(public.to_vec())
    }

    fn agree(
        &self,
        secret: &SecretBytes,
        peer_public: &[u8],
    ) -> Result<SharedSecret, PrimitiveError> {
        let peer = to_array::<X25519_LEN>("X25519 public key", peer_public)?;
        let scalar = to_secret_array::<X25519_LEN>("X25519 secret key", secret.expose())?;

        let shared = Zeroizing::new(x25519_dalek::x25519(*scalar, peer));
        reject_all_zero(&shared)
    }
}

/// X25519 from AWS-LC through `aws-lc-rs`.
#[derive(Debug, Clone, Copy, Default)]
pub struct AwsLcX25519;

impl AwsLcX25519 {
    /// Parses a 32-byte secret scalar into an AWS-LC key.
    fn private_key(secret: &SecretBytes) -> Result<agreement::PrivateKey, PrimitiveError> {
        to_secret_array::<X25519_LEN>("X25519 secret key", secret.expose())?;
        agreement::PrivateKey::from_private_key(&agreement::X25519, secret.expose())
            .map_err(|_| PrimitiveError::Kem)
    }
}

impl KeyAgreement for AwsLcX25519 {
    fn backend(&self) -> &'static str {
        "aws-lc-rs"
    }

    fn generate(&self) -> Result<KeyPair, PrimitiveError> {
        let secret = os_random::<X25519_LEN>()?;
        let secret = SecretBytes::from_slice(secret.as_slice());
        let public = self.public_key(&secret)?;
        Ok(KeyPair { secret, public })
    }

    fn public_key(&self, secret: &SecretBytes) -> Result<Vec<u8>, PrimitiveError> {
        let key = Self::private_key(secret)?;
        let public = key.compute_public_key().map_err(|_| PrimitiveError::Kem)?;
        Ok(public.as_ref().to_vec())
    }

    fn agree(
        &self,
        secret: &SecretBytes,
        peer_public: &[u8],
    ) -> Result<SharedSecret, PrimitiveError> {
        let peer = to_array::<X25519_LEN>("X25519 public key", peer_public)?;
        let key = Self::private_key(secret)?;

        // AWS-LC itself fails on an all-zero output; both paths end in the
        // same error.
        let peer = agreement::UnparsedPublicKey::new(&agreement::X25519, peer);
        let shared = agreement::agree(&key, peer, PrimitiveError::InvalidPublicKey, |bytes| {
            to_secret_array::<X25519_LEN>("X25519 shared secret", bytes)
        })?;
        reject_all_zero(&shared)
    }
}

/// X25519 used as a KEM over any [`KeyAgreement`] backend.
///
/// Keys are X25519 keys. `encapsulate` draws an ephemeral key pair, sends its
/// public key as the 32-byte ciphertext and returns the X25519 output as the
/// shared secret. `encapsulate_derand` takes the ephemeral secret scalar (32
/// bytes) as its randomness; `generate_from_seed` takes the secret scalar.
#[derive(Clone)]
pub struct X25519Kem {
    agreement: Arc<dyn KeyAgreement>,
}

impl X25519Kem {
    /// Builds the KEM on `agreement`.
    pub fn new(agreement: Arc<dyn KeyAgreement>) -> Self {
        Self { agreement }
    }
}

impl Kem for X25519Kem {
    fn backend(&self) -> &'static str {
        self.agreement.backend()
    }

    fn alg(&self) -> KemAlg {
        KemAlg::X25519
    }

    fn generate(&self) -> Result<KeyPair, PrimitiveError> {
        self.agreement.generate()
    }

    fn generate_from_seed(&self, seed: &[u8]) -> Result<KeyPair, PrimitiveError> {
        let secret = SecretBytes::from_slice(&*to_secret_array::<X25519_LEN>("X25519 seed", seed)?);
        let public = self.agreement.public_key(&secret)?;
        Ok(KeyPair { secret, public })
    }

    fn encapsulate(&self, public_key: &[u8]) -> Result<(Vec<u8>, SharedSecret), PrimitiveError> {
        let ephemeral = os_random::<X25519_LEN>()?;
        self.encapsulate_derand(public_key, ephemeral.as_slice())
    }

    fn encapsulate_derand(
        &self,
        public_key: &[u8],
        randomness: &[u8],
    ) -> Result<(Vec<u8>, SharedSecret), PrimitiveError> {
        to_array::<X25519_LEN>("X25519 public key", public_key)?;
        let ephemeral = self.generate_from_seed(randomness)?;

        let shared = self.agreement.agree(&ephemeral.secret, public_key)?;
        Ok((ephemeral.public, shared))
    }

    fn decapsulate(
        &self,
        secret_key: &SecretBytes,
        ciphertext: &[u8],
    ) -> Result<SharedSecret, PrimitiveError> {
        to_array::<X25519_LEN>("X25519 ciphertext", ciphertext)?;
        self.agreement.agree(secret_key, ciphertext)
    }
}
