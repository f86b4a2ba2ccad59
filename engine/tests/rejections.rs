//! Envelopes that must not open: bit flips anywhere, changed modes,
//! re-addressing, policy and bundle mismatches, expiry and truncation.

use qrnm_engine::{
    DecodeError, Engine, EnvelopeHeader, Identity, Mode, ModeSet, OpenError, Policy, Recipient,
    VerifiedBundle,
};

const NOW: u64 = 1_700_000_000;
const TTL: u64 = 3600;
/// Offsets in the envelope header.
const MODE: usize = 4;
const AEAD: usize = 5;
const RECIPIENT: std::ops::Range<usize> = 6..38;
const EXPIRES: std::ops::Range<usize> = 38..46;
const KEM_CIPHERTEXT: usize = 46;

struct Setup {
    engine: Engine,
    sender: Identity,
    recipient: Recipient,
    bundle: VerifiedBundle,
}

fn setup(sender_modes: ModeSet, recipient_modes: ModeSet) -> Setup {
    let engine = Engine::new();
    let sender = Identity::generate_with(&engine, sender_modes).expect("sender keys");
    let recipient = Recipient::generate(&engine, recipient_modes, NOW, TTL).expect("keys");
    let bundle = recipient
        .bundle()
        .verify(&engine, NOW)
        .expect("bundle verifies");
    Setup {
        engine,
        sender,
        recipient,
        bundle,
    }
}

fn only(mode: Mode) -> Policy {
    Policy::new(ModeSet::of(&[mode]), mode).expect("valid policy")
}

fn permissive() -> Policy {
    Policy::at_least(Mode::Classical)
}

impl Setup {
    fn seal(&self, mode: Mode, payload: &[u8]) -> Vec<u8> {
        self.engine
            .seal(&self.sender, &self.bundle, &only(mode), payload, NOW)
            .expect("seal")
            .envelope
    }

    fn open(&self, envelope: &[u8]) -> Result<Vec<u8>, OpenError> {
        self.engine
            .open(&self.recipient, &permissive(), envelope, NOW)
            .map(|opened| opened.payload)
    }
}

/// Error kinds acceptable for a flipped bit in byte `offset` of an envelope
/// whose header is `header_len` bytes long.
fn expected_kinds(offset: usize, header_len: usize) -> &'static [&'static str] {
    match offset {
        0..=3 => &["decode"],
        MODE => &[
            "unsupported_mode",
            "mode_not_in_bundle",
            "below_policy",
            "decode",
            "kem",
            "aead",
        ],
        AEAD => &["unsupported_aead"],
        o if RECIPIENT.contains(&o) => &["wrong_recipient"],
        o if EXPIRES.contains(&o) => &["expired", "aead"],
        o if o < header_len => &["kem", "aead"],
        _ => &["aead"],
    }
}

fn assert_flip_rejected(setup: &Setup, envelope: &[u8], bit: usize, header_len: usize) {
    let mut flipped = envelope.to_vec();
    flipped[bit / 8] ^= 1 << (bit % 8);

    let result = setup.open(&flipped);
    let offset = bit / 8;
    let err = match result {
        Ok(_) => panic!("envelope with bit {bit} (byte {offset}) flipped opened"),
        Err(err) => err,
    };
    let allowed = expected_kinds(offset, header_len);
    assert!(
        allowed.contains(&err.kind()),
        "bit {bit} (byte {offset}): got {err:?}, expected one of {allowed:?}"
    );
    if offset < 3 {
        assert!(matches!(
            err,
            OpenError::Decode(DecodeError::BadMagic { .. })
        ));
    }
    if offset == 3 {
        assert!(matches!(
            err,
            OpenError::Decode(DecodeError::UnknownVersion { .. })
        ));
    }
}

#[test]
fn every_bit_flip_of_classical_envelope_fails() {
    let classical = ModeSet::of(&[Mode::Classical]);
    let setup = setup(classical, classical);
    let envelope = setup.seal(Mode::Classical, &[0x5a; 64]);
    assert!(setup.open(&envelope).is_ok());

    let header_len = KEM_CIPHERTEXT + Mode::Classical.kem().ciphertext_len();
    for bit in 0..envelope.len() * 8 {
        assert_flip_rejected(&setup, &envelope, bit, header_len);
    }
}

/// Every bit of a hybrid and a pq envelope, flipped one at a time. About
/// 160,000 openings, spread over rayon's threads.
#[test]
fn every_bit_flip_of_hybrid_and_pq_envelopes_fails() {
    use rayon::prelude::*;

    let setup = setup(ModeSet::ALL, ModeSet::ALL);
    for mode in [Mode::Hybrid, Mode::Pq] {
        let envelope = setup.seal(mode, &[0x5a; 64]);
        assert!(setup.open(&envelope).is_ok());

        let header_len = KEM_CIPHERTEXT + mode.kem().ciphertext_len();
        (0..envelope.len() * 8)
            .into_par_iter()
            .for_each(|bit| assert_flip_rejected(&setup, &envelope, bit, header_len));
    }
}

#[test]
fn changed_mode_byte_is_rejected() {
    let all = setup(ModeSet::ALL, ModeSet::ALL);
    let hybrid = all.seal(Mode::Hybrid, b"mode");

    // Down to classical: below the recipient's default floor.
    let mut classical = hybrid.clone();
    classical[MODE] = Mode::Classical.id();
    assert_eq!(
        all.engine
            .open(&all.recipient, &Policy::default(), &classical, NOW),
        Err(OpenError::BelowPolicy {
            mode: Mode::Classical,
            floor: Mode::Hybrid
        })
    );

    // Up to pq: listed, so it reaches decryption, which fails.
    let mut pq = hybrid.clone();
    pq[MODE] = Mode::Pq.id();
    assert_eq!(all.open(&pq), Err(OpenError::Aead));

    // Unknown mode identifiers.
    for id in [0, 4, 255] {
        let mut unknown = hybrid.clone();
        unknown[MODE] = id;
        assert_eq!(all.open(&unknown), Err(OpenError::UnsupportedMode(id)));
        assert!(EnvelopeHeader::parse(&unknown).is_err());
    }

    // Up to pq for a recipient whose bundle lists only hybrid.
    let hybrid_only = setup(ModeSet::ALL, ModeSet::of(&[Mode::Hybrid]));
    let mut pq = hybrid_only.seal(Mode::Hybrid, b"mode");
    pq[MODE] = Mode::Pq.id();
    assert_eq!(
        hybrid_only.open(&pq),
        Err(OpenError::ModeNotInBundle(Mode::Pq))
    );
}

#[test]
fn changed_aead_byte_is_rejected() {
    let setup = setup(ModeSet::ALL, ModeSet::ALL);
    let envelope = setup.seal(Mode::Hybrid, b"aead");
    let mut other = envelope.clone();
    other[AEAD] = if envelope[AEAD] == 1 { 2 } else { 1 };
    assert_eq!(setup.open(&other), Err(OpenError::Aead));

    other[AEAD] = 7;
    assert_eq!(setup.open(&other), Err(OpenError::UnsupportedAead(7)));
}

#[test]
fn readdressed_envelope_is_rejected() {
    let bob = setup(ModeSet::ALL, ModeSet::ALL);
    let carol = Recipient::generate(&bob.engine, ModeSet::ALL, NOW, TTL).expect("keys");
    for mode in Mode::ALL {
        let mut envelope = bob.seal(mode, b"for bob");
        envelope[RECIPIENT].copy_from_slice(carol.id().as_bytes());

        assert_eq!(
            EnvelopeHeader::parse(&envelope).map(|h| h.recipient()),
            Ok(carol.id())
        );
        assert_eq!(bob.open(&envelope), Err(OpenError::WrongRecipient));
        assert_eq!(
            bob.engine.open(&carol, &permissive(), &envelope, NOW),
            Err(OpenError::Aead)
        );
    }
}

#[test]
fn below_floor_is_rejected() {
    let setup = setup(ModeSet::ALL, ModeSet::ALL);
    let envelope = setup.seal(Mode::Classical, b"old");
    assert!(setup.open(&envelope).is_ok());
    assert_eq!(
        setup
            .engine
            .open(&setup.recipient, &Policy::default(), &envelope, NOW),
        Err(OpenError::BelowPolicy {
            mode: Mode::Classical,
            floor: Mode::Hybrid
        })
    );
    assert_eq!(
        setup.engine.open(
            &setup.recipient,
            &Policy::at_least(Mode::Pq),
            &setup.seal(Mode::Hybrid, b""),
            NOW
        ),
        Err(OpenError::BelowPolicy {
            mode: Mode::Hybrid,
            floor: Mode::Pq
        })
    );
}

#[test]
fn mode_missing_from_bundle_is_rejected() {
    let bob = setup(ModeSet::ALL, ModeSet::ALL);
    let dave =
        Recipient::generate(&bob.engine, ModeSet::of(&[Mode::Hybrid]), NOW, TTL).expect("keys");
    let envelope = bob.seal(Mode::Pq, b"pq");
    assert_eq!(
        bob.engine.open(&dave, &permissive(), &envelope, NOW),
        Err(OpenError::ModeNotInBundle(Mode::Pq))
    );
}

#[test]
fn expired_envelope_is_rejected() {
    let setup = setup(ModeSet::ALL, ModeSet::ALL);
    let sealed = setup
        .engine
        .seal_with_ttl(&setup.sender, &setup.bundle, &permissive(), b"", NOW, 10)
        .expect("seal");
    let open_at = |now| {
        setup
            .engine
            .open(&setup.recipient, &permissive(), &sealed.envelope, now)
    };
    assert!(open_at(NOW + 9).is_ok());
    assert_eq!(
        open_at(NOW + 10),
        Err(OpenError::Expired {
            expires_at: NOW + 10,
            now: NOW + 10
        })
    );
}

#[test]
fn truncated_envelopes_are_rejected() {
    let classical = ModeSet::of(&[Mode::Classical]);
    let setup = setup(classical, classical);
    let envelope = setup.seal(Mode::Classical, b"truncate me");
    let header_len = KEM_CIPHERTEXT + Mode::Classical.kem().ciphertext_len();
    let min_len = header_len + 16;

    for len in 0..envelope.len() {
        let result = setup.open(&envelope[..len]);
        if len < min_len {
            // Too short for the header and an AEAD tag: a decoding error,
            // from the opener and from the relay's header parser.
            assert!(
                matches!(result, Err(OpenError::Decode(_))),
                "{len} bytes: {result:?}"
            );
            assert!(EnvelopeHeader::parse(&envelope[..len]).is_err());
        } else {
            // The ciphertext runs to the end of the envelope, so a shorter
            // one fails authentication.
            assert_eq!(result, Err(OpenError::Aead), "{len} bytes");
        }
    }

    let mut longer = envelope.clone();
    longer.push(0);
    assert_eq!(setup.open(&longer), Err(OpenError::Aead));
}

#[test]
fn garbage_is_rejected() {
    let setup = setup(ModeSet::ALL, ModeSet::ALL);
    let inputs: [&[u8]; 4] = [b"", b"QRE", b"QRE\x01", &[0xff; 2000]];
    for input in inputs {
        let result = setup.open(input);
        assert!(matches!(result, Err(OpenError::Decode(_))), "{result:?}");
        assert!(EnvelopeHeader::parse(input).is_err());
    }
}
