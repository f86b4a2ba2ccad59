//! Ed25519 (RFC 8032) signing, strict verification and batch verification.
//!
//! # Verification rule
//!
//! Single and batch verification accept exactly the same signatures. A
//! signature `(R, s)` on message `M` under key `A` is accepted when:
//! 1. `s` is canonical (`s < L`);
//! 2. `A` and `R` decompress, and compressing them again gives the same 32
//!    bytes (no non-canonical encodings);
//! 3. neither `A` nor `R` is of small order;
//! 4. the cofactored equation `[8]([s]B - R - [k]A) = 0` holds, with
//!    `k = SHA-512(R || A || M) mod L`.
//!
//! The cofactored equation is what makes batch and single verification
//! agree. A batch checks `[8](sum of z_i ([s_i]B - R_i - [k_i]A_i)) = 0` for
//! random 128-bit `z_i`. With the cofactorless equation, an item whose only
//! defect is a torsion component could pass a batch (with probability up to
//! 1/8) while failing alone. Multiplying by 8 removes every torsion component
//! in both checks, so they differ only with probability about 2^-128.
//!
//! # Backends
//!
//! - [`DalekEd25519`]: signs with `ed25519-dalek`, verifies with the rule
//!   above (built on `curve25519-dalek`).
//! - [`AwsLcEd25519`]: signs with AWS-LC (`aws-lc-rs`). With
//!   [`Ed25519Verification::Cofactored`] it verifies with the rule above;
//!   with [`Ed25519Verification::AwsLc`] it runs checks 1 to 3 and then
//!   AWS-LC's verification, which uses the cofactorless equation. The two
//!   differ only on signatures whose `[s]B - R - [k]A` is a nonzero torsion
//!   point, which only the holder of the secret key can make.
//! - [`CofactoredBatchVerifier`]: batch verification with one multiscalar
//!   multiplication over all items.

use aws_lc_rs::signature::{self as awslc, KeyPair as _};
use curve25519_dalek::constants::ED25519_BASEPOINT_POINT;
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{IsIdentity, VartimeMultiscalarMul};
use ed25519_dalek::Signer as _;
use sha2::{Digest, Sha512};
use zeroize::Zeroizing;

use crate::mode::SigAlg;
use crate::primitives::{
    BatchItem, BatchVerifier, KeyPair, PrimitiveError, SecretBytes, Signer, os_random, to_array,
    to_secret_array,
};

/// Bytes of an Ed25519 secret key (the RFC 8032 seed) and public key.
pub const KEY_LEN: usize = 32;

/// Bytes of an Ed25519 signature `R || s`.
pub const SIGNATURE_LEN: usize = 64;

/// Bytes of each random batch weight `z_i`.
const BATCH_WEIGHT_LEN: usize = 16;

/// One signature whose encodings passed checks 1 to 3, ready for the
/// equation.
struct Prepared {
    a: EdwardsPoint,
    r: EdwardsPoint,
    s: Scalar,
    k: Scalar,
}

/// Returns whether the 255-bit `y` of an encoding is below the field prime
/// p = 2^255 - 19, ignoring the sign bit.
fn is_canonical_y(bytes: &[u8; 32]) -> bool {
    // y >= p only if y is p + t for t < 19: bytes ed..ff, then 30 bytes of
    // ff, then 7f in the top byte.
    let top_is_max = bytes[31] & 0x7f == 0x7f;
    let middle_is_max = bytes[1..31].iter().all(|&b| b == 0xff);
    !(top_is_max && middle_is_max && bytes[0] >= 0xed)
}

/// Decompresses a point, rejecting non-canonical encodings and small order.
///
/// Compressing the result gives back `bytes` exactly when `y` is below p and
/// the sign bit is clear for x = 0. The only points with x = 0 are (0, 1)
/// and (0, -1), both of small order, so checking `y` and small order here is
/// the same as the round trip, without its field inversion.
fn decompress_strict(bytes: &[u8; 32]) -> Result<EdwardsPoint, PrimitiveError> {
    if !is_canonical_y(bytes) {
        return Err(PrimitiveError::Signature);
    }
    let point = CompressedEdwardsY(*bytes)
        .decompress()
        .ok_or(PrimitiveError::Signature)?;

    if point.is_small_order() {
        return Err(PrimitiveError::Signature);
    }
    Ok(point)
}

/// Computes the challenge `k = SHA-512(R || A || M) mod L`.
fn challenge(r: &[u8], a: &[u8], message: &[u8]) -> Scalar {
    let mut hash = Sha512::new();
    hash.update(r);
    hash.update(a);
    hash.update(message);
    let digest: [u8; 64] = hash.finalize().into();
    Scalar::from_bytes_mod_order_wide(&digest)
}

/// Parses a signature and runs checks 1 to 3 of the module documentation.
fn prepare(
    public_key: &[u8],
    message: &[u8],
    signature: &[u8],
) -> Result<Prepared, PrimitiveError> {
    let a_bytes = to_array::<KEY_LEN>("Ed25519 public key", public_key)?;
    let signature = to_array::<SIGNATURE_LEN>("Ed25519 signature", signature)?;
    let (r_part, s_part) = signature.split_at(32);
    let r_bytes = to_array::<32>("Ed25519 signature R", r_part)?;
    let s_bytes = to_array::<32>("Ed25519 signature s", s_part)?;

    let s = Option::<Scalar>::from(Scalar::from_canonical_bytes(s_bytes))
        .ok_or(PrimitiveError::Signature)?;
    let a = decompress_strict(&a_bytes)?;
    let r = decompress_strict(&r_bytes)?;

    let k = challenge(&r_bytes, &a_bytes, message);
    Ok(Prepared { a, r, s, k })
}

/// Verifies an Ed25519 signature with the rule of the module documentation.
///
/// # Errors
/// [`PrimitiveError::InvalidLength`] for a key or signature of the wrong
/// length; [`PrimitiveError::Signature`] if any check fails.
pub fn verify_cofactored(
    public_key: &[u8],
    message: &[u8],
    signature: &[u8],
) -> Result<(), PrimitiveError> {
    let item = prepare(public_key, message, signature)?;
    check_equation(&item)
}

/// Checks the cofactored equation `[8]([s]B - R - [k]A) = 0` for one item.
fn check_equation(item: &Prepared) -> Result<(), PrimitiveError> {
    // [s]B - [k]A, then subtract R and clear the cofactor.
    let sb_minus_ka =
        EdwardsPoint::vartime_double_scalar_mul_basepoint(&(-item.k), &item.a, &item.s);
    let residue = (sb_minus_ka - item.r).mul_by_cofactor();

    if residue.is_identity() {
        Ok(())
    } else {
        Err(PrimitiveError::Signature)
    }
}

/// Builds the error for a non-empty context, which RFC 8032's Ed25519 lacks.
fn context_unsupported(backend: &'static str) -> PrimitiveError {
    PrimitiveError::Unsupported {
        backend,
        operation: "Ed25519 with a context string",
    }
}

/// Ed25519 signing with `ed25519-dalek` and cofactored strict verification.
#[derive(Debug, Clone, Copy, Default)]
pub struct DalekEd25519;

impl Signer for DalekEd25519 {
    fn backend(&self) -> &'static str {
        "dalek"
    }

    fn alg(&self) -> SigAlg {
        SigAlg::Ed25519
    }

    fn generate(&self) -> Result<KeyPair, PrimitiveError> {
        let seed = os_random::<KEY_LEN>()?;
        self.generate_from_seed(seed.as_slice())
    }

    fn generate_from_seed(&self, seed: &[u8]) -> Result<KeyPair, PrimitiveError> {
        let seed = to_secret_array::<KEY_LEN>("Ed25519 seed", seed)?;
        let key = ed25519_dalek::SigningKey::from_bytes(&seed);
        Ok(KeyPair {
            secret: SecretBytes::from_slice(seed.as_slice()),
            public: key.verifying_key().to_bytes().to_vec(),
        })
    }

    fn sign(
        &self,
        secret_key: &SecretBytes,
        message: &[u8],
        context: &[u8],
    ) -> Result<Vec<u8>, PrimitiveError> {
        if !context.is_empty() {
            return Err(context_unsupported(self.backend()));
        }
        let seed = to_secret_array::<KEY_LEN>("Ed25519 secret key", secret_key.expose())?;

        let key = ed25519_dalek::SigningKey::from_bytes(&seed);
        Ok(key.sign(message).to_bytes().to_vec())
    }

    fn verify(
        &self,
        public_key: &[u8],
        message: &[u8],
        context: &[u8],
        signature: &[u8],
    ) -> Result<(), PrimitiveError> {
        if !context.is_empty() {
            return Err(context_unsupported(self.backend()));
        }
        verify_cofactored(public_key, message, signature)
    }
}

/// Verification rule of [`AwsLcEd25519`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ed25519Verification {
    /// The cofactored strict rule of the module documentation, the same as
    /// [`DalekEd25519`] and [`CofactoredBatchVerifier`].
    Cofactored,
    /// Checks 1 to 3 of the module documentation, then AWS-LC's cofactorless
    /// verification.
    AwsLc,
}

/// Ed25519 signing with AWS-LC through `aws-lc-rs`.
#[derive(Debug, Clone, Copy)]
pub struct AwsLcEd25519 {
    verification: Ed25519Verification,
}

impl AwsLcEd25519 {
    /// Builds the backend with the given verification.
    pub fn new(verification: Ed25519Verification) -> Self {
        Self { verification }
    }

    /// Loads the key pair of a 32-byte seed.
    fn key_pair(seed: &[u8]) -> Result<awslc::Ed25519KeyPair, PrimitiveError> {
        to_secret_array::<KEY_LEN>("Ed25519 seed", seed)?;
        awslc::Ed25519KeyPair::from_seed_unchecked(seed).map_err(|_| PrimitiveError::Signature)
    }
}

impl Signer for AwsLcEd25519 {
    fn backend(&self) -> &'static str {
        match self.verification {
            Ed25519Verification::Cofactored => "aws-lc-rs",
            Ed25519Verification::AwsLc => "aws-lc-rs-cofactorless",
        }
    }

    fn alg(&self) -> SigAlg {
        SigAlg::Ed25519
    }

    fn generate(&self) -> Result<KeyPair, PrimitiveError> {
        let seed = os_random::<KEY_LEN>()?;
        self.generate_from_seed(seed.as_slice())
    }

    fn generate_from_seed(&self, seed: &[u8]) -> Result<KeyPair, PrimitiveError> {
        let key = Self::key_pair(seed)?;
        Ok(KeyPair {
            secret: SecretBytes::from_slice(seed),
            public: key.public_key().as_ref().to_vec(),
        })
    }

    fn sign(
        &self,
        secret_key: &SecretBytes,
        message: &[u8],
        context: &[u8],
    ) -> Result<Vec<u8>, PrimitiveError> {
        if !context.is_empty() {
            return Err(context_unsupported(self.backend()));
        }
        let key = Self::key_pair(secret_key.expose())?;
        Ok(key.sign(message).as_ref().to_vec())
    }

    fn verify(
        &self,
        public_key: &[u8],
        message: &[u8],
        context: &[u8],
        signature: &[u8],
    ) -> Result<(), PrimitiveError> {
        if !context.is_empty() {
            return Err(context_unsupported(self.backend()));
        }
        match self.verification {
            Ed25519Verification::Cofactored => verify_cofactored(public_key, message, signature),
            Ed25519Verification::AwsLc => {
                prepare(public_key, message, signature)?;
                awslc::UnparsedPublicKey::new(&awslc::ED25519, public_key)
                    .verify(message, signature)
                    .map_err(|_| PrimitiveError::Signature)
            }
        }
    }
}

/// Draws `count` random 128-bit batch weights from the operating system.
fn batch_weights(count: usize) -> Result<Vec<Scalar>, PrimitiveError> {
    let mut random = Zeroizing::new(vec![0u8; count * BATCH_WEIGHT_LEN]);
    getrandom::fill(random.as_mut_slice()).map_err(|_| PrimitiveError::Rng)?;

    let weights = random
        .chunks_exact(BATCH_WEIGHT_LEN)
        .map(|chunk| {
            let mut wide = [0u8; 32];
            wide[..BATCH_WEIGHT_LEN].copy_from_slice(chunk);
            Scalar::from_bytes_mod_order(wide)
        })
        .collect();
    Ok(weights)
}

/// Batch verification with the cofactored strict rule.
///
/// Items that fail checks 1 to 3 fail at once. The rest are checked together
/// with one multiscalar multiplication; if that fails, each is verified
/// alone so that only the bad ones fail.
#[derive(Debug, Clone, Copy, Default)]
pub struct CofactoredBatchVerifier;

impl CofactoredBatchVerifier {
    /// Checks `[8](sum z_i ([s_i]B - R_i - [k_i]A_i)) = 0` for random `z_i`.
    ///
    /// Returns `false` if the operating system's generator fails, so that
    /// the caller falls back to single verification.
    fn equation_holds(items: &[&Prepared]) -> bool {
        match batch_weights(items.len()) {
            Ok(weights) => Self::equation_holds_with(items, &weights),
            Err(_) => false,
        }
    }

    /// Checks the combined equation with the given weights, one per item.
    fn equation_holds_with(items: &[&Prepared], weights: &[Scalar]) -> bool {
        let mut scalars = Vec::with_capacity(2 * items.len() + 1);
        let mut points = Vec::with_capacity(2 * items.len() + 1);
        let mut base_scalar = Scalar::ZERO;
        for (item, z) in items.iter().zip(weights) {
            base_scalar += z * item.s;
            scalars.push(-z);
            points.push(item.r);
            scalars.push(-(z * item.k));
            points.push(item.a);
        }
        scalars.push(base_scalar);
        points.push(ED25519_BASEPOINT_POINT);

        EdwardsPoint::vartime_multiscalar_mul(&scalars, &points)
            .mul_by_cofactor()
            .is_identity()
    }

    /// Checks that every item is valid with one combined equation and no
    /// fallback: `Ok` exactly when every item would pass single
    /// verification, except with probability about 2^-128 over the random
    /// weights.
    ///
    /// # Errors
    /// [`PrimitiveError::InvalidLength`] or [`PrimitiveError::Signature`]
    /// for the first item that fails checks 1 to 3;
    /// [`PrimitiveError::Signature`] if the combined equation fails;
    /// [`PrimitiveError::Rng`] if the operating system's generator fails.
    pub fn verify_all(&self, items: &[BatchItem<'_>]) -> Result<(), PrimitiveError> {
        let prepared = items
            .iter()
            .map(|item| prepare(item.public_key, item.message, item.signature))
            .collect::<Result<Vec<Prepared>, PrimitiveError>>()?;
        let weights = batch_weights(prepared.len())?;

        let candidates: Vec<&Prepared> = prepared.iter().collect();
        if candidates.is_empty() || Self::equation_holds_with(&candidates, &weights) {
            Ok(())
        } else {
            Err(PrimitiveError::Signature)
        }
    }
}

impl BatchVerifier for CofactoredBatchVerifier {
    fn backend(&self) -> &'static str {
        "dalek-cofactored"
    }

    fn verify_batch(&self, items: &[BatchItem<'_>]) -> Vec<Result<(), PrimitiveError>> {
        let prepared: Vec<Result<Prepared, PrimitiveError>> = items
            .iter()
            .map(|item| prepare(item.public_key, item.message, item.signature))
            .collect();

        let candidates: Vec<&Prepared> = prepared.iter().filter_map(|p| p.as_ref().ok()).collect();
        if candidates.is_empty() || Self::equation_holds(&candidates) {
            return prepared.into_iter().map(|p| p.map(|_| ())).collect();
        }

        // Some item is bad: check each candidate alone.
        prepared
            .into_iter()
            .map(|p| p.and_then(|item| check_equation(&item)))
            .collect()
    }
}

/// Batch verification that verifies each item alone with a [`Signer`].
///
/// It accepts exactly what that signer accepts and serves as the baseline
/// that [`CofactoredBatchVerifier`] is compared with.
#[derive(Clone)]
pub struct SequentialBatchVerifier {
    signer: std::sync::Arc<dyn Signer>,
}

impl SequentialBatchVerifier {
    /// Verifies with `signer`, which must be an Ed25519 signer.
    pub fn new(signer: std::sync::Arc<dyn Signer>) -> Self {
        Self { signer }
    }
}

impl BatchVerifier for SequentialBatchVerifier {
    fn backend(&self) -> &'static str {
        "sequential"
    }

    fn verify_batch(&self, items: &[BatchItem<'_>]) -> Vec<Result<(), PrimitiveError>> {
        items
            .iter()
            .map(|item| {
                self.signer
                    .verify(item.public_key, item.message, &[], item.signature)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use curve25519_dalek::constants::EIGHT_TORSION;

    use super::*;

    /// The rule as first written: decompress, compress again and compare,
    /// then reject small order.
    fn round_trip_rule(bytes: &[u8; 32]) -> bool {
        let compressed = CompressedEdwardsY(*bytes);
        compressed
            .decompress()
            .is_some_and(|point| point.compress() == compressed && !point.is_small_order())
    }

    /// Encodings that stress the check: y = t and y = p + t for small t,
    /// the eight torsion points and multiples of the base point, each with
    /// both sign bits.
    fn tricky_encodings() -> Vec<[u8; 32]> {
        let mut encodings = Vec::new();
        for t in 0u8..19 {
            let mut small = [0u8; 32];
            small[0] = t;
            let mut above_p = [0xffu8; 32];
            above_p[0] = 0xed + t;
            above_p[31] = 0x7f;
            encodings.extend([small, above_p]);
        }
        encodings.extend(
            EIGHT_TORSION
                .iter()
                .map(|point| point.compress().to_bytes()),
        );
        for multiple in 1u64..200 {
            let point = ED25519_BASEPOINT_POINT * Scalar::from(multiple * 7919);
            encodings.push(point.compress().to_bytes());
        }

        let flipped: Vec<[u8; 32]> = encodings
            .iter()
            .map(|bytes| {
                let mut flipped = *bytes;
                flipped[31] ^= 0x80;
                flipped
            })
            .collect();
        encodings.extend(flipped);
        encodings
    }

    #[test]
    fn strict_decoding_matches_round_trip() {
        for bytes in tricky_encodings() {
            assert_eq!(
                decompress_strict(&bytes).is_ok(),
                round_trip_rule(&bytes),
                "encoding {bytes:02x?}"
            );
        }
    }
}
