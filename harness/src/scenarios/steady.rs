//! steady: hybrid users (and pq users when the mode mix has them) send to each other.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use super::{Context, Outcome, modern_policy, reconnect, send_with_progress};
use crate::report::Check;
use crate::traffic::{PhaseCounts, SendPhase};

pub(super) async fn run(context: &Context) -> Outcome {
    let (held, held_check) = reconnect(context, "at start").await;
    let (index, metrics) = context.world.begin_scenario("steady");
    let users = context.world.modern_users();
    let phase = Arc::new(SendPhase {
        scenario: index,
        metrics: Arc::clone(&metrics),
        policy: modern_policy(&context.options),
        senders: users.clone(),
        recipients: users,
        counts: PhaseCounts::default(),
    });

    let started = Instant::now();
    send_with_progress(context, &phase, "steady", context.options.duration).await;
    let send_time = started.elapsed();

    let mut checks = vec![held_check];
    checks.push(Check::equal(
        "classical seals",
        0,
        phase.counts.sealed_classical.load(Ordering::Relaxed),
    ));
    if context.options.mode_mix.pq == 0 {
        // Every sender and recipient is hybrid-only, so hybrid is also the preferred mode.
        checks.push(Check::equal(
            "fallbacks",
            0,
            phase.counts.fallbacks.load(Ordering::Relaxed),
        ));
    }
    Outcome {
        index,
        metrics,
        started,
        send_time,
        connections_held: held,
        checks,
        carries_messages: true,
    }
}
