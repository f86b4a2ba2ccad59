//! Ed25519 batch verification must accept exactly what single strict
//! verification accepts, item by item and in order.
//!
//! The items are made here with `curve25519-dalek` so that each defect is
//! exact: `s + L`, small-order or non-canonical `R` and `A`, a wrong
//! message, and the torsion components that only cofactored verification
//! tolerates.

use curve25519_dalek::constants::{ED25519_BASEPOINT_POINT, EIGHT_TORSION};
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use qrnm_engine::primitives::sig::ed25519::{
    AwsLcEd25519, CofactoredBatchVerifier, DalekEd25519, Ed25519Verification,
    SequentialBatchVerifier,
};
use qrnm_engine::primitives::{BatchItem, BatchVerifier, Signer};
use sha2::{Digest, Sha512};

/// SplitMix64, so that every run checks the same mixes and a failure can be
/// reproduced from its round number.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }

    fn scalar(&mut self) -> Scalar {
        let mut wide = [0u8; 64];
        for chunk in wide.chunks_exact_mut(8) {
            chunk.copy_from_slice(&self.next().to_le_bytes());
        }
        Scalar::from_bytes_mod_order_wide(&wide)
    }
}

/// The defects an item can carry, with whether strict cofactored
/// verification accepts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Defect {
    None,
    SPlusL,
    WrongMessage,
    SmallOrderR,
    NonCanonicalR,
    NonCanonicalA,
    SmallOrderAWithHoldingEquation,
    TorsionInR,
    TorsionInA,
    RandomSignature,
}

const DEFECTS: [Defect; 10] = [
    Defect::None,
    Defect::SPlusL,
    Defect::WrongMessage,
    Defect::SmallOrderR,
    Defect::NonCanonicalR,
    Defect::NonCanonicalA,
    Defect::SmallOrderAWithHoldingEquation,
    Defect::TorsionInR,
    Defect::TorsionInA,
    Defect::RandomSignature,
];

impl Defect {
    fn strictly_valid(self) -> bool {
        matches!(self, Defect::None | Defect::TorsionInR | Defect::TorsionInA)
    }
}

/// One batch item with owned bytes.
struct Item {
    public_key: Vec<u8>,
    message: Vec<u8>,
    signature: Vec<u8>,
    defect: Defect,
}

fn challenge(r: &[u8; 32], a: &[u8; 32], message: &[u8]) -> Scalar {
    let digest: [u8; 64] = Sha512::new()
        .chain_update(r)
        .chain_update(a)
        .chain_update(message)
        .finalize()
        .into();
    Scalar::from_bytes_mod_order_wide(&digest)
}

/// Signs with secret scalar `a` and nonce `r`, adding torsion points to `R`
/// and `A` as asked: `s = r + k a` with `k = H(R || A || M)`.
fn sign_raw(
    a: Scalar,
    r: Scalar,
    r_torsion: EdwardsPoint,
    a_torsion: EdwardsPoint,
    message: &[u8],
) -> Item {
    let public = (ED25519_BASEPOINT_POINT * a + a_torsion)
        .compress()
        .to_bytes();
    let nonce = (ED25519_BASEPOINT_POINT * r + r_torsion)
        .compress()
        .to_bytes();
    let s = r + challenge(&nonce, &public, message) * a;

    let mut signature = nonce.to_vec();
    signature.extend_from_slice(s.as_bytes());
    Item {
        public_key: public.to_vec(),
        message: message.to_vec(),
        signature,
        defect: Defect::None,
    }
}

/// Adds the group order L to the `s` half, keeping it below 2^256.
fn add_group_order(signature: &mut [u8]) {
    let order = Scalar::ZERO - Scalar::ONE;
    let mut l = *order.as_bytes();
    l[0] = l[0].wrapping_add(1);
    let mut carry = 0u16;
    for (byte, l_byte) in signature[32..].iter_mut().zip(l) {
        let sum = u16::from(*byte) + u16::from(l_byte) + carry;
        *byte = sum as u8;
        carry = sum >> 8;
    }
}

/// An encoding `y + p` (with y < 19) that decompresses to a point whose
/// canonical encoding differs.
fn non_canonical_encoding(rng: &mut SplitMix64) -> [u8; 32] {
    loop {
        let y = rng.below(19) as u8;
        let mut bytes = [0xffu8; 32];
        bytes[0] = 0xed_u8.wrapping_add(y);
        bytes[31] = 0x7f | if rng.below(2) == 1 { 0x80 } else { 0 };
        let compressed = CompressedEdwardsY(bytes);
        if let Some(point) = compressed.decompress() {
            if point.compress() != compressed {
                return bytes;
            }
        }
    }
}

fn make_item(defect: Defect, rng: &mut SplitMix64) -> Item {
    let (a, r) = (rng.scalar(), rng.scalar());
    let torsion = EIGHT_TORSION[1 + rng.below(7) as usize];
    let none = EdwardsPoint::default();
    let message = rng.next().to_le_bytes().to_vec();

    let mut item = match defect {
        Defect::TorsionInR => sign_raw(a, r, torsion, none, &message),
        Defect::TorsionInA => sign_raw(a, r, none, torsion, &message),
        Defect::SmallOrderAWithHoldingEquation => {
            sign_raw(Scalar::ZERO, r, none, torsion, &message)
        }
        _ => sign_raw(a, r, none, none, &message),
    };
    match defect {
        Defect::SPlusL => add_group_order(&mut item.signature),
        Defect::WrongMessage => item.message.push(0),
        Defect::SmallOrderR => item.signature[..32].copy_from_slice(torsion.compress().as_bytes()),
        Defect::NonCanonicalR => item.signature[..32].copy_from_slice(&non_canonical_encoding(rng)),
        Defect::NonCanonicalA => item.public_key = non_canonical_encoding(rng).to_vec(),
        Defect::RandomSignature => {
            let bytes = [
                rng.next(),
                rng.next(),
                rng.next(),
                rng.next() & 0x0fff_ffff_ffff_ffff,
            ];
            let s: Vec<u8> = bytes.iter().flat_map(|word| word.to_le_bytes()).collect();
            item.signature[32..].copy_from_slice(&s);
        }
        _ => {}
    }
    item.defect = defect;
    item
}

fn as_batch(items: &[Item]) -> Vec<BatchItem<'_>> {
    items
        .iter()
        .map(|item| BatchItem {
            public_key: &item.public_key,
            message: &item.message,
            signature: &item.signature,
        })
        .collect()
}

fn single_verifiers() -> Vec<Box<dyn Signer>> {
    vec![
        Box::new(DalekEd25519),
        Box::new(AwsLcEd25519::new(Ed25519Verification::Cofactored)),
    ]
}

/// Checks one batch against single verification and the expected verdicts.
fn check_batch(items: &[Item], context: &str) {
    let batch = as_batch(items);
    let results = CofactoredBatchVerifier.verify_batch(&batch);
    assert_eq!(results.len(), items.len(), "{context}");

    // The combined equation alone, without the fallback that would hide a
    // wrong equation behind single checks.
    let all_valid = items.iter().all(|item| item.defect.strictly_valid());
    let combined = CofactoredBatchVerifier.verify_all(&batch);
    assert_eq!(
        combined.is_ok(),
        all_valid,
        "{context}: combined equation {combined:?}"
    );

    for verifier in single_verifiers() {
        for (index, (item, result)) in items.iter().zip(&results).enumerate() {
            let single = verifier.verify(&item.public_key, &item.message, &[], &item.signature);
            assert_eq!(
                result.is_ok(),
                single.is_ok(),
                "{context}, item {index} ({:?}): batch {result:?}, {} single {single:?}",
                item.defect,
                verifier.backend()
            );
            assert_eq!(
                single.is_ok(),
                item.defect.strictly_valid(),
                "{context}, item {index} ({:?})",
                item.defect
            );
        }
    }
}

#[test]
fn every_defect_matches_single_verification() {
    let mut rng = SplitMix64(1);
    for defect in DEFECTS {
        let items: Vec<Item> = (0..4).map(|_| make_item(defect, &mut rng)).collect();
        check_batch(&items, &format!("only {defect:?}"));
    }
}

/// Batches whose items are all valid, torsion components included, pass the
/// combined equation.
#[test]
fn valid_batches_pass_the_combined_equation() {
    let mut rng = SplitMix64(5);
    let valid = [Defect::None, Defect::TorsionInR, Defect::TorsionInA];
    for size in [1, 2, 3, 16, 64, 200] {
        let items: Vec<Item> = (0..size)
            .map(|i| make_item(valid[i % valid.len()], &mut rng))
            .collect();
        check_batch(&items, &format!("{size} valid items"));
    }
}

#[test]
fn random_mixes_match_single_verification() {
    for round in 0..24 {
        let mut rng = SplitMix64(1000 + round);
        let size = 1 + rng.below(96) as usize;
        let items: Vec<Item> = (0..size)
            .map(|_| {
                // About a third of the items carry a defect.
                let defect = if rng.below(3) == 0 {
                    DEFECTS[rng.below(DEFECTS.len() as u64) as usize]
                } else {
                    Defect::None
                };
                make_item(defect, &mut rng)
            })
            .collect();
        check_batch(&items, &format!("round {round}"));
    }
}

#[test]
fn one_bad_item_fails_only_itself() {
    let mut rng = SplitMix64(7);
    for defect in DEFECTS.into_iter().filter(|d| !d.strictly_valid()) {
        let mut items: Vec<Item> = (0..31).map(|_| make_item(Defect::None, &mut rng)).collect();
        let position = rng.below(32) as usize;
        items.insert(position, make_item(defect, &mut rng));

        let batch = as_batch(&items);
        assert!(
            CofactoredBatchVerifier.verify_all(&batch).is_err(),
            "{defect:?}: combined equation"
        );
        let results = CofactoredBatchVerifier.verify_batch(&batch);
        for (index, result) in results.iter().enumerate() {
            assert_eq!(
                result.is_err(),
                index == position,
                "{defect:?} at {position}: item {index}"
            );
        }
    }
}

#[test]
fn empty_and_single_batches() {
    assert!(CofactoredBatchVerifier.verify_batch(&[]).is_empty());
    let mut rng = SplitMix64(3);
    for defect in DEFECTS {
        check_batch(
            &[make_item(defect, &mut rng)],
            &format!("single {defect:?}"),
        );
    }
}

#[test]
fn signatures_from_every_signer_pass_the_batch() {
    let signers: Vec<Box<dyn Signer>> = vec![
        Box::new(DalekEd25519),
        Box::new(AwsLcEd25519::new(Ed25519Verification::Cofactored)),
        Box::new(AwsLcEd25519::new(Ed25519Verification::AwsLc)),
    ];
    let mut items = Vec::new();
    for (index, signer) in signers.iter().enumerate() {
        let pair = signer.generate().expect("keygen");
        let message = vec![index as u8; 10];
        let signature = signer.sign(&pair.secret, &message, &[]).expect("sign");
        items.push(Item {
            public_key: pair.public,
            message,
            signature,
            defect: Defect::None,
        });
    }
    check_batch(&items, "signers");
}

/// The documented difference of AWS-LC's cofactorless verification: it
/// rejects signatures with a torsion component, which the strict cofactored
/// rule accepts. A sequential batch over it still matches it item by item.
#[test]
fn cofactorless_backend_differs_only_on_torsion() {
    let cofactorless = AwsLcEd25519::new(Ed25519Verification::AwsLc);
    let mut rng = SplitMix64(11);
    for defect in DEFECTS {
        let item = make_item(defect, &mut rng);
        let outcome = cofactorless.verify(&item.public_key, &item.message, &[], &item.signature);
        let torsion = matches!(defect, Defect::TorsionInR | Defect::TorsionInA);
        let expected = item.defect.strictly_valid() && !torsion;
        assert_eq!(outcome.is_ok(), expected, "{defect:?}: {outcome:?}");
    }

    let sequential = SequentialBatchVerifier::new(std::sync::Arc::new(cofactorless));
    let items: Vec<Item> = DEFECTS.iter().map(|&d| make_item(d, &mut rng)).collect();
    let results = sequential.verify_batch(&as_batch(&items));
    for (item, result) in items.iter().zip(results) {
        let single = cofactorless.verify(&item.public_key, &item.message, &[], &item.signature);
        assert_eq!(result.is_ok(), single.is_ok(), "{:?}", item.defect);
    }
}
