//! Sessions: renewing the access token with the refresh cookie, signing out, and the
//! list of the user's sessions with revocation.
//!
//! `POST /api/refresh` and `POST /api/logout` read the `HttpOnly` refresh cookie and so
//! check `Origin` (CSRF); the others take `Authorization: Bearer <token>`.

#[cfg(feature = "ssr")]
use super::error_responses::{CrossSite, NoSuchSession, Unauthenticated};
use super::{ApiError, TokenResponse};
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
}

/// How many sessions a request ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Revoked {
    pub revoked: u64,
}

/// A new access token for the session of the refresh cookie, which is rotated (a new
/// `Set-Cookie`). Needs a same-origin `Origin` header. Replaying a replaced cookie ends
/// the session (401), except within a few seconds of the rotation, when two tabs
/// refreshed at once: that answer carries a token and no new cookie.
#[cfg_attr(feature = "ssr", utoipa::path(
    post, path = "/api/refresh", operation_id = "refresh", tag = "accounts",
    summary = "A new access token for the refresh cookie's session; rotates the cookie \
               (same-origin `Origin` required)",
    security(("refresh_cookie" = [])),
    responses(
        (status = 200, description = "A fresh bearer token (and usually a new cookie).", body = TokenResponse),
        Unauthenticated,
        CrossSite,
    ),
))]
#[server(prefix = "/api", endpoint = "refresh")]
pub async fn refresh() -> Result<TokenResponse, ApiError> {
    use crate::server::{
        edge::{check_origin, set_cookie, Caller},
        state::AppState,
    };

    let state = AppState::from_context()?;
    let caller = Caller::current(&state)?;
    check_origin(&state, &caller.headers)?;
    let cookie = state.cookies.read(&caller.headers);
    match state
        .accounts
        .refresh(cookie.as_deref(), caller.client())
        .await
    {
        Ok(refreshed) => {
            if let Some((token, expires_at)) = refreshed.refresh {
                set_cookie(state.cookies.set(&token, expires_at, state.clock.now()));
            }
            let access = refreshed.access;
            Ok(TokenResponse::bearer(access.token, access.expires_in))
        }
        Err(e) => {
            // Only a session that is over loses its cookie; an outage keeps it.
            if matches!(e, crate::server::accounts::AccountError::SessionEnded) {
                set_cookie(state.cookies.clear());
            }
            Err(e.into())
        }
    }
}

/// The answer to a sign-out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SignedOut {
    pub signed_out: bool,
}

/// Ends the caller's session: the one of the bearer token, else of the refresh cookie
/// (which needs a same-origin `Origin`), and removes the cookie. Signing out twice is
/// fine.
#[cfg_attr(feature = "ssr", utoipa::path(
    post, path = "/api/logout", operation_id = "log_out", tag = "accounts",
    summary = "End the caller's session (bearer token, else refresh cookie) and remove the cookie",
    security((), ("bearer" = []), ("refresh_cookie" = [])),
    responses(
        (status = 200, description = "Signed out (also when nothing was left to end).", body = SignedOut),
        CrossSite,
    ),
))]
#[server(prefix = "/api", endpoint = "logout")]
pub async fn log_out() -> Result<SignedOut, ApiError> {
    use crate::server::edge::{bearer_token, check_origin, request_headers, set_cookie};
    use crate::server::state::AppState;

    let state = AppState::from_context()?;
    let headers = request_headers()?;
    let cookie = state.cookies.read(&headers);
    if cookie.is_some() {
        check_origin(&state, &headers)?;
    }
    state
        .accounts
        .sign_out(bearer_token()?.as_deref(), cookie.as_deref())
        .await?;
    set_cookie(state.cookies.clear());
    Ok(SignedOut { signed_out: true })
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
    use crate::server::user_agent::describe_device;

    let (state, principal) = super::users::signed_in_session().await?;
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
    let (state, principal) = super::users::signed_in_session().await?;
    state
        .accounts
        .revoke_session(&principal, &request.id)
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
    let (state, principal) = super::users::signed_in_session().await?;
    let revoked = state.accounts.revoke_other_sessions(&principal).await?;
    Ok(Revoked { revoked })
}

/// The endpoints of this module, for the OpenAPI document.
#[cfg(feature = "ssr")]
#[derive(utoipa::OpenApi)]
#[openapi(paths(refresh, log_out, list_sessions, revoke_session, revoke_other_sessions))]
pub struct Endpoints;
