//! ML-DSA-65 and ML-DSA-87 (FIPS 204) behind the [`Signer`] trait.
//!
//! Three backends:
//! - [`LibcruxMlDsa65`], [`LibcruxMlDsa87`]: Cryspen's libcrux, formally
//!   verified, AVX2 chosen at run time. Supports key generation from the
//!   32-byte seed `xi` and signing with caller-supplied randomness
//!   ([`Signer::sign_derand`]; all-zero randomness is FIPS 204's
//!   deterministic variant).
//! - [`PqcleanMlDsa65`], [`PqcleanMlDsa87`]: PQClean's AVX2 (or portable) C
//!   code through `pqcrypto-mldsa`. Randomized key generation and hedged
//!   signing only.
//! - [`AwsLcMlDsa65`], [`AwsLcMlDsa87`]: AWS-LC through `aws-lc-rs`. Key
//!   generation from a seed is supported, but `aws-lc-rs` 1.19 exposes no
//!   context string, so a non-empty context returns
//!   [`PrimitiveError::Unsupported`] and `BackendSet` does not offer it.
//!
//! Secret keys are the FIPS 204 encoded signing key (4032 bytes for
//! ML-DSA-65, 4896 for ML-DSA-87), so all backends read each other's keys.
//! Every `sign` is hedged: it draws 32 bytes of fresh randomness.
//!
//! Every `sign` first checks that `s1` and `s2` of the signing key are in
//! range, so that every backend rejects a corrupted key (Wycheproof's
//! invalid private keys) in the same way. PQClean alone would sign with it.
//!
//! NOTE: PQClean's ML-DSA in `pqcrypto-mldsa` 0.1.2 deviates from FIPS 204
//! in verification. It accepts signatures whose response `z` exceeds the
//! norm bound, which the wrapper closes with its own check before calling
//! it. It also rejects Wycheproof's valid "use_hint(1, 0)" signatures (under
//! an all-zero public key), which the wrapper cannot fix.
//!
//! NOTE: PQClean's `SecretKey` has no mutable access, so its stack copy
//! during signing is not wiped. The libcrux copies are wiped.

use aws_lc_rs::encoding::AsRawBytes as _;
use aws_lc_rs::signature::{self as awslc, KeyPair as _};
use libcrux_ml_dsa::{MLDSASignature, MLDSASigningKey, MLDSAVerificationKey};
use pqcrypto_traits::sign::{DetachedSignature as _, PublicKey as _, SecretKey as _};
use zeroize::Zeroize;

use crate::mode::SigAlg;
use crate::primitives::{
    KeyPair, PrimitiveError, SecretBytes, Signer, check_len, os_random, to_array, to_secret_array,
};

/// Bytes of the key generation seed `xi`.
pub const SEED_LEN: usize = 32;

/// Bytes of the signing randomness `rnd`.
pub const SIGNING_RANDOMNESS_LEN: usize = 32;

/// Maximum bytes of a context string.
pub const MAX_CONTEXT_LEN: usize = 255;

/// Rejects a context string longer than FIPS 204 allows.
///
/// # Errors
/// [`PrimitiveError::ContextTooLong`] above [`MAX_CONTEXT_LEN`] bytes.
fn check_context(context: &[u8]) -> Result<(), PrimitiveError> {
    if context.len() > MAX_CONTEXT_LEN {
        return Err(PrimitiveError::ContextTooLong {
            actual: context.len(),
        });
    }
    Ok(())
}

/// The dimensions of `s1` and `s2` in an encoded ML-DSA signing key (FIPS
/// 204, Table 1 and Algorithm 24 `skEncode`).
#[derive(Debug, Clone, Copy)]
struct SecretShape {
    /// Polynomials in `s1`.
    l: usize,
    /// Polynomials in `s2`.
    k: usize,
    /// The coefficient bound eta; each coefficient is stored as `eta - c`.
    eta: u16,
    /// Bits per stored coefficient, `bitlen(2 * eta)`.
    bits: usize,
}

const ML_DSA_65_SHAPE: SecretShape = SecretShape {
    l: 5,
    k: 6,
    eta: 4,
    bits: 4,
};
const ML_DSA_87_SHAPE: SecretShape = SecretShape {
    l: 7,
    k: 8,
    eta: 2,
    bits: 3,
};

/// Bytes of `rho || K || tr` before `s1` in an encoded signing key.
const SECRET_KEY_PREFIX_LEN: usize = 128;

/// Checks that every stored coefficient of `s1` and `s2` is at most
/// `2 * eta`, as `skDecode` requires, so that a corrupted or malicious
/// signing key is rejected instead of producing a signature.
///
/// The scan takes the same time for every key of a given length.
///
/// # Errors
/// [`PrimitiveError::Signing`] if a coefficient is out of range or the key is
/// too short to hold `s1` and `s2`.
fn check_signing_key(secret_key: &[u8], shape: SecretShape) -> Result<(), PrimitiveError> {
    let packed_len = (shape.l + shape.k) * 32 * shape.bits;
    let packed = secret_key
        .get(SECRET_KEY_PREFIX_LEN..SECRET_KEY_PREFIX_LEN + packed_len)
        .ok_or(PrimitiveError::Signing)?;

    // Stream the bits little-endian; a coefficient above 2 * eta makes
    // `2 * eta - c` wrap, which sets bit 15 of the difference.
    let mask = (1u32 << shape.bits) - 1;
    let (mut buffer, mut buffered, mut out_of_range) = (0u32, 0usize, 0u16);
    for &byte in packed {
        buffer |= u32::from(byte) << buffered;
        buffered += 8;
        while buffered >= shape.bits {
            let coefficient = (buffer & mask) as u16;
            out_of_range |= (2 * shape.eta).wrapping_sub(coefficient) >> 15;
            buffer >>= shape.bits;
            buffered -= shape.bits;
        }
    }

    if out_of_range == 0 {
        Ok(())
    } else {
        Err(PrimitiveError::Signing)
    }
}

/// The layout of `z` in an encoded ML-DSA signature (FIPS 204, Table 1 and
/// Algorithm 26 `sigEncode`): `c_tilde || z || h`, each coefficient of `z`
/// stored in 20 bits as `gamma1 - z` with gamma1 = 2^19.
#[derive(Debug, Clone, Copy)]
struct ResponseShape {
    /// Bytes of the commitment hash `c_tilde` before `z`.
    c_tilde_len: usize,
    /// Polynomials in `z`.
    l: usize,
    /// The bound beta = tau * eta; every `|z_i|` must be below gamma1 - beta.
    beta: u32,
}

const ML_DSA_65_RESPONSE: ResponseShape = ResponseShape {
    c_tilde_len: 48,
    l: 5,
    beta: 196,
};
const ML_DSA_87_RESPONSE: ResponseShape = ResponseShape {
    c_tilde_len: 64,
    l: 7,
    beta: 120,
};

/// gamma1 of ML-DSA-65 and ML-DSA-87.
const GAMMA1: u32 = 1 << 19;

/// Checks the infinity norm of the response `z` of a signature:
/// `|z_i| < gamma1 - beta` for every coefficient, as verification requires.
///
/// The PQClean wrapper runs it before PQClean's own verification, because
/// the `pqcrypto-mldsa` 0.1.2 build accepts signatures that violate this
/// bound (Wycheproof's `InfinityNormViolation` vectors).
///
/// # Errors
/// [`PrimitiveError::Signature`] if a coefficient is out of bounds or the
/// signature is too short to hold `z`.
fn check_response_norm(signature: &[u8], shape: ResponseShape) -> Result<(), PrimitiveError> {
    let z_len = shape.l * 256 * 20 / 8;
    let z = signature
        .get(shape.c_tilde_len..shape.c_tilde_len + z_len)
        .ok_or(PrimitiveError::Signature)?;

    // Five bytes hold two 20-bit little-endian values v = gamma1 - z_i; the
    // bound |z_i| < gamma1 - beta is beta < v < 2 * gamma1 - beta.
    for chunk in z.chunks_exact(5) {
        let packed = chunk
            .iter()
            .rev()
            .fold(0u64, |acc, &byte| (acc << 8) | u64::from(byte));
        for v in [packed & 0xf_ffff, packed >> 20] {
            let v = v as u32;
            if v <= shape.beta || v >= 2 * GAMMA1 - shape.beta {
                return Err(PrimitiveError::Signature);
            }
        }
    }
    Ok(())
}

/// Implements [`Signer`] for one libcrux parameter set.
macro_rules! libcrux_ml_dsa {
    ($name:ident, $module:ident, $alg:expr, $shape:expr, $pk:literal, $sk:literal, $sig:literal, $doc:literal) => {
        #[doc = $doc]
        #[derive(Debug, Clone, Copy, Default)]
        pub struct $name;

        impl Signer for $name {
            fn backend(&self) -> &'static str {
                "libcrux"
            }

            fn alg(&self) -> SigAlg {
                $alg
            }

            fn generate(&self) -> Result<KeyPair, PrimitiveError> {
                let seed = os_random::<SEED_LEN>()?;
                self.generate_from_seed(seed.as_slice())
            }

            fn generate_from_seed(&self, seed: &[u8]) -> Result<KeyPair, PrimitiveError> {
                let seed = to_secret_array::<SEED_LEN>("ML-DSA seed", seed)?;

                let mut pair = libcrux_ml_dsa::$module::generate_key_pair(*seed);
                let key_pair = KeyPair {
                    secret: SecretBytes::from_slice(pair.signing_key.as_slice()),
                    public: pair.verification_key.as_slice().to_vec(),
                };
                pair.signing_key.as_mut_slice().zeroize();
                Ok(key_pair)
            }

            fn sign(
                &self,
                secret_key: &SecretBytes,
                message: &[u8],
                context: &[u8],
            ) -> Result<Vec<u8>, PrimitiveError> {
                let randomness = os_random::<SIGNING_RANDOMNESS_LEN>()?;
                self.sign_derand(secret_key, message, context, randomness.as_slice())
            }

            fn sign_derand(
                &self,
                secret_key: &SecretBytes,
                message: &[u8],
                context: &[u8],
                randomness: &[u8],
            ) -> Result<Vec<u8>, PrimitiveError> {
                check_context(context)?;
                let rnd = to_secret_array::<SIGNING_RANDOMNESS_LEN>(
                    "ML-DSA signing randomness",
                    randomness,
                )?;
                let key = to_secret_array::<$sk>("ML-DSA secret key", secret_key.expose())?;
                check_signing_key(key.as_slice(), $shape)?;
                let mut key = MLDSASigningKey::<$sk>::new(*key);

                let signature = libcrux_ml_dsa::$module::sign(&key, message, context, *rnd);
                key.as_mut_slice().zeroize();
                let signature = signature.map_err(|_| PrimitiveError::Signing)?;
                Ok(signature.as_slice().to_vec())
            }

            fn verify(
                &self,
                public_key: &[u8],
                message: &[u8],
                context: &[u8],
                signature: &[u8],
            ) -> Result<(), PrimitiveError> {
                check_context(context)?;
                let key = MLDSAVerificationKey::<$pk>::new(to_array::<$pk>(
                    "ML-DSA public key",
                    public_key,
                )?);
                let signature =
                    MLDSASignature::<$sig>::new(to_array::<$sig>("ML-DSA signature", signature)?);

                libcrux_ml_dsa::$module::verify(&key, message, context, &signature)
                    .map_err(|_| PrimitiveError::Signature)
            }
        }
    };
}

libcrux_ml_dsa!(
    LibcruxMlDsa65,
    ml_dsa_65,
    SigAlg::MlDsa65,
    ML_DSA_65_SHAPE,
    1952,
    4032,
    3309,
    "ML-DSA-65 from libcrux (formally verified; AVX2 chosen at run time)."
);
libcrux_ml_dsa!(
    LibcruxMlDsa87,
    ml_dsa_87,
    SigAlg::MlDsa87,
    ML_DSA_87_SHAPE,
    2592,
    4896,
    4627,
    "ML-DSA-87 from libcrux (formally verified; AVX2 chosen at run time)."
);

/// Implements [`Signer`] for one `pqcrypto-mldsa` parameter set.
macro_rules! pqclean_ml_dsa {
    ($name:ident, $module:ident, $alg:expr, $shape:expr, $response:expr, $doc:literal) => {
        #[doc = $doc]
        #[derive(Debug, Clone, Copy, Default)]
        pub struct $name;

        impl Signer for $name {
            fn backend(&self) -> &'static str {
                "pqclean"
            }

            fn alg(&self) -> SigAlg {
                $alg
            }

            fn generate(&self) -> Result<KeyPair, PrimitiveError> {
                let (public, secret) = pqcrypto_mldsa::$module::keypair();
                Ok(KeyPair {
                    secret: SecretBytes::from_slice(secret.as_bytes()),
                    public: public.as_bytes().to_vec(),
                })
            }

            fn generate_from_seed(&self, _seed: &[u8]) -> Result<KeyPair, PrimitiveError> {
                Err(PrimitiveError::Unsupported {
                    backend: "pqclean",
                    operation: "ML-DSA key generation from a seed",
                })
            }

            fn sign(
                &self,
                secret_key: &SecretBytes,
                message: &[u8],
                context: &[u8],
            ) -> Result<Vec<u8>, PrimitiveError> {
                check_context(context)?;
                check_len(
                    "ML-DSA secret key",
                    secret_key.expose(),
                    pqcrypto_mldsa::$module::secret_key_bytes(),
                )?;
                check_signing_key(secret_key.expose(), $shape)?;
                let key = pqcrypto_mldsa::$module::SecretKey::from_bytes(secret_key.expose())
                    .map_err(|_| PrimitiveError::Signing)?;

                let signature = pqcrypto_mldsa::$module::detached_sign_ctx(message, context, &key);
                let signature = signature.as_bytes();
                check_len("ML-DSA signature", signature, $alg.signature_len())
                    .map_err(|_| PrimitiveError::Signing)?;
                Ok(signature.to_vec())
            }

            fn verify(
                &self,
                public_key: &[u8],
                message: &[u8],
                context: &[u8],
                signature: &[u8],
            ) -> Result<(), PrimitiveError> {
                check_context(context)?;
                check_len("ML-DSA public key", public_key, $alg.public_key_len())?;
                check_len("ML-DSA signature", signature, $alg.signature_len())?;
                check_response_norm(signature, $response)?;
                let key = pqcrypto_mldsa::$module::PublicKey::from_bytes(public_key)
                    .map_err(|_| PrimitiveError::Signature)?;
                let signature = pqcrypto_mldsa::$module::DetachedSignature::from_bytes(signature)
                    .map_err(|_| PrimitiveError::Signature)?;

                pqcrypto_mldsa::$module::verify_detached_signature_ctx(
                    &signature, message, context, &key,
                )
                .map_err(|_| PrimitiveError::Signature)
            }
        }
    };
}

pqclean_ml_dsa!(
    PqcleanMlDsa65,
    mldsa65,
    SigAlg::MlDsa65,
    ML_DSA_65_SHAPE,
    ML_DSA_65_RESPONSE,
    "ML-DSA-65 from PQClean (AVX2 when the CPU has it) through `pqcrypto-mldsa`."
);
pqclean_ml_dsa!(
    PqcleanMlDsa87,
    mldsa87,
    SigAlg::MlDsa87,
    ML_DSA_87_SHAPE,
    ML_DSA_87_RESPONSE,
    "ML-DSA-87 from PQClean (AVX2 when the CPU has it) through `pqcrypto-mldsa`."
);

/// Implements [`Signer`] for one `aws-lc-rs` parameter set.
macro_rules! awslc_ml_dsa {
    ($name:ident, $signing:expr, $verification:expr, $alg:expr, $shape:expr, $sk_len:literal, $doc:literal) => {
        #[doc = $doc]
        #[derive(Debug, Clone, Copy, Default)]
        pub struct $name;

        impl $name {
            /// Rejects the context strings `aws-lc-rs` cannot pass on.
            fn check_context(context: &[u8]) -> Result<(), PrimitiveError> {
                check_context(context)?;
                if context.is_empty() {
                    Ok(())
                } else {
                    Err(PrimitiveError::Unsupported {
                        backend: "aws-lc-rs",
                        operation: "ML-DSA with a context string",
                    })
                }
            }

            /// Converts an AWS-LC key pair to encoded keys.
            fn encode(pair: &awslc::PqdsaKeyPair) -> Result<KeyPair, PrimitiveError> {
                let secret = pair
                    .private_key()
                    .as_raw_bytes()
                    .map_err(|_| PrimitiveError::Signing)?;
                Ok(KeyPair {
                    secret: SecretBytes::from_slice(secret.as_ref()),
                    public: pair.public_key().as_ref().to_vec(),
                })
            }
        }

        impl Signer for $name {
            fn backend(&self) -> &'static str {
                "aws-lc-rs"
            }

            fn alg(&self) -> SigAlg {
                $alg
            }

            fn generate(&self) -> Result<KeyPair, PrimitiveError> {
                let seed = os_random::<SEED_LEN>()?;
                self.generate_from_seed(seed.as_slice())
            }

            fn generate_from_seed(&self, seed: &[u8]) -> Result<KeyPair, PrimitiveError> {
                check_len("ML-DSA seed", seed, SEED_LEN)?;
                let pair = awslc::PqdsaKeyPair::from_seed(&$signing, seed)
                    .map_err(|_| PrimitiveError::Signing)?;
                Self::encode(&pair)
            }

            fn sign(
                &self,
                secret_key: &SecretBytes,
                message: &[u8],
                context: &[u8],
            ) -> Result<Vec<u8>, PrimitiveError> {
                Self::check_context(context)?;
                check_len("ML-DSA secret key", secret_key.expose(), $sk_len)?;
                check_signing_key(secret_key.expose(), $shape)?;
                let pair =
                    awslc::PqdsaKeyPair::from_raw_private_key(&$signing, secret_key.expose())
                        .map_err(|_| PrimitiveError::Signing)?;

                let mut signature = vec![0u8; $alg.signature_len()];
                let written = pair
                    .sign(message, &mut signature)
                    .map_err(|_| PrimitiveError::Signing)?;
                signature.truncate(written);
                Ok(signature)
            }

            fn verify(
                &self,
                public_key: &[u8],
                message: &[u8],
                context: &[u8],
                signature: &[u8],
            ) -> Result<(), PrimitiveError> {
                Self::check_context(context)?;
                check_len("ML-DSA public key", public_key, $alg.public_key_len())?;
                check_len("ML-DSA signature", signature, $alg.signature_len())?;

                awslc::UnparsedPublicKey::new(&$verification, public_key)
                    .verify(message, signature)
                    .map_err(|_| PrimitiveError::Signature)
            }
        }
    };
}

awslc_ml_dsa!(
    AwsLcMlDsa65,
    awslc::ML_DSA_65_SIGNING,
    awslc::ML_DSA_65,
    SigAlg::MlDsa65,
    ML_DSA_65_SHAPE,
    4032,
    "ML-DSA-65 from AWS-LC through `aws-lc-rs` (empty context only)."
);
awslc_ml_dsa!(
    AwsLcMlDsa87,
    awslc::ML_DSA_87_SIGNING,
    awslc::ML_DSA_87,
    SigAlg::MlDsa87,
    ML_DSA_87_SHAPE,
    4896,
    "ML-DSA-87 from AWS-LC through `aws-lc-rs` (empty context only)."
);
