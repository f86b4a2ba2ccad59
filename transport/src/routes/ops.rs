//! Operator routes: liveness, readiness and metrics.

use http::header::CONTENT_TYPE;
use http::{HeaderValue, StatusCode};
use http_body_util::Full;

use super::{ApiError, HttpResponse, json_response};
use crate::server::Shared;

/// Content type of the Prometheus text exposition format.
const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Responds 200 while the process serves requests.
pub(super) fn healthz() -> HttpResponse {
    json_response(StatusCode::OK, &serde_json::json!({ "status": "ok" }))
}

/// Responds 200 when the store serves reads and the relay is not stopping, 503 otherwise.
pub(super) async fn readyz(shared: &Shared) -> Result<HttpResponse, ApiError> {
    if shared.is_stopping() {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "stopping",
            "the relay is shutting down",
        ));
    }
    shared.store.check().await.map_err(|e| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "store_unavailable",
            e.to_string(),
        )
    })?;
    Ok(json_response(
        StatusCode::OK,
        &serde_json::json!({ "status": "ready" }),
    ))
}

/// Renders every metric in the Prometheus text format.
pub(super) fn metrics(shared: &Shared) -> HttpResponse {
    let usage = shared.store.usage();
    let text = shared.metrics.render(usage.messages, usage.bytes);
    let mut response = hyper::Response::new(Full::new(bytes::Bytes::from(text)));
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(PROMETHEUS_TEXT));
    response
}
