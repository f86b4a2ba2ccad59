//! Mailbox routes: deposit (anyone), fetch and acknowledge (owner only).

use http::header::CONTENT_TYPE;
use http::{HeaderValue, Request, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;

use super::{ApiError, HttpResponse, body, empty_response, json_response, unix_now};
use crate::crypto::parse_envelope;
use crate::ids::{MailboxId, MessageId};
use crate::reject::Reason;
use crate::server::Shared;
use crate::store::{StoreError, StoredMessage};
use crate::wire::{MESSAGE_LIST_CONTENT_TYPE, encode_message_list};

/// Largest listing body in bytes. A listing stops before the message that
/// would cross it, but always carries at least one message.
pub(crate) const MAX_LIST_BYTES: usize = 16 << 20;

/// Stores an envelope addressed to `mailbox` and responds 201 with its id
/// once the store reports it durable.
pub(super) async fn deposit(
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

    let envelope = parse_envelope(&bytes)
        .map_err(|m| ApiError::rejected(StatusCode::BAD_REQUEST, Reason::BadEnvelope, m))?;
    if envelope.recipient != mailbox {
        return Err(ApiError::rejected(
            StatusCode::BAD_REQUEST,
            Reason::BadEnvelope,
            format!(
                "the envelope is addressed to mailbox {}, not to {mailbox}",
                envelope.recipient
            ),
        ));
    }
    // Only mailboxes with a published bundle accept deposits, so that nobody
    // can fill storage for a mailbox no owner could ever read.
    let Some(owner) = shared.owner_key(mailbox).await? else {
        return Err(ApiError::rejected(
            StatusCode::NOT_FOUND,
            Reason::NotFound,
            format!("mailbox {mailbox} has no key bundle; its owner must publish one first"),
        ));
    };

    let (_, now_ms) = unix_now();
    let id = shared
        .store
        .deposit(mailbox, bytes, now_ms, shared.quota())
        .await
        .map_err(|e| match e {
            StoreError::MailboxFull { .. } => ApiError::rejected(
                StatusCode::TOO_MANY_REQUESTS,
                Reason::MailboxFull,
                format!("{e}; retry after the owner has fetched and acknowledged messages"),
            )
            .retry_after(60),
            other => ApiError::unavailable(other.to_string()),
        })?;

    let fallback = owner
        .strongest_mode()
        .is_some_and(|strongest| envelope.mode < strongest);
    shared.metrics.deposit(envelope.mode.id(), fallback);
    shared.notify_deposit(mailbox);
    tracing::debug!(%mailbox, %id, mode = envelope.mode.as_str(), "envelope stored");

    Ok(json_response(
        StatusCode::CREATED,
        &serde_json::json!({ "id": id.to_string() }),
    ))
}

/// Lists pending envelopes, oldest first, waiting up to `wait_ms` for the first one.
pub(super) async fn fetch(
    shared: &Shared,
    mailbox: MailboxId,
    limit: usize,
    wait_ms: u64,
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

    let owner = shared.require_owner(mailbox).await?;
    shared.authenticate(&owner, &parts, &bytes, now)?;

    let messages = shared.wait_for_messages(mailbox, limit, wait_ms).await?;
    let listed = cap_listing(&messages);
    let body = encode_message_list(listed.iter().map(|m| (&m.id.0, &m.envelope[..])))
        .map_err(|e| ApiError::unavailable(format!("cannot encode the listing: {e}")))?;

    let mut response = hyper::Response::new(Full::new(bytes::Bytes::from(body)));
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static(MESSAGE_LIST_CONTENT_TYPE),
    );
    Ok(response)
}

/// Erases one message after the owner has received it.
pub(super) async fn ack(
    shared: &Shared,
    mailbox: MailboxId,
    id: MessageId,
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

    let owner = shared.require_owner(mailbox).await?;
    shared.authenticate(&owner, &parts, &bytes, now)?;

    let erased = shared
        .store
        .delete(mailbox, id)
        .await
        .map_err(|e| ApiError::unavailable(e.to_string()))?;
    if erased {
        Ok(empty_response(StatusCode::NO_CONTENT))
    } else {
        Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "no_message",
            format!("mailbox {mailbox} has no message {id}"),
        ))
    }
}

fn cap_listing(messages: &[StoredMessage]) -> &[StoredMessage] {
    let mut total = 0usize;
    for (index, message) in messages.iter().enumerate() {
        total = total.saturating_add(message.envelope.len() + 20);
        if total > MAX_LIST_BYTES && index > 0 {
            return &messages[..index];
        }
    }
    messages
}
