//! Inputs every backend must reject, round trips and interoperability
//! between backends, and the handling of secret types.

use std::sync::Arc;

use qrnm_engine::mode::{AeadAlg, KemAlg, SigAlg};
use qrnm_engine::primitives::aead::{
    AwsLcAes256Gcm, AwsLcChaCha20Poly1305, RingAes256Gcm, RingChaCha20Poly1305,
    RustCryptoAes256Gcm, RustCryptoChaCha20Poly1305,
};
use qrnm_engine::primitives::kem::ml_kem::{
    AwsLcMlKem768, AwsLcMlKem1024, LibcruxMlKem768, LibcruxMlKem1024, PqcleanMlKem768,
    PqcleanMlKem1024, check_encapsulation_key,
};
use qrnm_engine::primitives::kem::x25519::{AwsLcX25519, DalekX25519, X25519Kem};
use qrnm_engine::primitives::kem::xwing::XWing;
use qrnm_engine::primitives::sig::ed25519::{
    AwsLcEd25519, CofactoredBatchVerifier, DalekEd25519, Ed25519Verification,
    SequentialBatchVerifier,
};
use qrnm_engine::primitives::sig::ml_dsa::{
    AwsLcMlDsa65, AwsLcMlDsa87, LibcruxMlDsa65, LibcruxMlDsa87, PqcleanMlDsa65, PqcleanMlDsa87,
};
use qrnm_engine::primitives::{
    Aead, BackendSet, BatchItem, BatchVerifier, Kem, KeyAgreement, KeyPair, PrimitiveError,
    SecretBytes, SharedSecret, Signer,
};

/// The X25519 u-coordinates of small order, from the blocklist of
/// libsodium's `has_small_order` (src/libsodium/crypto_scalarmult/curve25519/
/// ref10/x25519_ref10.c): 0, 1, the two points of order 8, p - 1, p and
/// p + 1. libsodium ignores bit 255, as X25519 does (RFC 7748 section 5), so
/// [`low_order_points`] also sets it on each.
const LOW_ORDER_U: [&str; 7] = [
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0100000000000000000000000000000000000000000000000000000000000000",
    "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
    "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
];

/// The 14 encodings: each listed point with bit 255 clear and set.
fn low_order_points() -> Vec<[u8; 32]> {
    let mut points = Vec::new();
    for text in LOW_ORDER_U {
        let point: [u8; 32] = hex::decode(text)
            .expect("hex")
            .try_into()
            .expect("32 bytes");
        let mut high = point;
        high[31] |= 0x80;
        points.push(point);
        points.push(high);
    }
    points
}

fn agreements() -> Vec<Arc<dyn KeyAgreement>> {
    vec![Arc::new(DalekX25519), Arc::new(AwsLcX25519)]
}

fn ml_kem_768s() -> Vec<Arc<dyn Kem>> {
    vec![
        Arc::new(LibcruxMlKem768),
        Arc::new(PqcleanMlKem768),
        Arc::new(AwsLcMlKem768),
    ]
}

fn ml_kem_1024s() -> Vec<Arc<dyn Kem>> {
    vec![
        Arc::new(LibcruxMlKem1024),
        Arc::new(PqcleanMlKem1024),
        Arc::new(AwsLcMlKem1024),
    ]
}

fn x_wings() -> Vec<XWing> {
    let mut all = Vec::new();
    for ml_kem in ml_kem_768s() {
        for agreement in agreements() {
            all.push(XWing::new(
                ml_kem.clone(),
                Arc::new(LibcruxMlKem768),
                agreement,
            ));
        }
    }
    all
}

fn ed25519_signers() -> Vec<Arc<dyn Signer>> {
    vec![
        Arc::new(DalekEd25519),
        Arc::new(AwsLcEd25519::new(Ed25519Verification::Cofactored)),
        Arc::new(AwsLcEd25519::new(Ed25519Verification::AwsLc)),
    ]
}

fn aeads() -> Vec<Box<dyn Aead>> {
    vec![
        Box::new(RustCryptoAes256Gcm),
        Box::new(RingAes256Gcm),
        Box::new(AwsLcAes256Gcm),
        Box::new(RustCryptoChaCha20Poly1305),
        Box::new(RingChaCha20Poly1305),
        Box::new(AwsLcChaCha20Poly1305),
    ]
}

// ---------------------------------------------------------------- X25519

#[test]
fn low_order_points_rejected_by_key_agreement() {
    for agreement in agreements() {
        let pair = agreement.generate().expect("keygen");
        for point in low_order_points() {
            let outcome = agreement.agree(&pair.secret, &point);
            assert!(
                matches!(outcome, Err(PrimitiveError::InvalidPublicKey)),
                "{}: {} gave {outcome:?}",
                agreement.backend(),
                hex::encode(point)
            );
        }
    }
}

#[test]
fn low_order_points_rejected_by_x25519_kem() {
    for agreement in agreements() {
        let kem = X25519Kem::new(agreement);
        let pair = kem.generate().expect("keygen");
        for point in low_order_points() {
            assert!(
                kem.encapsulate(&point).is_err(),
                "{}: encapsulate to {}",
                kem.backend(),
                hex::encode(point)
            );
            assert!(
                kem.decapsulate(&pair.secret, &point).is_err(),
                "{}: decapsulate {}",
                kem.backend(),
                hex::encode(point)
            );
        }
    }
}

#[test]
fn low_order_points_rejected_by_x_wing() {
    for xwing in x_wings() {
        let pair = xwing.generate().expect("keygen");
        let (ciphertext, _) = xwing.encapsulate(&pair.public).expect("encapsulate");
        for point in low_order_points() {
            let mut public = pair.public.clone();
            public[1184..].copy_from_slice(&point);
            assert!(
                xwing.encapsulate(&public).is_err(),
                "{}: pk_X {}",
                xwing.backend(),
                hex::encode(point)
            );

            let mut forged = ciphertext.clone();
            forged[1088..].copy_from_slice(&point);
            assert!(
                xwing.decapsulate(&pair.secret, &forged).is_err(),
                "{}: ct_X {}",
                xwing.backend(),
                hex::encode(point)
            );
        }
    }
}

#[test]
fn x25519_backends_agree_with_each_other() {
    let dalek: Arc<dyn KeyAgreement> = Arc::new(DalekX25519);
    let awslc: Arc<dyn KeyAgreement> = Arc::new(AwsLcX25519);
    let alice = dalek.generate().expect("keygen");
    let bob = awslc.generate().expect("keygen");

    assert_eq!(
        dalek.public_key(&alice.secret).expect("public"),
        awslc.public_key(&alice.secret).expect("public")
    );
    let one = dalek.agree(&alice.secret, &bob.public).expect("agree");
    let two = awslc.agree(&bob.secret, &alice.public).expect("agree");
    assert_eq!(one, two);
}

// ---------------------------------------------------------------- ML-KEM

/// An encapsulation key whose first 12-bit coefficient is 4095 (>= q).
fn overflowing_key(valid: &[u8]) -> Vec<u8> {
    let mut key = valid.to_vec();
    key[0] = 0xff;
    key[1] |= 0x0f;
    key
}

#[test]
fn modulus_overflow_rejected_by_every_ml_kem() {
    let cases = [(ml_kem_768s(), 3usize), (ml_kem_1024s(), 4)];
    for (backends, rank) in cases {
        let valid = backends[0].generate().expect("keygen").public;
        let invalid = overflowing_key(&valid);
        assert!(check_encapsulation_key(&invalid, rank).is_err());

        for backend in &backends {
            let outcome = backend.encapsulate(&invalid);
            assert!(
                matches!(outcome, Err(PrimitiveError::InvalidPublicKey)),
                "{} {:?}: {outcome:?}",
                backend.backend(),
                backend.alg()
            );
            assert!(
                backend.encapsulate(&valid).is_ok(),
                "{}: valid key",
                backend.backend()
            );
        }
    }
}

#[test]
fn modulus_overflow_rejected_by_x_wing() {
    for xwing in x_wings() {
        let pair = xwing.generate().expect("keygen");
        let mut public = overflowing_key(&pair.public[..1184]);
        public.extend_from_slice(&pair.public[1184..]);
        assert!(
            matches!(
                xwing.encapsulate(&public),
                Err(PrimitiveError::InvalidPublicKey)
            ),
            "{}",
            xwing.backend()
        );
    }
}

/// Keys from each backend work with every other backend.
#[test]
fn ml_kem_backends_interoperate() {
    for backends in [ml_kem_768s(), ml_kem_1024s()] {
        for generator in &backends {
            let pair = generator.generate().expect("keygen");
            for sender in &backends {
                let (ciphertext, sent) = sender.encapsulate(&pair.public).expect("encapsulate");
                for receiver in &backends {
                    let received = receiver
                        .decapsulate(&pair.secret, &ciphertext)
                        .expect("decapsulate");
                    assert_eq!(
                        sent,
                        received,
                        "keys {}, sender {}, receiver {}",
                        generator.backend(),
                        sender.backend(),
                        receiver.backend()
                    );
                }
            }
        }
    }
}

// ---------------------------------------------------------------- Ed25519

/// The group order L, little-endian.
const ED25519_L: [u8; 32] = [
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
];

/// Adds L to the little-endian `s` half of a signature.
fn add_group_order(signature: &[u8]) -> Vec<u8> {
    let mut forged = signature.to_vec();
    let mut carry = 0u16;
    for (byte, l) in forged[32..].iter_mut().zip(ED25519_L) {
        let sum = u16::from(*byte) + u16::from(l) + carry;
        *byte = sum as u8;
        carry = sum >> 8;
    }
    forged
}

#[test]
fn s_plus_l_rejected_single_and_batch() {
    for signer in ed25519_signers() {
        let pair = signer.generate().expect("keygen");
        let signature = signer.sign(&pair.secret, b"message", &[]).expect("sign");
        let forged = add_group_order(&signature);
        assert_ne!(forged, signature);

        assert!(
            signer
                .verify(&pair.public, b"message", &[], &signature)
                .is_ok()
        );
        let outcome = signer.verify(&pair.public, b"message", &[], &forged);
        assert!(
            matches!(outcome, Err(PrimitiveError::Signature)),
            "{}: {outcome:?}",
            signer.backend()
        );

        let items = [
            BatchItem {
                public_key: &pair.public,
                message: b"message",
                signature: &signature,
            },
            BatchItem {
                public_key: &pair.public,
                message: b"message",
                signature: &forged,
            },
        ];
        let verifiers: [Box<dyn BatchVerifier>; 2] = [
            Box::new(CofactoredBatchVerifier),
            Box::new(SequentialBatchVerifier::new(signer.clone())),
        ];
        for verifier in verifiers {
            let results = verifier.verify_batch(&items);
            assert!(results[0].is_ok(), "{}: valid item", verifier.backend());
            assert!(results[1].is_err(), "{}: S + L item", verifier.backend());
        }
    }
}

#[test]
fn ed25519_backends_interoperate() {
    let signers = ed25519_signers();
    for signer in &signers {
        let pair = signer.generate_from_seed(&[9u8; 32]).expect("keygen");
        let signature = signer.sign(&pair.secret, b"interop", &[]).expect("sign");
        for verifier in &signers {
            verifier
                .verify(&pair.public, b"interop", &[], &signature)
                .unwrap_or_else(|e| {
                    panic!(
                        "{} signed, {} verified: {e}",
                        signer.backend(),
                        verifier.backend()
                    )
                });
        }
    }
    let keys: Vec<KeyPair> = signers
        .iter()
        .map(|s| s.generate_from_seed(&[9u8; 32]).expect("keygen"))
        .collect();
    assert!(keys.windows(2).all(|pair| pair[0].public == pair[1].public));
}

#[test]
fn ed25519_rejects_a_context() {
    for signer in ed25519_signers() {
        let pair = signer.generate().expect("keygen");
        assert!(matches!(
            signer.sign(&pair.secret, b"m", b"ctx"),
            Err(PrimitiveError::Unsupported { .. })
        ));
    }
}

// ---------------------------------------------------------------- ML-DSA

/// The three ML-DSA backends of one parameter set.
struct MlDsaBackends {
    libcrux: Arc<dyn Signer>,
    pqclean: Arc<dyn Signer>,
    awslc: Arc<dyn Signer>,
}

fn ml_dsas() -> Vec<MlDsaBackends> {
    vec![
        MlDsaBackends {
            libcrux: Arc::new(LibcruxMlDsa65),
            pqclean: Arc::new(PqcleanMlDsa65),
            awslc: Arc::new(AwsLcMlDsa65),
        },
        MlDsaBackends {
            libcrux: Arc::new(LibcruxMlDsa87),
            pqclean: Arc::new(PqcleanMlDsa87),
            awslc: Arc::new(AwsLcMlDsa87),
        },
    ]
}

#[test]
fn ml_dsa_other_context_rejected() {
    for MlDsaBackends {
        libcrux,
        pqclean,
        awslc,
    } in ml_dsas()
    {
        for signer in [&libcrux, &pqclean] {
            let pair = signer.generate().expect("keygen");
            let signature = signer
                .sign(&pair.secret, b"message", b"context one")
                .expect("sign");

            for verifier in [&libcrux, &pqclean] {
                assert!(
                    verifier
                        .verify(&pair.public, b"message", b"context one", &signature)
                        .is_ok()
                );
                let outcome = verifier.verify(&pair.public, b"message", b"context two", &signature);
                assert!(
                    matches!(outcome, Err(PrimitiveError::Signature)),
                    "{} signed, {} verified: {outcome:?}",
                    signer.backend(),
                    verifier.backend()
                );
                assert!(
                    verifier
                        .verify(&pair.public, b"message", b"", &signature)
                        .is_err()
                );
            }
            // aws-lc-rs cannot pass a context on, so it must not accept either.
            assert!(
                awslc
                    .verify(&pair.public, b"message", b"context two", &signature)
                    .is_err()
            );
            assert!(
                awslc
                    .verify(&pair.public, b"message", b"", &signature)
                    .is_err()
            );
        }
    }
}

#[test]
fn ml_dsa_backends_interoperate_without_context() {
    for MlDsaBackends {
        libcrux,
        pqclean,
        awslc,
    } in ml_dsas()
    {
        let all = [libcrux, pqclean, awslc];
        for signer in &all {
            let pair = signer.generate().expect("keygen");
            let signature = signer.sign(&pair.secret, b"interop", b"").expect("sign");
            assert_eq!(signature.len(), signer.alg().signature_len());
            for verifier in &all {
                verifier
                    .verify(&pair.public, b"interop", b"", &signature)
                    .unwrap_or_else(|e| {
                        panic!(
                            "{} signed, {} verified: {e}",
                            signer.backend(),
                            verifier.backend()
                        )
                    });
            }
        }
    }
}

#[test]
fn ml_dsa_context_too_long_rejected() {
    for MlDsaBackends {
        libcrux,
        pqclean,
        awslc,
    } in ml_dsas()
    {
        let pair = libcrux.generate().expect("keygen");
        let context = [0u8; 256];
        for backend in [&libcrux, &pqclean, &awslc] {
            let outcome = backend.sign(&pair.secret, b"m", &context);
            assert!(
                matches!(outcome, Err(PrimitiveError::ContextTooLong { actual: 256 })),
                "{outcome:?}"
            );
        }
    }
}

// ---------------------------------------------------------------- lengths

/// Keys, ciphertexts and signatures a few bytes off the right length give
/// errors, not panics.
#[test]
fn wrong_lengths_return_errors() {
    let set = BackendSet::for_this_cpu();
    for alg in [
        KemAlg::X25519,
        KemAlg::XWing,
        KemAlg::MlKem768,
        KemAlg::MlKem1024,
    ] {
        let kem = set.kem(alg);
        let pair = kem.generate().expect("keygen");
        let (ciphertext, _) = kem.encapsulate(&pair.public).expect("encapsulate");
        for len in [
            0,
            1,
            31,
            33,
            alg.public_key_len() - 1,
            alg.public_key_len() + 1,
        ] {
            assert!(
                kem.encapsulate(&vec![1u8; len]).is_err(),
                "{alg:?} public key of {len} bytes"
            );
        }
        for len in [0, 1, alg.ciphertext_len() - 1, alg.ciphertext_len() + 1] {
            let mut resized = ciphertext.clone();
            resized.resize(len, 0);
            assert!(
                kem.decapsulate(&pair.secret, &resized).is_err(),
                "{alg:?} ciphertext of {len} bytes"
            );
        }
        let short = SecretBytes::from_slice(&pair.secret.expose()[..pair.secret.len() - 1]);
        assert!(
            kem.decapsulate(&short, &ciphertext).is_err(),
            "{alg:?}: short secret key"
        );
    }
    for alg in [SigAlg::Ed25519, SigAlg::MlDsa65, SigAlg::MlDsa87] {
        let signer = set.signer(alg);
        let pair = signer.generate().expect("keygen");
        let signature = signer.sign(&pair.secret, b"m", &[]).expect("sign");
        assert!(
            signer
                .verify(&pair.public[1..], b"m", &[], &signature)
                .is_err()
        );
        assert!(
            signer
                .verify(&pair.public, b"m", &[], &signature[1..])
                .is_err()
        );
        let mut long = signature.clone();
        long.push(0);
        assert!(signer.verify(&pair.public, b"m", &[], &long).is_err());
        let short = SecretBytes::from_slice(&pair.secret.expose()[1..]);
        assert!(
            signer.sign(&short, b"m", &[]).is_err(),
            "{alg:?}: short secret key"
        );
    }
}

// ---------------------------------------------------------------- AEADs

#[test]
fn aead_rejects_tampering() {
    for aead in aeads() {
        let sealed = aead
            .seal(&[3; 32], &[4; 12], b"header", b"payload")
            .expect("seal");
        assert_eq!(sealed.len(), b"payload".len() + 16);
        assert_eq!(
            aead.open(&[3; 32], &[4; 12], b"header", &sealed)
                .expect("open")
                .as_slice(),
            b"payload"
        );

        let mut flipped = sealed.clone();
        flipped[0] ^= 1;
        assert!(matches!(
            aead.open(&[3; 32], &[4; 12], b"header", &flipped),
            Err(PrimitiveError::Aead)
        ));
        assert!(
            aead.open(&[3; 32], &[4; 12], b"other", &sealed).is_err(),
            "{}: aad",
            aead.backend()
        );
        assert!(
            aead.open(&[3; 32], &[5; 12], b"header", &sealed).is_err(),
            "{}: nonce",
            aead.backend()
        );
        assert!(
            aead.open(&[3; 32], &[4; 12], b"header", &sealed[..15])
                .is_err(),
            "{}: short",
            aead.backend()
        );
    }
}

#[test]
fn aead_backends_interoperate() {
    let backends = aeads();
    for sealer in &backends {
        let sealed = sealer
            .seal(&[8; 32], &[9; 12], b"aad", b"interop")
            .expect("seal");
        for opener in backends.iter().filter(|b| b.alg() == sealer.alg()) {
            let opened = opener
                .open(&[8; 32], &[9; 12], b"aad", &sealed)
                .expect("open");
            assert_eq!(
                opened.as_slice(),
                b"interop",
                "{} sealed, {} opened",
                sealer.backend(),
                opener.backend()
            );
        }
    }
}

// ---------------------------------------------------------------- backend sets

#[test]
fn every_named_backend_builds_and_round_trips() {
    for (key, values) in BackendSet::backend_names() {
        for value in *values {
            let set = BackendSet::named(&format!("{key}={value}")).expect("named set");
            round_trip(&set);
        }
    }
    round_trip(&BackendSet::baseline());
}

fn round_trip(set: &BackendSet) {
    for alg in [
        KemAlg::X25519,
        KemAlg::XWing,
        KemAlg::MlKem768,
        KemAlg::MlKem1024,
    ] {
        let kem = set.kem(alg);
        let pair = kem.generate().expect("keygen");
        let (ciphertext, sent) = kem.encapsulate(&pair.public).expect("encapsulate");
        assert_eq!(ciphertext.len(), alg.ciphertext_len());
        assert_eq!(
            kem.decapsulate(&pair.secret, &ciphertext)
                .expect("decapsulate"),
            sent,
            "{}",
            set.describe()
        );
    }
    for alg in [SigAlg::Ed25519, SigAlg::MlDsa65, SigAlg::MlDsa87] {
        let signer = set.signer(alg);
        let pair = signer.generate().expect("keygen");
        let signature = signer.sign(&pair.secret, b"msg", &[]).expect("sign");
        assert!(
            signer.verify(&pair.public, b"msg", &[], &signature).is_ok(),
            "{}",
            set.describe()
        );
    }
    for alg in [AeadAlg::Aes256Gcm, AeadAlg::ChaCha20Poly1305] {
        let aead = set.aead_backend(alg);
        assert_eq!(aead.alg(), alg);
        let sealed = aead
            .seal(&[1; 32], &[2; 12], b"aad", b"hello")
            .expect("seal");
        assert_eq!(
            aead.open(&[1; 32], &[2; 12], b"aad", &sealed)
                .expect("open")
                .as_slice(),
            b"hello"
        );
    }
}

#[test]
fn default_set_is_as_documented() {
    let set = BackendSet::for_this_cpu();
    let description = set.describe();
    println!("{description}");
    assert!(description.contains("x-wing=libcrux+aws-lc-rs"));
    assert!(description.contains("ml-kem-1024=libcrux"));
    assert!(description.contains("ml-dsa-65=libcrux"));
    assert!(description.contains("ed25519=aws-lc-rs "));
    assert!(description.contains("ed25519-batch=dalek-cofactored"));
    assert!(description.contains("x25519=aws-lc-rs"));

    let forced = set.clone().with_aead(AeadAlg::ChaCha20Poly1305);
    assert_eq!(forced.aead, AeadAlg::ChaCha20Poly1305);
    assert!(
        forced
            .describe()
            .ends_with("aead=chacha20-poly1305/aws-lc-rs")
    );
    let named = BackendSet::named("aead-alg=aes-256-gcm").expect("named");
    assert_eq!(named.aead, AeadAlg::Aes256Gcm);
}

#[test]
fn baseline_set_is_as_documented() {
    let description = BackendSet::baseline().describe();
    for part in [
        "x-wing=pqclean+dalek",
        "ml-kem-768=pqclean",
        "x25519=dalek",
        "ed25519=dalek",
        "ml-dsa-87=pqclean",
        "aes-256-gcm=rustcrypto",
    ] {
        assert!(description.contains(part), "{description} lacks {part}");
    }
}

#[test]
fn bad_specifications_are_rejected() {
    for spec in [
        "ml-kem=openssl",
        "nonsense",
        "ml-kem=libcrux,baseline",
        "aead-alg=des",
        "speed=fast",
    ] {
        let error = BackendSet::named(spec).expect_err(spec);
        assert!(!error.reason.is_empty(), "{spec}");
    }
    assert!(BackendSet::named("").is_ok());
    assert!(BackendSet::named("baseline, ml-kem = libcrux").is_ok());
}

// ---------------------------------------------------------------- secrets

#[test]
fn secret_debug_is_redacted() {
    let secret = SecretBytes::from_slice(&[0xab; 40]);
    let printed = format!("{secret:?}");
    assert!(!printed.contains("ab"), "{printed}");
    assert!(!printed.contains("171"), "{printed}");
    assert!(printed.contains("REDACTED"));

    let shared = SharedSecret::new([0xcd; 32]);
    let printed = format!("{shared:?}");
    assert!(
        !printed.contains("cd") && !printed.contains("205"),
        "{printed}"
    );
    assert!(printed.contains("REDACTED"));

    let pair = DalekEd25519
        .generate_from_seed(&[0xef; 32])
        .expect("keygen");
    let printed = format!("{pair:?}");
    assert!(!printed.contains("239"), "{printed}");
    assert!(printed.contains("REDACTED"));
}

#[test]
fn secret_equality_compares_contents() {
    assert_eq!(
        SecretBytes::from_slice(b"same"),
        SecretBytes::from_slice(b"same")
    );
    assert_ne!(
        SecretBytes::from_slice(b"same"),
        SecretBytes::from_slice(b"sane")
    );
    assert_ne!(
        SecretBytes::from_slice(b"same"),
        SecretBytes::from_slice(b"same!")
    );
    assert_eq!(SharedSecret::new([1; 32]), SharedSecret::new([1; 32]));
    let mut other = [1; 32];
    other[31] = 2;
    assert_ne!(SharedSecret::new([1; 32]), SharedSecret::new(other));
    assert!(SharedSecret::from_slice(&[0; 31]).is_err());
}
