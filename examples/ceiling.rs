//! The machine's ceiling for `GET /api/users/me`: the least an axum server can do to
//! answer it (no token check, no database, no middleware, a fixed JSON body of the same
//! size). `bench/run.sh` drives it with the same wrk load as Keyhold and the reference,
//! so the report shows how far any axum app on this machine could go, and how much of
//! that Keyhold's real work (token, session, user) costs.
//!
//!   cargo run --release --example ceiling --features ssr -- 127.0.0.1:3102

use axum::{http::header, routing::get, Router};

const BODY: &str = r#"{"username":"benchuser","email":"benchuser@example.com","image_url":null}"#;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:3102".into());
    let app = Router::new().route(
        "/api/users/me",
        get(|| async { ([(header::CONTENT_TYPE, "application/json")], BODY) }),
    );
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    eprintln!("ceiling server on http://{addr}");
    axum::serve(listener, app).await
}
