//! What a server function knows about its request (headers, client address, bearer
//! token, `Origin`) and what it may add to its response (status, `Set-Cookie`), through
//! the request parts and response options leptos_axum provides as context.

use crate::api::{ApiError, ErrorCode};
use crate::server::runtime::state::AppState;
use axum_extra::headers::{authorization::Bearer, Authorization, HeaderMapExt};
use http::{request::Parts, HeaderMap, HeaderValue, StatusCode};
use leptos::{
    prelude::{provide_context, use_context, with_context},
    reactive::{computed::ScopedFuture, owner::Owner},
};
use leptos_axum::{ResponseOptions, ResponseParts};
use std::{
    future::Future,
    net::{IpAddr, Ipv6Addr, SocketAddr},
    sync::PoisonError,
};

/// Runs `work` as a server function runs: in an owner of its own, with the request's
/// `parts` ([`context_parts`]), fresh response options and the app state as context.
/// Returns what it answered, and the status and headers it set for the response.
pub async fn in_request_context<T>(
    state: AppState,
    parts: Parts,
    work: impl Future<Output = T>,
) -> (T, ResponseParts) {
    let options = ResponseOptions::default();
    let owner = Owner::new();
    let answer = owner
        .with(|| {
            provide_context(parts);
            provide_context(options.clone());
            provide_context(state);
            ScopedFuture::new(work)
        })
        .await;
    let set = std::mem::take(&mut *options.0.write().unwrap_or_else(PoisonError::into_inner));
    (answer, set)
}

/// What a server function may read of its request: a copy of the method, URI and
/// headers (shared bytes, not copied) and the peer's address.
pub fn context_parts<B>(request: &http::Request<B>) -> Parts {
    let (mut parts, ()) = http::Request::new(()).into_parts();
    parts.method = request.method().clone();
    parts.uri = request.uri().clone();
    parts.version = request.version();
    parts.headers = request.headers().clone();
    if let Some(peer) = request
        .extensions()
        .get::<axum::extract::ConnectInfo<SocketAddr>>()
    {
        parts.extensions.insert(*peer);
    }
    parts
}

/// `read` applied to the request's parts, borrowed where leptos_axum keeps them (not
/// cloned: `use_context` would copy every header and extension).
fn with_request_parts<T>(read: impl FnOnce(&Parts) -> T) -> Result<T, ApiError> {
    with_context::<Parts, _>(read).ok_or_else(|| ApiError::for_status(500))
}

/// The client's address, as `state.client_address` picks it (`client_address.rs`).
pub fn client_addr(state: &AppState) -> IpAddr {
    with_request_parts(|parts| {
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<SocketAddr>>()
            .map(|info| info.0.ip());
        state.client_address.pick(&parts.headers, peer)
    })
    .unwrap_or(IpAddr::V6(Ipv6Addr::UNSPECIFIED))
}

/// The headers of the request being served.
pub fn request_headers() -> Result<HeaderMap, ApiError> {
    with_request_parts(|parts| parts.headers.clone())
}

/// The token of an `Authorization: Bearer <token>` header, if the request has one.
pub fn bearer_token() -> Result<Option<String>, ApiError> {
    with_request_parts(|parts| {
        parts
            .headers
            .typed_get::<Authorization<Bearer>>()
            .map(|header| header.token().trim().to_owned())
            .filter(|token| !token.is_empty())
    })
}

/// Refuses a request that uses the refresh cookie from another site (CSRF).
pub fn check_origin(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    // HTTP/2 requests name the host in the URI (`:authority`), not in `Host`.
    let authority =
        with_context::<Parts, _>(|parts| parts.uri.authority().map(|a| a.as_str().to_owned()))
            .flatten();
    state
        .cookies
        .check_origin(headers, authority.as_deref())
        .map_err(|e| {
            tracing::warn!(reason = %e, "cookie request refused");
            ApiError::new(
                ErrorCode::Forbidden,
                "This request must come from the Keyhold site itself (Origin header).",
            )
        })
}

/// Sets the status of a successful server-function response (e.g. 201).
pub fn set_status(status: StatusCode) {
    if let Some(options) = use_context::<ResponseOptions>() {
        options.set_status(status);
    }
}

/// Adds a `Set-Cookie` header to the server function's response.
pub fn set_cookie(value: HeaderValue) {
    if let Some(options) = use_context::<ResponseOptions>() {
        options.append_header(http::header::SET_COOKIE, value);
    }
}
