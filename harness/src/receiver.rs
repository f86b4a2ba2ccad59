//! The receive side: one task per user polls the user's mailbox with signed long-poll requests,
//! opens each batch with `open_many` on the rayon pool, checks every message against the
//! ledger, and deletes it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use http::Method;
use qrnm_engine::{OpenError, Opened};

use crate::ledger::{Received, Verdict};
use crate::net::api::{self, ApiError, SignedRequest};
use crate::net::lane::Lane;
use crate::offload::on_rayon;
use crate::payload::MessageHeader;
use crate::report::Failure;
use crate::world::World;

/// Messages fetched per request.
pub const FETCH_LIMIT: u32 = 100;
/// Long-poll wait per fetch. The relay responds as soon as one message is there, so this
/// bounds only how long an idle receiver takes to notice the stop flag.
pub const FETCH_WAIT_MS: u64 = 1000;
/// Pause after a failed fetch, so that a relay restart does not become a busy loop.
const ERROR_PAUSE: Duration = Duration::from_millis(100);

/// A fetched batch after opening, and the signed deletes for it.
struct OpenedBatch {
    results: Vec<Result<Opened, OpenError>>,
    deletes: Vec<Result<SignedRequest, ApiError>>,
    open_time: Duration,
}

/// Polls the mailbox of user `user` on `lane` until `stop` is set.
pub async fn run_receiver(world: Arc<World>, user: u32, lane: Arc<Lane>, stop: Arc<AtomicBool>) {
    while !stop.load(Ordering::Relaxed) {
        if let Err(error) = receive_once(&world, user, &lane, FETCH_WAIT_MS).await {
            world
                .current()
                .1
                .record_error(&format!("receive_{}", error.kind()));
            tokio::time::sleep(ERROR_PAUSE).await;
        }
    }
}

/// Fetches, opens, checks and deletes one batch. Returns the number of messages fetched.
pub async fn receive_once(
    world: &Arc<World>,
    user: u32,
    lane: &Lane,
    wait_ms: u64,
) -> Result<usize, ApiError> {
    let fetch = {
        let world = Arc::clone(world);
        sign_off_thread(move || {
            let owner = world.users[user as usize].recipient.identity();
            api::sign(
                owner,
                Method::GET,
                api::fetch_path(&owner.id(), FETCH_LIMIT, wait_ms),
                &[],
            )
        })
        .await?
    };
    let messages = api::fetch_messages(lane, &fetch, wait_ms).await?;
    if messages.is_empty() {
        return Ok(0);
    }

    let batch = open_off_thread(world, user, &messages).await?;
    let (scenario, metrics) = world.current();
    metrics.record_open_batch(batch.open_time, messages.len());

    for (((relay_id, _), result), delete) in messages.iter().zip(batch.results).zip(batch.deletes) {
        let seq = check_message(world, user, *relay_id, result, scenario);
        match delete {
            Ok(request) => match api::delete_message(lane, &request).await {
                Ok(()) => {
                    if let Some(seq) = seq {
                        world.ledger.record_deleted(seq);
                    }
                }
                Err(error) => metrics.record_error(&format!("delete_{}", error.kind())),
            },
            Err(error) => metrics.record_error(&format!("delete_{}", error.kind())),
        }
    }
    Ok(messages.len())
}

/// Opens the batch and signs a delete for each message, in one trip to the rayon pool.
async fn open_off_thread(
    world: &Arc<World>,
    user: u32,
    messages: &[([u8; 16], Vec<u8>)],
) -> Result<OpenedBatch, ApiError> {
    let world = Arc::clone(world);
    let messages = messages.to_vec();
    on_rayon(move || {
        let me = &world.users[user as usize];
        let envelopes: Vec<&[u8]> = messages
            .iter()
            .map(|(_, envelope)| envelope.as_slice())
            .collect();
        let started = Instant::now();
        let results =
            world
                .engine
                .open_many(&me.recipient, &me.open_policy, &envelopes, api::unix_now());
        let open_time = started.elapsed();

        let owner = me.recipient.identity();
        let deletes = messages
            .iter()
            .map(|(id, _)| {
                api::sign(
                    owner,
                    Method::DELETE,
                    api::message_path(&owner.id(), id),
                    &[],
                )
            })
            .collect();
        OpenedBatch {
            results,
            deletes,
            open_time,
        }
    })
    .await
    .map_err(ApiError::from)
}

async fn sign_off_thread<F>(sign: F) -> Result<SignedRequest, ApiError>
where
    F: FnOnce() -> Result<SignedRequest, ApiError> + Send + 'static,
{
    on_rayon(sign).await?
}

/// Checks one opened envelope and records the verdict. Returns the message's sequence number
/// when the payload named one.
fn check_message(
    world: &World,
    user: u32,
    relay_id: [u8; 16],
    result: Result<Opened, OpenError>,
    current_scenario: usize,
) -> Option<u64> {
    let failure = |kind: &str, seq: Option<u64>, detail: String| Failure {
        scenario: String::new(),
        kind: kind.to_owned(),
        message_id: Some(hex::encode(relay_id)),
        seq,
        detail,
    };
    let opened = match result {
        Ok(opened) => opened,
        Err(error) => {
            let detail = format!("user {user} could not open it: {} ({error})", error.kind());
            world.fail(Some(current_scenario), failure("open_failed", None, detail));
            return None;
        }
    };
    let header = match MessageHeader::parse(&opened.payload) {
        Ok(header) if header.run_id == world.run_id => header,
        Ok(header) => {
            let detail = format!(
                "payload of run {:016x}, this run is {:016x}",
                header.run_id, world.run_id
            );
            world.fail(
                Some(current_scenario),
                failure("foreign_message", Some(header.seq), detail),
            );
            return None;
        }
        Err(error) => {
            world.fail(
                Some(current_scenario),
                failure("bad_payload", None, error.to_string()),
            );
            return None;
        }
    };

    let received = Received {
        relay_id,
        recipient: user,
        seq: header.seq,
        sender_id: opened.sender,
        mode: opened.mode,
        payload: &opened.payload,
    };
    match world.ledger.check_received(&received) {
        Verdict::Verified {
            scenario,
            send_start,
        } => {
            world
                .metrics_of(scenario)
                .record_verified(send_start.map(|start| start.elapsed()));
        }
        Verdict::Redelivered => world
            .current()
            .1
            .record_error("redelivered_after_failed_delete"),
        Verdict::Failed(scenario, failure) => world.fail(scenario, failure),
    }
    Some(header.seq)
}
