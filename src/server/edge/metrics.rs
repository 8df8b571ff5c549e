//! Prometheus metrics (docs/operations.md), served on their own listener
//! (`KEYHOLD_METRICS_ADDR`, off by default) so they never face the internet with the app.
//! When off, no recorder is installed: the counters in the code are no-ops and the
//! request layer is not added at all.
//!
//! Counted where things happen: requests (this file's layer: route, method, status
//! class, latency), log-ins by outcome (`accounts/log_in.rs`), refresh rotations and
//! detected reuse (`accounts/refresh_rotation.rs`), shed password hashes
//! (`building_blocks/password/`), database errors (`accounts/`). Sampled every few seconds: hashes in
//! flight, the database pool, live sessions.

use super::headers::Around;
use crate::server::runtime::state::AppState;
use axum::{extract::MatchedPath, routing::get, Router};
use http::{Request, Response};
use metrics::Histogram;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, OnceLock, PoisonError, RwLock},
    task::{Context, Poll},
    time::{Duration, Instant},
};
use tower::{Layer, Service};

/// Request latency buckets, seconds: from a cached users/me to a slow password hash.
const LATENCY_BUCKETS: [f64; 14] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];
/// How often the gauges are sampled and the histograms' windows kept up.
const SAMPLE_EVERY: Duration = Duration::from_secs(5);

/// The process's one recorder (a global, so it is installed once).
static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the recorder (once per process) and returns what renders it.
pub fn install() -> Result<PrometheusHandle, String> {
    if let Some(handle) = HANDLE.get() {
        return Ok(handle.clone());
    }
    let recorder = PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full("keyhold_http_request_duration_seconds".into()),
            &LATENCY_BUCKETS,
        )
        .map_err(|e| format!("metrics buckets: {e}"))?
        .build_recorder();
    let handle = recorder.handle();
    metrics::set_global_recorder(recorder).map_err(|e| format!("metrics recorder: {e}"))?;
    describe();
    let handle = HANDLE.get_or_init(|| handle).clone();
    metrics::gauge!("keyhold_build_info", "version" => env!("CARGO_PKG_VERSION")).set(1.0);
    Ok(handle)
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_histogram!(
        "keyhold_http_request_duration_seconds",
        Unit::Seconds,
        "Requests by route, method and status class, and how long they took"
    );
    describe_counter!("keyhold_logins_total", "Log-in attempts by outcome");
    describe_counter!(
        "keyhold_passkey_logins_total",
        "Log-ins with a passkey alone, by outcome"
    );
    describe_counter!(
        "keyhold_passkey_clones_suspected_total",
        "Passkey sign-ins refused because the signature counter did not move forward"
    );
    describe_counter!(
        "keyhold_refresh_rotations_total",
        "Refresh tokens rotated (a session kept alive)"
    );
    describe_counter!(
        "keyhold_refresh_reuse_detected_total",
        "Replayed earlier refresh tokens: each ended a session (likely theft)"
    );
    describe_counter!(
        "keyhold_password_hashes_shed_total",
        "Password hashes refused (503) because every hashing slot and queue place was taken"
    );
    describe_gauge!(
        "keyhold_password_hashes_in_flight",
        "Password hashes running or waiting for a hashing thread"
    );
    describe_counter!(
        "keyhold_security_events_unstored_total",
        "Failed or throttled log-ins only logged: their activity entries' queue was full"
    );
    describe_counter!("keyhold_db_errors_total", "Database errors met by requests");
    describe_gauge!(
        "keyhold_db_connections",
        "Database pool connections, by state (in_use, idle)"
    );
    describe_gauge!("keyhold_sessions_active", "Sign-in sessions not yet over");
    describe_gauge!(
        "keyhold_mail_queue_depth",
        "Messages waiting to be sent (or retried)"
    );
    describe_gauge!(
        "keyhold_throttle_keys",
        "Throttling states kept (bounded by KEYHOLD_THROTTLE_MAX_KEYS)"
    );
    describe_gauge!("keyhold_build_info", "The running version (always 1)");
}

/// Serves `GET /metrics` on `addr` and samples the gauges until the process ends.
pub async fn serve(
    addr: SocketAddr,
    handle: PrometheusHandle,
    state: AppState,
) -> Result<(), String> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen for metrics on {addr}: {e}"))?;
    tracing::info!("metrics on http://{addr}/metrics");
    let sampler = handle.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(SAMPLE_EVERY);
        loop {
            tick.tick().await;
            sampler.run_upkeep();
            sample(&state).await;
        }
    });
    let app = Router::new().route("/metrics", get(move || std::future::ready(handle.render())));
    axum::serve(listener, app)
        .await
        .map_err(|e| format!("metrics listener: {e}"))
}

async fn sample(state: &AppState) {
    let gauges = state.accounts.gauges().await;
    metrics::gauge!("keyhold_password_hashes_in_flight").set(gauges.hashes_in_flight as f64);
    metrics::gauge!("keyhold_db_connections", "state" => "in_use")
        .set(f64::from(gauges.pool_in_use));
    metrics::gauge!("keyhold_db_connections", "state" => "idle").set(f64::from(gauges.pool_idle));
    if let Some(queued) = gauges.mail_queued {
        metrics::gauge!("keyhold_mail_queue_depth").set(queued as f64);
    }
    if let Some(sessions) = gauges.sessions_active {
        metrics::gauge!("keyhold_sessions_active").set(sessions as f64);
    }
    if let Some(keys) = gauges.throttle_keys {
        metrics::gauge!("keyhold_throttle_keys").set(keys as f64);
    }
}

/// Counts and times every request by its route (the pattern it matched, so a scan of
/// random paths cannot create new series), method and status class. The outermost
/// layer, so the time covers every other one; the route comes back from inside the
/// router through a [`RouteSlot`] that [`RecordRouteLayer`] fills.
#[derive(Clone, Default)]
pub struct RequestMetrics {
    handles: Arc<Handles>,
}

pub struct Started {
    at: Instant,
    route: RouteSlot,
    method: usize,
    handles: Arc<Handles>,
}

const METHODS: [&str; 5] = ["GET", "POST", "DELETE", "HEAD", "other"];
const CLASSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];

/// The histogram of each (route, method, status class) once it was first used: building
/// a labelled key and looking it up in the registry on every request cost more than the
/// recording itself (docs/benchmarks.md).
#[derive(Default)]
struct Handles(RwLock<HashMap<String, [[Option<Histogram>; 5]; 5]>>);

impl Handles {
    fn get(&self, route: &str, method: usize, class: usize) -> Histogram {
        let cached = self
            .0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(route)
            .and_then(|handles| handles[method][class].clone());
        if let Some(histogram) = cached {
            return histogram;
        }
        let histogram = metrics::histogram!(
            "keyhold_http_request_duration_seconds",
            "route" => route.to_owned(),
            "method" => METHODS[method],
            "status" => CLASSES[class],
        );
        let mut handles = self.0.write().unwrap_or_else(PoisonError::into_inner);
        handles.entry(route.to_owned()).or_default()[method][class] = Some(histogram.clone());
        histogram
    }
}

/// Where the router leaves the route a request matched (see [`RecordRouteLayer`]).
#[derive(Clone, Default)]
pub struct RouteSlot(Arc<OnceLock<MatchedPath>>);

impl<B: Send + 'static> Around<B> for RequestMetrics {
    type Carry = Started;

    fn before<R>(&self, request: &mut Request<R>) -> Started {
        let method = match request.method().as_str() {
            "GET" => 0,
            "POST" => 1,
            "DELETE" => 2,
            "HEAD" => 3,
            _ => 4,
        };
        let route = RouteSlot::default();
        request.extensions_mut().insert(route.clone());
        Started {
            at: Instant::now(),
            route,
            method,
            handles: self.handles.clone(),
        }
    }

    async fn after(started: Started, response: Response<B>) -> Response<B> {
        let class = match response.status().as_u16() {
            100..=199 => 0,
            200..=299 => 1,
            300..=399 => 2,
            400..=499 => 3,
            _ => 4,
        };
        let route = started
            .route
            .0
            .get()
            .map_or("unmatched", MatchedPath::as_str);
        started
            .handles
            .get(route, started.method, class)
            .record(started.at.elapsed().as_secs_f64());
        response
    }
}

/// Inside the router (on every route): copies the pattern the request matched into the
/// request's [`RouteSlot`]. Adds nothing to the answer, so it returns the route's own
/// future.
#[derive(Clone, Copy)]
pub struct RecordRouteLayer;

impl<S> Layer<S> for RecordRouteLayer {
    type Service = RecordRoute<S>;

    fn layer(&self, inner: S) -> RecordRoute<S> {
        RecordRoute(inner)
    }
}

#[derive(Clone)]
pub struct RecordRoute<S>(S);

impl<S: Service<Request<R>>, R> Service<Request<R>> for RecordRoute<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, request: Request<R>) -> S::Future {
        let extensions = request.extensions();
        if let (Some(slot), Some(path)) = (
            extensions.get::<RouteSlot>(),
            extensions.get::<MatchedPath>(),
        ) {
            let _ = slot.0.set(path.clone());
        }
        self.0.call(request)
    }
}
