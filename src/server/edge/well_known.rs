//! `GET /.well-known/jwks.json` and `GET /.well-known/openid-configuration`: what a
//! service behind Keyhold needs to check its tokens on its own (public keys only; an
//! HS256 secret is never published, so with HS256 the set is empty).

use crate::server::{config::Config, runtime::state::AppState};
use axum::{extract::State, http::header, response::IntoResponse, routing::get, Json, Router};
use serde_json::json;
use std::sync::Arc;

pub const JWKS_PATH: &str = "/.well-known/jwks.json";
pub const DISCOVERY_PATH: &str = "/.well-known/openid-configuration";

/// How long resource servers and proxies may keep the key set; `keyhold keys rotate`
/// publishes a key longer than this before it signs (KEYHOLD_JWT_KEY_PROMOTE_AFTER).
const CACHE: &str = "public, max-age=600";

/// What the discovery document says that does not change while the server runs.
struct Issuer {
    issuer: String,
    jwks_uri: String,
    token_endpoint: String,
}

/// The two routes. Links are absolute, from `KEYHOLD_PUBLIC_URL` (the one mail links
/// use), never from the request's `Host` (the answers are cached publicly).
pub fn routes(config: &Config) -> Router<AppState> {
    let base = &config.mail.public_url;
    let issuer = Arc::new(Issuer {
        issuer: config.jwt_issuer.clone(),
        jwks_uri: format!("{base}{JWKS_PATH}"),
        token_endpoint: format!("{base}/api/login"),
    });
    Router::new().route(JWKS_PATH, get(jwks)).route(
        DISCOVERY_PATH,
        get(move |state: State<AppState>| discovery(state, issuer.clone())),
    )
}

/// `GET /.well-known/jwks.json`: current, standby and previous public keys.
async fn jwks(State(state): State<AppState>) -> impl IntoResponse {
    let keys = state.accounts.token_keys().published(state.clock.now());
    (
        [(header::CACHE_CONTROL, CACHE)],
        Json(json!({ "keys": keys })),
    )
}

/// `GET /.well-known/openid-configuration`: the issuer and where its keys are. Only
/// what is true: Keyhold issues access tokens by password (`/api/login`) and renews
/// them with the refresh cookie; it has no authorization endpoint or ID tokens.
async fn discovery(State(state): State<AppState>, issuer: Arc<Issuer>) -> impl IntoResponse {
    let keys = state.accounts.token_keys();
    let mut algorithms = keys.published_algorithms(state.clock.now());
    if algorithms.is_empty() {
        algorithms.push("HS256");
    }
    let document = json!({
        "issuer": issuer.issuer,
        "jwks_uri": issuer.jwks_uri,
        "token_endpoint": issuer.token_endpoint,
        "grant_types_supported": ["password", "refresh_token"],
        "token_endpoint_auth_methods_supported": ["none"],
        "response_types_supported": ["token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": algorithms,
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nbf", "jti", "sid", "gen"],
    });
    ([(header::CACHE_CONTROL, CACHE)], Json(document))
}
