//! Batch sealing and opening: input order, isolation of bad items, and
//! agreement with the single-item operations.

use std::sync::{Arc, Mutex};

use qrnm_engine::primitives::{BatchItem, BatchVerifier};
use qrnm_engine::{
    BackendSet, Engine, Identity, Mode, ModeSet, OpenError, Policy, PrimitiveError, Recipient,
    SealError, SealItem, VerifiedBundle,
};

const NOW: u64 = 1_700_000_000;
const TTL: u64 = 3600;

fn only(mode: Mode) -> Policy {
    Policy::new(ModeSet::of(&[mode]), mode).expect("valid policy")
}

fn recipient(engine: &Engine, modes: ModeSet) -> (Recipient, VerifiedBundle) {
    let recipient = Recipient::generate(engine, modes, NOW, TTL).expect("keys");
    let bundle = recipient.bundle().verify(engine, NOW).expect("verifies");
    (recipient, bundle)
}

fn payload(i: usize) -> Vec<u8> {
    format!("message number {i}").into_bytes()
}

#[test]
fn seal_many_keeps_order() {
    let engine = Engine::new();
    let sender = Identity::generate_with(&engine, ModeSet::ALL).expect("keys");
    let (bob, bundle) = recipient(&engine, ModeSet::ALL);
    let payloads: Vec<Vec<u8>> = (0..24).map(payload).collect();
    let items: Vec<SealItem<'_>> = payloads
        .iter()
        .map(|p| SealItem {
            to: &bundle,
            payload: p,
        })
        .collect();

    let sealed = engine.seal_many(&sender, &items, &Policy::default(), NOW);
    assert_eq!(sealed.len(), payloads.len());
    for (result, expected) in sealed.iter().zip(&payloads) {
        let sealed = result.as_ref().expect("seal");
        let opened = engine
            .open(&bob, &Policy::default(), &sealed.envelope, NOW)
            .expect("open");
        assert_eq!(&opened.payload, expected);
    }
}

#[test]
fn seal_many_isolates_failing_item() {
    let engine = Engine::new();
    let sender = Identity::generate_with(&engine, ModeSet::ALL).expect("keys");
    let (_, good) = recipient(&engine, ModeSet::ALL);
    let (_, classical) = recipient(&engine, ModeSet::of(&[Mode::Classical]));

    let items = [
        SealItem {
            to: &good,
            payload: b"a",
        },
        SealItem {
            to: &classical,
            payload: b"b",
        },
        SealItem {
            to: &good,
            payload: b"c",
        },
    ];
    let sealed = engine.seal_many(&sender, &items, &Policy::default(), NOW);
    assert!(sealed[0].is_ok());
    assert!(matches!(sealed[1], Err(SealError::Negotiation(_))));
    assert!(sealed[2].is_ok());
}

#[test]
fn open_many_matches_open_and_isolates_bad_items() {
    let engine = Engine::new();
    let sender = Identity::generate_with(&engine, ModeSet::ALL).expect("keys");
    let (bob, bundle) = recipient(&engine, ModeSet::ALL);
    let (_, carol_bundle) = recipient(&engine, ModeSet::ALL);

    // Envelopes in every mode, then a few bad ones in between.
    let mut envelopes: Vec<Vec<u8>> = (0..18)
        .map(|i| {
            let mode = Mode::ALL[i % 3];
            engine
                .seal(&sender, &bundle, &only(mode), &payload(i), NOW)
                .expect("seal")
                .envelope
        })
        .collect();
    envelopes[4][100] ^= 0x01; // damaged ciphertext or KEM ciphertext
    envelopes[7].truncate(10); // truncated header
    envelopes[11] = engine
        .seal(
            &sender,
            &carol_bundle,
            &Policy::default(),
            b"for carol",
            NOW,
        )
        .expect("seal")
        .envelope; // addressed to someone else
    let last = envelopes[15].len() - 1;
    envelopes[15][last] ^= 0x80; // damaged tag

    let inputs: Vec<&[u8]> = envelopes.iter().map(Vec::as_slice).collect();
    let policy = Policy::at_least(Mode::Classical);
    let batch = engine.open_many(&bob, &policy, &inputs, NOW);
    assert_eq!(batch.len(), inputs.len());

    for (i, (result, envelope)) in batch.iter().zip(&inputs).enumerate() {
        assert_eq!(
            result,
            &engine.open(&bob, &policy, envelope, NOW),
            "item {i}"
        );
        match i {
            4 | 15 => assert_eq!(result, &Err(OpenError::Aead), "item {i}"),
            7 => assert!(matches!(result, Err(OpenError::Decode(_))), "item {i}"),
            11 => assert_eq!(result, &Err(OpenError::WrongRecipient), "item {i}"),
            _ => {
                let opened = result.as_ref().expect("good item opens");
                assert_eq!(opened.payload, payload(i));
                assert_eq!(opened.mode, Mode::ALL[i % 3]);
                assert_eq!(opened.sender, sender.id());
            }
        }
    }
}

#[test]
fn open_many_of_nothing_is_empty() {
    let engine = Engine::new();
    let (bob, _) = recipient(&engine, ModeSet::ALL);
    assert!(
        engine
            .open_many(&bob, &Policy::default(), &[], NOW)
            .is_empty()
    );
}

#[test]
fn many_senders_in_one_batch() {
    // Ed25519 batch verification over signatures from different keys.
    let engine = Engine::new();
    let (bob, bundle) = recipient(&engine, ModeSet::ALL);
    let senders: Vec<Identity> = (0..8)
        .map(|_| Identity::generate_with(&engine, ModeSet::ALL).expect("keys"))
        .collect();
    let envelopes: Vec<Vec<u8>> = senders
        .iter()
        .enumerate()
        .map(|(i, sender)| {
            let mode = if i % 2 == 0 {
                Mode::Classical
            } else {
                Mode::Hybrid
            };
            engine
                .seal(sender, &bundle, &only(mode), &payload(i), NOW)
                .expect("seal")
                .envelope
        })
        .collect();
    let inputs: Vec<&[u8]> = envelopes.iter().map(Vec::as_slice).collect();

    let opened = engine.open_many(&bob, &Policy::at_least(Mode::Classical), &inputs, NOW);
    for (i, (result, sender)) in opened.iter().zip(&senders).enumerate() {
        let opened = result.as_ref().expect("opens");
        assert_eq!(opened.sender, sender.id());
        assert_eq!(opened.payload, payload(i));
    }
}

/// Delegates to a real batch verifier and records each call's size.
struct CountingVerifier {
    inner: Arc<dyn BatchVerifier>,
    calls: Mutex<Vec<usize>>,
}

impl BatchVerifier for CountingVerifier {
    fn backend(&self) -> &'static str {
        "counting"
    }

    fn verify_batch(&self, items: &[BatchItem<'_>]) -> Vec<Result<(), PrimitiveError>> {
        self.calls.lock().expect("lock").push(items.len());
        self.inner.verify_batch(items)
    }
}

#[test]
fn ed25519_signatures_share_one_batch_call() {
    let mut backends = BackendSet::for_this_cpu();
    let counter = Arc::new(CountingVerifier {
        inner: Arc::clone(&backends.ed25519_batch),
        calls: Mutex::new(Vec::new()),
    });
    backends.ed25519_batch = counter.clone();
    let engine = Engine::with_backends(backends);

    let sender = Identity::generate_with(&engine, ModeSet::ALL).expect("keys");
    let (bob, bundle) = recipient(&engine, ModeSet::ALL);
    let mut envelopes: Vec<Vec<u8>> = (0..12)
        .map(|i| {
            let mode = Mode::ALL[i % 3];
            let sealed = engine.seal(&sender, &bundle, &only(mode), &payload(i), NOW);
            sealed.expect("seal").envelope
        })
        .collect();
    // Item 0 (classical) fails decryption, so its signature is never checked.
    envelopes[0][60] ^= 0x01;

    let inputs: Vec<&[u8]> = envelopes.iter().map(Vec::as_slice).collect();
    let results = engine.open_many(&bob, &Policy::at_least(Mode::Classical), &inputs, NOW);
    assert_eq!(results[0], Err(OpenError::Aead));
    assert!(results[1..].iter().all(Result::is_ok));

    // Classical and hybrid items carry an Ed25519 signature: 8 of 12, minus
    // the one that failed decryption.
    assert_eq!(*counter.calls.lock().expect("lock"), vec![7]);
}
