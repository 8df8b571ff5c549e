//! The user's sessions: the list (`GET /api/sessions`) and ending one or all the others.
//! All take `Authorization: Bearer <token>`. Renewing and signing out, which use the
//! refresh cookie, are in `refresh.rs`.

#[cfg(feature = "ssr")]
use super::error_responses::{NoSuchSession, Unauthenticated};
use super::ApiError;
use crate::client::AuthClient;
use leptos::prelude::*;
use leptos::server_fn::codec::{GetUrl, Json};
use serde::{Deserialize, Serialize};

/// One sign-in session, as the session list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SessionView {
    /// Pass it to `POST /api/sessions/revoke`.
    pub id: String,
    /// "Firefox on Windows", "curl", …
    pub device: String,
    /// The client address of the last log-in or refresh.
    pub address: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds (recorded at most once a minute).
    pub last_seen_at: i64,
    /// Unix seconds: the session ends then at the latest.
    pub expires_at: i64,
    /// True for the session of the token making this request.
    pub current: bool,
    /// How the session was signed in (RFC 8176): `pwd` (password), `otp` (a code from
    /// the authenticator app or a recovery code), `mfa` (more than one factor), …
    #[serde(default)]
    pub amr: Vec<String>,
}

/// How many sessions a request ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Revoked {
    pub revoked: u64,
}

/// The user's live sessions, most recently active first.
#[cfg_attr(feature = "ssr", utoipa::path(
    get, path = "/api/sessions", operation_id = "list_sessions", tag = "accounts",
    summary = "The user's live sessions, most recently active first",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The sessions; `current` marks the caller's.", body = Vec<SessionView>),
        Unauthenticated,
    ),
))]
#[server(prefix = "/api", endpoint = "sessions", input = GetUrl, client = AuthClient)]
pub async fn list_sessions() -> Result<Vec<SessionView>, ApiError> {
    use crate::server::building_blocks::user_agent::describe_device;

    let (state, principal) = crate::server::edge::signed_in_session().await?;
    let sessions = state.accounts.sessions(&principal).await?;
    Ok(sessions
        .into_iter()
        .map(|s| SessionView {
            current: s.id == principal.session_id,
            device: describe_device(&s.user_agent),
            id: s.id,
            address: s.address,
            created_at: s.created_at,
            last_seen_at: s.last_seen_at,
            expires_at: s.expires_at,
            amr: s.amr.split(',').map(str::to_owned).collect(),
        })
        .collect())
}

/// `POST /api/sessions/revoke`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RevokeSessionRequest {
    /// A session id from `GET /api/sessions`.
    #[cfg_attr(feature = "ssr", schema(max_length = 64))]
    pub id: String,
}

/// Ends one of the user's sessions (its tokens stop working at once). 404 (field `id`)
/// when the user has no such session.
#[cfg_attr(feature = "ssr", utoipa::path(
    post, path = "/api/sessions/revoke", operation_id = "revoke_session", tag = "accounts",
    summary = "End one of the user's sessions; its tokens stop working at once",
    security(("bearer" = [])),
    request_body(content = RevokeSessionRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The session ended.", body = Revoked),
        Unauthenticated,
        NoSuchSession,
    ),
))]
#[server(prefix = "/api", endpoint = "sessions/revoke", input = Json, client = AuthClient)]
pub async fn revoke_session(
    #[server(flatten)] request: RevokeSessionRequest,
) -> Result<Revoked, ApiError> {
    let (state, principal, caller) = crate::server::edge::signed_in_caller().await?;
    state
        .accounts
        .revoke_session(&principal, &request.id, caller.client())
        .await?;
    Ok(Revoked { revoked: 1 })
}

/// Ends every session of the user except the caller's.
#[cfg_attr(feature = "ssr", utoipa::path(
    post, path = "/api/sessions/revoke-others", operation_id = "revoke_other_sessions", tag = "accounts",
    summary = "End every session of the user except the caller's",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "How many sessions ended.", body = Revoked),
        Unauthenticated,
    ),
))]
#[server(prefix = "/api", endpoint = "sessions/revoke-others", client = AuthClient)]
pub async fn revoke_other_sessions() -> Result<Revoked, ApiError> {
    let (state, principal, caller) = crate::server::edge::signed_in_caller().await?;
    let revoked = state
        .accounts
        .revoke_other_sessions(&principal, caller.client())
        .await?;
    Ok(Revoked { revoked })
}

/// The endpoints of this module, for the OpenAPI document.
#[cfg(feature = "ssr")]
#[derive(utoipa::OpenApi)]
#[openapi(paths(list_sessions, revoke_session, revoke_other_sessions))]
pub struct Endpoints;
