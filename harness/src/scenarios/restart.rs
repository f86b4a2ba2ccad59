//! restart: the relay is killed with SIGKILL halfway through the send phase and started
//! again on the same port and data directory. Every message acknowledged with 201, before
//! or after the crash, must still be delivered exactly once.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{Context, Outcome, modern_policy, reconnect, send_with_progress};
use crate::report::Check;
use crate::traffic::{PhaseCounts, SendPhase};

/// Time the relay stays down, so that lanes see refused connections.
const DOWN_TIME: Duration = Duration::from_millis(500);

/// Runs the scenario, or returns why it cannot run.
pub(super) async fn run(context: &Context) -> Result<Outcome, String> {
    let Some(relay) = context.relay.clone() else {
        return Err(
            "the relay runs outside the harness (--target), so the harness cannot restart it"
                .to_owned(),
        );
    };
    let (held, held_check) = reconnect(context, "at start").await;
    let (index, metrics) = context.world.begin_scenario("restart");
    let users = context.world.modern_users();
    let phase = Arc::new(SendPhase {
        scenario: index,
        metrics: Arc::clone(&metrics),
        policy: modern_policy(&context.options),
        senders: users.clone(),
        recipients: users,
        counts: PhaseCounts::default(),
    });

    let kill_after = context.options.duration / 2;
    let crash = {
        let metrics = Arc::clone(&metrics);
        tokio::spawn(async move {
            tokio::time::sleep(kill_after).await;
            let mut relay = relay.lock().await;
            let acknowledged_before = metrics.acknowledged();
            relay.kill().await.map_err(|e| e.to_string())?;
            tokio::time::sleep(DOWN_TIME).await;
            relay.restart().await.map_err(|e| e.to_string())?;
            Ok::<u64, String>(acknowledged_before)
        })
    };

    let started = Instant::now();
    send_with_progress(context, &phase, "restart", context.options.duration).await;
    let send_time = started.elapsed();

    let mut checks = vec![held_check];
    let crash_result = match crash.await {
        Ok(result) => result,
        Err(join_error) => Err(format!("the restart task failed: {join_error}")),
    };
    match crash_result {
        Ok(acknowledged_before) => {
            let acknowledged_after = metrics.acknowledged().saturating_sub(acknowledged_before);
            checks.push(Check::that(
                "relay killed and restarted",
                true,
                format!("SIGKILL after {kill_after:?}, down {DOWN_TIME:?}"),
            ));
            checks.push(Check::that(
                "messages acknowledged before the crash",
                acknowledged_before > 0,
                format!("{acknowledged_before} acknowledged"),
            ));
            checks.push(Check::that(
                "messages acknowledged after the restart",
                acknowledged_after > 0,
                format!("{acknowledged_after} acknowledged"),
            ));
        }
        Err(error) => checks.push(Check::that("relay killed and restarted", false, error)),
    }
    let (_, reconnected) = reconnect(context, "after the restart").await;
    checks.push(reconnected);
    Ok(Outcome {
        index,
        metrics,
        started,
        send_time,
        connections_held: held,
        checks,
        carries_messages: true,
    })
}
