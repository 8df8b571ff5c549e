//! What a server function knows about its request (headers, client address, bearer
//! token, `Origin`) and what it may add to its response (status, `Set-Cookie`), through
//! the request parts and response options leptos_axum provides as context.

use crate::api::{ApiError, ErrorCode};
use crate::server::runtime::state::AppState;
use axum_extra::headers::{authorization::Bearer, Authorization, HeaderMapExt};
use http::{request::Parts, HeaderMap, HeaderValue, StatusCode};
use leptos::prelude::{use_context, with_context};
use leptos_axum::ResponseOptions;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};

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
