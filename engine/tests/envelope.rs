//! Sealing and opening envelopes in every mode, with every AEAD and across
//! backend sets.

use qrnm_engine::{
    AeadAlg, BackendSet, DEFAULT_ENVELOPE_TTL_SECS, Engine, EnvelopeHeader, Identity, Mode,
    ModeSet, OpenError, Policy, Recipient, SealError, SigAlg, VerifiedBundle,
};

const NOW: u64 = 1_700_000_000;
const BUNDLE_TTL: u64 = 30 * 24 * 3600;

struct Parties {
    engine: Engine,
    sender: Identity,
    recipient: Recipient,
    bundle: VerifiedBundle,
}

fn parties(sender_modes: ModeSet, recipient_modes: ModeSet) -> Parties {
    let engine = Engine::new();
    let sender = Identity::generate_with(&engine, sender_modes).expect("sender keys");
    let recipient =
        Recipient::generate(&engine, recipient_modes, NOW, BUNDLE_TTL).expect("recipient keys");
    let bundle = recipient
        .bundle()
        .verify(&engine, NOW)
        .expect("bundle verifies");
    Parties {
        engine,
        sender,
        recipient,
        bundle,
    }
}

fn only(mode: Mode) -> Policy {
    Policy::new(ModeSet::of(&[mode]), mode).expect("valid policy")
}

#[test]
fn round_trip_in_every_mode() {
    let p = parties(ModeSet::ALL, ModeSet::ALL);
    for mode in Mode::ALL {
        for payload in [&b""[..], b"x", &[0xa5; 1000][..]] {
            let sealed = p
                .engine
                .seal(&p.sender, &p.bundle, &only(mode), payload, NOW)
                .expect("seal");
            assert_eq!(sealed.mode, mode);
            assert!(!sealed.fallback);

            let opened = p
                .engine
                .open(&p.recipient, &only(mode), &sealed.envelope, NOW)
                .expect("open");
            assert_eq!(opened.sender, p.sender.id());
            assert_eq!(opened.mode, mode);
            assert_eq!(opened.payload, payload);
        }
    }
}

#[test]
fn default_policy_picks_pq_when_listed() {
    let p = parties(ModeSet::ALL, ModeSet::ALL);
    let sealed = p
        .engine
        .seal(&p.sender, &p.bundle, &Policy::default(), b"hi", NOW)
        .expect("seal");
    assert_eq!(sealed.mode, Mode::Pq);
    assert!(!sealed.fallback);
}

#[test]
fn hybrid_only_bundle_is_a_fallback() {
    let p = parties(ModeSet::ALL, ModeSet::of(&[Mode::Hybrid]));
    let sealed = p
        .engine
        .seal(&p.sender, &p.bundle, &Policy::default(), b"hi", NOW)
        .expect("seal");
    assert_eq!(sealed.mode, Mode::Hybrid);
    assert!(sealed.fallback);

    let opened = p
        .engine
        .open(&p.recipient, &Policy::default(), &sealed.envelope, NOW)
        .expect("open");
    assert_eq!(opened.mode, Mode::Hybrid);
}

#[test]
fn header_parse_matches_seal() {
    let p = parties(ModeSet::ALL, ModeSet::ALL);
    for mode in Mode::ALL {
        let sealed = p
            .engine
            .seal(&p.sender, &p.bundle, &only(mode), b"header", NOW)
            .expect("seal");
        let header = EnvelopeHeader::parse(&sealed.envelope).expect("header parses");

        assert_eq!(header.version(), 1);
        assert_eq!(header.mode(), mode);
        assert_eq!(header.aead(), p.engine.backends().aead);
        assert_eq!(header.recipient(), p.recipient.id());
        assert_eq!(header.expires_at(), NOW + DEFAULT_ENVELOPE_TTL_SECS);
        assert_eq!(header.header_len(), 46 + mode.kem().ciphertext_len());
        assert_eq!(header.total_len(), sealed.envelope.len());
    }
}

#[test]
fn ttl_sets_expiry() {
    let p = parties(ModeSet::ALL, ModeSet::ALL);
    let sealed = p
        .engine
        .seal_with_ttl(&p.sender, &p.bundle, &Policy::default(), b"", NOW, 60)
        .expect("seal");
    let header = EnvelopeHeader::parse(&sealed.envelope).expect("header parses");
    assert_eq!(header.expires_at(), NOW + 60);

    let opened = p
        .engine
        .open(&p.recipient, &Policy::default(), &sealed.envelope, NOW + 59);
    assert!(opened.is_ok());
    assert_eq!(
        p.engine
            .open(&p.recipient, &Policy::default(), &sealed.envelope, NOW + 60),
        Err(OpenError::Expired {
            expires_at: NOW + 60,
            now: NOW + 60
        })
    );

    let overflow =
        p.engine
            .seal_with_ttl(&p.sender, &p.bundle, &Policy::default(), b"", NOW, u64::MAX);
    assert_eq!(
        overflow,
        Err(SealError::ExpiryOverflow {
            now: NOW,
            ttl_secs: u64::MAX
        })
    );
}

#[test]
fn both_aeads_open_with_any_engine() {
    let p = parties(ModeSet::ALL, ModeSet::ALL);
    for aead in [AeadAlg::Aes256Gcm, AeadAlg::ChaCha20Poly1305] {
        let sealer = Engine::with_backends(BackendSet::for_this_cpu().with_aead(aead));
        let sealed = sealer
            .seal(&p.sender, &p.bundle, &Policy::default(), b"aead", NOW)
            .expect("seal");
        assert_eq!(
            EnvelopeHeader::parse(&sealed.envelope).map(|h| h.aead()),
            Ok(aead)
        );

        // The opener's own AEAD preference does not matter: the header names it.
        for opener_aead in [AeadAlg::Aes256Gcm, AeadAlg::ChaCha20Poly1305] {
            let opener = Engine::with_backends(BackendSet::for_this_cpu().with_aead(opener_aead));
            let opened = opener
                .open(&p.recipient, &Policy::default(), &sealed.envelope, NOW)
                .expect("open");
            assert_eq!(opened.payload, b"aead");
        }
    }
}

#[test]
fn baseline_and_default_backends_interoperate() {
    let p = parties(ModeSet::ALL, ModeSet::ALL);
    let baseline = Engine::with_backends(BackendSet::baseline());
    for mode in Mode::ALL {
        let sealed = baseline
            .seal(&p.sender, &p.bundle, &only(mode), b"interop", NOW)
            .expect("seal with baseline");
        let opened = p
            .engine
            .open(&p.recipient, &only(mode), &sealed.envelope, NOW)
            .expect("open with default");
        assert_eq!(opened.payload, b"interop");

        let sealed = p
            .engine
            .seal(&p.sender, &p.bundle, &only(mode), b"interop", NOW)
            .expect("seal with default");
        let opened = baseline
            .open(&p.recipient, &only(mode), &sealed.envelope, NOW)
            .expect("open with baseline");
        assert_eq!(opened.payload, b"interop");
    }
}

#[test]
fn sender_needs_keys_of_the_mode() {
    let p = parties(ModeSet::of(&[Mode::Classical]), ModeSet::ALL);
    let sealed = p
        .engine
        .seal(&p.sender, &p.bundle, &only(Mode::Hybrid), b"", NOW);
    assert_eq!(
        sealed,
        Err(SealError::MissingSignatureKey {
            mode: Mode::Hybrid,
            alg: SigAlg::MlDsa65
        })
    );

    let sealed = p
        .engine
        .seal(&p.sender, &p.bundle, &only(Mode::Pq), b"", NOW);
    assert_eq!(
        sealed,
        Err(SealError::MissingSignatureKey {
            mode: Mode::Pq,
            alg: SigAlg::MlDsa87
        })
    );
}

#[test]
fn expired_bundle_is_not_sealed_to() {
    let p = parties(ModeSet::ALL, ModeSet::ALL);
    let expires_at = NOW + BUNDLE_TTL;
    let sealed = p
        .engine
        .seal(&p.sender, &p.bundle, &Policy::default(), b"", expires_at);
    assert_eq!(
        sealed,
        Err(SealError::BundleExpired {
            expires_at,
            now: expires_at
        })
    );
}

#[test]
fn no_common_mode_is_not_sealed() {
    let p = parties(ModeSet::ALL, ModeSet::of(&[Mode::Classical]));
    let sealed = p
        .engine
        .seal(&p.sender, &p.bundle, &Policy::default(), b"", NOW);
    let err = sealed.expect_err("no common mode");
    assert_eq!(err.kind(), "negotiation");
    assert_eq!(
        err.to_string(),
        "no common mode: ours {hybrid,pq} at or above hybrid, theirs {classical}"
    );
}

#[test]
fn envelopes_differ_for_same_payload() {
    let p = parties(ModeSet::ALL, ModeSet::ALL);
    let first = p
        .engine
        .seal(&p.sender, &p.bundle, &Policy::default(), b"same", NOW)
        .expect("seal");
    let second = p
        .engine
        .seal(&p.sender, &p.bundle, &Policy::default(), b"same", NOW)
        .expect("seal");
    assert_ne!(first.envelope, second.envelope);
}

#[test]
fn shared_types_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    fn assert_clone<T: Clone>() {}
    assert_send_sync::<Engine>();
    assert_clone::<Engine>();
    assert_send_sync::<Identity>();
    assert_send_sync::<Recipient>();
    assert_send_sync::<VerifiedBundle>();
    assert_clone::<VerifiedBundle>();
}
