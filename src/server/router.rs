//! The axum router: pages, server functions, health check and the layers around them.

use super::{config::Config, edge, state::AppState};
use crate::app::{shell, App};
use axum::{
    extract::{DefaultBodyLimit, State},
    http::{header, HeaderName, HeaderValue, Request, StatusCode},
    middleware,
    response::IntoResponse,
    routing::{any, get},
    Json, Router,
};
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower_http::{
    catch_panic::CatchPanicLayer,
    compression::CompressionLayer,
    request_id::{MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer},
    services::ServeDir,
    set_header::SetResponseHeaderLayer,
    timeout::RequestBodyTimeoutLayer,
    trace::{DefaultOnResponse, TraceLayer},
    LatencyUnit,
};
use tracing::Level;

/// The whole application as one router, ready to serve.
pub fn router(state: AppState, config: &Config) -> Router {
    let routes = generate_route_list(App);
    // HSTS only makes sense (and is only honoured) when served over TLS.
    let hsts = config.hsts.then(|| {
        SetResponseHeaderLayer::if_not_present(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=63072000; includeSubDomains"),
        )
    });
    let options = state.leptos_options.clone();
    let context_state = state.clone();
    Router::new()
        .route("/healthz", get(healthz))
        .route("/api/openapi.json", get(openapi_json))
        .route("/media/avatars/{hash}/{file}", get(super::media::avatar))
        .route("/api/{*path}", any(edge::api_not_found))
        .leptos_routes_with_context(
            &state,
            routes,
            move || provide_context(context_state.clone()),
            move || shell(options.clone()),
        )
        .nest_service(
            &format!("/{}", state.leptos_options.site_pkg_dir),
            ServeDir::new(
                std::path::Path::new(state.leptos_options.site_root.as_ref())
                    .join(state.leptos_options.site_pkg_dir.as_ref()),
            )
            .precompressed_br()
            .precompressed_gzip(),
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        // Limits are enforced by `limit_body` (per endpoint), not axum's default.
        .layer(DefaultBodyLimit::disable())
        .layer(middleware::from_fn_with_state(
            config.body_limit,
            edge::negotiate_body,
        ))
        .layer(middleware::from_fn_with_state(
            edge::BodyLimits {
                default: config.body_limit,
                upload: config.image_limit,
            },
            edge::limit_body,
        ))
        .layer(middleware::from_fn(edge::api_edge))
        .layer(security_header(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(security_header(header::REFERRER_POLICY, "no-referrer"))
        .layer(security_header(header::X_FRAME_OPTIONS, "DENY"))
        .layer(security_header(
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ))
        .layer(security_header(
            HeaderName::from_static("cross-origin-resource-policy"),
            "same-origin",
        ))
        .layer(security_header(
            HeaderName::from_static("permissions-policy"),
            "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
        ))
        .layer(tower::util::option_layer(hsts))
        // Pages set their own (nonce-based) policy; everything else gets the strictest.
        .layer(security_header(
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; frame-ancestors 'none'; base-uri 'none'",
        ))
        .layer(
            TraceLayer::new_for_http()
                // Method, path and request id only: headers and query strings may
                // carry secrets.
                .make_span_with(|request: &Request<_>| {
                    let id = request
                        .headers()
                        .get(REQUEST_ID)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("-");
                    tracing::info_span!("request", id, method = %request.method(), path = %request.uri().path())
                })
                .on_request(())
                .on_response(
                    DefaultOnResponse::new()
                        .level(Level::INFO)
                        .latency_unit(LatencyUnit::Micros),
                ),
        )
        .layer(middleware::from_fn(edge::static_cache))
        // Text (HTML, JS, CSS, WASM, JSON) compressed with brotli or gzip as the client
        // accepts; images are left alone.
        .layer(CompressionLayer::new())
        // A client that trickles its body is cut off.
        .layer(RequestBodyTimeoutLayer::new(config.body_timeout))
        // A panic anywhere is a bug, but it must cost one 500, not the connection.
        .layer(CatchPanicLayer::custom(edge::panic_response))
        // Outermost: every response (and the log line) carries the request id.
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, RandomRequestId))
        .layer(middleware::map_request(drop_unsafe_request_id))
        .with_state(state)
}

/// A client may send its own `x-request-id` (to correlate), but only a short token of
/// safe characters: anything else could forge log lines, so it is replaced.
async fn drop_unsafe_request_id(
    mut request: Request<axum::body::Body>,
) -> Request<axum::body::Body> {
    let safe = request.headers().get(REQUEST_ID).is_none_or(|value| {
        let bytes = value.as_bytes();
        (1..=64).contains(&bytes.len())
            && bytes
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    });
    if !safe {
        request.headers_mut().remove(REQUEST_ID);
    }
    request
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Request ids: 16 random hex digits, unless the client (or a proxy) sent one.
#[derive(Clone, Copy)]
struct RandomRequestId;

impl MakeRequestId for RandomRequestId {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        let id = format!("{:016x}", rand::random::<u64>());
        HeaderValue::from_str(&id).ok().map(RequestId::new)
    }
}

/// `GET /api/openapi.json`: the OpenAPI 3.1 document, built once.
async fn openapi_json() -> impl IntoResponse {
    static DOCUMENT: std::sync::OnceLock<serde_json::Value> = std::sync::OnceLock::new();
    Json(
        DOCUMENT
            .get_or_init(|| serde_json::to_value(super::openapi::document()).unwrap_or_default())
            .clone(),
    )
}

fn security_header(name: HeaderName, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
}

/// `GET /healthz`: 200 when the database answers, 503 otherwise.
async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    let reachable = state.accounts.database_reachable().await;
    let status = if reachable {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = serde_json::json!({
        "status": if reachable { "ok" } else { "degraded" },
        "database": if reachable { "reachable" } else { "unreachable" },
    });
    (status, [(header::CACHE_CONTROL, "no-store")], Json(body))
}
