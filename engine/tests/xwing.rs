//! X-Wing against the test vectors of draft-connolly-cfrg-xwing-kem-11
//! (tests/data/xwing-draft-vectors.json), through every composition of an
//! ML-KEM-768 backend and an X25519 backend.

use std::sync::Arc;

use qrnm_engine::primitives::kem::ml_kem::{AwsLcMlKem768, LibcruxMlKem768, PqcleanMlKem768};
use qrnm_engine::primitives::kem::x25519::{AwsLcX25519, DalekX25519};
use qrnm_engine::primitives::kem::xwing::{EXPANDED_SECRET_KEY_LEN, SEED_LEN, XWING_LABEL, XWing};
use qrnm_engine::primitives::{Kem, KeyAgreement, PrimitiveError, SecretBytes};
use serde::Deserialize;

/// The vector file, with its source named inside.
#[derive(Deserialize)]
struct VectorFile {
    source: String,
    vectors: Vec<Vector>,
}

/// One vector, hex encoded.
#[derive(Deserialize)]
struct Vector {
    seed: String,
    sk: String,
    pk: String,
    eseed: String,
    ct: String,
    ss: String,
}

/// One vector, decoded.
struct Decoded {
    seed: Vec<u8>,
    sk: Vec<u8>,
    pk: Vec<u8>,
    eseed: Vec<u8>,
    ct: Vec<u8>,
    ss: Vec<u8>,
}

fn load_vectors() -> Vec<Decoded> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/xwing-draft-vectors.json"
    );
    let text = std::fs::read_to_string(path).expect("read X-Wing vectors");
    let file: VectorFile = serde_json::from_str(&text).expect("parse X-Wing vectors");
    assert!(
        file.source.contains("draft-connolly-cfrg-xwing-kem-11"),
        "source must name the revision"
    );

    let decode = |hex_text: &str| hex::decode(hex_text).expect("hex");
    file.vectors
        .iter()
        .map(|v| Decoded {
            seed: decode(&v.seed),
            sk: decode(&v.sk),
            pk: decode(&v.pk),
            eseed: decode(&v.eseed),
            ct: decode(&v.ct),
            ss: decode(&v.ss),
        })
        .collect()
}

/// Every composition: each ML-KEM-768 backend with each X25519 backend.
fn compositions() -> Vec<XWing> {
    let ml_kems: [Arc<dyn Kem>; 3] = [
        Arc::new(LibcruxMlKem768),
        Arc::new(PqcleanMlKem768),
        Arc::new(AwsLcMlKem768),
    ];
    let x25519s: [Arc<dyn KeyAgreement>; 2] = [Arc::new(DalekX25519), Arc::new(AwsLcX25519)];

    let mut all = Vec::new();
    for ml_kem in &ml_kems {
        for x25519 in &x25519s {
            all.push(XWing::new(
                ml_kem.clone(),
                Arc::new(LibcruxMlKem768),
                x25519.clone(),
            ));
        }
    }
    all
}

#[test]
fn label_is_the_drafts() {
    assert_eq!(hex::encode(XWING_LABEL), "5c2e2f2f5e5c");
}

#[test]
fn keygen_matches_vectors() {
    let vectors = load_vectors();
    for xwing in compositions() {
        for (index, v) in vectors.iter().enumerate() {
            assert_eq!(v.sk, v.seed, "vector {index}: the draft's sk is the seed");

            let pair = xwing.generate_from_seed(&v.seed).expect("keygen");
            assert_eq!(
                pair.public,
                v.pk,
                "{} vector {index}: public key",
                xwing.backend()
            );
            assert_eq!(pair.secret.len(), EXPANDED_SECRET_KEY_LEN);
            assert_eq!(
                XWing::seed_of(&pair.secret).expect("seed").expose(),
                v.sk.as_slice()
            );
        }
        println!(
            "X-Wing keygen / {}: {} vectors ran",
            xwing.backend(),
            vectors.len()
        );
    }
}

/// Derandomized encapsulation for the compositions whose ML-KEM backend
/// supports it. The others must return `Unsupported`, not a wrong result.
#[test]
fn encapsulation_matches_vectors() {
    let vectors = load_vectors();
    let mut derandomized_compositions = 0;
    for xwing in compositions() {
        let mut ran = 0;
        for (index, v) in vectors.iter().enumerate() {
            match xwing.encapsulate_derand(&v.pk, &v.eseed) {
                Err(PrimitiveError::Unsupported { .. }) => continue,
                outcome => {
                    let (ct, ss) = outcome.expect("encapsulate");
                    assert_eq!(ct, v.ct, "{} vector {index}: ciphertext", xwing.backend());
                    let ss = ss.expose().as_slice();
                    assert_eq!(
                        ss,
                        v.ss.as_slice(),
                        "{} vector {index}: ss",
                        xwing.backend()
                    );
                    ran += 1;
                }
            }
        }
        println!(
            "X-Wing derandomized encaps / {}: {ran} vectors ran",
            xwing.backend()
        );
        if ran > 0 {
            assert_eq!(ran, vectors.len());
            derandomized_compositions += 1;
        }
    }
    // libcrux's ML-KEM with each of the two X25519 backends.
    assert_eq!(derandomized_compositions, 2);
}

#[test]
fn decapsulation_matches_vectors() {
    let vectors = load_vectors();
    for xwing in compositions() {
        for (index, v) in vectors.iter().enumerate() {
            let seed_form = SecretBytes::from_slice(&v.sk);
            let ss = xwing
                .decapsulate(&seed_form, &v.ct)
                .expect("decapsulate with the seed");
            assert_eq!(
                ss.expose().as_slice(),
                v.ss.as_slice(),
                "{} vector {index}: seed form",
                xwing.backend()
            );

            let expanded = xwing.generate_from_seed(&v.seed).expect("keygen").secret;
            let ss = xwing
                .decapsulate(&expanded, &v.ct)
                .expect("decapsulate with the expanded key");
            assert_eq!(
                ss.expose().as_slice(),
                v.ss.as_slice(),
                "{} vector {index}: expanded",
                xwing.backend()
            );
        }
        println!(
            "X-Wing decaps / {}: {} vectors ran (seed and expanded forms)",
            xwing.backend(),
            vectors.len()
        );
    }
}

#[test]
fn random_round_trip_every_composition() {
    for xwing in compositions() {
        let pair = xwing.generate().expect("keygen");
        let (ct, sender) = xwing.encapsulate(&pair.public).expect("encapsulate");
        let receiver = xwing.decapsulate(&pair.secret, &ct).expect("decapsulate");
        assert_eq!(sender, receiver, "{}", xwing.backend());

        let seed = XWing::seed_of(&pair.secret).expect("seed");
        assert_eq!(seed.len(), SEED_LEN);
        assert_eq!(
            xwing
                .decapsulate(&seed, &ct)
                .expect("decapsulate with seed"),
            sender
        );
    }
}

#[test]
fn wrong_lengths_are_rejected() {
    let xwing = &compositions()[0];
    let pair = xwing.generate().expect("keygen");
    let (ct, _) = xwing.encapsulate(&pair.public).expect("encapsulate");

    let short_key = SecretBytes::from_slice(&[7u8; 31]);
    assert!(matches!(
        xwing.decapsulate(&short_key, &ct),
        Err(PrimitiveError::InvalidLength { .. })
    ));
    assert!(matches!(
        xwing.decapsulate(&pair.secret, &ct[..ct.len() - 1]),
        Err(PrimitiveError::InvalidLength { .. })
    ));
    assert!(matches!(
        xwing.encapsulate(&pair.public[..pair.public.len() - 1]),
        Err(PrimitiveError::InvalidLength { .. })
    ));
    assert!(matches!(
        xwing.generate_from_seed(&[1u8; 33]),
        Err(PrimitiveError::InvalidLength { .. })
    ));
    assert!(XWing::seed_of(&short_key).is_err());
}
