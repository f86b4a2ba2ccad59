//! Batch sealing and opening on the rayon thread pool.
//!
//! Each item goes through the same code as a single [`Engine::seal`] or
//! [`Engine::open`](crate::Engine::open); only signature verification is
//! regrouped. [`open_many`] first decrypts every envelope in parallel. Then
//! it verifies the Ed25519 signatures that reached that stage in batches, one
//! per rayon thread, while the ML-DSA signatures are verified one by one in
//! parallel.
//! Results keep the input order, and an item fails only through its own
//! checks: the batch verifier reports one result per signature.
//!
//! [`Engine::seal`]: crate::Engine::seal

use rayon::prelude::*;

use crate::bundle::Recipient;
use crate::engine::SealItem;
use crate::envelope::{self, DEFAULT_ENVELOPE_TTL_SECS, Opened, Sealed, Unverified};
use crate::error::{OpenError, SealError, SignatureError};
use crate::identity::{Identity, SignatureCheck, SignedMessage};
use crate::mode::SigAlg;
use crate::negotiate::Policy;
use crate::primitives::{BackendSet, BatchItem};

/// Seals every item in parallel; see [`crate::Engine::seal_many`].
pub(crate) fn seal_many(
    backends: &BackendSet,
    sender: &Identity,
    items: &[SealItem<'_>],
    policy: &Policy,
    now: u64,
) -> Vec<Result<Sealed, SealError>> {
    items
        .par_iter()
        .map(|item| {
            let ttl = DEFAULT_ENVELOPE_TTL_SECS;
            envelope::seal(backends, sender, item.to, policy, item.payload, now, ttl)
        })
        .collect()
}

/// Opens every envelope; see [`crate::Engine::open_many`].
pub(crate) fn open_many(
    backends: &BackendSet,
    me: &Recipient,
    policy: &Policy,
    envelopes: &[&[u8]],
    now: u64,
) -> Vec<Result<Opened, OpenError>> {
    let decrypted: Vec<Result<Unverified, OpenError>> = envelopes
        .par_iter()
        .map(|envelope| envelope::decrypt(backends, me, policy, envelope, now))
        .collect();

    let verdicts = verify_all(backends, &decrypted);

    decrypted
        .into_iter()
        .zip(verdicts)
        .map(|(item, verdict)| {
            verdict?;
            item.map(Unverified::into_opened)
        })
        .collect()
}

/// One signature to verify, with the item and position it belongs to.
struct Slot<'a> {
    item: usize,
    index: usize,
    check: &'a SignatureCheck<'a>,
    message: &'a SignedMessage,
}

/// Verifies the signatures of every decrypted item and returns one verdict
/// per item: the first failure in ascending algorithm order, as
/// [`Unverified::verify`] reports it, or `Ok` if all passed. Items that
/// failed before this stage get `Ok` here and keep their own error.
fn verify_all(
    backends: &BackendSet,
    decrypted: &[Result<Unverified, OpenError>],
) -> Vec<Result<(), OpenError>> {
    let plans: Vec<Result<Vec<SignatureCheck<'_>>, SignatureError>> = decrypted
        .iter()
        .map(|item| match item {
            Ok(unverified) => unverified.signature_checks(),
            Err(_) => Ok(Vec::new()),
        })
        .collect();

    let mut ed25519 = Vec::new();
    let mut others = Vec::new();
    for (item, (plan, decrypted)) in plans.iter().zip(decrypted).enumerate() {
        let (Ok(checks), Ok(unverified)) = (plan, decrypted) else {
            continue;
        };
        for (index, check) in checks.iter().enumerate() {
            let slot = Slot {
                item,
                index,
                check,
                message: unverified.message(),
            };
            if check.alg == SigAlg::Ed25519 {
                ed25519.push(slot);
            } else {
                others.push(slot);
            }
        }
    }

    let mut outcomes: Vec<Vec<Result<(), SignatureError>>> = plans
        .iter()
        .map(|plan| {
            plan.as_ref()
                .map_or(Vec::new(), |checks| vec![Ok(()); checks.len()])
        })
        .collect();
    let (ed25519_results, other_results) = rayon::join(
        || verify_ed25519_batch(backends, &ed25519),
        || -> Vec<Result<(), SignatureError>> {
            others
                .par_iter()
                .map(|slot| slot.check.verify(backends, slot.message))
                .collect()
        },
    );
    for (slot, result) in ed25519
        .iter()
        .chain(&others)
        .zip(ed25519_results.into_iter().chain(other_results))
    {
        outcomes[slot.item][slot.index] = result;
    }

    plans
        .into_iter()
        .zip(outcomes)
        .map(|(plan, outcome)| {
            plan?;
            outcome.into_iter().collect::<Result<(), SignatureError>>()
        })
        .map(|verdict| verdict.map_err(OpenError::Signature))
        .collect()
}

/// Smallest Ed25519 batch that [`verify_ed25519_batch`] splits off. Smaller
/// batches lose most of the per-signature saving of batch verification.
const MIN_ED25519_BATCH: usize = 64;

/// Verifies every Ed25519 slot in batches, one per rayon thread and at least
/// [`MIN_ED25519_BATCH`] signatures each, so that a large `open_many` keeps
/// every core busy during verification. Results keep the order of `slots`.
fn verify_ed25519_batch(
    backends: &BackendSet,
    slots: &[Slot<'_>],
) -> Vec<Result<(), SignatureError>> {
    let batch_len = slots
        .len()
        .div_ceil(rayon::current_num_threads())
        .max(MIN_ED25519_BATCH);
    slots
        .par_chunks(batch_len)
        .flat_map_iter(|batch| verify_ed25519_chunk(backends, batch))
        .collect()
}

/// Verifies one batch of Ed25519 slots with one call to the batch verifier.
fn verify_ed25519_chunk(
    backends: &BackendSet,
    slots: &[Slot<'_>],
) -> Vec<Result<(), SignatureError>> {
    if slots.is_empty() {
        return Vec::new();
    }

    let items: Vec<BatchItem<'_>> = slots
        .iter()
        .map(|slot| BatchItem {
            public_key: slot.check.public_key,
            message: slot.message.input_for(SigAlg::Ed25519).0,
            signature: slot.check.signature,
        })
        .collect();
    let results = backends.ed25519_batch.verify_batch(&items);

    // A result the backend did not return counts as a failure, never a pass.
    (0..slots.len())
        .map(|i| match results.get(i) {
            Some(Ok(())) => Ok(()),
            _ => Err(SignatureError::Invalid(SigAlg::Ed25519)),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::bundle::Recipient;
    use crate::engine::Engine;
    use crate::envelope::forge::{self, EXPIRES_AT};
    use crate::error::{OpenError, SignatureError};
    use crate::identity::Identity;
    use crate::mode::{Mode, ModeSet, SigAlg};
    use crate::negotiate::Policy;

    const NOW: u64 = EXPIRES_AT - 100;

    #[test]
    fn bad_signature_fails_only_its_item() {
        let engine = Engine::new();
        let sender = Identity::generate_with(&engine, ModeSet::ALL).unwrap();
        let bob = Recipient::generate(&engine, ModeSet::ALL, NOW - 10, 3600).unwrap();
        let bundle = bob.bundle().verify(&engine, NOW).unwrap();

        // (mode, algorithm whose signature is damaged), `None` for a good item.
        let cases = [
            (Mode::Classical, None),
            (Mode::Classical, Some(SigAlg::Ed25519)),
            (Mode::Hybrid, None),
            (Mode::Hybrid, Some(SigAlg::Ed25519)),
            (Mode::Hybrid, Some(SigAlg::MlDsa65)),
            (Mode::Pq, Some(SigAlg::MlDsa87)),
            (Mode::Pq, None),
            (Mode::Classical, None),
        ];
        let envelopes: Vec<Vec<u8>> = cases
            .iter()
            .map(|&(mode, damaged)| {
                forge::seal_tampered(&engine, &sender, &bundle, mode, b"batch", |_, sig| {
                    if let Some(alg) = damaged {
                        *sig = forge::flip_signature_bit(sig, alg);
                    }
                })
            })
            .collect();
        let inputs: Vec<&[u8]> = envelopes.iter().map(Vec::as_slice).collect();

        let policy = Policy::at_least(Mode::Classical);
        let batch = engine.open_many(&bob, &policy, &inputs, NOW);
        for (i, ((_, damaged), result)) in cases.iter().zip(&batch).enumerate() {
            assert_eq!(
                result,
                &engine.open(&bob, &policy, inputs[i], NOW),
                "item {i}"
            );
            match damaged {
                Some(alg) => assert_eq!(
                    result,
                    &Err(OpenError::Signature(SignatureError::Invalid(*alg))),
                    "item {i}"
                ),
                None => assert_eq!(
                    result.as_ref().map(|o| o.sender),
                    Ok(sender.id()),
                    "item {i}"
                ),
            }
        }
    }

    /// With two threads, 300 Ed25519 signatures split into two batches of
    /// 150. Damaged signatures and failed decryptions on and around that
    /// boundary must still fail exactly their own items.
    #[test]
    fn ed25519_batches_split_across_threads_keep_items_apart() {
        let engine = Engine::new();
        let sender = Identity::generate_with(&engine, ModeSet::ALL).unwrap();
        let bob = Recipient::generate(&engine, ModeSet::ALL, NOW - 10, 3600).unwrap();
        let bundle = bob.bundle().verify(&engine, NOW).unwrap();
        let bad_signature = [0, 149, 150, 151, 299];
        let bad_ciphertext = [1, 148];

        let envelopes: Vec<Vec<u8>> = (0..300)
            .map(|i| {
                let payload = i.to_string();
                let mut envelope = forge::seal_tampered(
                    &engine,
                    &sender,
                    &bundle,
                    Mode::Classical,
                    payload.as_bytes(),
                    |_, sig| {
                        if bad_signature.contains(&i) {
                            *sig = forge::flip_signature_bit(sig, SigAlg::Ed25519);
                        }
                    },
                );
                if bad_ciphertext.contains(&i) {
                    let last = envelope.len() - 1;
                    envelope[last] ^= 1;
                }
                envelope
            })
            .collect();
        let inputs: Vec<&[u8]> = envelopes.iter().map(Vec::as_slice).collect();

        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let policy = Policy::at_least(Mode::Classical);
        let batch = pool.install(|| engine.open_many(&bob, &policy, &inputs, NOW));

        assert_eq!(batch.len(), 300);
        for (i, result) in batch.iter().enumerate() {
            if bad_signature.contains(&i) {
                let invalid = SignatureError::Invalid(SigAlg::Ed25519);
                assert_eq!(result, &Err(OpenError::Signature(invalid)), "item {i}");
            } else if bad_ciphertext.contains(&i) {
                assert_eq!(result, &Err(OpenError::Aead), "item {i}");
            } else {
                let opened = result.as_ref().expect("good item opens");
                assert_eq!(opened.payload, i.to_string().as_bytes(), "item {i}");
            }
        }
    }
}
