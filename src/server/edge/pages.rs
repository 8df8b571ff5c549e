//! Serving the pages. The browser session cookie (`session_cookie.rs`) tells who is
//! signed in before anything is rendered, so a signed-in page's first HTML already shows
//! the person (the app reads [`Viewer`] from context, and hydration receives it with the
//! page); a settings page asked for without a live session is answered `303 See Other`
//! to `/login?next=<that page>`. A cookie whose session has ended is removed. The entry
//! pages' forms, posted without the WASM, are rendered again here with the server's
//! answer (`page_forms.rs`).

use crate::api::UserView;
use crate::app::shell;
use crate::pages::{login::LOGIN_NEXT, posted_form::PostedForm};
use crate::server::runtime::state::AppState;
use axum::{
    body::Body,
    extract::{Request, State},
    response::Response,
};
use http::{header, HeaderValue, StatusCode, Uri};
use leptos::prelude::provide_context;

/// Who the browser session cookie names, for the page being rendered.
#[derive(Debug, Clone)]
pub struct Viewer(pub Option<UserView>);

/// Pages that only a signed-in browser may open.
const SIGNED_IN_PAGES: &str = "/profile";

/// The handler of every page route (leptos_axum renders the app).
pub async fn page(State(state): State<AppState>, request: Request) -> Response<Body> {
    let viewer = viewer(&state, request.headers()).await;
    if viewer.0.is_none() && needs_sign_in(request.uri().path()) {
        let mut response = see_other(&log_in_first(request.uri()));
        clear_ended_session(&state, request.headers(), &viewer, &mut response);
        return response;
    }
    render(&state, request, viewer, None).await
}

/// Who the request's browser session cookie names, if its session is live.
pub async fn viewer(state: &AppState, headers: &http::HeaderMap) -> Viewer {
    let principal = match state.cookies.read_session(headers) {
        Some(value) => state.accounts.browser_session(&value).await.ok(),
        None => None,
    };
    Viewer(principal.map(|principal| principal.user.into()))
}

/// The page at `request`'s path rendered for `viewer`, with the server's answer to its
/// form when it was posted (`page_forms.rs`). A session cookie that named nobody live
/// is removed.
pub async fn render(
    state: &AppState,
    request: Request,
    viewer: Viewer,
    posted: Option<PostedForm>,
) -> Response<Body> {
    let headers = request.headers().clone();
    let options = state.leptos_options.clone();
    let context_state = state.clone();
    let context_viewer = viewer.clone();
    let render = leptos_axum::render_app_to_stream_with_context(
        move || {
            provide_context(context_state.clone());
            provide_context(leptos_router::Method::Get);
            provide_context(context_viewer.clone());
            if let Some(posted) = &posted {
                provide_context(posted.clone());
            }
        },
        move || shell(options.clone()),
    );
    let mut response = render(request).await;
    clear_ended_session(state, &headers, &viewer, &mut response);
    response
}

/// Removes the browser session cookie from a browser whose session has ended.
fn clear_ended_session(
    state: &AppState,
    headers: &http::HeaderMap,
    viewer: &Viewer,
    response: &mut Response<Body>,
) {
    if viewer.0.is_none() && state.cookies.read_session(headers).is_some() {
        let clear = state.cookies.clear_session();
        response.headers_mut().append(header::SET_COOKIE, clear);
    }
}

fn needs_sign_in(path: &str) -> bool {
    path.strip_prefix(SIGNED_IN_PAGES)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// `/login?next=<the page asked for>`, the page's path and query percent-encoded.
fn log_in_first(uri: &Uri) -> String {
    let page = uri.path_and_query().map_or("/", |p| p.as_str());
    let next: String = url_encode(page);
    format!("/login?{LOGIN_NEXT}={next}")
}

fn url_encode(text: &str) -> String {
    serde_urlencoded::to_string([("", text)])
        .map(|pair| pair.trim_start_matches('=').to_owned())
        .unwrap_or_default()
}

/// `303 See Other` to `location` (a path on this site).
pub fn see_other(location: &str) -> Response<Body> {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::SEE_OTHER;
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_pages_need_a_session_and_come_back_after_log_in() {
        assert!(needs_sign_in("/profile"));
        assert!(needs_sign_in("/profile/security"));
        assert!(!needs_sign_in("/profiles"));
        assert!(!needs_sign_in("/login"));
        let uri: Uri = "/profile/sessions?tab=a&b=c%20d".parse().unwrap();
        assert_eq!(
            log_in_first(&uri),
            "/login?next=%2Fprofile%2Fsessions%3Ftab%3Da%26b%3Dc%2520d"
        );
    }
}
