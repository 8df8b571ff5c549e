//! What the entry pages' form posts (`page_forms.rs`) share: running a server function
//! in the request's context once the post is known to come from this site, reading the
//! form, and the two answers: `303 See Other` with the cookies set, or the page rendered
//! again with the server's answer ([`PostedForm`]) and the error's status.

use super::{
    pages::{render, see_other, viewer},
    request_context::{check_origin, context_parts, in_request_context},
};
use crate::api::{ApiError, ErrorCode};
use crate::pages::posted_form::PostedForm;
use crate::server::runtime::state::AppState;
use axum::{body::Body, extract::Request, response::Response};
use http::{header, request::Parts, HeaderValue, StatusCode};
use leptos_axum::ResponseParts;
use serde::de::DeserializeOwned;
use std::future::Future;

/// The request's parts for the context, and the request itself (its body to read).
pub(super) fn split(request: Request) -> (Parts, Request) {
    (context_parts(&request), request)
}

/// Runs `work` (a server function) for the request, once it is known to come from this
/// site's own page: its `Origin`, or the browser's `Sec-Fetch-Site: same-origin`
/// (`cookie.rs`); no word at all is refused too (403).
pub(super) async fn run<T>(
    state: &AppState,
    parts: &Parts,
    work: impl Future<Output = Result<T, ApiError>>,
) -> (Result<T, ApiError>, ResponseParts) {
    let checked = {
        let state = state.clone();
        async move {
            let headers = super::request_headers()?;
            check_origin(&state, &headers)?;
            work.await
        }
    };
    in_request_context(state.clone(), parts.clone(), checked).await
}

/// An urlencoded form body (the edge has capped its size).
pub(super) async fn read_form<T: DeserializeOwned>(request: Request) -> Result<T, ApiError> {
    let malformed = || ApiError::new(ErrorCode::BadRequest, "The form could not be read.");
    let bytes = axum::body::to_bytes(request.into_body(), usize::MAX)
        .await
        .map_err(|_| malformed())?;
    serde_urlencoded::from_bytes(&bytes).map_err(|_| malformed())
}

/// The value of `name` in the request's query.
pub(super) fn query_value(parts: &Parts, name: &str) -> Option<String> {
    let query = parts.uri.query()?;
    serde_urlencoded::from_str::<Vec<(String, String)>>(query)
        .ok()?
        .into_iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value)
}

/// `303 See Other` to `location`, with the cookies the server function set.
pub(super) fn done(location: &str, set: ResponseParts) -> Response {
    let mut response = see_other(location);
    for cookie in set.headers.get_all(header::SET_COOKIE) {
        response
            .headers_mut()
            .append(header::SET_COOKIE, cookie.clone());
    }
    response
}

/// The page rendered again with `posted`: 200, or the status of the error it shows
/// (with its `Retry-After`).
pub(super) async fn answer_with(
    state: &AppState,
    parts: Parts,
    mut posted: PostedForm,
) -> Response {
    let error = posted.error.take();
    let status = error.as_ref().map_or(StatusCode::OK, |error| {
        StatusCode::from_u16(error.error.status()).unwrap_or(StatusCode::BAD_REQUEST)
    });
    let retry_after = error.as_ref().and_then(|error| error.retry_after);
    posted.error = error.map(shown);
    let mut response = page_again(state, parts, posted, status).await;
    if let Some(seconds) = retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

/// `answer_with` the form refused for `error`.
pub(super) async fn refused(
    state: &AppState,
    parts: Parts,
    error: ApiError,
    posted: PostedForm,
) -> Response {
    let posted = PostedForm {
        error: Some(error),
        ..posted
    };
    answer_with(state, parts, posted).await
}

/// The part of an error the page may show: what happened inside the server is logged
/// (as the edge logs it for the API), never rendered.
pub(super) fn shown(error: ApiError) -> ApiError {
    match &error.cause {
        Some(cause) if error.error.status() >= 500 => {
            tracing::error!(%cause, status = error.error.status(), "page form failed");
        }
        Some(cause) => tracing::info!(%cause, status = error.error.status(), "page form refused"),
        None => {}
    }
    ApiError {
        mfa: None,
        retry_after: None,
        cause: None,
        ..error
    }
}

pub(super) async fn page_again(
    state: &AppState,
    mut parts: Parts,
    posted: PostedForm,
    status: StatusCode,
) -> Response {
    parts.method = http::Method::GET;
    let viewer = viewer(state, &parts.headers).await;
    let mut response = render(
        state,
        Request::from_parts(parts, Body::empty()),
        viewer,
        Some(posted),
    )
    .await;
    *response.status_mut() = status;
    response
}
