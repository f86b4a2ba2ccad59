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
    #[error("{method} {path} returned {status} ({body})")]
    Status {
        /// Request method.
        method: Method,
        /// Request path, mailbox id included.
        path: String,
        /// Status returned.
        status: StatusCode,
        /// The relay's JSON error as "error: message", or a short description of any other body.
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
        body: describe_error_body(response.body()),
    })
}

/// Maximum length, in characters, of a relay error message quoted in an error.
const MAX_QUOTED_MESSAGE: usize = 200;

/// Describes the body of an unexpected response in one line: the relay's JSON error as
/// "error: message", or only the size of any other body, which may be a whole HTML page.
pub fn describe_error_body(body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct RelayError {
        error: String,
        message: String,
    }
    if body.is_empty() {
        return "empty body".to_owned();
    }
    match serde_json::from_slice::<RelayError>(body) {
        Ok(relay) => {
            let text = format!("{}: {}", relay.error, relay.message);
            let mut line: String = text
                .chars()
                .filter(|c| !c.is_control())
                .take(MAX_QUOTED_MESSAGE)
                .collect();
            if text.chars().count() > MAX_QUOTED_MESSAGE {
                line.push_str("...");
            }
            line
        }
        Err(_) => format!("a {}-byte body that is not a qrnm error", body.len()),
    }
}

/// Checks that the server at the lane's address is a qrnm relay: `GET /healthz` must respond
/// 200 with `{"status":"ok"}`.
///
/// # Errors
///
/// Returns [`ApiError::Status`] for another status and [`ApiError::BadResponse`] for another
/// body, and [`ApiError::Lane`] when no response came.
pub async fn check_relay(lane: &Lane) -> Result<(), ApiError> {
    #[derive(serde::Deserialize)]
    struct Health {
        status: String,
    }
    let path = "/healthz";
    let response = lane
        .send(Method::GET, path, &[], Bytes::new(), REQUEST_TIMEOUT)
        .await?;
    expect_status(&Method::GET, path, &response, &[StatusCode::OK])?;
    match serde_json::from_slice::<Health>(response.body()) {
        Ok(health) if health.status == "ok" => Ok(()),
        _ => Err(ApiError::BadResponse {
            method: Method::GET,
            path: path.to_owned(),
            detail: format!(
                "a {}-byte body, expected {{\"status\":\"ok\"}}",
                response.body().len()
            ),
        }),
    }
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
    fn error_bodies_are_one_short_line() {
        let json = br#"{"error":"bad_request","message":"mailbox id must be 64 hex digits"}"#;
        assert_eq!(
            describe_error_body(json),
            "bad_request: mailbox id must be 64 hex digits"
        );
        let html = b"<!DOCTYPE HTML>\n<html>\n<body><h1>Error response</h1>\n</body></html>\n";
        assert_eq!(
            describe_error_body(html),
            format!("a {}-byte body that is not a qrnm error", html.len())
        );
        assert_eq!(describe_error_body(b""), "empty body");
        let long = format!(
            r#"{{"error":"x","message":"{}\n{}"}}"#,
            "a".repeat(300),
            "b"
        );
        let line = describe_error_body(long.as_bytes());
        assert!(!line.contains('\n'), "{line}");
        assert_eq!(line.chars().count(), MAX_QUOTED_MESSAGE + 3);
    }

    #[test]
    fn created_id_parses() {
        let id = parse_created_id(br#"{"id":"000102030405060708090a0b0c0d0e0f"}"#).unwrap();
        assert_eq!(id, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
        assert!(parse_created_id(br#"{"id":"0001"}"#).is_err());
        assert!(parse_created_id(b"not json").is_err());
        assert!(parse_created_id(br#"{"id":"zz0102030405060708090a0b0c0d0e0f"}"#).is_err());
    }
}
