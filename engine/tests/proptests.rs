//! Property tests: encoding round trips, canonical decoding, seal/open round
//! trips over every mode and payloads up to 64 KiB, and no panics on
//! arbitrary or mutated input.
//!
//! Keys are generated once and shared, and case counts are small, so the
//! suite stays fast in a debug build.

use std::sync::OnceLock;

use proptest::prelude::*;
use qrnm_engine::{
    CompositeSignature, Engine, EnvelopeHeader, Identity, IdentityId, Mode, ModeSet, Policy,
    PublicIdentity, Recipient, SignedBundle, VerifiedBundle,
};

const NOW: u64 = 1_700_000_000;
const MAX_PAYLOAD: usize = 64 * 1024;

struct Fixture {
    engine: Engine,
    sender: Identity,
    recipient: Recipient,
    bundle: VerifiedBundle,
    /// One sealed envelope per mode, for mutation tests.
    envelopes: Vec<Vec<u8>>,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let engine = Engine::new();
        let sender = Identity::generate_with(&engine, ModeSet::ALL).expect("sender keys");
        let recipient =
            Recipient::generate(&engine, ModeSet::ALL, NOW, 365 * 24 * 3600).expect("keys");
        let bundle = recipient.bundle().verify(&engine, NOW).expect("verifies");
        let envelopes = Mode::ALL
            .iter()
            .map(|&mode| {
                let sealed = engine.seal(&sender, &bundle, &only(mode), b"mutate me", NOW);
                sealed.expect("seal").envelope
            })
            .collect();
        Fixture {
            engine,
            sender,
            recipient,
            bundle,
            envelopes,
        }
    })
}

fn only(mode: Mode) -> Policy {
    Policy::new(ModeSet::of(&[mode]), mode).expect("valid policy")
}

/// Deterministic filler bytes, cheaper to generate than a proptest vector
/// of 64 KiB.
fn payload(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_be_bytes()[0]
        })
        .collect()
}

fn mode_strategy() -> impl Strategy<Value = Mode> {
    prop::sample::select(Mode::ALL.to_vec())
}

fn mode_set_strategy() -> impl Strategy<Value = ModeSet> {
    (1u8..8).prop_map(|bits| ModeSet::from_bits(bits).expect("valid bits"))
}

/// Byte edits as (position fraction, xor mask), applied to any input length.
fn edits_strategy() -> impl Strategy<Value = Vec<(f64, u8)>> {
    prop::collection::vec((0.0..1.0f64, 1u8..=255), 1..4)
}

fn apply_edits(bytes: &[u8], edits: &[(f64, u8)]) -> Vec<u8> {
    let mut edited = bytes.to_vec();
    for &(fraction, mask) in edits {
        // Truncation toward zero keeps the index below the length.
        let index = (fraction * edited.len() as f64) as usize;
        if let Some(byte) = edited.get_mut(index) {
            *byte ^= mask;
        }
    }
    edited
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn seal_open_round_trip(
        mode in mode_strategy(),
        len in 0..=MAX_PAYLOAD,
        seed in any::<u64>(),
    ) {
        let f = fixture();
        let payload = payload(len, seed);
        let sealed = f.engine.seal(&f.sender, &f.bundle, &only(mode), &payload, NOW).expect("seal");
        prop_assert_eq!(sealed.mode, mode);

        let opened = f.engine.open(&f.recipient, &only(mode), &sealed.envelope, NOW).expect("open");
        prop_assert_eq!(opened.sender, f.sender.id());
        prop_assert_eq!(opened.mode, mode);
        prop_assert_eq!(opened.payload, payload);
    }

    #[test]
    fn envelope_header_round_trip(
        mode in mode_strategy(),
        len in 0..1024usize,
        ttl in 1..u64::from(u32::MAX),
    ) {
        let f = fixture();
        let payload = payload(len, ttl);
        let sealed = f
            .engine
            .seal_with_ttl(&f.sender, &f.bundle, &only(mode), &payload, NOW, ttl)
            .expect("seal");
        let header = EnvelopeHeader::parse(&sealed.envelope).expect("header parses");

        prop_assert_eq!(header.mode(), mode);
        prop_assert_eq!(header.recipient(), f.recipient.id());
        prop_assert_eq!(header.expires_at(), NOW + ttl);
        prop_assert_eq!(header.total_len(), sealed.envelope.len());
        prop_assert_eq!(header.header_len(), 46 + mode.kem().ciphertext_len());
    }

    #[test]
    fn mutated_envelope_never_opens(mode_index in 0..3usize, edits in edits_strategy()) {
        let f = fixture();
        let original = &f.envelopes[mode_index];
        let mutated = apply_edits(original, &edits);
        let result = f.engine.open(&f.recipient, &Policy::at_least(Mode::Classical), &mutated, NOW);
        prop_assert!(result.is_err(), "mutated envelope opened: {:?}", edits);
    }

    #[test]
    fn truncated_envelope_never_opens(mode_index in 0..3usize, fraction in 0.0..1.0f64) {
        let f = fixture();
        let original = &f.envelopes[mode_index];
        let len = (fraction * original.len() as f64) as usize;
        let result = f.engine.open(&f.recipient, &Policy::at_least(Mode::Classical), &original[..len], NOW);
        prop_assert!(result.is_err());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    #[test]
    fn bundle_round_trip(modes in mode_set_strategy(), created in 0..u64::MAX / 2, ttl in 1..u64::from(u32::MAX)) {
        let engine = &fixture().engine;
        let recipient = Recipient::generate(engine, modes, created, ttl).expect("keys");
        let bundle = recipient.bundle();
        let bytes = bundle.encode();
        let decoded = SignedBundle::decode(&bytes).expect("decodes");

        prop_assert_eq!(&decoded, bundle);
        prop_assert_eq!(decoded.encode(), bytes);
        prop_assert_eq!(decoded.modes(), modes);
        prop_assert_eq!(decoded.created_at(), created);
        prop_assert_eq!(decoded.expires_at(), created + ttl);
        prop_assert!(decoded.verify(engine, created).is_ok());
        prop_assert!(decoded.verify(engine, created + ttl).is_err());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// A mutated encoding either fails to decode or decodes to a value whose
    /// encoding is exactly the mutated bytes: there is one encoding per value.
    #[test]
    fn mutated_encodings_stay_canonical(edits in edits_strategy()) {
        let f = fixture();
        let bundle = apply_edits(&f.recipient.bundle().encode(), &edits);
        if let Ok(decoded) = SignedBundle::decode(&bundle) {
            prop_assert_eq!(decoded.encode(), bundle);
        }

        let identity = apply_edits(&f.sender.public().encode(), &edits);
        if let Ok(decoded) = PublicIdentity::decode(&identity) {
            prop_assert_eq!(decoded.encode(), identity);
        }

        let signature = apply_edits(&f.recipient.bundle().signature().encode(), &edits);
        if let Ok(decoded) = CompositeSignature::decode(&signature) {
            prop_assert_eq!(decoded.encode(), signature);
        }
    }

    #[test]
    fn decoders_accept_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = SignedBundle::decode(&bytes);
        let _ = PublicIdentity::decode(&bytes);
        let _ = CompositeSignature::decode(&bytes);
        let _ = EnvelopeHeader::parse(&bytes);
        let f = fixture();
        prop_assert!(f.engine.open(&f.recipient, &Policy::at_least(Mode::Classical), &bytes, NOW).is_err());
    }

    #[test]
    fn identity_id_text_round_trip(bytes in any::<[u8; 32]>(), text in "\\PC{0,80}") {
        let id = IdentityId::from_bytes(bytes);
        prop_assert_eq!(id.to_string().parse::<IdentityId>(), Ok(id));
        if let Ok(parsed) = text.parse::<IdentityId>() {
            prop_assert_eq!(parsed.to_string(), text);
        }
    }
}
