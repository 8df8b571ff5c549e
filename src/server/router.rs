//! The axum router: pages, server functions, health check, the published keys
//! (`well_known.rs`) and the layers around them.

use super::{
    config::Config,
    edge::{
        self,
        headers::{AroundLayer, RequestIds, ResponseHeaders, REQUEST_ID},
        EndpointRules,
    },
    metrics::RequestMetrics,
    openapi,
    state::AppState,
    well_known,
};
use crate::app::{shell, App};
use axum::{
    extract::{DefaultBodyLimit, State},
    http::{header, Request, StatusCode},
    response::IntoResponse,
    routing::{any, get},
    Json, Router,
};
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower_http::{
    catch_panic::CatchPanicLayer,
    compression::CompressionLayer,
    services::ServeDir,
    timeout::RequestBodyTimeoutLayer,
    trace::{DefaultOnResponse, TraceLayer},
    LatencyUnit,
};
use tracing::Level;

/// The whole application as one router, ready to serve.
pub fn router(state: AppState, config: &Config) -> Router {
    let routes = generate_route_list(App);
    let options = state.leptos_options.clone();
    let context_state = state.clone();
    // The endpoints' declarations: published, and followed by the edge.
    let document = openapi::document();
    let rules = EndpointRules::from_document(&document)
        .expect("every endpoint declares a body the edge can serve (tested)");
    let document = axum::body::Bytes::from(serde_json::to_vec(&document).unwrap_or_default());
    let app = Router::new()
        .route("/healthz", get(healthz))
        .route(
            "/api/openapi.json",
            get(move || std::future::ready(openapi_json(document.clone()))),
        )
        .route("/media/avatars/{hash}/{file}", get(super::media::avatar))
        .merge(well_known::routes(config))
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
        // Limits are enforced by `request_body` (per endpoint), not axum's default.
        .layer(DefaultBodyLimit::disable())
        .layer(edge::RequestBodyLayer::new(
            edge::BodyLimits {
                default: config.body_limit,
                upload: config.image_limit,
            },
            rules,
        ))
        .layer(AroundLayer(ResponseHeaders { hsts: config.hsts }))
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
        // Text (HTML, JS, CSS, WASM, JSON) compressed with brotli or gzip as the client
        // accepts; images are left alone.
        .layer(CompressionLayer::new())
        // A client that trickles its body is cut off.
        .layer(RequestBodyTimeoutLayer::new(config.body_timeout))
        // A panic anywhere is a bug, but it must cost one 500, not the connection.
        .layer(CatchPanicLayer::custom(edge::panic_response))
        // Outermost: every response (and the log line) carries the request id.
        .layer(AroundLayer(RequestIds));
    // Metrics off: not even the layer (`server/metrics.rs`).
    let app = if config.metrics_addr.is_some() {
        app.layer(AroundLayer(RequestMetrics))
    } else {
        app
    };
    app.with_state(state)
}

/// `GET /api/openapi.json`: the OpenAPI 3.1 document, serialized once.
fn openapi_json(document: axum::body::Bytes) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], document)
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
