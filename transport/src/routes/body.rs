//! Reading request bodies within `limits.max_body_bytes`.

use bytes::Bytes;
use http::header::CONTENT_LENGTH;
use http::{HeaderMap, StatusCode};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper::body::Incoming;

use super::ApiError;
use crate::reject::Reason;

fn too_large(max: u64) -> ApiError {
    ApiError::rejected(
        StatusCode::PAYLOAD_TOO_LARGE,
        Reason::BodyTooLarge,
        format!("the request body exceeds the limit of {max} bytes"),
    )
    // The rest of the body is never read, so the connection cannot carry
    // another request.
    .closing()
}

/// Reads the whole body, stopping as soon as it exceeds `max` bytes.
///
/// A declared `Content-Length` above `max` is rejected before any body byte
/// is read. Chunked bodies and bodies shorter or longer than declared are
/// counted as they arrive.
pub(super) async fn read(body: Incoming, headers: &HeaderMap, max: u64) -> Result<Bytes, ApiError> {
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|text| text.parse::<u64>().ok());
    if declared.is_some_and(|length| length > max) {
        return Err(too_large(max));
    }

    let limit = usize::try_from(max).unwrap_or(usize::MAX);
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(error) if error.downcast_ref::<LengthLimitError>().is_some() => Err(too_large(max)),
        Err(error) => Err(ApiError::rejected(
            StatusCode::BAD_REQUEST,
            Reason::BadRequest,
            format!("cannot read the request body: {error}"),
        )
        .closing()),
    }
}
