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
//!   [`PrimitiveError::Unsupported`].
//!
//! Secret keys are the FIPS 204 encoded signing key (4032 bytes for
//! ML-DSA-65, 4896 for ML-DSA-87), so all backends read each other's keys.
//! Every `sign` is hedged: it draws 32 bytes of fresh randomness.
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

/// Implements [`Signer`] for one libcrux parameter set.
macro_rules! libcrux_ml_dsa {
    ($name:ident, $module:ident, $alg:expr, $pk:literal, $sk:literal, $sig:literal, $doc:literal) => {
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
    1952,
    4032,
    3309,
    "ML-DSA-65 from libcrux (formally verified; AVX2 chosen at run time)."
);
libcrux_ml_dsa!(
    LibcruxMlDsa87,
    ml_dsa_87,
    SigAlg::MlDsa87,
    2592,
    4896,
    4627,
    "ML-DSA-87 from libcrux (formally verified; AVX2 chosen at run time)."
);

/// Implements [`Signer`] for one `pqcrypto-mldsa` parameter set.
macro_rules! pqclean_ml_dsa {
    ($name:ident, $module:ident, $alg:expr, $doc:literal) => {
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
    "ML-DSA-65 from PQClean (AVX2 when the CPU has it) through `pqcrypto-mldsa`."
);
pqclean_ml_dsa!(
    PqcleanMlDsa87,
    mldsa87,
    SigAlg::MlDsa87,
    "ML-DSA-87 from PQClean (AVX2 when the CPU has it) through `pqcrypto-mldsa`."
);

/// Implements [`Signer`] for one `aws-lc-rs` parameter set.
macro_rules! awslc_ml_dsa {
    ($name:ident, $signing:expr, $verification:expr, $alg:expr, $doc:literal) => {
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
    "ML-DSA-65 from AWS-LC through `aws-lc-rs` (empty context only)."
);
awslc_ml_dsa!(
    AwsLcMlDsa87,
    awslc::ML_DSA_87_SIGNING,
    awslc::ML_DSA_87,
    SigAlg::MlDsa87,
    "ML-DSA-87 from AWS-LC through `aws-lc-rs` (empty context only)."
);
