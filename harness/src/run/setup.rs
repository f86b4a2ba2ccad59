//! Setup before the scenarios: the users' keys, the connect phase, and the bundles.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use http::Method;
use qrnm_engine::{Engine, VerifiedBundle};
use rayon::prelude::*;
use tokio::task::JoinSet;

use super::RunError;
use crate::cli::{Options, ScenarioArg};
use crate::net::api::{self, SignedRequest};
use crate::net::lane::Lane;
use crate::net::pool::{ConnectOutcome, Pool};
use crate::offload::on_rayon;
use crate::progress::{self, Display, Phase};
use crate::users::{User, generate_users, plan_kinds};

pub(super) async fn create_users(
    options: &Options,
    engine: &Engine,
    display: Display,
) -> Result<Vec<User>, RunError> {
    let total = options.user_count();
    let classical = if options.selected_scenarios().contains(&ScenarioArg::Mixed) {
        // At least one classical user, and at least two others so that they can send.
        ((total as f64 * options.classical_share).round() as usize)
            .clamp(1, total.saturating_sub(2))
    } else {
        0
    };
    let kinds = plan_kinds(total, classical, &options.mode_mix);
    let phase = Phase::start(display, "users", total as u64);
    let engine = engine.clone();
    let users = on_rayon(move || generate_users(&engine, &kinds, api::unix_now()))
        .await
        .map_err(|e| RunError::Keys(e.to_string()))?
        .map_err(|e| RunError::Keys(e.to_string()))?;
    phase.finish(&format!(
        "{} identities and bundles generated ({classical} classical-only)",
        users.len()
    ));
    Ok(users)
}

pub(super) async fn connect_all(
    pool: &Pool,
    options: &Options,
    display: Display,
) -> ConnectOutcome {
    let phase = Phase::start(display, "connect", options.connections as u64);
    let done = Arc::new(AtomicUsize::new(0));
    let ticker = {
        let (done, endpoint) = (Arc::clone(&done), Arc::clone(pool.endpoint()));
        progress::spawn_ticker(Arc::clone(&phase), move || {
            (
                done.load(Ordering::Relaxed) as u64,
                format!("{} open", endpoint.open_connections()),
            )
        })
    };
    let outcome = pool.connect_all(options.connect_concurrency, &done).await;
    ticker.abort();
    phase.finish(&format!(
        "{} of {} connections open in {:.1} s",
        outcome.held,
        options.connections,
        outcome.elapsed.as_secs_f64()
    ));
    outcome
}

/// Publishes every user's bundle over the user's own lane, then fetches every bundle back and
/// verifies it, which gives the directory that senders seal to.
pub(super) async fn publish_and_fetch(
    engine: &Engine,
    users: Vec<User>,
    lanes: &[Arc<Lane>],
    display: Display,
) -> Result<(Vec<User>, Vec<VerifiedBundle>), RunError> {
    let phase = Phase::start(display, "publish", users.len() as u64);
    let (users, signed) = sign_publications(users).await?;

    let mut tasks = JoinSet::new();
    for ((request, body), lane) in signed.into_iter().zip(lanes) {
        let lane = Arc::clone(lane);
        tasks.spawn(async move { api::put_bundle(&lane, &request, body).await });
    }
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                return Err(RunError::Bundles(format!(
                    "publishing a bundle failed: {error}"
                )));
            }
            Err(error) => return Err(RunError::Bundles(format!("a publish task failed: {error}"))),
        }
    }

    let mut fetches = JoinSet::new();
    for (user, lane) in users.iter().zip(lanes) {
        let (lane, id, index) = (Arc::clone(lane), user.id(), user.index);
        fetches.spawn(async move { (index, api::get_bundle(&lane, &id).await) });
    }
    let mut fetched = vec![None; users.len()];
    while let Some(joined) = fetches.join_next().await {
        let (index, result) =
            joined.map_err(|e| RunError::Bundles(format!("a fetch task failed: {e}")))?;
        let bundle = result.map_err(|e| {
            RunError::Bundles(format!("fetching the bundle of user {index} failed: {e}"))
        })?;
        fetched[index as usize] = Some(bundle);
    }

    let engine = engine.clone();
    let verified = on_rayon(move || {
        let now = api::unix_now();
        fetched
            .into_par_iter()
            .enumerate()
            .map(|(index, bundle)| {
                let bundle =
                    bundle.ok_or_else(|| format!("the bundle of user {index} was not fetched"))?;
                bundle
                    .verify(&engine, now)
                    .map_err(|e| format!("the bundle of user {index} does not verify: {e}"))
            })
            .collect::<Result<Vec<VerifiedBundle>, String>>()
    })
    .await
    .map_err(|e| RunError::Bundles(e.to_string()))?
    .map_err(RunError::Bundles)?;
    phase.finish(&format!(
        "{} bundles published, fetched and verified",
        verified.len()
    ));
    Ok((users, verified))
}

/// Signs every user's publish request on the rayon pool, and hands the users back.
pub(super) async fn sign_publications(
    users: Vec<User>,
) -> Result<(Vec<User>, Vec<(SignedRequest, Vec<u8>)>), RunError> {
    let (users, signed) = on_rayon(move || {
        let signed: Result<Vec<_>, _> = users
            .par_iter()
            .map(|user| {
                let body = user.recipient.bundle().encode();
                let path = api::keys_path(&user.id());
                api::sign(user.recipient.identity(), Method::PUT, path, &body)
                    .map(|request| (request, body))
            })
            .collect();
        (users, signed)
    })
    .await
    .map_err(|e| RunError::Bundles(e.to_string()))?;
    let signed =
        signed.map_err(|e| RunError::Bundles(format!("signing a publish request failed: {e}")))?;
    Ok((users, signed))
}
