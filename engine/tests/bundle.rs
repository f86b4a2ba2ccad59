//! Signed key bundles: encoding, verification and the checks that reject
//! stripped, expired or inconsistent bundles.

use qrnm_engine::{
    BundleError, CompositeSignature, DecodeError, Engine, Identity, Mode, ModeSet, PublicIdentity,
    Recipient, SigAlg, SignatureError, SignedBundle,
};

const NOW: u64 = 1_700_000_000;
const TTL: u64 = 3600;

fn recipient(engine: &Engine, modes: ModeSet) -> Recipient {
    Recipient::generate(engine, modes, NOW, TTL).expect("recipient keys")
}

/// Returns every non-empty mode set.
fn mode_sets() -> impl Iterator<Item = ModeSet> {
    (1u8..8).map(|bits| ModeSet::from_bits(bits).expect("valid bits"))
}

#[test]
fn encode_decode_round_trip() {
    let engine = Engine::new();
    for modes in mode_sets() {
        let bundle = recipient(&engine, modes).bundle().clone();
        let bytes = bundle.encode();
        let decoded = SignedBundle::decode(&bytes).expect("decodes");

        assert_eq!(decoded, bundle);
        assert_eq!(decoded.encode(), bytes);
        assert_eq!(decoded.modes(), modes);
        assert_eq!(decoded.created_at(), NOW);
        assert_eq!(decoded.expires_at(), NOW + TTL);
        assert!(decoded.verify(&engine, NOW).is_ok());
    }
}

#[test]
fn verified_bundle_reports_owner() {
    let engine = Engine::new();
    let bob = recipient(&engine, ModeSet::ALL);
    let verified = bob.bundle().verify(&engine, NOW).expect("verifies");

    assert_eq!(verified.owner(), bob.id());
    assert_eq!(verified.modes(), ModeSet::ALL);
    assert_eq!(verified.bundle(), bob.bundle());
    assert_eq!(bob.bundle().owner(), bob.id());
    assert_eq!(bob.bundle().identity(), bob.identity().public());
    for mode in Mode::ALL {
        let key = bob.bundle().kem_key(mode).expect("key per mode");
        assert_eq!(key.len(), mode.kem().public_key_len());
    }
}

#[test]
fn stripped_bundle_fails_verification() {
    let engine = Engine::new();
    let cases = [
        (
            ModeSet::of(&[Mode::Classical, Mode::Hybrid]),
            SignatureError::Invalid(SigAlg::Ed25519),
        ),
        (ModeSet::ALL, SignatureError::Missing(SigAlg::Ed25519)),
        (
            ModeSet::of(&[Mode::Classical, Mode::Pq]),
            SignatureError::Missing(SigAlg::Ed25519),
        ),
    ];
    for (modes, expected) in cases {
        let original = recipient(&engine, modes).bundle().clone();
        let stripped = original.strip_post_quantum();

        assert_eq!(stripped.modes(), ModeSet::of(&[Mode::Classical]));
        assert_eq!(stripped.kem_key(Mode::Hybrid), None);
        assert_eq!(stripped.kem_key(Mode::Pq), None);
        assert_eq!(
            stripped.kem_key(Mode::Classical),
            original.kem_key(Mode::Classical)
        );
        assert_eq!(stripped.identity().key(SigAlg::MlDsa65), None);
        assert_eq!(stripped.identity().key(SigAlg::MlDsa87), None);
        assert_eq!(
            stripped.signature().get(SigAlg::Ed25519),
            original.signature().get(SigAlg::Ed25519)
        );
        assert_ne!(stripped.owner(), original.owner());

        assert_eq!(
            stripped.verify(&engine, NOW).map(|_| ()),
            Err(BundleError::Signature(expected.clone()))
        );

        // The stripped encoding decodes, and still fails the same way.
        let decoded = SignedBundle::decode(&stripped.encode()).expect("stripped bundle decodes");
        assert_eq!(
            decoded.verify(&engine, NOW).map(|_| ()),
            Err(BundleError::Signature(expected))
        );
    }
}

#[test]
fn stripping_post_quantum_only_bundle_leaves_nothing() {
    let engine = Engine::new();
    let original = recipient(&engine, ModeSet::of(&[Mode::Hybrid, Mode::Pq]))
        .bundle()
        .clone();
    let stripped = original.strip_post_quantum();

    assert!(stripped.modes().is_empty());
    assert_eq!(
        stripped.verify(&engine, NOW).map(|_| ()),
        Err(BundleError::NoModes)
    );
    assert!(SignedBundle::decode(&stripped.encode()).is_err());
}

#[test]
fn stripping_classical_bundle_changes_nothing() {
    let engine = Engine::new();
    let original = recipient(&engine, ModeSet::of(&[Mode::Classical]))
        .bundle()
        .clone();
    let stripped = original.strip_post_quantum();
    assert_eq!(stripped, original);
    assert!(stripped.verify(&engine, NOW).is_ok());
}

#[test]
fn expiry_is_exclusive() {
    let engine = Engine::new();
    let bundle = recipient(&engine, ModeSet::ALL).bundle().clone();
    assert!(bundle.verify(&engine, NOW + TTL - 1).is_ok());
    assert_eq!(
        bundle.verify(&engine, NOW + TTL).map(|_| ()),
        Err(BundleError::Expired {
            expires_at: NOW + TTL,
            now: NOW + TTL
        })
    );
}

/// Byte offset of the mode-set byte in a bundle encoding.
fn modes_offset(bundle: &SignedBundle) -> usize {
    3 + 1 + 4 + bundle.identity().as_bytes().len()
}

#[test]
fn created_after_expiry_is_rejected() {
    let engine = Engine::new();
    let bundle = recipient(&engine, ModeSet::ALL).bundle().clone();
    let mut bytes = bundle.encode();
    let created = modes_offset(&bundle) + 1;
    bytes[created..created + 8].copy_from_slice(&(NOW + TTL + 1).to_be_bytes());

    let tampered = SignedBundle::decode(&bytes).expect("decodes");
    assert_eq!(
        tampered.verify(&engine, NOW).map(|_| ()),
        Err(BundleError::InvalidLifetime {
            created_at: NOW + TTL + 1,
            expires_at: NOW + TTL
        })
    );
}

#[test]
fn listed_mode_without_key_is_rejected() {
    // A classical bundle whose mode byte claims hybrid: the one key is an
    // X25519 key for classical, so hybrid has none.
    let engine = Engine::new();
    let bundle = recipient(&engine, ModeSet::of(&[Mode::Classical]))
        .bundle()
        .clone();
    let mut bytes = bundle.encode();
    bytes[modes_offset(&bundle)] = ModeSet::of(&[Mode::Hybrid]).bits();

    let tampered = SignedBundle::decode(&bytes).expect("decodes");
    assert_eq!(
        tampered.verify(&engine, NOW).map(|_| ()),
        Err(BundleError::MissingKemKey(Mode::Hybrid))
    );
}

#[test]
fn mode_without_owner_signature_key_is_rejected() {
    // A bundle listing hybrid, with a valid hybrid KEM key, whose owner has
    // only an Ed25519 key.
    let engine = Engine::new();
    let owner = Identity::generate_with(&engine, ModeSet::of(&[Mode::Classical])).expect("keys");
    let other = recipient(&engine, ModeSet::of(&[Mode::Hybrid]));
    let kem_key = other.bundle().kem_key(Mode::Hybrid).expect("hybrid key");

    let identity = owner.public().encode();
    let mut bytes = Vec::new();
    bytes.extend_from_slice(b"QRB\x01");
    bytes.extend_from_slice(&u32::try_from(identity.len()).expect("short").to_be_bytes());
    bytes.extend_from_slice(&identity);
    bytes.push(ModeSet::of(&[Mode::Hybrid]).bits());
    bytes.extend_from_slice(&NOW.to_be_bytes());
    bytes.extend_from_slice(&(NOW + TTL).to_be_bytes());
    bytes.push(Mode::Hybrid.id());
    bytes.extend_from_slice(kem_key);
    let signature = other.bundle().signature().encode();
    bytes.extend_from_slice(&u32::try_from(signature.len()).expect("short").to_be_bytes());
    bytes.extend_from_slice(&signature);

    let forged = SignedBundle::decode(&bytes).expect("decodes");
    assert_eq!(
        forged.verify(&engine, NOW).map(|_| ()),
        Err(BundleError::MissingSignatureKey {
            mode: Mode::Hybrid,
            alg: SigAlg::MlDsa65
        })
    );
}

#[test]
fn changed_kem_key_breaks_signature() {
    let engine = Engine::new();
    for modes in mode_sets() {
        let bundle = recipient(&engine, modes).bundle().clone();
        let mut bytes = bundle.encode();
        // The first KEM key starts after the mode byte, two u64 times and
        // the key's mode byte.
        let key_start = modes_offset(&bundle) + 1 + 16 + 1;
        bytes[key_start + 3] ^= 0x10;

        let tampered = SignedBundle::decode(&bytes).expect("decodes");
        let strongest = modes.strongest().expect("non-empty");
        let first_alg = strongest.signatures()[0];
        assert_eq!(
            tampered.verify(&engine, NOW).map(|_| ()),
            Err(BundleError::Signature(SignatureError::Invalid(first_alg)))
        );
    }
}

#[test]
fn bundle_signed_by_another_identity_is_rejected() {
    let engine = Engine::new();
    let alice = recipient(&engine, ModeSet::ALL);
    let bob = recipient(&engine, ModeSet::ALL);

    // Alice's bundle with Bob's signature put in place of hers.
    let mut bytes = alice.bundle().encode();
    let alice_sig = alice.bundle().signature().encode();
    let bob_sig = bob.bundle().signature().encode();
    assert_eq!(alice_sig.len(), bob_sig.len());
    let start = bytes.len() - alice_sig.len();
    bytes[start..].copy_from_slice(&bob_sig);

    let tampered = SignedBundle::decode(&bytes).expect("decodes");
    assert_eq!(
        tampered.verify(&engine, NOW).map(|_| ()),
        Err(BundleError::Signature(SignatureError::Invalid(
            SigAlg::MlDsa87
        )))
    );
}

/// Asserts that every proper prefix of `bytes`, and `bytes` with one extra
/// byte, fail to decode.
fn assert_exact_length<T: std::fmt::Debug>(
    bytes: &[u8],
    decode: impl Fn(&[u8]) -> Result<T, DecodeError>,
) {
    assert!(decode(bytes).is_ok());
    for len in 0..bytes.len() {
        assert!(
            decode(&bytes[..len]).is_err(),
            "prefix of {len} bytes decoded"
        );
    }

    let mut longer = bytes.to_vec();
    longer.push(0);
    assert!(matches!(
        decode(&longer),
        Err(DecodeError::TrailingBytes { count: 1, .. })
    ));
}

#[test]
fn truncated_or_extended_encodings_are_rejected() {
    let engine = Engine::new();
    for modes in mode_sets() {
        let bob = recipient(&engine, modes);
        assert_exact_length(&bob.bundle().encode(), SignedBundle::decode);
        assert_exact_length(&bob.identity().public().encode(), PublicIdentity::decode);
        assert_exact_length(
            &bob.bundle().signature().encode(),
            CompositeSignature::decode,
        );
    }
}

#[test]
fn unknown_versions_and_magic_are_rejected() {
    let engine = Engine::new();
    let bob = recipient(&engine, ModeSet::ALL);

    let mut bytes = bob.bundle().encode();
    bytes[3] = 2;
    assert_eq!(
        SignedBundle::decode(&bytes),
        Err(DecodeError::UnknownVersion {
            what: "key bundle",
            version: 2
        })
    );
    bytes[0] = b'X';
    assert_eq!(
        SignedBundle::decode(&bytes),
        Err(DecodeError::BadMagic { what: "key bundle" })
    );

    let mut identity = bob.identity().public().encode();
    identity[0] = 9;
    assert!(matches!(
        PublicIdentity::decode(&identity),
        Err(DecodeError::UnknownVersion { version: 9, .. })
    ));
}

#[test]
fn non_canonical_signatures_are_rejected() {
    let engine = Engine::new();
    let bob = recipient(&engine, ModeSet::of(&[Mode::Classical, Mode::Hybrid]));
    let signature = bob.bundle().signature();
    let ed25519 = signature.get(SigAlg::Ed25519).expect("Ed25519 signature");
    let ml_dsa = signature.get(SigAlg::MlDsa65).expect("ML-DSA-65 signature");

    // Same two signatures in descending order.
    let mut reversed = vec![2, SigAlg::MlDsa65.id()];
    reversed.extend_from_slice(ml_dsa);
    reversed.push(SigAlg::Ed25519.id());
    reversed.extend_from_slice(ed25519);
    assert!(matches!(
        CompositeSignature::decode(&reversed),
        Err(DecodeError::NotCanonical { .. })
    ));

    // The same algorithm twice.
    let mut duplicate = vec![2];
    for _ in 0..2 {
        duplicate.push(SigAlg::Ed25519.id());
        duplicate.extend_from_slice(ed25519);
    }
    assert!(matches!(
        CompositeSignature::decode(&duplicate),
        Err(DecodeError::NotCanonical { .. })
    ));

    // An unknown algorithm.
    let mut unknown = vec![1, 9];
    unknown.extend_from_slice(ed25519);
    assert_eq!(
        CompositeSignature::decode(&unknown),
        Err(DecodeError::UnknownAlgorithm {
            what: "signature algorithm",
            id: 9
        })
    );
}

#[test]
fn identity_keys_must_match_modes() {
    let engine = Engine::new();
    let hybrid = Identity::generate_with(&engine, ModeSet::of(&[Mode::Hybrid])).expect("keys");
    let mut bytes = hybrid.public().encode();

    // Claim classical only: the ML-DSA-65 key becomes trailing data.
    bytes[1] = ModeSet::of(&[Mode::Classical]).bits();
    assert!(matches!(
        PublicIdentity::decode(&bytes),
        Err(DecodeError::TrailingBytes { .. })
    ));

    // Claim pq: the first key must be ML-DSA-87, not Ed25519.
    bytes[1] = ModeSet::of(&[Mode::Pq]).bits();
    assert!(matches!(
        PublicIdentity::decode(&bytes),
        Err(DecodeError::NotCanonical { .. })
    ));

    // Unknown mode bits and the empty set.
    bytes[1] = 0b1000;
    assert!(matches!(
        PublicIdentity::decode(&bytes),
        Err(DecodeError::UnknownAlgorithm { id: 0b1000, .. })
    ));
    bytes[1] = 0;
    assert!(matches!(
        PublicIdentity::decode(&bytes),
        Err(DecodeError::NotCanonical { .. })
    ));
}

#[test]
fn identity_id_hashes_encoding() {
    let engine = Engine::new();
    let identity = Identity::generate_with(&engine, ModeSet::ALL).expect("keys");
    let decoded = PublicIdentity::decode(&identity.public().encode()).expect("decodes");
    assert_eq!(decoded.id(), identity.id());
    assert_eq!(decoded, *identity.public());

    let other = Identity::generate_with(&engine, ModeSet::ALL).expect("keys");
    assert_ne!(other.id(), identity.id());
}
