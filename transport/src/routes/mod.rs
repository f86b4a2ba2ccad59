//! Request routing, the JSON error format, and the per-request steps every
//! route shares: rate limiting, the request timeout and metrics.

mod body;
mod keys;
mod messages;
mod ops;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::header::{ALLOW, CONNECTION, CONTENT_TYPE, RETRY_AFTER};
use http::{HeaderValue, Method, Request, Response, StatusCode, Version};
use http_body_util::Full;
use hyper::body::Incoming;

use crate::ids::{MailboxId, MessageId};
use crate::reject::Reason;
use crate::server::Shared;

/// Response type of every route.
pub(crate) type HttpResponse = Response<Full<Bytes>>;

/// Default number of messages per listing.
pub(crate) const DEFAULT_LIST_LIMIT: usize = 100;
/// Maximum number of messages per listing.
pub(crate) const MAX_LIST_LIMIT: usize = 1000;
/// Maximum long-poll wait in ms.
pub(crate) const MAX_WAIT_MS: u64 = 30_000;

macro_rules! endpoints {
    ($($variant:ident => $name:literal,)*) => {
        /// A route of the relay, as labelled in metrics.
        #[derive(Copy, Clone, Debug, PartialEq, Eq)]
        pub(crate) enum Endpoint {
            $($variant,)*
        }

        impl Endpoint {
            pub(crate) const ALL: &'static [Endpoint] = &[$(Endpoint::$variant,)*];

            pub(crate) fn as_str(self) -> &'static str {
                match self {
                    $(Endpoint::$variant => $name,)*
                }
            }
        }
    };
}

endpoints! {
    PutKey => "put_key",
    GetKey => "get_key",
    Deposit => "deposit",
    Fetch => "fetch",
    Ack => "ack",
    Healthz => "healthz",
    Readyz => "readyz",
    Metrics => "metrics",
    Unknown => "unknown",
}

impl Endpoint {
    pub(crate) fn index(self) -> usize {
        Endpoint::ALL.iter().position(|e| *e == self).unwrap_or(0)
    }
}

/// A routed request with its path parameters.
#[derive(Debug, PartialEq, Eq)]
enum Route {
    PutKey(MailboxId),
    GetKey(MailboxId),
    Deposit(MailboxId),
    Fetch {
        mailbox: MailboxId,
        limit: usize,
        wait_ms: u64,
    },
    Ack(MailboxId, MessageId),
    Healthz,
    Readyz,
    Metrics,
}

/// An error response: a status and a JSON body `{"error": kind, "message": sentence}`.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    kind: &'static str,
    message: String,
    /// Set when the error is a rejection to count and log.
    reason: Option<Reason>,
    /// Close an HTTP/1 connection after responding, because the request body
    /// was not read to its end.
    close: bool,
    retry_after_secs: Option<u64>,
    allow: Option<&'static str>,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            kind,
            message: message.into(),
            reason: None,
            close: false,
            retry_after_secs: None,
            allow: None,
        }
    }

    pub(crate) fn rejected(status: StatusCode, reason: Reason, message: impl Into<String>) -> Self {
        ApiError {
            reason: Some(reason),
            ..ApiError::new(status, reason.as_str(), message)
        }
    }

    pub(crate) fn closing(mut self) -> Self {
        self.close = true;
        self
    }

    pub(crate) fn retry_after(mut self, secs: u64) -> Self {
        self.retry_after_secs = Some(secs);
        self
    }

    pub(crate) fn unavailable(message: impl Into<String>) -> Self {
        ApiError::rejected(
            StatusCode::SERVICE_UNAVAILABLE,
            Reason::Unavailable,
            message,
        )
        .retry_after(1)
    }

    fn into_response(self, version: Version) -> HttpResponse {
        let body = serde_json::json!({ "error": self.kind, "message": self.message });
        let mut response = json_response(self.status, &body);
        let headers = response.headers_mut();
        if self.close && version <= Version::HTTP_11 {
            headers.insert(CONNECTION, HeaderValue::from_static("close"));
        }
        if let Some(secs) = self.retry_after_secs {
            headers.insert(RETRY_AFTER, HeaderValue::from(secs));
        }
        if let Some(allow) = self.allow {
            headers.insert(ALLOW, HeaderValue::from_static(allow));
        }
        response
    }
}

pub(crate) fn json_response(status: StatusCode, body: &serde_json::Value) -> HttpResponse {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

pub(crate) fn empty_response(status: StatusCode) -> HttpResponse {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = status;
    response
}

/// Current time in unix seconds and milliseconds.
pub(crate) fn unix_now() -> (u64, u64) {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO);
    let millis = u64::try_from(since.as_millis()).unwrap_or(u64::MAX);
    (since.as_secs(), millis)
}

/// Handles one request. Errors become JSON responses, so this never fails.
pub(crate) async fn handle(
    shared: Arc<Shared>,
    peer: SocketAddr,
    request: Request<Incoming>,
) -> Result<HttpResponse, Infallible> {
    let started = Instant::now();
    let version = request.version();

    // Every request counts against the peer's rate, before its path is parsed,
    // so that malformed or unknown requests cannot bypass the limit. Probes and
    // scrapes are exempt, so that a flood from one address does not make the
    // relay look dead to its operator.
    let admitted = is_operator_request(request.method(), request.uri().path())
        || shared.limiter.allows(peer.ip());

    let (endpoint, result) = match route(request.method(), request.uri()) {
        // The route is still parsed for the label of the 429 in metrics.
        Ok((endpoint, _)) | Err((endpoint, _)) if !admitted => (endpoint, Err(rate_limited())),
        Err((endpoint, error)) => (endpoint, Err(error)),
        Ok((endpoint, route)) => (endpoint, run_with_timeout(&shared, route, request).await),
    };

    let response = match result {
        Ok(response) => response,
        Err(error) => {
            if let Some(reason) = error.reason {
                shared.metrics.rejection(reason);
                let detail = format!(
                    "{} {}: {}",
                    error.status.as_u16(),
                    endpoint.as_str(),
                    error.message
                );
                shared.rejections.log(reason, Some(peer.ip()), &detail);
            }
            error.into_response(version)
        }
    };
    shared
        .metrics
        .request(endpoint, response.status().as_u16(), started.elapsed());
    Ok(response)
}

/// Returns true for `GET /healthz`, `GET /readyz` and `GET /metrics`, which
/// the rate limit does not count. The path is compared whole and not parsed.
fn is_operator_request(method: &Method, path: &str) -> bool {
    method == Method::GET && matches!(path, "/healthz" | "/readyz" | "/metrics")
}

fn rate_limited() -> ApiError {
    ApiError::rejected(
        StatusCode::TOO_MANY_REQUESTS,
        Reason::RateLimited,
        "too many requests from this address; retry after a second",
    )
    .retry_after(1)
}

/// Runs a routed request under the request timeout, extended by its long-poll wait.
async fn run_with_timeout(
    shared: &Shared,
    route: Route,
    request: Request<Incoming>,
) -> Result<HttpResponse, ApiError> {
    let limits = &shared.config.limits;
    let wait_ms = match route {
        Route::Fetch { wait_ms, .. } => wait_ms,
        _ => 0,
    };
    let budget = Duration::from_millis(limits.request_timeout_ms + wait_ms);
    match tokio::time::timeout(budget, dispatch(shared, route, request)).await {
        Ok(result) => result,
        Err(_) => Err(ApiError::rejected(
            StatusCode::REQUEST_TIMEOUT,
            Reason::RequestTimeout,
            format!(
                "the request was not completed within {} ms",
                budget.as_millis()
            ),
        )
        .closing()),
    }
}

async fn dispatch(
    shared: &Shared,
    route: Route,
    request: Request<Incoming>,
) -> Result<HttpResponse, ApiError> {
    match route {
        Route::PutKey(mailbox) => keys::put(shared, mailbox, request).await,
        Route::GetKey(mailbox) => keys::get(shared, mailbox).await,
        Route::Deposit(mailbox) => messages::deposit(shared, mailbox, request).await,
        Route::Fetch {
            mailbox,
            limit,
            wait_ms,
        } => messages::fetch(shared, mailbox, limit, wait_ms, request).await,
        Route::Ack(mailbox, id) => messages::ack(shared, mailbox, id, request).await,
        Route::Healthz => Ok(ops::healthz()),
        Route::Readyz => ops::readyz(shared).await,
        Route::Metrics => Ok(ops::metrics(shared)),
    }
}

fn not_found() -> ApiError {
    ApiError::rejected(StatusCode::NOT_FOUND, Reason::NotFound, "no such route")
}

fn method_not_allowed(allow: &'static str) -> ApiError {
    ApiError {
        allow: Some(allow),
        ..ApiError::rejected(
            StatusCode::METHOD_NOT_ALLOWED,
            Reason::MethodNotAllowed,
            format!("method not allowed here; allowed: {allow}"),
        )
    }
}

fn bad_request(message: impl Into<String>) -> ApiError {
    ApiError::rejected(StatusCode::BAD_REQUEST, Reason::BadRequest, message)
}

fn parse_mailbox(text: &str) -> Result<MailboxId, ApiError> {
    text.parse()
        .map_err(|e| bad_request(format!("invalid mailbox id in path: {e}")))
}

/// Maps a method and path to a route, or to the error to answer.
fn route(method: &Method, uri: &http::Uri) -> Result<(Endpoint, Route), (Endpoint, ApiError)> {
    let segments: Vec<&str> = uri.path().split('/').skip(1).collect();
    let query = uri.query();

    let (endpoint, allow) = match segments.as_slice() {
        ["v1", "keys", _] if method == Method::PUT => (Endpoint::PutKey, None),
        ["v1", "keys", _] if method == Method::GET => (Endpoint::GetKey, None),
        ["v1", "keys", _] => (Endpoint::Unknown, Some("GET, PUT")),
        ["v1", "mailboxes", _, "messages"] if method == Method::POST => (Endpoint::Deposit, None),
        ["v1", "mailboxes", _, "messages"] if method == Method::GET => (Endpoint::Fetch, None),
        ["v1", "mailboxes", _, "messages"] => (Endpoint::Unknown, Some("GET, POST")),
        ["v1", "mailboxes", _, "messages", _] if method == Method::DELETE => (Endpoint::Ack, None),
        ["v1", "mailboxes", _, "messages", _] => (Endpoint::Unknown, Some("DELETE")),
        ["healthz"] if method == Method::GET => (Endpoint::Healthz, None),
        ["readyz"] if method == Method::GET => (Endpoint::Readyz, None),
        ["metrics"] if method == Method::GET => (Endpoint::Metrics, None),
        ["healthz" | "readyz" | "metrics"] => (Endpoint::Unknown, Some("GET")),
        _ => return Err((Endpoint::Unknown, not_found())),
    };
    if let Some(allow) = allow {
        return Err((endpoint, method_not_allowed(allow)));
    }

    let parsed = (|| {
        if endpoint != Endpoint::Fetch && query.is_some() {
            return Err(bad_request("this route takes no query parameters"));
        }
        Ok(match (endpoint, segments.as_slice()) {
            (Endpoint::PutKey, [_, _, mailbox]) => Route::PutKey(parse_mailbox(mailbox)?),
            (Endpoint::GetKey, [_, _, mailbox]) => Route::GetKey(parse_mailbox(mailbox)?),
            (Endpoint::Deposit, [_, _, mailbox, _]) => Route::Deposit(parse_mailbox(mailbox)?),
            (Endpoint::Fetch, [_, _, mailbox, _]) => {
                let (limit, wait_ms) = parse_fetch_query(query)?;
                Route::Fetch {
                    mailbox: parse_mailbox(mailbox)?,
                    limit,
                    wait_ms,
                }
            }
            (Endpoint::Ack, [_, _, mailbox, _, id]) => {
                let id = id
                    .parse()
                    .map_err(|e| bad_request(format!("invalid message id in path: {e}")))?;
                Route::Ack(parse_mailbox(mailbox)?, id)
            }
            (Endpoint::Healthz, _) => Route::Healthz,
            (Endpoint::Readyz, _) => Route::Readyz,
            (Endpoint::Metrics, _) => Route::Metrics,
            _ => return Err(not_found()),
        })
    })();
    parsed
        .map(|route| (endpoint, route))
        .map_err(|e| (endpoint, e))
}

/// Parses `limit` (1 to 1000, default 100) and `wait_ms` (0 to 30000, default 0).
fn parse_fetch_query(query: Option<&str>) -> Result<(usize, u64), ApiError> {
    let mut limit = DEFAULT_LIST_LIMIT;
    let mut wait_ms = 0;
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        match name {
            "limit" => {
                limit = value
                    .parse()
                    .ok()
                    .filter(|n| (1..=MAX_LIST_LIMIT).contains(n))
                    .ok_or_else(|| {
                        bad_request(format!(
                            "invalid limit {value:?}: use a whole number from 1 to {MAX_LIST_LIMIT}"
                        ))
                    })?;
            }
            "wait_ms" => {
                wait_ms = value
                    .parse()
                    .ok()
                    .filter(|n| *n <= MAX_WAIT_MS)
                    .ok_or_else(|| {
                        bad_request(format!(
                            "invalid wait_ms {value:?}: use a whole number from 0 to {MAX_WAIT_MS}"
                        ))
                    })?;
            }
            _ => {
                return Err(bad_request(format!(
                    "unknown query parameter {name:?}; use limit and wait_ms"
                )));
            }
        }
    }
    Ok((limit, wait_ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn routed(method: Method, uri: &str) -> Result<Route, StatusCode> {
        route(&method, &uri.parse().unwrap())
            .map(|(_, route)| route)
            .map_err(|(_, e)| e.status)
    }

    #[test]
    fn routes_parse_ids_and_queries() {
        let mailbox = "ab".repeat(32);
        let id = "cd".repeat(16);
        assert_eq!(
            routed(
                Method::GET,
                &format!("/v1/mailboxes/{mailbox}/messages?limit=5&wait_ms=10")
            ),
            Ok(Route::Fetch {
                mailbox: mailbox.parse().unwrap(),
                limit: 5,
                wait_ms: 10
            })
        );
        assert_eq!(
            routed(
                Method::DELETE,
                &format!("/v1/mailboxes/{mailbox}/messages/{id}")
            ),
            Ok(Route::Ack(mailbox.parse().unwrap(), id.parse().unwrap()))
        );
        assert_eq!(routed(Method::GET, "/metrics"), Ok(Route::Metrics));
    }

    #[test]
    fn routes_reject_bad_requests() {
        let mailbox = "ab".repeat(32);
        let cases = [
            (Method::GET, "/v2/keys/x".to_owned(), StatusCode::NOT_FOUND),
            (
                Method::POST,
                format!("/v1/keys/{mailbox}"),
                StatusCode::METHOD_NOT_ALLOWED,
            ),
            (
                Method::GET,
                "/v1/keys/short".to_owned(),
                StatusCode::BAD_REQUEST,
            ),
            (
                Method::GET,
                format!("/v1/keys/{}", mailbox.to_uppercase()),
                StatusCode::BAD_REQUEST,
            ),
            (
                Method::GET,
                format!("/v1/mailboxes/{mailbox}/messages?limit=0"),
                StatusCode::BAD_REQUEST,
            ),
            (
                Method::GET,
                format!("/v1/mailboxes/{mailbox}/messages?limit=1001"),
                StatusCode::BAD_REQUEST,
            ),
            (
                Method::GET,
                format!("/v1/mailboxes/{mailbox}/messages?wait_ms=30001"),
                StatusCode::BAD_REQUEST,
            ),
            (
                Method::GET,
                format!("/v1/mailboxes/{mailbox}/messages?x=1"),
                StatusCode::BAD_REQUEST,
            ),
            (
                Method::GET,
                format!("/v1/keys/{mailbox}?x=1"),
                StatusCode::BAD_REQUEST,
            ),
            (
                Method::DELETE,
                format!("/v1/mailboxes/{mailbox}/messages/zz"),
                StatusCode::BAD_REQUEST,
            ),
            (Method::GET, "/healthz/".to_owned(), StatusCode::NOT_FOUND),
        ];
        for (method, uri, status) in cases {
            assert_eq!(routed(method.clone(), &uri), Err(status), "{method} {uri}");
        }
    }
}
