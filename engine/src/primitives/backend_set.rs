//! [`BackendSet`]: one implementation per primitive, chosen at run time.
//!
//! # Backend names
//!
//! [`BackendSet::named`] builds a set from a specification such as
//! `"baseline,ml-kem=libcrux,aead-alg=chacha20-poly1305"`: an optional preset
//! (`default` or `baseline`, default `default`) followed by `key=value`
//! overrides.
//!
//! | key | values | selects |
//! | --- | --- | --- |
//! | `ml-kem` | `libcrux`, `pqclean`, `aws-lc-rs` | ML-KEM-768, ML-KEM-1024 and X-Wing's ML-KEM half |
//! | `x25519` | `dalek`, `aws-lc-rs` | key agreement, the X25519 KEM and X-Wing's X25519 half |
//! | `ed25519` | `dalek`, `aws-lc-rs`, `aws-lc-rs-cofactorless` | Ed25519 signing and single verification |
//! | `ed25519-batch` | `cofactored`, `sequential` | Ed25519 batch verification |
//! | `ml-dsa` | `libcrux`, `pqclean` | ML-DSA-65 and ML-DSA-87 |
//! | `aead` | `rustcrypto`, `ring`, `aws-lc-rs` | both AEAD implementations |
//! | `aead-alg` | `auto`, `aes-256-gcm`, `chacha20-poly1305` | the AEAD that new envelopes use |
//!
//! The `aws-lc-rs` ML-DSA backends
//! ([`AwsLcMlDsa65`](crate::primitives::sig::ml_dsa::AwsLcMlDsa65) and
//! `AwsLcMlDsa87`) are not selectable: `aws-lc-rs` 1.19 takes no context
//! string, and the engine signs every ML-DSA message under one.
//!
//! # The default and why
//!
//! `docs/benchmarks.md` records the criterion medians behind these choices
//! (`benches/benches/primitives.rs`, every backend of an operation in one
//! group). Medians on a 2-core AMD EPYC with an x86-64-v3 build:
//!
//! | operation | figures |
//! | --- | --- |
//! | ML-KEM-768 encapsulation | 10.7 us libcrux, 10.7 us PQClean |
//! | ML-DSA-65 signing | 87 us libcrux, 114 us PQClean |
//! | X25519 shared secret | 21 us aws-lc-rs, 37 us dalek |
//! | Ed25519 signing | 13 us aws-lc-rs, 29 us dalek |
//! | AES-256-GCM sealing of 1 KiB | 3.3 GB/s aws-lc-rs, 2.8 GB/s ring, 1.6 GB/s RustCrypto |
//!
//! - ML-KEM and ML-DSA: libcrux. It is formally verified and within about
//!   10 % of PQClean. It is also the only ML-KEM backend with derandomized
//!   key generation and encapsulation, and PQClean's ML-DSA (in
//!   `pqcrypto-mldsa` 0.1.2) rejects valid Wycheproof signatures that libcrux
//!   accepts.
//! - X25519 and Ed25519 signing: aws-lc-rs, about twice as fast as dalek.
//! - Ed25519 verification: the cofactored strict rule (see
//!   [`sig::ed25519`](crate::primitives::sig::ed25519)), so that single and
//!   batch verification accept exactly the same signatures.
//! - AEAD: aws-lc-rs, assembly like ring, which keeps the classical
//!   defaults in one library. AES-256-GCM where the CPU has AES and
//!   carry-less multiply instructions, ChaCha20-Poly1305 elsewhere.
//!
//! [`BackendSet::baseline`] is the all-portable-reference set: the dalek
//! crates, RustCrypto and PQClean.

use std::fmt;
use std::sync::Arc;

use crate::mode::{AeadAlg, KemAlg, SigAlg};
use crate::primitives::aead::{
    AwsLcAes256Gcm, AwsLcChaCha20Poly1305, RingAes256Gcm, RingChaCha20Poly1305,
    RustCryptoAes256Gcm, RustCryptoChaCha20Poly1305, cpu_has_aes_gcm_instructions,
};
use crate::primitives::kem::ml_kem::{
    AwsLcMlKem768, AwsLcMlKem1024, LibcruxMlKem768, LibcruxMlKem1024, PqcleanMlKem768,
    PqcleanMlKem1024,
};
use crate::primitives::kem::x25519::{AwsLcX25519, DalekX25519, X25519Kem};
use crate::primitives::kem::xwing::XWing;
use crate::primitives::sig::ed25519::{
    AwsLcEd25519, CofactoredBatchVerifier, DalekEd25519, Ed25519Verification,
    SequentialBatchVerifier,
};
use crate::primitives::sig::ml_dsa::{
    LibcruxMlDsa65, LibcruxMlDsa87, PqcleanMlDsa65, PqcleanMlDsa87,
};
use crate::primitives::{Aead, BatchVerifier, Kem, KeyAgreement, Signer};

/// One implementation per primitive.
///
/// Cloning is cheap: every backend sits behind an `Arc`.
#[derive(Clone)]
pub struct BackendSet {
    /// Classical mode KEM: X25519 with an ephemeral key as ciphertext.
    pub x25519_kem: Arc<dyn Kem>,
    /// Hybrid mode KEM, composed from an ML-KEM-768 backend and an X25519
    /// backend.
    pub x_wing: Arc<dyn Kem>,
    /// ML-KEM-768.
    pub ml_kem_768: Arc<dyn Kem>,
    /// ML-KEM-1024, the pq mode KEM.
    pub ml_kem_1024: Arc<dyn Kem>,
    /// X25519 key agreement.
    pub x25519: Arc<dyn KeyAgreement>,
    /// Ed25519 signing and strict single verification.
    pub ed25519: Arc<dyn Signer>,
    /// Ed25519 batch verification, accepting exactly what `ed25519` accepts.
    pub ed25519_batch: Arc<dyn BatchVerifier>,
    /// ML-DSA-65.
    pub ml_dsa_65: Arc<dyn Signer>,
    /// ML-DSA-87.
    pub ml_dsa_87: Arc<dyn Signer>,
    /// AES-256-GCM.
    pub aes_256_gcm: Arc<dyn Aead>,
    /// ChaCha20-Poly1305.
    pub chacha20_poly1305: Arc<dyn Aead>,
    /// The AEAD that new envelopes use: AES-256-GCM where the CPU has AES and
    /// carry-less multiply instructions, ChaCha20-Poly1305 elsewhere, unless
    /// forced with [`BackendSet::with_aead`].
    pub aead: AeadAlg,
}

/// An invalid [`BackendSet::named`] specification.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid backend specification {token:?}: {reason}")]
pub struct BackendSpecError {
    /// The token that failed.
    pub token: String,
    /// Explanation of the problem, with the accepted values.
    pub reason: String,
}

/// The names chosen for each primitive; [`Choice::build`] makes the set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Choice {
    ml_kem: &'static str,
    x25519: &'static str,
    ed25519: &'static str,
    ed25519_batch: &'static str,
    ml_dsa: &'static str,
    aead: &'static str,
    aead_alg: Option<AeadAlg>,
}

/// Accepted values per key, the first being the default preset's choice.
const KEYS: [(&str, &[&str]); 6] = [
    ("ml-kem", &["libcrux", "pqclean", "aws-lc-rs"]),
    ("x25519", &["aws-lc-rs", "dalek"]),
    ("ed25519", &["aws-lc-rs", "dalek", "aws-lc-rs-cofactorless"]),
    ("ed25519-batch", &["cofactored", "sequential"]),
    ("ml-dsa", &["libcrux", "pqclean"]),
    ("aead", &["aws-lc-rs", "ring", "rustcrypto"]),
];

impl Choice {
    const DEFAULT: Choice = Choice {
        ml_kem: "libcrux",
        x25519: "aws-lc-rs",
        ed25519: "aws-lc-rs",
        ed25519_batch: "cofactored",
        ml_dsa: "libcrux",
        aead: "aws-lc-rs",
        aead_alg: None,
    };

    const BASELINE: Choice = Choice {
        ml_kem: "pqclean",
        x25519: "dalek",
        ed25519: "dalek",
        ed25519_batch: "cofactored",
        ml_dsa: "pqclean",
        aead: "rustcrypto",
        aead_alg: None,
    };

    /// Applies one `key=value` override.
    fn set(&mut self, key: &str, value: &str) -> Result<(), BackendSpecError> {
        if key == "aead-alg" {
            self.aead_alg = parse_aead_alg(value)?;
            return Ok(());
        }
        let (_, values) = KEYS
            .iter()
            .find(|(name, _)| *name == key)
            .ok_or_else(|| spec_error(key, "unknown key; expected ml-kem, x25519, ed25519, ed25519-batch, ml-dsa, aead or aead-alg"))?;
        let value = values
            .iter()
            .copied()
            .find(|v| *v == value)
            .ok_or_else(|| {
                spec_error(
                    value,
                    &format!(
                        "unknown {key} backend; expected one of {}",
                        values.join(", ")
                    ),
                )
            })?;

        match key {
            "ml-kem" => self.ml_kem = value,
            "x25519" => self.x25519 = value,
            "ed25519" => self.ed25519 = value,
            "ed25519-batch" => self.ed25519_batch = value,
            "ml-dsa" => self.ml_dsa = value,
            _ => self.aead = value,
        }
        Ok(())
    }

    /// Builds the set. Every name was checked against [`KEYS`].
    fn build(self) -> BackendSet {
        let (ml_kem_768, ml_kem_1024) = ml_kem_backends(self.ml_kem);
        let x25519: Arc<dyn KeyAgreement> = match self.x25519 {
            "dalek" => Arc::new(DalekX25519),
            _ => Arc::new(AwsLcX25519),
        };
        let ed25519 = ed25519_backend(self.ed25519);
        let ed25519_batch: Arc<dyn BatchVerifier> = match self.ed25519_batch {
            "sequential" => Arc::new(SequentialBatchVerifier::new(ed25519.clone())),
            _ => Arc::new(CofactoredBatchVerifier),
        };
        let (ml_dsa_65, ml_dsa_87) = ml_dsa_backends(self.ml_dsa);
        let (aes_256_gcm, chacha20_poly1305) = aead_backends(self.aead);

        // X-Wing expands seeds with libcrux, the only backend with
        // derandomized ML-KEM key generation; the result is the same for all.
        let x_wing = XWing::new(
            ml_kem_768.clone(),
            Arc::new(LibcruxMlKem768),
            x25519.clone(),
        );
        BackendSet {
            x25519_kem: Arc::new(X25519Kem::new(x25519.clone())),
            x_wing: Arc::new(x_wing),
            ml_kem_768,
            ml_kem_1024,
            x25519,
            ed25519,
            ed25519_batch,
            ml_dsa_65,
            ml_dsa_87,
            aes_256_gcm,
            chacha20_poly1305,
            aead: self.aead_alg.unwrap_or_else(detect_aead),
        }
    }
}

/// The ML-KEM-768 and ML-KEM-1024 backends of one implementation.
fn ml_kem_backends(name: &str) -> (Arc<dyn Kem>, Arc<dyn Kem>) {
    match name {
        "pqclean" => (Arc::new(PqcleanMlKem768), Arc::new(PqcleanMlKem1024)),
        "aws-lc-rs" => (Arc::new(AwsLcMlKem768), Arc::new(AwsLcMlKem1024)),
        _ => (Arc::new(LibcruxMlKem768), Arc::new(LibcruxMlKem1024)),
    }
}

/// The Ed25519 signer of one implementation.
fn ed25519_backend(name: &str) -> Arc<dyn Signer> {
    match name {
        "dalek" => Arc::new(DalekEd25519),
        "aws-lc-rs-cofactorless" => Arc::new(AwsLcEd25519::new(Ed25519Verification::AwsLc)),
        _ => Arc::new(AwsLcEd25519::new(Ed25519Verification::Cofactored)),
    }
}

/// The ML-DSA-65 and ML-DSA-87 backends of one implementation.
fn ml_dsa_backends(name: &str) -> (Arc<dyn Signer>, Arc<dyn Signer>) {
    match name {
        "pqclean" => (Arc::new(PqcleanMlDsa65), Arc::new(PqcleanMlDsa87)),
        _ => (Arc::new(LibcruxMlDsa65), Arc::new(LibcruxMlDsa87)),
    }
}

/// The AES-256-GCM and ChaCha20-Poly1305 backends of one implementation.
fn aead_backends(name: &str) -> (Arc<dyn Aead>, Arc<dyn Aead>) {
    match name {
        "rustcrypto" => (
            Arc::new(RustCryptoAes256Gcm),
            Arc::new(RustCryptoChaCha20Poly1305),
        ),
        "ring" => (Arc::new(RingAes256Gcm), Arc::new(RingChaCha20Poly1305)),
        _ => (Arc::new(AwsLcAes256Gcm), Arc::new(AwsLcChaCha20Poly1305)),
    }
}

/// AES-256-GCM where the CPU has AES and carry-less multiply instructions,
/// ChaCha20-Poly1305 elsewhere.
fn detect_aead() -> AeadAlg {
    if cpu_has_aes_gcm_instructions() {
        AeadAlg::Aes256Gcm
    } else {
        AeadAlg::ChaCha20Poly1305
    }
}

/// Parses an `aead-alg` value; `None` means detect at run time.
fn parse_aead_alg(value: &str) -> Result<Option<AeadAlg>, BackendSpecError> {
    match value {
        "auto" => Ok(None),
        "aes-256-gcm" => Ok(Some(AeadAlg::Aes256Gcm)),
        "chacha20-poly1305" => Ok(Some(AeadAlg::ChaCha20Poly1305)),
        other => Err(spec_error(
            other,
            "unknown aead-alg; expected auto, aes-256-gcm or chacha20-poly1305",
        )),
    }
}

/// Builds a [`BackendSpecError`].
fn spec_error(token: &str, reason: &str) -> BackendSpecError {
    BackendSpecError {
        token: token.to_owned(),
        reason: reason.to_owned(),
    }
}

/// Returns the lower-case name of an AEAD algorithm.
fn aead_alg_name(alg: AeadAlg) -> &'static str {
    match alg {
        AeadAlg::Aes256Gcm => "aes-256-gcm",
        AeadAlg::ChaCha20Poly1305 => "chacha20-poly1305",
    }
}

impl BackendSet {
    /// Builds the default set for this CPU: libcrux for ML-KEM and ML-DSA, aws-lc-rs
    /// for X25519, Ed25519 signing and the AEADs, cofactored strict Ed25519
    /// verification, and the AEAD picked from the CPU's instructions. The
    /// module documentation gives the measurements behind the choice.
    pub fn for_this_cpu() -> BackendSet {
        Choice::DEFAULT.build()
    }

    /// Builds the reference set: `x25519-dalek`, `ed25519-dalek` (with cofactored
    /// strict verification), RustCrypto `aes-gcm` and `chacha20poly1305`,
    /// and PQClean through `pqcrypto`. X-Wing key expansion still uses
    /// libcrux, because PQClean has no derandomized key generation.
    pub fn baseline() -> BackendSet {
        Choice::BASELINE.build()
    }

    /// Builds a set from a specification such as
    /// `"baseline,ml-kem=libcrux"`; the module documentation lists the keys
    /// and values. An empty specification gives [`BackendSet::for_this_cpu`].
    ///
    /// # Errors
    /// [`BackendSpecError`] naming the first unknown preset, key or value.
    pub fn named(spec: &str) -> Result<BackendSet, BackendSpecError> {
        let mut choice = Choice::DEFAULT;
        let tokens = spec.split(',').map(str::trim).filter(|t| !t.is_empty());

        for (index, token) in tokens.enumerate() {
            match token.split_once('=') {
                Some((key, value)) => choice.set(key.trim(), value.trim())?,
                None if index == 0 => choice = preset(token)?,
                None => {
                    return Err(spec_error(
                        token,
                        "a preset (default or baseline) may only come first",
                    ));
                }
            }
        }
        Ok(choice.build())
    }

    /// Lists every `key` of [`BackendSet::named`] with its accepted values,
    /// the default first. `aead-alg` is not listed; its values are `auto`,
    /// `aes-256-gcm` and `chacha20-poly1305`.
    pub fn backend_names() -> &'static [(&'static str, &'static [&'static str])] {
        &KEYS
    }

    /// Returns the set with `alg` as the AEAD for new envelopes, whatever the
    /// CPU has.
    pub fn with_aead(mut self, alg: AeadAlg) -> BackendSet {
        self.aead = alg;
        self
    }

    /// Returns the backend of a KEM algorithm.
    pub fn kem(&self, alg: KemAlg) -> &dyn Kem {
        match alg {
            KemAlg::X25519 => self.x25519_kem.as_ref(),
            KemAlg::XWing => self.x_wing.as_ref(),
            KemAlg::MlKem768 => self.ml_kem_768.as_ref(),
            KemAlg::MlKem1024 => self.ml_kem_1024.as_ref(),
        }
    }

    /// Returns the backend of a signature algorithm.
    pub fn signer(&self, alg: SigAlg) -> &dyn Signer {
        match alg {
            SigAlg::Ed25519 => self.ed25519.as_ref(),
            SigAlg::MlDsa65 => self.ml_dsa_65.as_ref(),
            SigAlg::MlDsa87 => self.ml_dsa_87.as_ref(),
        }
    }

    /// Returns the backend of an AEAD algorithm.
    pub fn aead_backend(&self, alg: AeadAlg) -> &dyn Aead {
        match alg {
            AeadAlg::Aes256Gcm => self.aes_256_gcm.as_ref(),
            AeadAlg::ChaCha20Poly1305 => self.chacha20_poly1305.as_ref(),
        }
    }

    /// Describes the set in one line, such as
    /// `x25519-kem=aws-lc-rs x-wing=libcrux+aws-lc-rs ... aead=aes-256-gcm/aws-lc-rs`.
    pub fn describe(&self) -> String {
        let parts = [
            ("x25519-kem", self.x25519_kem.backend()),
            ("x-wing", self.x_wing.backend()),
            ("ml-kem-768", self.ml_kem_768.backend()),
            ("ml-kem-1024", self.ml_kem_1024.backend()),
            ("x25519", self.x25519.backend()),
            ("ed25519", self.ed25519.backend()),
            ("ed25519-batch", self.ed25519_batch.backend()),
            ("ml-dsa-65", self.ml_dsa_65.backend()),
            ("ml-dsa-87", self.ml_dsa_87.backend()),
            ("aes-256-gcm", self.aes_256_gcm.backend()),
            ("chacha20-poly1305", self.chacha20_poly1305.backend()),
        ];
        let mut text: Vec<String> = parts
            .iter()
            .map(|(key, name)| format!("{key}={name}"))
            .collect();
        text.push(format!(
            "aead={}/{}",
            aead_alg_name(self.aead),
            self.aead_backend(self.aead).backend()
        ));
        text.join(" ")
    }
}

/// Parses a preset name.
fn preset(name: &str) -> Result<Choice, BackendSpecError> {
    match name {
        "default" => Ok(Choice::DEFAULT),
        "baseline" => Ok(Choice::BASELINE),
        other => Err(spec_error(
            other,
            "unknown preset; expected default or baseline, or a key=value pair",
        )),
    }
}

impl Default for BackendSet {
    /// [`BackendSet::for_this_cpu`].
    fn default() -> Self {
        BackendSet::for_this_cpu()
    }
}

impl fmt::Debug for BackendSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("BackendSet").field(&self.describe()).finish()
    }
}
