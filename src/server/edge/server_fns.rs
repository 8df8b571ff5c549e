//! The server functions' routes. leptos_axum's generic handler looks each function up by
//! its path on every request (a `String` key in a global map, a new boxed service), and
//! copies the request's parts, every extension included, into the context. Here each
//! route holds its function, found once when the router is built, and the context gets
//! what `request_context.rs` reads: method, URI, headers and the peer's address. The
//! rest is what leptos_axum does: an owner per request with the parts, the response
//! options and the app state as context, and the status and headers the function set.
//! The answer is always the function's own (JSON): unlike leptos_axum's, a post that
//! accepts HTML is not redirected back to its page (its `Accept` is narrowed to JSON for
//! the function). The pages' forms post to the pages themselves (`page_forms.rs`).

use super::request_context::{context_parts, in_request_context};
use crate::server::runtime::state::AppState;
use axum::{
    extract::Request,
    http::{header::ACCEPT, HeaderValue},
    response::Response,
    routing::{on, MethodFilter},
    Router,
};
use leptos::server_fn::{
    axum::{get_server_fn_service, server_fn_paths},
    middleware::BoxedService,
};
use std::sync::{Arc, Mutex, PoisonError};

/// One server function, as registered (`#[server]`), with its middleware (none so far)
/// applied once.
struct ServerFn(Mutex<BoxedService<Request, Response>>);

/// Paths and methods of every registered server function (for the route list: leptos
/// must not register them too).
pub fn server_fn_routes() -> Vec<(&'static str, http::Method)> {
    server_fn_paths().collect()
}

/// `router` with a route for every server function.
pub fn with_server_fns(mut router: Router<AppState>, state: &AppState) -> Router<AppState> {
    for (path, method) in server_fn_routes() {
        let (Some(service), Ok(filter)) = (
            get_server_fn_service(path, method.clone()),
            MethodFilter::try_from(method),
        ) else {
            continue;
        };
        let server_fn = Arc::new(ServerFn(Mutex::new(service)));
        let state = state.clone();
        router = router.route(
            path,
            on(filter, move |request: Request| {
                serve(Arc::clone(&server_fn), state.clone(), request)
            }),
        );
    }
    router
}

async fn serve(server_fn: Arc<ServerFn>, state: AppState, mut request: Request) -> Response {
    let parts = context_parts(&request);
    // A server function answers a request that accepts HTML with a redirect back to its
    // page (server_fn's `form-redirects`, which leptos always turns on); the API answers
    // with its JSON whoever asks.
    let accepts_html = request
        .headers()
        .get(ACCEPT)
        .and_then(|accept| accept.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    if accepts_html {
        let json = HeaderValue::from_static("application/json");
        request.headers_mut().insert(ACCEPT, json);
    }
    let (mut response, set) = in_request_context(state, parts, async move {
        // The lock only creates the future; the function runs after it is released.
        let answer = server_fn
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .run(request);
        answer.await
    })
    .await;
    if let Some(status) = set.status {
        *response.status_mut() = status;
    }
    response.headers_mut().extend(set.headers);
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::{body::Body, extract::ConnectInfo};
    use std::net::SocketAddr;

    #[test]
    fn the_context_keeps_headers_uri_and_peer() {
        let peer: SocketAddr = "192.0.2.7:4242".parse().unwrap();
        let mut request = Request::builder()
            .method("POST")
            .uri("/api/login?x=1")
            .header("x-forwarded-for", "198.51.100.1")
            .body(Body::empty())
            .unwrap();
        request.extensions_mut().insert(ConnectInfo(peer));
        let parts = context_parts(&request);
        assert_eq!(parts.method, "POST");
        assert_eq!(parts.uri, "/api/login?x=1");
        assert_eq!(parts.headers["x-forwarded-for"], "198.51.100.1");
        assert_eq!(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0),
            Some(peer)
        );
    }
}
