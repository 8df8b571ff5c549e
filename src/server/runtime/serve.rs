//! The HTTP server loop: like `axum::serve`, plus what a server on the internet needs —
//! a deadline for request headers (slowloris clients are cut off instead of holding a
//! connection open forever) and graceful shutdown that lets in-flight requests finish.

use crate::server::edge::router::ResponseBody;
use axum::{
    body::Body,
    extract::{ConnectInfo, Request},
    response::Response,
};
use hyper_util::{
    rt::{TokioExecutor, TokioIo, TokioTimer},
    server::{conn::auto::Builder, graceful::GracefulShutdown},
    service::TowerToHyperService,
};
use std::{convert::Infallible, future::Future, time::Duration};
use tokio::net::TcpListener;
use tower::{Service, ServiceExt};

/// Longest wait for in-flight requests after the shutdown signal.
const DRAIN: Duration = Duration::from_secs(20);

/// Serves `app` (`router::router`) on `listener` until `shutdown` resolves; each
/// request carries the peer's address (`ConnectInfo<SocketAddr>`).
pub async fn serve<S>(
    listener: TcpListener,
    app: S,
    header_timeout: Duration,
    shutdown: impl Future<Output = ()>,
) where
    S: Service<Request, Response = Response<ResponseBody>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
    builder.http2().timer(TokioTimer::new());
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: wait a moment, keep serving.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let service =
            app.clone()
                .map_request(move |request: http::Request<hyper::body::Incoming>| {
                    let mut request = request.map(Body::new);
                    request.extensions_mut().insert(ConnectInfo(peer));
                    request
                });
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), TowerToHyperService::new(service))
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(DRAIN, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("some connections were still open after {DRAIN:?}");
    }
}
