//! mixed: classical-only users take part. First the senders allow classical as a fallback
//! (floor classical), so every message to a classical user is sealed in classical mode and
//! counted as a fallback. Then the floor is raised to hybrid, so every seal to a classical
//! user must fail with the no-common-mode error while the other messages still flow.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use qrnm_engine::Mode;

use super::{Context, Outcome, modern_policy, reconnect, send_with_progress};
use crate::report::Check;
use crate::traffic::{PhaseCounts, SendPhase};

pub(super) async fn run(context: &Context) -> Outcome {
    let (held, held_check) = reconnect(context, "at start").await;
    let (index, metrics) = context.world.begin_scenario("mixed");
    let everyone: Vec<u32> = context.world.users.iter().map(|u| u.index).collect();
    let half = Duration::from_secs_f64(context.options.duration.as_secs_f64() / 2.0);

    let mut fallback_policy = modern_policy(&context.options);
    fallback_policy.allowed.insert(Mode::Classical);
    fallback_policy.floor = Mode::Classical;
    let mut raised_policy = fallback_policy.clone();
    raised_policy.floor = Mode::Hybrid;

    let phase_for = |policy| {
        Arc::new(SendPhase {
            scenario: index,
            metrics: Arc::clone(&metrics),
            policy,
            senders: context.world.modern_users(),
            recipients: everyone.clone(),
            counts: PhaseCounts::default(),
        })
    };
    let allowed = phase_for(fallback_policy);
    let forbidden = phase_for(raised_policy);

    let started = Instant::now();
    send_with_progress(context, &allowed, "mixed/fallback", half).await;
    send_with_progress(context, &forbidden, "mixed/floor", half).await;
    let send_time = started.elapsed();

    let load = |counter: &std::sync::atomic::AtomicU64| counter.load(Ordering::Relaxed);
    let allowed_attempts = load(&allowed.counts.attempts_to_classical);
    let forbidden_attempts = load(&forbidden.counts.attempts_to_classical);
    let checks = vec![
        held_check,
        Check::that(
            "classical recipients reached with fallback allowed",
            allowed_attempts > 0,
            format!("{allowed_attempts} seals to classical-only users"),
        ),
        Check::equal(
            "classical seals with fallback allowed",
            allowed_attempts,
            load(&allowed.counts.sealed_classical),
        ),
        Check::that(
            "fallbacks counted",
            load(&allowed.counts.fallbacks) >= allowed_attempts,
            format!(
                "{} fallbacks for {allowed_attempts} classical seals",
                load(&allowed.counts.fallbacks)
            ),
        ),
        Check::that(
            "classical recipients tried with the raised floor",
            forbidden_attempts > 0,
            format!("{forbidden_attempts} seal attempts to classical-only users"),
        ),
        Check::equal(
            "no-common-mode rejections with the raised floor",
            forbidden_attempts,
            load(&forbidden.counts.rejected_no_common_mode),
        ),
        Check::equal(
            "classical seals with the raised floor",
            0,
            load(&forbidden.counts.sealed_classical),
        ),
    ];
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
