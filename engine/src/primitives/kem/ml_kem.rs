//! ML-KEM-768 and ML-KEM-1024 (FIPS 203) behind the [`Kem`] trait.
//!
//! Three backends:
//! - [`LibcruxMlKem768`], [`LibcruxMlKem1024`]: Cryspen's libcrux, formally
//!   verified, with AVX2 code selected at run time. Supports derandomized
//!   key generation and encapsulation.
//! - [`PqcleanMlKem768`], [`PqcleanMlKem1024`]: PQClean's AVX2 (or portable)
//!   C code through `pqcrypto-mlkem`. Randomized only.
//! - [`AwsLcMlKem768`], [`AwsLcMlKem1024`]: AWS-LC through `aws-lc-rs`.
//!   Randomized only.
//!
//! Keys are the FIPS 203 encodings: the encapsulation key `ek` and the
//! expanded decapsulation key `dk` (`dk_PKE || ek || H(ek) || z`). The seed
//! for derandomized key generation is `d || z` (64 bytes); the randomness for
//! derandomized encapsulation is `m` (32 bytes).
//!
//! Every backend's `encapsulate` performs the FIPS 203 section 7.2
//! encapsulation key check. libcrux runs its own `validate_public_key`; the
//! PQClean and AWS-LC wrappers run [`check_encapsulation_key`] first,
//! because `pqcrypto-mlkem` does not check at all.
//!
//! NOTE: the libcrux and PQClean key types do not zeroize. The wrappers wipe
//! the libcrux copies they create; PQClean's `SecretKey` has no mutable
//! access, so its stack copy during decapsulation is not wiped.

use aws_lc_rs::kem as awslc;
use libcrux_ml_kem::{MlKemCiphertext, MlKemPrivateKey, MlKemPublicKey};
use pqcrypto_traits::kem::{Ciphertext as _, PublicKey as _, SecretKey as _, SharedSecret as _};
use subtle::ConstantTimeEq;
use zeroize::Zeroize;

use crate::mode::KemAlg;
use crate::primitives::{
    Kem, KeyPair, PrimitiveError, SecretBytes, SharedSecret, check_len, os_random, to_array,
    to_secret_array,
};

/// The ML-KEM modulus q.
const Q: u16 = 3329;

/// Bytes of the derandomized key generation seed `d || z`.
pub const KEYGEN_SEED_LEN: usize = 64;

/// Bytes of the derandomized encapsulation randomness `m`.
pub const ENCAPS_RANDOMNESS_LEN: usize = 32;

/// Decapsulation key length of ML-KEM-768.
pub const ML_KEM_768_SECRET_KEY_LEN: usize = 2400;

/// Decapsulation key length of ML-KEM-1024.
pub const ML_KEM_1024_SECRET_KEY_LEN: usize = 3168;

/// Checks an encapsulation key as FIPS 203 section 7.2 requires.
///
/// `ek` is `ByteEncode12(t_hat) || rho`. The check is that every 12-bit
/// coefficient of `t_hat` is below q = 3329, which is the same as
/// `ByteEncode12(ByteDecode12(ek)) == ek` on the `t_hat` part. `rank` is k
/// (3 for ML-KEM-768, 4 for ML-KEM-1024).
///
/// # Errors
/// [`PrimitiveError::InvalidLength`] unless `ek` is `384 * rank + 32` bytes;
/// [`PrimitiveError::InvalidPublicKey`] if a coefficient is out of range.
pub fn check_encapsulation_key(ek: &[u8], rank: usize) -> Result<(), PrimitiveError> {
    let t_hat_len = 384 * rank;
    check_len("ML-KEM encapsulation key", ek, t_hat_len + 32)?;

    // Three bytes hold two little-endian 12-bit coefficients.
    let t_hat = ek
        .get(..t_hat_len)
        .ok_or(PrimitiveError::InvalidPublicKey)?;
    for triple in t_hat.chunks_exact(3) {
        let (b0, b1, b2) = (
            u16::from(triple[0]),
            u16::from(triple[1]),
            u16::from(triple[2]),
        );
        let low = b0 | ((b1 & 0x0f) << 8);
        let high = (b1 >> 4) | (b2 << 4);
        if low >= Q || high >= Q {
            return Err(PrimitiveError::InvalidPublicKey);
        }
    }
    Ok(())
}

/// Checks a decapsulation key as FIPS 203 section 7.3 requires of a key
/// from an untrusted source: its length, and that the hash it stores equals
/// `H(ek)` of the encapsulation key it embeds. `rank` is k (3 or 4).
///
/// `decapsulate` does not run this check, because it costs a SHA3-256 over
/// the embedded key on every call and keys made by `generate` pass it. Run
/// it once when a decapsulation key is loaded from storage.
///
/// # Errors
/// [`PrimitiveError::InvalidLength`] unless `dk` is `768 * rank + 96` bytes;
/// [`PrimitiveError::Kem`] if the stored hash does not match.
pub fn check_decapsulation_key(dk: &[u8], rank: usize) -> Result<(), PrimitiveError> {
    let ek_start = 384 * rank;
    let hash_start = 768 * rank + 32;
    check_len("ML-KEM decapsulation key", dk, hash_start + 64)?;

    let ek = dk.get(ek_start..hash_start).ok_or(PrimitiveError::Kem)?;
    let stored = dk
        .get(hash_start..hash_start + 32)
        .ok_or(PrimitiveError::Kem)?;
    let computed = libcrux_sha3::sha256(ek);
    if bool::from(computed.as_slice().ct_eq(stored)) {
        Ok(())
    } else {
        Err(PrimitiveError::Kem)
    }
}

/// Implements [`Kem`] for one libcrux parameter set.
macro_rules! libcrux_ml_kem {
    ($name:ident, $module:ident, $alg:expr, $ek:literal, $dk:literal, $ct:literal, $doc:literal) => {
        #[doc = $doc]
        #[derive(Debug, Clone, Copy, Default)]
        pub struct $name;

        impl Kem for $name {
            fn backend(&self) -> &'static str {
                "libcrux"
            }

            fn alg(&self) -> KemAlg {
                $alg
            }

            fn generate(&self) -> Result<KeyPair, PrimitiveError> {
                let seed = os_random::<KEYGEN_SEED_LEN>()?;
                self.generate_from_seed(seed.as_slice())
            }

            fn generate_from_seed(&self, seed: &[u8]) -> Result<KeyPair, PrimitiveError> {
                let seed = to_secret_array::<KEYGEN_SEED_LEN>("ML-KEM key generation seed", seed)?;

                let (mut secret, public) =
                    libcrux_ml_kem::$module::generate_key_pair(*seed).into_parts();
                let pair = KeyPair {
                    secret: SecretBytes::from_slice(secret.as_slice()),
                    public: public.as_slice().to_vec(),
                };
                secret[0..].zeroize();
                Ok(pair)
            }

            fn encapsulate(
                &self,
                public_key: &[u8],
            ) -> Result<(Vec<u8>, SharedSecret), PrimitiveError> {
                let randomness = os_random::<ENCAPS_RANDOMNESS_LEN>()?;
                self.encapsulate_derand(public_key, randomness.as_slice())
            }

            fn encapsulate_derand(
                &self,
                public_key: &[u8],
                randomness: &[u8],
            ) -> Result<(Vec<u8>, SharedSecret), PrimitiveError> {
                let ek = MlKemPublicKey::<$ek>::from(to_array::<$ek>(
                    "ML-KEM encapsulation key",
                    public_key,
                )?);
                if !libcrux_ml_kem::$module::validate_public_key(&ek) {
                    return Err(PrimitiveError::InvalidPublicKey);
                }
                let m = to_secret_array::<ENCAPS_RANDOMNESS_LEN>(
                    "ML-KEM encapsulation randomness",
                    randomness,
                )?;

                let (ciphertext, mut shared) = libcrux_ml_kem::$module::encapsulate(&ek, *m);
                let secret = SharedSecret::new(shared);
                shared.zeroize();
                Ok((ciphertext.as_slice().to_vec(), secret))
            }

            fn decapsulate(
                &self,
                secret_key: &SecretBytes,
                ciphertext: &[u8],
            ) -> Result<SharedSecret, PrimitiveError> {
                let ct =
                    MlKemCiphertext::<$ct>::from(to_array::<$ct>("ML-KEM ciphertext", ciphertext)?);
                let dk = to_secret_array::<$dk>("ML-KEM decapsulation key", secret_key.expose())?;
                let mut dk = MlKemPrivateKey::<$dk>::from(*dk);

                let mut shared = libcrux_ml_kem::$module::decapsulate(&dk, &ct);
                let secret = SharedSecret::new(shared);
                shared.zeroize();
                dk[0..].zeroize();
                Ok(secret)
            }
        }
    };
}

libcrux_ml_kem!(
    LibcruxMlKem768,
    mlkem768,
    KemAlg::MlKem768,
    1184,
    2400,
    1088,
    "ML-KEM-768 from libcrux (formally verified; AVX2 chosen at run time)."
);
libcrux_ml_kem!(
    LibcruxMlKem1024,
    mlkem1024,
    KemAlg::MlKem1024,
    1568,
    3168,
    1568,
    "ML-KEM-1024 from libcrux (formally verified; AVX2 chosen at run time)."
);

/// Implements [`Kem`] for one `pqcrypto-mlkem` parameter set.
macro_rules! pqclean_ml_kem {
    ($name:ident, $module:ident, $alg:expr, $rank:literal, $doc:literal) => {
        #[doc = $doc]
        #[derive(Debug, Clone, Copy, Default)]
        pub struct $name;

        impl Kem for $name {
            fn backend(&self) -> &'static str {
                "pqclean"
            }

            fn alg(&self) -> KemAlg {
                $alg
            }

            fn generate(&self) -> Result<KeyPair, PrimitiveError> {
                let (public, secret) = pqcrypto_mlkem::$module::keypair();
                Ok(KeyPair {
                    secret: SecretBytes::from_slice(secret.as_bytes()),
                    public: public.as_bytes().to_vec(),
                })
            }

            fn generate_from_seed(&self, _seed: &[u8]) -> Result<KeyPair, PrimitiveError> {
                Err(PrimitiveError::Unsupported {
                    backend: "pqclean",
                    operation: "derandomized ML-KEM key generation",
                })
            }

            fn encapsulate(
                &self,
                public_key: &[u8],
            ) -> Result<(Vec<u8>, SharedSecret), PrimitiveError> {
                check_encapsulation_key(public_key, $rank)?;
                let ek = pqcrypto_mlkem::$module::PublicKey::from_bytes(public_key)
                    .map_err(|_| PrimitiveError::InvalidPublicKey)?;

                let (shared, ciphertext) = pqcrypto_mlkem::$module::encapsulate(&ek);
                Ok((
                    ciphertext.as_bytes().to_vec(),
                    SharedSecret::from_slice(shared.as_bytes())?,
                ))
            }

            fn encapsulate_derand(
                &self,
                _public_key: &[u8],
                _randomness: &[u8],
            ) -> Result<(Vec<u8>, SharedSecret), PrimitiveError> {
                Err(PrimitiveError::Unsupported {
                    backend: "pqclean",
                    operation: "derandomized ML-KEM encapsulation",
                })
            }

            fn decapsulate(
                &self,
                secret_key: &SecretBytes,
                ciphertext: &[u8],
            ) -> Result<SharedSecret, PrimitiveError> {
                let expected_ct = pqcrypto_mlkem::$module::ciphertext_bytes();
                check_len("ML-KEM ciphertext", ciphertext, expected_ct)?;
                let expected_dk = pqcrypto_mlkem::$module::secret_key_bytes();
                check_len("ML-KEM decapsulation key", secret_key.expose(), expected_dk)?;

                let ct = pqcrypto_mlkem::$module::Ciphertext::from_bytes(ciphertext)
                    .map_err(|_| PrimitiveError::Kem)?;
                let dk = pqcrypto_mlkem::$module::SecretKey::from_bytes(secret_key.expose())
                    .map_err(|_| PrimitiveError::Kem)?;
                let shared = pqcrypto_mlkem::$module::decapsulate(&ct, &dk);
                SharedSecret::from_slice(shared.as_bytes())
            }
        }
    };
}

pqclean_ml_kem!(
    PqcleanMlKem768,
    mlkem768,
    KemAlg::MlKem768,
    3,
    "ML-KEM-768 from PQClean (AVX2 when the CPU has it) through `pqcrypto-mlkem`."
);
pqclean_ml_kem!(
    PqcleanMlKem1024,
    mlkem1024,
    KemAlg::MlKem1024,
    4,
    "ML-KEM-1024 from PQClean (AVX2 when the CPU has it) through `pqcrypto-mlkem`."
);

/// Implements [`Kem`] for one `aws-lc-rs` parameter set.
macro_rules! awslc_ml_kem {
    ($name:ident, $algorithm:expr, $alg:expr, $rank:literal, $dk_len:expr, $doc:literal) => {
        #[doc = $doc]
        #[derive(Debug, Clone, Copy, Default)]
        pub struct $name;

        impl Kem for $name {
            fn backend(&self) -> &'static str {
                "aws-lc-rs"
            }

            fn alg(&self) -> KemAlg {
                $alg
            }

            fn generate(&self) -> Result<KeyPair, PrimitiveError> {
                let dk = awslc::DecapsulationKey::generate(&$algorithm)
                    .map_err(|_| PrimitiveError::Rng)?;
                let secret = dk.key_bytes().map_err(|_| PrimitiveError::Kem)?;
                let ek = dk.encapsulation_key().map_err(|_| PrimitiveError::Kem)?;
                let public = ek.key_bytes().map_err(|_| PrimitiveError::Kem)?;
                Ok(KeyPair {
                    secret: SecretBytes::from_slice(secret.as_ref()),
                    public: public.as_ref().to_vec(),
                })
            }

            fn generate_from_seed(&self, _seed: &[u8]) -> Result<KeyPair, PrimitiveError> {
                Err(PrimitiveError::Unsupported {
                    backend: "aws-lc-rs",
                    operation: "derandomized ML-KEM key generation",
                })
            }

            fn encapsulate(
                &self,
                public_key: &[u8],
            ) -> Result<(Vec<u8>, SharedSecret), PrimitiveError> {
                check_encapsulation_key(public_key, $rank)?;
                let ek = awslc::EncapsulationKey::new(&$algorithm, public_key)
                    .map_err(|_| PrimitiveError::InvalidPublicKey)?;

                let (ciphertext, shared) = ek.encapsulate().map_err(|_| PrimitiveError::Kem)?;
                Ok((
                    ciphertext.as_ref().to_vec(),
                    SharedSecret::from_slice(shared.as_ref())?,
                ))
            }

            fn encapsulate_derand(
                &self,
                _public_key: &[u8],
                _randomness: &[u8],
            ) -> Result<(Vec<u8>, SharedSecret), PrimitiveError> {
                Err(PrimitiveError::Unsupported {
                    backend: "aws-lc-rs",
                    operation: "derandomized ML-KEM encapsulation",
                })
            }

            fn decapsulate(
                &self,
                secret_key: &SecretBytes,
                ciphertext: &[u8],
            ) -> Result<SharedSecret, PrimitiveError> {
                check_len("ML-KEM ciphertext", ciphertext, $alg.ciphertext_len())?;
                check_len("ML-KEM decapsulation key", secret_key.expose(), $dk_len)?;
                let dk = awslc::DecapsulationKey::new(&$algorithm, secret_key.expose())
                    .map_err(|_| PrimitiveError::Kem)?;

                let shared = dk
                    .decapsulate(ciphertext.into())
                    .map_err(|_| PrimitiveError::Kem)?;
                SharedSecret::from_slice(shared.as_ref())
            }
        }
    };
}

awslc_ml_kem!(
    AwsLcMlKem768,
    awslc::ML_KEM_768,
    KemAlg::MlKem768,
    3,
    ML_KEM_768_SECRET_KEY_LEN,
    "ML-KEM-768 from AWS-LC through `aws-lc-rs`."
);
awslc_ml_kem!(
    AwsLcMlKem1024,
    awslc::ML_KEM_1024,
    KemAlg::MlKem1024,
    4,
    ML_KEM_1024_SECRET_KEY_LEN,
    "ML-KEM-1024 from AWS-LC through `aws-lc-rs`."
);
