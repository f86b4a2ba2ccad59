//! The send side of a scenario: sealer tasks seal batches with `seal_many` on the rayon pool,
//! and the send lanes post the sealed envelopes under the load schedule.
//!
//! Sealing runs ahead of sending through a bounded queue, so the crypto time is measured apart
//! and a lane never waits for crypto while the sealers keep up. When they cannot keep up,
//! closed-loop lanes wait for envelopes and open-loop messages wait past their due time, which
//! their latency then shows.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use qrnm_engine::{IdentityId, Mode, NegotiationError, Policy, SealError, SealItem, Sealed};
use tokio::task::JoinSet;

use crate::ledger::SentMessage;
use crate::metrics::Metrics;
use crate::net::api;
use crate::net::lane::Lane;
use crate::offload::on_rayon;
use crate::payload::MessageHeader;
use crate::report::Failure;
use crate::schedule::{Flow, LoadModel, ScheduleOutcome, Ticket, run_schedule};
use crate::users::{UserKind, expected_mode};
use crate::world::World;

/// Pause of a lane after the relay refused a connection, so that a relay restart does not
/// turn every lane into a busy loop.
const UNREACHABLE_PAUSE: Duration = Duration::from_millis(100);

/// One send phase: who sends to whom under which policy.
#[derive(Debug)]
pub struct SendPhase {
    /// Index of the scenario in the world.
    pub scenario: usize,
    /// The scenario's metrics.
    pub metrics: Arc<Metrics>,
    /// Policy of every sender.
    pub policy: Policy,
    /// Indices of the users that send.
    pub senders: Vec<u32>,
    /// Indices of the users that may receive.
    pub recipients: Vec<u32>,
    /// Counts of the phase.
    pub counts: PhaseCounts,
}

/// Counters of one send phase.
#[derive(Debug, Default)]
pub struct PhaseCounts {
    /// Messages sealed.
    pub sealed: AtomicU64,
    /// Seals flagged as fallback by the engine.
    pub fallbacks: AtomicU64,
    /// Seal attempts to classical-only recipients.
    pub attempts_to_classical: AtomicU64,
    /// Messages sealed in classical mode.
    pub sealed_classical: AtomicU64,
    /// Seals rejected with the no-common-mode error, as expected for them.
    pub rejected_no_common_mode: AtomicU64,
}

/// A sealed envelope waiting for a send lane.
#[derive(Debug)]
struct Outgoing {
    seq: u64,
    mailbox: IdentityId,
    envelope: Bytes,
}

/// Runs one send phase on `lanes` for `duration` and waits for its messages to be posted.
pub async fn run_send_phase(
    world: &Arc<World>,
    phase: &Arc<SendPhase>,
    lanes: &[Arc<Lane>],
    model: LoadModel,
    duration: Duration,
) -> ScheduleOutcome {
    let sealer_count = (rayon::current_num_threads() * 2).max(2);
    let (sender, receiver) = async_channel::bounded::<Outgoing>(sealer_count * world.batch * 2);
    let batches = Arc::new(AtomicU64::new(0));

    let mut sealers = JoinSet::new();
    for _ in 0..sealer_count {
        let (world, phase, sender, batches) = (
            Arc::clone(world),
            Arc::clone(phase),
            sender.clone(),
            Arc::clone(&batches),
        );
        sealers.spawn(async move { run_sealer(&world, &phase, &sender, &batches).await });
    }
    drop(sender);

    let deadline = Instant::now() + duration;
    let operation = {
        let world = Arc::clone(world);
        let phase = Arc::clone(phase);
        let receiver = receiver.clone();
        move |lane: Arc<Lane>, ticket: Ticket| {
            let (world, phase, receiver) =
                (Arc::clone(&world), Arc::clone(&phase), receiver.clone());
            async move { send_one(&world, &phase, &receiver, &lane, ticket, model, deadline).await }
        }
    };
    let grace = api::REQUEST_TIMEOUT + Duration::from_secs(5);
    let outcome = run_schedule(model, lanes, duration, grace, operation).await;

    receiver.close();
    while sealers.join_next().await.is_some() {}
    outcome
}

/// Posts one envelope on `lane` and records the outcome.
async fn send_one(
    world: &World,
    phase: &SendPhase,
    queue: &async_channel::Receiver<Outgoing>,
    lane: &Lane,
    ticket: Ticket,
    model: LoadModel,
    deadline: Instant,
) -> Flow {
    let outgoing = match model {
        // A closed-loop lane stops at the deadline even while it waits for an envelope.
        LoadModel::Closed => tokio::select! {
            next = queue.recv() => next,
            () = tokio::time::sleep_until(deadline.into()) => return Flow::Stop,
        },
        // An open-loop message was due before the deadline, so it is sent whenever it can be.
        LoadModel::Open { .. } => queue.recv().await,
    };
    let Ok(outgoing) = outgoing else {
        return Flow::Stop;
    };

    let start = match model {
        LoadModel::Closed => Instant::now(),
        LoadModel::Open { .. } => ticket.intended,
    };
    world.ledger.record_send_start(outgoing.seq, start);
    match api::post_message(lane, &outgoing.mailbox, outgoing.envelope).await {
        Ok(relay_id) => {
            let now = Instant::now();
            phase
                .metrics
                .record_acknowledged(now, now.saturating_duration_since(start));
            if let Some(failure) = world.ledger.record_acknowledged(outgoing.seq, relay_id) {
                world.fail(Some(phase.scenario), failure);
            }
        }
        Err(error) => {
            phase
                .metrics
                .record_error(&format!("post_{}", error.kind()));
            if error.is_unreachable() {
                tokio::time::sleep(UNREACHABLE_PAUSE).await;
            }
        }
    }
    Flow::Continue
}

/// Seals batches until the queue closes.
async fn run_sealer(
    world: &Arc<World>,
    phase: &Arc<SendPhase>,
    queue: &async_channel::Sender<Outgoing>,
    batches: &AtomicU64,
) {
    if phase.senders.is_empty() || phase.recipients.is_empty() {
        return;
    }
    while !queue.is_closed() {
        let batch_number = batches.fetch_add(1, Ordering::Relaxed);
        let sender = phase.senders[(batch_number % phase.senders.len() as u64) as usize];
        let recipients = pick_recipients(
            world.run_id ^ batch_number.rotate_left(17),
            sender,
            &phase.recipients,
            world.batch,
        );
        if recipients.is_empty() {
            continue;
        }

        let first_seq = world.ledger.reserve(recipients.len());
        let payloads: Vec<Vec<u8>> = recipients
            .iter()
            .enumerate()
            .map(|(i, &recipient)| {
                MessageHeader {
                    run_id: world.run_id,
                    sender,
                    recipient,
                    seq: first_seq + i as u64,
                }
                .build_payload(world.message_size)
            })
            .collect();

        let sealed = {
            let (world, phase, recipients) =
                (Arc::clone(world), Arc::clone(phase), recipients.clone());
            on_rayon(move || seal_batch(&world, &phase, sender, &recipients, &payloads)).await
        };
        let Ok((results, hashes)) = sealed else {
            world.fail(Some(phase.scenario), internal_failure("seal_many panicked"));
            continue;
        };

        for (i, (result, hash)) in results.into_iter().zip(hashes).enumerate() {
            let seq = first_seq + i as u64;
            let recipient = recipients[i];
            let Some(outgoing) = check_seal(world, phase, sender, recipient, seq, result, hash)
            else {
                continue;
            };
            if queue.send(outgoing).await.is_err() {
                return;
            }
        }
    }
}

/// Seals one batch on the rayon pool and returns the results with each payload's hash.
fn seal_batch(
    world: &World,
    phase: &SendPhase,
    sender: u32,
    recipients: &[u32],
    payloads: &[Vec<u8>],
) -> (Vec<Result<Sealed, SealError>>, Vec<[u8; 32]>) {
    let items: Vec<SealItem<'_>> = recipients
        .iter()
        .zip(payloads)
        .map(|(&r, payload)| SealItem {
            to: &world.directory[r as usize],
            payload,
        })
        .collect();
    let identity = world.users[sender as usize].recipient.identity();

    let started = Instant::now();
    let results = world
        .engine
        .seal_many(identity, &items, &phase.policy, api::unix_now());
    phase
        .metrics
        .record_seal_batch(started.elapsed(), items.len());

    let hashes = payloads
        .iter()
        .map(|p| *blake3::hash(p).as_bytes())
        .collect();
    (results, hashes)
}

/// Checks one seal result against the negotiation rule and records it. Returns the envelope
/// to post when the message was sealed as expected.
fn check_seal(
    world: &World,
    phase: &SendPhase,
    sender: u32,
    recipient: u32,
    seq: u64,
    result: Result<Sealed, SealError>,
    payload_hash: [u8; 32],
) -> Option<Outgoing> {
    let kind = world.users[recipient as usize].kind;
    if kind == UserKind::Classical {
        phase
            .counts
            .attempts_to_classical
            .fetch_add(1, Ordering::Relaxed);
    }
    let expected = expected_mode(&phase.policy, kind);
    let failure = |kind: &str, detail: String| Failure {
        scenario: String::new(),
        kind: kind.to_owned(),
        message_id: None,
        seq: Some(seq),
        detail,
    };

    match (result, expected) {
        (Ok(sealed), Some(mode)) => {
            let expected_fallback = mode < phase.policy.preferred();
            if sealed.mode != mode || sealed.fallback != expected_fallback {
                world.fail(
                    Some(phase.scenario),
                    failure(
                        "wrong_negotiation",
                        format!(
                            "sealed for user {recipient} in {} (fallback {}), expected {mode} (fallback {expected_fallback})",
                            sealed.mode, sealed.fallback
                        ),
                    ),
                );
                return None;
            }
            record_sealed(world, phase, sender, recipient, seq, &sealed, payload_hash);
            Some(Outgoing {
                seq,
                mailbox: world.users[recipient as usize].id(),
                envelope: Bytes::from(sealed.envelope),
            })
        }
        (Err(SealError::Negotiation(NegotiationError::NoCommonMode { .. })), None) => {
            phase
                .counts
                .rejected_no_common_mode
                .fetch_add(1, Ordering::Relaxed);
            phase.metrics.record_error("no_common_mode");
            None
        }
        (Ok(sealed), None) => {
            world.fail(
                Some(phase.scenario),
                failure(
                    "below_floor_sealed",
                    format!("sealed for user {recipient} in {} although the policy allows no common mode", sealed.mode),
                ),
            );
            None
        }
        (Err(error), expected) => {
            phase
                .metrics
                .record_error(&format!("seal_{}", error.kind()));
            let expected_outcome = expected.map_or_else(
                || "the no-common-mode error".to_owned(),
                |m| format!("a {m} envelope"),
            );
            world.fail(
                Some(phase.scenario),
                failure(
                    "seal_failed",
                    format!("expected {expected_outcome}, got: {error}"),
                ),
            );
            None
        }
    }
}

fn record_sealed(
    world: &World,
    phase: &SendPhase,
    sender: u32,
    recipient: u32,
    seq: u64,
    sealed: &Sealed,
    payload_hash: [u8; 32],
) {
    phase.counts.sealed.fetch_add(1, Ordering::Relaxed);
    if sealed.fallback {
        phase.counts.fallbacks.fetch_add(1, Ordering::Relaxed);
    }
    if sealed.mode == Mode::Classical {
        phase
            .counts
            .sealed_classical
            .fetch_add(1, Ordering::Relaxed);
    }
    phase
        .metrics
        .record_mode(sealed.mode.as_str(), sealed.fallback);
    world.ledger.record_sealed(
        seq,
        SentMessage {
            scenario: phase.scenario,
            recipient,
            sender_id: world.users[sender as usize].id(),
            mode: sealed.mode,
            payload_hash,
        },
    );
}

fn internal_failure(detail: &str) -> Failure {
    Failure {
        scenario: String::new(),
        kind: "internal".to_owned(),
        message_id: None,
        seq: None,
        detail: detail.to_owned(),
    }
}

/// Draws up to `count` recipients other than `sender`, from a seeded generator so that a
/// run's traffic pattern depends only on its run id.
fn pick_recipients(seed: u64, sender: u32, candidates: &[u32], count: usize) -> Vec<u32> {
    let mut state = seed;
    let mut next = || {
        // One SplitMix64 step: a Weyl sequence through a 64-bit mixing function.
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    if !candidates.iter().any(|&c| c != sender) {
        return Vec::new();
    }
    let mut picked = Vec::with_capacity(count);
    while picked.len() < count {
        let candidate = candidates[(next() % candidates.len() as u64) as usize];
        if candidate != sender {
            picked.push(candidate);
        }
    }
    picked
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipients_exclude_sender() {
        let picked = pick_recipients(42, 3, &[1, 2, 3, 4], 100);
        assert_eq!(picked.len(), 100);
        assert!(!picked.contains(&3));
        for user in [1, 2, 4] {
            assert!(picked.contains(&user), "user {user} never drawn");
        }
        assert_eq!(picked, pick_recipients(42, 3, &[1, 2, 3, 4], 100));
    }

    #[test]
    fn no_recipient_but_sender() {
        assert!(pick_recipients(1, 5, &[5], 10).is_empty());
        assert!(pick_recipients(1, 5, &[], 10).is_empty());
    }
}
