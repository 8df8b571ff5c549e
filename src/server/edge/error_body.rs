//! Every error answer under `/api/` has one body, `{"error","message","field"}`, and the
//! status and headers its code implies, wherever it came from (a server function, the
//! body limit, the router, a panic).

use crate::api::{ApiError, ErrorCode};
use axum::{
    body::Body,
    http::{
        header::{CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE},
        HeaderValue, StatusCode,
    },
    response::{IntoResponse, Response},
};

/// Largest error body read back when normalizing an error response.
const ERROR_BODY_LIMIT: usize = 64 * 1024;
/// Seconds a client is asked to wait after a 503.
const RETRY_AFTER_SECS: &str = "2";

/// Every answer under `/api/`: `Cache-Control: no-store`, and one error body
/// (`{"error","message","field"}`) with the status its code implies, whether the error
/// came from a server function, the body limit or the router.
pub async fn normalize_api_response(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if response.status().is_client_error() || response.status().is_server_error() {
        return normalize_error(response).await;
    }
    response
}

async fn normalize_error(response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, ERROR_BODY_LIMIT)
        .await
        .unwrap_or_default();
    let mut error = serde_json::from_slice::<ApiError>(&bytes)
        .unwrap_or_else(|_| ApiError::for_status(parts.status.as_u16()));
    parts.status =
        StatusCode::from_u16(error.error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = &mut parts.headers;
    headers.remove(CONTENT_LENGTH);
    headers.remove("serverfnerror");
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Some(seconds) = error.retry_after.take() {
        headers.insert(RETRY_AFTER, HeaderValue::from(seconds));
    }
    if let Some(cause) = error.cause.take() {
        if parts.status.is_server_error() {
            tracing::error!(%cause, status = parts.status.as_u16(), "request failed");
        } else {
            tracing::info!(%cause, status = parts.status.as_u16(), "request refused");
        }
    }
    match error.error {
        ErrorCode::InvalidToken => {
            headers.insert(
                WWW_AUTHENTICATE,
                HeaderValue::from_static(r#"Bearer error="invalid_token""#),
            );
        }
        ErrorCode::MissingToken
        | ErrorCode::InvalidCredentials
        | ErrorCode::AccountDisabled
        | ErrorCode::EmailNotVerified => {
            headers.insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        ErrorCode::Unavailable | ErrorCode::TooManyRequests
            if !headers.contains_key(RETRY_AFTER) =>
        {
            headers.insert(RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER_SECS));
        }
        _ => {}
    }
    let body = serde_json::to_vec(&error).unwrap_or_default();
    Response::from_parts(parts, Body::from(body))
}

/// `/api/...` paths that name no endpoint.
pub async fn api_not_found() -> Response {
    let error = ApiError::for_status(404);
    (StatusCode::NOT_FOUND, axum::Json(error)).into_response()
}

/// An error answer built at the edge (outside any server function).
pub fn error_response(error: ApiError) -> Response {
    let status =
        StatusCode::from_u16(error.error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, axum::Json(error)).into_response()
}

/// The answer when a handler panicked: logged, and a plain 500 with the error body.
pub fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let detail = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    tracing::error!(%detail, "a request handler panicked");
    error_response(ApiError::for_status(500))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_wait_and_the_cause_never_reach_the_body() {
        let error = ApiError::new(ErrorCode::TooManyRequests, "wait")
            .retry_after(17)
            .caused_by("an internal detail");
        let sent = (StatusCode::INTERNAL_SERVER_ERROR, axum::Json(error.clone())).into_response();
        let answer = normalize_api_response(sent).await;
        assert_eq!(answer.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(answer.headers()[RETRY_AFTER], "17");
        let body = axum::body::to_bytes(answer.into_body(), 1024)
            .await
            .unwrap();
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(json["error"], "too_many_requests");
        assert!(json.get("retry_after").is_none(), "{json}");
        assert!(json.get("cause").is_none(), "{json}");
    }
}
