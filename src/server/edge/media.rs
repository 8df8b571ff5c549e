//! Serving profile images: `GET /media/avatars/<hash>/<256|64>.webp`. The URL names the
//! content, but a picture can be removed or replaced: only the browser keeps a copy, for
//! an hour (`private`: shared caches keep none), and a revalidation checks that the
//! picture still exists. The type is fixed, sniffing is off and the picture can run
//! nothing (`Content-Security-Policy: default-src 'none'`).

use crate::server::runtime::state::AppState;
use axum::{
    body::Body,
    extract::{Path, State},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};

pub async fn avatar(
    State(state): State<AppState>,
    Path((hash, file)): Path<(String, String)>,
    request_headers: HeaderMap,
) -> Response {
    let (large, size) = match file.as_str() {
        "256.webp" => (true, 256),
        "64.webp" => (false, 64),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    let well_formed = hash.len() == 32
        && hash
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if !well_formed {
        return StatusCode::NOT_FOUND.into_response();
    }
    let etag = format!("\"{hash}-{size}\"");
    let fresh = request_headers
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| {
            value
                .split(',')
                .map(|tag| tag.trim().trim_start_matches("W/"))
                .any(|tag| tag == etag || tag == "*")
        });
    let bytes = match state.accounts.image(&hash, large).await {
        Ok(Some(bytes)) => bytes,
        Ok(None) => {
            let mut response = StatusCode::NOT_FOUND.into_response();
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            return response;
        }
        Err(error) => {
            tracing::warn!(%error, "image lookup failed");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    let mut response = if fresh {
        let mut response = Response::new(Body::empty());
        *response.status_mut() = StatusCode::NOT_MODIFIED;
        response
    } else {
        Response::new(Body::from(bytes))
    };
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("image/webp"));
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=3600"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, value);
    }
    response
}
