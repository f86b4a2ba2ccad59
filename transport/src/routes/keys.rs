//! `PUT /v1/keys/{mailbox}` and `GET /v1/keys/{mailbox}`: key bundles.

use std::sync::Arc;

use http::header::CONTENT_TYPE;
use http::{HeaderValue, Request, StatusCode};
use hyper::body::Incoming;

use super::{ApiError, HttpResponse, body, empty_response, json_response, unix_now};
use crate::crypto::{BundleRejection, DecodedBundle};
use crate::ids::MailboxId;
use crate::reject::Reason;
use crate::server::Shared;
use crate::store::{BundleUpdate, StoreError};

/// Publishes a bundle. The request must be signed by the mailbox owner: on
/// first publish by the identity inside the bundle, later by the stored one.
pub(super) async fn put(
    shared: &Shared,
    mailbox: MailboxId,
    request: Request<Incoming>,
) -> Result<HttpResponse, ApiError> {
    let (parts, incoming) = request.into_parts();
    let bytes = body::read(
        incoming,
        &parts.headers,
        shared.config.limits.max_body_bytes,
    )
    .await?;
    let (now, _) = unix_now();

    let bundle = DecodedBundle::decode(&bytes).map_err(rejection)?;
    if bundle.owner() != mailbox {
        return Err(ApiError::rejected(
            StatusCode::FORBIDDEN,
            Reason::BundleForbidden,
            format!(
                "the bundle belongs to mailbox {}, not to {mailbox}",
                bundle.owner()
            ),
        ));
    }
    let max_skew = shared.config.auth.max_clock_skew_secs;
    if bundle.created_at() > now.saturating_add(max_skew) {
        return Err(ApiError::rejected(
            StatusCode::BAD_REQUEST,
            Reason::BadBundle,
            format!(
                "the bundle was created at {}, in the future of the relay clock {now}",
                bundle.created_at()
            ),
        ));
    }

    let stored = shared.owner_key(mailbox).await?;
    let signer = stored.as_deref().unwrap_or(bundle.key());
    shared.authenticate(signer, &parts, &bytes, now)?;
    bundle.verify(&shared.engine, now).map_err(rejection)?;

    let created_at = bundle.created_at();
    let update = shared
        .store
        .put_bundle(mailbox, created_at, bytes)
        .await
        .map_err(|e| match e {
            StoreError::NotNewer { .. } => {
                ApiError::rejected(StatusCode::CONFLICT, Reason::BundleNotNewer, e.to_string())
            }
            other => ApiError::unavailable(other.to_string()),
        })?;
    shared.remember_owner(mailbox, Arc::new(bundle.key().clone()));

    tracing::info!(%mailbox, created_at, "key bundle published");
    Ok(match update {
        BundleUpdate::Created => json_response(
            StatusCode::CREATED,
            &serde_json::json!({ "mailbox": mailbox.to_string() }),
        ),
        BundleUpdate::Replaced => empty_response(StatusCode::NO_CONTENT),
    })
}

/// Returns the stored bundle bytes, or 404.
pub(super) async fn get(shared: &Shared, mailbox: MailboxId) -> Result<HttpResponse, ApiError> {
    let bundle = shared
        .store
        .bundle(mailbox)
        .await
        .map_err(|e| ApiError::unavailable(e.to_string()))?;
    let Some(bundle) = bundle else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "no_bundle",
            format!("mailbox {mailbox} has no key bundle"),
        ));
    };

    let mut response = hyper::Response::new(http_body_util::Full::new(bundle));
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    Ok(response)
}

fn rejection(rejection: BundleRejection) -> ApiError {
    match rejection {
        BundleRejection::Malformed(message) => {
            ApiError::rejected(StatusCode::BAD_REQUEST, Reason::BadBundle, message)
        }
        BundleRejection::Invalid(message) => {
            ApiError::rejected(StatusCode::FORBIDDEN, Reason::BundleForbidden, message)
        }
    }
}
