//! The relay's HTTP API, as its clients call it over a [`Lane`].

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::{Method, StatusCode};
use qrnm_engine::{Identity, IdentityId, SignedBundle};
use qrnm_transport::auth::sign_request;
use qrnm_transport::wire::decode_message_list;

use super::lane::{Lane, LaneError};

/// Time limit of a request without a long poll.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Error of a call to the relay API.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The connection failed or timed out.
    #[error(transparent)]
    Lane(#[from] LaneError),
    /// The relay responded with an unexpected status.
    #[error("{method} {path} returned {status}: {body}")]
    Status {
        /// Request method.
        method: Method,
        /// Request path, mailbox id included.
        path: String,
        /// Status returned.
        status: StatusCode,
        /// The JSON error body, as text.
        body: String,
    },
    /// The relay's response body could not be decoded.
    #[error("{method} {path} returned an invalid body: {detail}")]
    BadResponse {
        /// Request method.
        method: Method,
        /// Request path.
        path: String,
        /// The decoding error.
        detail: String,
    },
    /// The owner signature could not be made.
    #[error("signing the request failed: {0}")]
    Sign(String),
    /// A crypto task on the rayon pool panicked.
    #[error(transparent)]
    Offload(#[from] crate::offload::OffloadPanicked),
}

impl ApiError {
    /// Returns a short stable name for the error counters of the report, such as
    /// `connection_closed`, `http_503` or `bad_response`.
    pub fn kind(&self) -> String {
        match self {
            ApiError::Lane(error) => error.kind().to_owned(),
            ApiError::Status { status, .. } => format!("http_{}", status.as_u16()),
            ApiError::BadResponse { .. } => "bad_response".to_owned(),
            ApiError::Sign(_) => "sign_failed".to_owned(),
            ApiError::Offload(_) => "crypto_panicked".to_owned(),
        }
    }

    /// Returns whether the relay could not be reached: the request may be retried later.
    pub fn is_unreachable(&self) -> bool {
        matches!(self, ApiError::Lane(LaneError::Connect { .. }))
    }
}

/// Returns the current time in unix seconds.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A request signed by a mailbox owner, ready to send.
#[derive(Debug, Clone)]
pub struct SignedRequest {
    /// Request method.
    pub method: Method,
    /// Path and query, exactly as signed.
    pub path: String,
    /// The authentication headers.
    pub headers: Vec<(&'static str, String)>,
}

/// Signs a request as `owner`. This costs one signature per algorithm of the owner's
/// strongest mode, so callers on async threads run it through [`crate::offload`].
pub fn sign(
    owner: &Identity,
    method: Method,
    path: String,
    body: &[u8],
) -> Result<SignedRequest, ApiError> {
    let headers = sign_request(owner, method.as_str(), &path, body, unix_now())
        .map_err(|e| ApiError::Sign(e.to_string()))?;
    Ok(SignedRequest {
        method,
        path,
        headers,
    })
}

/// Returns the path of a bundle.
pub fn keys_path(mailbox: &IdentityId) -> String {
    format!("/v1/keys/{mailbox}")
}

/// Returns the path and query of a mailbox fetch.
pub fn fetch_path(mailbox: &IdentityId, limit: u32, wait_ms: u64) -> String {
    format!("/v1/mailboxes/{mailbox}/messages?limit={limit}&wait_ms={wait_ms}")
}

/// Returns the path of one message in a mailbox.
pub fn message_path(mailbox: &IdentityId, id: &[u8; 16]) -> String {
    format!("/v1/mailboxes/{mailbox}/messages/{}", hex::encode(id))
}

fn expect_status(
    method: &Method,
    path: &str,
    response: &http::Response<Bytes>,
    accepted: &[StatusCode],
) -> Result<(), ApiError> {
    if accepted.contains(&response.status()) {
        return Ok(());
    }
    Err(ApiError::Status {
        method: method.clone(),
        path: path.to_owned(),
        status: response.status(),
        body: String::from_utf8_lossy(&response.body()[..response.body().len().min(512)])
            .into_owned(),
    })
}

/// Publishes a bundle with a signed `PUT /v1/keys/{mailbox}` made by [`sign`] over `body`.
pub async fn put_bundle(
    lane: &Lane,
    request: &SignedRequest,
    body: Vec<u8>,
) -> Result<(), ApiError> {
    let response = lane
        .send(
            Method::PUT,
            &request.path,
            &request.headers,
            Bytes::from(body),
            REQUEST_TIMEOUT,
        )
        .await?;
    expect_status(
        &Method::PUT,
        &request.path,
        &response,
        &[StatusCode::CREATED, StatusCode::NO_CONTENT],
    )
}

/// Fetches the bundle of `mailbox` with `GET /v1/keys/{mailbox}` and decodes it, unverified.
pub async fn get_bundle(lane: &Lane, mailbox: &IdentityId) -> Result<SignedBundle, ApiError> {
    let path = keys_path(mailbox);
    let response = lane
        .send(Method::GET, &path, &[], Bytes::new(), REQUEST_TIMEOUT)
        .await?;
    expect_status(&Method::GET, &path, &response, &[StatusCode::OK])?;
    SignedBundle::decode(response.body()).map_err(|e| ApiError::BadResponse {
        method: Method::GET,
        path,
        detail: e.to_string(),
    })
}

/// Deposits an envelope with `POST /v1/mailboxes/{mailbox}/messages` and returns the
/// message id from the 201 response.
pub async fn post_message(
    lane: &Lane,
    mailbox: &IdentityId,
    envelope: Bytes,
) -> Result<[u8; 16], ApiError> {
    let path = format!("/v1/mailboxes/{mailbox}/messages");
    let response = lane
        .send(Method::POST, &path, &[], envelope, REQUEST_TIMEOUT)
        .await?;
    expect_status(&Method::POST, &path, &response, &[StatusCode::CREATED])?;
    parse_created_id(response.body()).map_err(|detail| ApiError::BadResponse {
        method: Method::POST,
        path,
        detail,
    })
}

/// Parses `{"id":"<32 hex digits>"}`.
fn parse_created_id(body: &[u8]) -> Result<[u8; 16], String> {
    #[derive(serde::Deserialize)]
    struct Created {
        id: String,
    }
    let created: Created =
        serde_json::from_slice(body).map_err(|e| format!("expected {{\"id\":...}}: {e}"))?;
    let mut id = [0u8; 16];
    hex::decode_to_slice(&created.id, &mut id)
        .map_err(|e| format!("id {:?} is not 32 hex digits: {e}", created.id))?;
    Ok(id)
}

/// Fetches pending envelopes with a signed `GET` made by [`sign`] over [`fetch_path`];
/// `wait_ms` must match the path's, and extends the time limit.
pub async fn fetch_messages(
    lane: &Lane,
    request: &SignedRequest,
    wait_ms: u64,
) -> Result<Vec<([u8; 16], Vec<u8>)>, ApiError> {
    let timeout = REQUEST_TIMEOUT + Duration::from_millis(wait_ms);
    let response = lane
        .send(
            Method::GET,
            &request.path,
            &request.headers,
            Bytes::new(),
            timeout,
        )
        .await?;
    expect_status(&Method::GET, &request.path, &response, &[StatusCode::OK])?;
    decode_message_list(response.body()).map_err(|e| ApiError::BadResponse {
        method: Method::GET,
        path: request.path.clone(),
        detail: e.to_string(),
    })
}

/// Acknowledges a message with a signed `DELETE` made by [`sign`] over [`message_path`].
pub async fn delete_message(lane: &Lane, request: &SignedRequest) -> Result<(), ApiError> {
    let response = lane
        .send(
            Method::DELETE,
            &request.path,
            &request.headers,
            Bytes::new(),
            REQUEST_TIMEOUT,
        )
        .await?;
    expect_status(
        &Method::DELETE,
        &request.path,
        &response,
        &[StatusCode::NO_CONTENT],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_id_parses() {
        let id = parse_created_id(br#"{"id":"000102030405060708090a0b0c0d0e0f"}"#).unwrap();
        assert_eq!(id, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
        assert!(parse_created_id(br#"{"id":"0001"}"#).is_err());
        assert!(parse_created_id(b"not json").is_err());
        assert!(parse_created_id(br#"{"id":"zz0102030405060708090a0b0c0d0e0f"}"#).is_err());
    }
}
