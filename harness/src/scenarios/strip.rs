//! strip: a relay-side attacker serves every key bundle with its post-quantum keys removed.
//! Each sender fetches bundles through the attacker and must reject them, while the same
//! bundles fetched straight from the relay verify.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use tokio::task::JoinSet;

use super::{Context, Outcome, reconnect};
use crate::attacker::StripProxy;
use crate::net::api::{self, ApiError};
use crate::net::lane::{Endpoint, Lane};
use crate::offload::on_rayon;
use crate::report::{Check, Failure};
use crate::world::World;

/// Bundles each sender fetches through the attacker.
const FETCHES_PER_SENDER: usize = 2;
/// Connections to the attacker, besides the run's own connections.
const ATTACKER_LANES: usize = 32;

#[derive(Debug, Default)]
struct Counts {
    attempts: AtomicU64,
    rejected: AtomicU64,
    rejected_at_decode: AtomicU64,
    control_verified: AtomicU64,
}

pub(super) async fn run(context: &Context) -> Outcome {
    let (held, held_check) = reconnect(context, "at start").await;
    let (index, metrics) = context.world.begin_scenario("strip");
    let started = Instant::now();
    let mut checks = vec![held_check];

    let proxy = match StripProxy::start(Arc::clone(context.pool.endpoint())).await {
        Ok(proxy) => proxy,
        Err(error) => {
            checks.push(Check::that(
                "attacker proxy started",
                false,
                error.to_string(),
            ));
            return Outcome {
                index,
                metrics,
                started,
                send_time: started.elapsed(),
                connections_held: held,
                checks,
                carries_messages: false,
            };
        }
    };
    let proxy_endpoint = Endpoint::new(proxy.addr());
    let senders = context.world.modern_users();
    let lane_count = ATTACKER_LANES
        .min(senders.len())
        .min(context.send_lanes.len())
        .max(1);
    let counts = Arc::new(Counts::default());

    let mut tasks = JoinSet::new();
    for lane_index in 0..lane_count {
        let attacked = Arc::new(Lane::new(lane_index, Arc::clone(&proxy_endpoint)));
        let direct = Arc::clone(&context.send_lanes[lane_index]);
        let my_senders: Vec<u32> = senders
            .iter()
            .copied()
            .skip(lane_index)
            .step_by(lane_count)
            .collect();
        let (world, counts, all) = (
            Arc::clone(&context.world),
            Arc::clone(&counts),
            senders.clone(),
        );
        tasks.spawn(async move {
            for sender in my_senders {
                for target in targets(sender, &all) {
                    check_stripped_bundle(&world, index, &attacked, &direct, target, &counts).await;
                }
            }
        });
    }
    while tasks.join_next().await.is_some() {}

    let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
    let attempts = load(&counts.attempts);
    checks.push(Check::that(
        "bundles fetched through the attacker",
        attempts > 0,
        format!("{attempts} fetches by {} senders", senders.len()),
    ));
    checks.push(Check::equal(
        "stripped bundles rejected",
        attempts,
        load(&counts.rejected),
    ));
    checks.push(Check::equal(
        "unmodified bundles verified",
        attempts,
        load(&counts.control_verified),
    ));
    checks.push(Check::equal(
        "bundles stripped by the attacker",
        attempts,
        proxy.stripped(),
    ));
    let at_decode = load(&counts.rejected_at_decode);
    for _ in 0..at_decode {
        metrics.record_error("stripped_bundle_rejected_decode");
    }
    for _ in 0..load(&counts.rejected).saturating_sub(at_decode) {
        metrics.record_error("stripped_bundle_rejected_verify");
    }
    Outcome {
        index,
        metrics,
        started,
        send_time: started.elapsed(),
        connections_held: held,
        checks,
        carries_messages: false,
    }
}

/// Returns the users whose bundles `sender` fetches: the next ones in the list, skipping itself.
fn targets(sender: u32, users: &[u32]) -> Vec<u32> {
    let position = users.iter().position(|&u| u == sender).unwrap_or(0);
    (1..users.len())
        .map(|offset| users[(position + offset) % users.len()])
        .take(FETCHES_PER_SENDER)
        .collect()
}

/// Fetches `target`'s bundle through the attacker and from the relay. The attacker's copy
/// must be rejected, by decoding or by verification, and the relay's copy must verify.
async fn check_stripped_bundle(
    world: &Arc<World>,
    index: usize,
    attacked: &Lane,
    direct: &Lane,
    target: u32,
    counts: &Counts,
) {
    let target_id = world.users[target as usize].id();
    counts.attempts.fetch_add(1, Ordering::Relaxed);
    let failure = |kind: &str, detail: String| Failure {
        scenario: String::new(),
        kind: kind.to_owned(),
        message_id: None,
        seq: None,
        detail: format!("bundle of user {target} ({target_id}): {detail}"),
    };
    let original = match api::get_bundle(direct, &target_id).await {
        Ok(bundle) => bundle,
        Err(error) => {
            world.fail(
                Some(index),
                failure("bundle_fetch_failed", error.to_string()),
            );
            return;
        }
    };
    let stripped = match api::get_bundle(attacked, &target_id).await {
        Ok(bundle) => Some(bundle),
        // A stripped bundle may no longer decode (a hybrid-only bundle loses its only mode);
        // the sender rejects it there, before verification.
        Err(ApiError::BadResponse { .. }) => None,
        Err(error) => {
            world.fail(
                Some(index),
                failure("bundle_fetch_failed", error.to_string()),
            );
            return;
        }
    };

    let engine = world.engine.clone();
    let verdicts = on_rayon(move || {
        let now = api::unix_now();
        let stripped = stripped.map(|bundle| bundle.verify(&engine, now).map(|_| ()));
        (stripped, original.verify(&engine, now).map(|_| ()))
    })
    .await;
    let Ok((stripped_verdict, original_verdict)) = verdicts else {
        world.fail(
            Some(index),
            failure("internal", "bundle verification panicked".to_owned()),
        );
        return;
    };

    match stripped_verdict {
        None => {
            counts.rejected.fetch_add(1, Ordering::Relaxed);
            counts.rejected_at_decode.fetch_add(1, Ordering::Relaxed);
        }
        Some(Err(_)) => {
            counts.rejected.fetch_add(1, Ordering::Relaxed);
        }
        Some(Ok(())) => world.fail(
            Some(index),
            failure(
                "stripped_bundle_accepted",
                "a bundle without its post-quantum keys verified".to_owned(),
            ),
        ),
    }
    match original_verdict {
        Ok(()) => {
            counts.control_verified.fetch_add(1, Ordering::Relaxed);
        }
        Err(error) => world.fail(
            Some(index),
            failure(
                "bundle_invalid",
                format!("the relay's copy does not verify: {error}"),
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_skip_sender() {
        assert_eq!(targets(3, &[1, 3, 5, 7]), vec![5, 7]);
        assert_eq!(targets(7, &[1, 3, 5, 7]), vec![1, 3]);
        assert_eq!(targets(1, &[1, 2]), vec![2]);
    }
}
