//! AES-256-GCM and ChaCha20-Poly1305 behind the [`Aead`] trait.
//!
//! Three backends for each: RustCrypto (`aes-gcm`, `chacha20poly1305`,
//! portable Rust with AES-NI and CLMUL used when the CPU has them), `ring`
//! and `aws-lc-rs` (both with assembly). All take a 32-byte key and a
//! 12-byte nonce and append a 16-byte tag. A failed open returns the opaque
//! [`PrimitiveError::Aead`] and no plaintext.

use aes_gcm::aead::{AeadInOut, KeyInit};
use zeroize::Zeroizing;

use crate::mode::AeadAlg;
use crate::primitives::{Aead, PrimitiveError};

/// Bytes of the authentication tag.
pub const TAG_LEN: usize = 16;

/// Returns whether the CPU has the AES and carry-less multiply instructions
/// that make AES-256-GCM fast and constant time.
pub fn cpu_has_aes_gcm_instructions() -> bool {
    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    {
        std::arch::is_x86_feature_detected!("aes")
            && std::arch::is_x86_feature_detected!("pclmulqdq")
    }
    #[cfg(target_arch = "aarch64")]
    {
        std::arch::is_aarch64_feature_detected!("aes")
            && std::arch::is_aarch64_feature_detected!("pmull")
    }
    #[cfg(not(any(target_arch = "x86", target_arch = "x86_64", target_arch = "aarch64")))]
    {
        false
    }
}

/// Encrypts with a RustCrypto cipher, appending the tag.
fn rustcrypto_seal<C: AeadInOut>(
    cipher: &C,
    nonce: &[u8; 12],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, PrimitiveError> {
    let nonce =
        aes_gcm::aead::Nonce::<C>::try_from(nonce.as_slice()).map_err(|_| PrimitiveError::Aead)?;
    let mut buffer = Vec::with_capacity(plaintext.len() + TAG_LEN);
    buffer.extend_from_slice(plaintext);
    cipher
        .encrypt_in_place(&nonce, aad, &mut buffer)
        .map_err(|_| PrimitiveError::Aead)?;
    Ok(buffer)
}

/// Decrypts with a RustCrypto cipher; the buffer is wiped on failure.
fn rustcrypto_open<C: AeadInOut>(
    cipher: &C,
    nonce: &[u8; 12],
    aad: &[u8],
    ciphertext: &[u8],
) -> Result<Zeroizing<Vec<u8>>, PrimitiveError> {
    let nonce =
        aes_gcm::aead::Nonce::<C>::try_from(nonce.as_slice()).map_err(|_| PrimitiveError::Aead)?;
    let mut buffer = Zeroizing::new(ciphertext.to_vec());
    cipher
        .decrypt_in_place(&nonce, aad, &mut *buffer)
        .map_err(|_| PrimitiveError::Aead)?;
    Ok(buffer)
}

/// AES-256-GCM from RustCrypto's `aes-gcm`.
#[derive(Debug, Clone, Copy, Default)]
pub struct RustCryptoAes256Gcm;

impl Aead for RustCryptoAes256Gcm {
    fn backend(&self) -> &'static str {
        "rustcrypto"
    }

    fn alg(&self) -> AeadAlg {
        AeadAlg::Aes256Gcm
    }

    fn seal(
        &self,
        key: &[u8; 32],
        nonce: &[u8; 12],
        aad: &[u8],
        plaintext: &[u8],
    ) -> Result<Vec<u8>, PrimitiveError> {
        let cipher = aes_gcm::Aes256Gcm::new_from_slice(key).map_err(|_| PrimitiveError::Aead)?;
        rustcrypto_seal(&cipher, nonce, aad, plaintext)
    }

    fn open(
        &self,
        key: &[u8; 32],
        nonce: &[u8; 12],
        aad: &[u8],
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, PrimitiveError> {
        let cipher = aes_gcm::Aes256Gcm::new_from_slice(key).map_err(|_| PrimitiveError::Aead)?;
        rustcrypto_open(&cipher, nonce, aad, ciphertext)
    }
}

/// ChaCha20-Poly1305 from RustCrypto's `chacha20poly1305`.
#[derive(Debug, Clone, Copy, Default)]
pub struct RustCryptoChaCha20Poly1305;

impl Aead for RustCryptoChaCha20Poly1305 {
    fn backend(&self) -> &'static str {
        "rustcrypto"
    }

    fn alg(&self) -> AeadAlg {
        AeadAlg::ChaCha20Poly1305
    }

    fn seal(
        &self,
        key: &[u8; 32],
        nonce: &[u8; 12],
        aad: &[u8],
        plaintext: &[u8],
    ) -> Result<Vec<u8>, PrimitiveError> {
        let cipher = chacha20poly1305::ChaCha20Poly1305::new_from_slice(key)
            .map_err(|_| PrimitiveError::Aead)?;
        rustcrypto_seal(&cipher, nonce, aad, plaintext)
    }

    fn open(
        &self,
        key: &[u8; 32],
        nonce: &[u8; 12],
        aad: &[u8],
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, PrimitiveError> {
        let cipher = chacha20poly1305::ChaCha20Poly1305::new_from_slice(key)
            .map_err(|_| PrimitiveError::Aead)?;
        rustcrypto_open(&cipher, nonce, aad, ciphertext)
    }
}

/// Implements [`Aead`] on `ring` or `aws-lc-rs`, which share one API.
macro_rules! ring_style_aead {
    ($name:ident, $krate:ident, $algorithm:ident, $alg:expr, $backend:literal, $doc:literal) => {
        #[doc = $doc]
        #[derive(Debug, Clone, Copy, Default)]
        pub struct $name;

        impl $name {
            /// Builds the cipher for one operation.
            fn key(key: &[u8; 32]) -> Result<$krate::aead::LessSafeKey, PrimitiveError> {
                let key = $krate::aead::UnboundKey::new(&$krate::aead::$algorithm, key)
                    .map_err(|_| PrimitiveError::Aead)?;
                Ok($krate::aead::LessSafeKey::new(key))
            }
        }

        impl Aead for $name {
            fn backend(&self) -> &'static str {
                $backend
            }

            fn alg(&self) -> AeadAlg {
                $alg
            }

            fn seal(
                &self,
                key: &[u8; 32],
                nonce: &[u8; 12],
                aad: &[u8],
                plaintext: &[u8],
            ) -> Result<Vec<u8>, PrimitiveError> {
                let key = Self::key(key)?;
                let nonce = $krate::aead::Nonce::assume_unique_for_key(*nonce);

                let mut buffer = Vec::with_capacity(plaintext.len() + TAG_LEN);
                buffer.extend_from_slice(plaintext);
                key.seal_in_place_append_tag(nonce, $krate::aead::Aad::from(aad), &mut buffer)
                    .map_err(|_| PrimitiveError::Aead)?;
                Ok(buffer)
            }

            fn open(
                &self,
                key: &[u8; 32],
                nonce: &[u8; 12],
                aad: &[u8],
                ciphertext: &[u8],
            ) -> Result<Zeroizing<Vec<u8>>, PrimitiveError> {
                let key = Self::key(key)?;
                let nonce = $krate::aead::Nonce::assume_unique_for_key(*nonce);

                let mut buffer = Zeroizing::new(ciphertext.to_vec());
                let plaintext_len = key
                    .open_in_place(nonce, $krate::aead::Aad::from(aad), &mut buffer)
                    .map_err(|_| PrimitiveError::Aead)?
                    .len();
                buffer.truncate(plaintext_len);
                Ok(buffer)
            }
        }
    };
}

ring_style_aead!(
    RingAes256Gcm,
    ring,
    AES_256_GCM,
    AeadAlg::Aes256Gcm,
    "ring",
    "AES-256-GCM from `ring` (assembly, AES-NI and CLMUL when present)."
);
ring_style_aead!(
    RingChaCha20Poly1305,
    ring,
    CHACHA20_POLY1305,
    AeadAlg::ChaCha20Poly1305,
    "ring",
    "ChaCha20-Poly1305 from `ring` (assembly)."
);
ring_style_aead!(
    AwsLcAes256Gcm,
    aws_lc_rs,
    AES_256_GCM,
    AeadAlg::Aes256Gcm,
    "aws-lc-rs",
    "AES-256-GCM from AWS-LC through `aws-lc-rs`."
);
ring_style_aead!(
    AwsLcChaCha20Poly1305,
    aws_lc_rs,
    CHACHA20_POLY1305,
    AeadAlg::ChaCha20Poly1305,
    "aws-lc-rs",
    "ChaCha20-Poly1305 from AWS-LC through `aws-lc-rs`."
);
