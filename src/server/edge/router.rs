//! The axum router: pages, server functions, health check, the published keys
//! (`well_known.rs`), avatars (`media.rs`) and the layers around them.

use super::{
    api_not_found,
    headers::{AroundLayer, RequestIds, ResponseHeaders, REQUEST_ID},
    media,
    metrics::{RecordRouteLayer, RequestMetrics},
    openapi,
    page_forms::{page_form_body, with_page_forms, PAGE_FORMS},
    panic_response, server_fn_routes, well_known, with_server_fns, BodyLimits, CompressLayer,
    EndpointRules, RequestBodyLayer,
};
use crate::app::{shell, App};
use crate::server::{config::Config, runtime::state::AppState};
use axum::{
    body::Bytes,
    extract::{DefaultBodyLimit, Request, State},
    http::{header, StatusCode},
    response::{IntoResponse, Response},
    routing::{any, get},
    BoxError, Json, Router,
};
use leptos_axum::{generate_route_list_with_exclusions, LeptosRoutes};
use std::convert::Infallible;
use tower::{Service, ServiceBuilder};
use tower_http::{
    body::UnsyncBoxBody,
    catch_panic::CatchPanicLayer,
    services::ServeDir,
    timeout::RequestBodyTimeoutLayer,
    trace::{DefaultOnResponse, TraceLayer},
    LatencyUnit,
};
use tracing::Level;

/// The body of every answer: tower-http's panic catcher boxes the answers it passes.
pub type ResponseBody = UnsyncBoxBody<Bytes, BoxError>;

/// The whole application, ready to serve: the router inside the layers every request
/// passes through.
///
/// The layers wrap the router from outside (`ServiceBuilder`) rather than through
/// `Router::layer`, which wraps every route in each layer and boxes it: answering a
/// request then cloned that whole boxed stack, a few dozen allocations (see
/// docs/benchmarks.md). Outside, a clone of the stack is a copy of a few handles.
pub fn router(
    state: AppState,
    config: &Config,
) -> impl Service<
    Request,
    Response = Response<ResponseBody>,
    Error = Infallible,
    Future: Send + 'static,
> + Clone
       + Send
       + Sync
       + 'static {
    let routes = routes(state, config);
    // The endpoints' declarations: published, and followed by the edge.
    let mut rules = EndpointRules::from_document(&openapi::document())
        .expect("every endpoint declares a body the edge can serve (tested)");
    // The pages' forms, posted without the WASM (`page_forms.rs`).
    for (path, encoding) in PAGE_FORMS {
        rules.insert(path, page_form_body(encoding));
    }
    // Metrics off: not even the layers (`metrics.rs`).
    let metrics = config.metrics_addr.is_some();
    let routes = if metrics {
        routes.layer(RecordRouteLayer)
    } else {
        routes
    };
    ServiceBuilder::new()
        .option_layer(metrics.then(|| AroundLayer(RequestMetrics::default())))
        // Every response (and the log line) carries the request id.
        .layer(AroundLayer(RequestIds))
        // A panic anywhere is a bug, but it must cost one 500, not the connection.
        .layer(CatchPanicLayer::custom(panic_response))
        // A client that trickles its body is cut off.
        .layer(RequestBodyTimeoutLayer::new(config.body_timeout))
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
        .layer(CompressLayer)
        .layer(AroundLayer(ResponseHeaders { hsts: config.hsts }))
        .layer(RequestBodyLayer::new(
            BodyLimits {
                default: config.body_limit,
                upload: config.image_limit,
            },
            rules,
        ))
        // Limits are enforced by `RequestBodyLayer` (per endpoint), not axum's default.
        .layer(DefaultBodyLimit::disable())
        .service(routes)
}

/// Server functions, pages, health check, avatars, the published keys and `/pkg`.
fn routes(state: AppState, config: &Config) -> Router {
    // Server functions have their own routes (`server_fns.rs`), not leptos_axum's.
    let server_fns = server_fn_routes()
        .into_iter()
        .map(|(path, _)| path.to_owned())
        .collect();
    let routes = generate_route_list_with_exclusions(App, Some(server_fns));
    let document = openapi::document();
    let document = Bytes::from(serde_json::to_vec(&document).unwrap_or_default());
    let router = with_server_fns(Router::new(), &state);
    let router = router
        .route("/healthz", get(healthz))
        .route(
            "/api/openapi.json",
            get(move || std::future::ready(openapi_json(document.clone()))),
        )
        .route("/media/avatars/{hash}/{file}", get(media::avatar))
        .merge(well_known::routes(config))
        .route("/api/{*path}", any(api_not_found))
        // Pages: rendered for the browser session the request carries (`pages.rs`).
        .leptos_routes_with_handler(routes, super::pages::page);
    // The entry pages' forms, posted without the WASM, on the pages' own paths.
    with_page_forms(router)
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
        .with_state(state)
}

/// `GET /api/openapi.json`: the OpenAPI 3.1 document, serialized once.
fn openapi_json(document: Bytes) -> impl IntoResponse {
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
