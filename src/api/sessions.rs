//! Sessions: renewing the access token with the refresh cookie, signing out, and the
//! list of the user's sessions with revocation.
//!
//! `POST /api/refresh` and `POST /api/logout` read the `HttpOnly` refresh cookie and so
//! check `Origin` (CSRF); the others take `Authorization: Bearer <token>`.

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
#[server(prefix = "/api", endpoint = "refresh", client = AuthClient)]
pub async fn refresh() -> Result<TokenResponse, ApiError> {
    use crate::server::{edge::set_cookie, unix_now};

    let (state, headers) = cookie_request()?;
    let user_agent = user_agent(&headers);
    let client = client(&state, &user_agent);
    let cookie = state.cookies.read(&headers);
    match state.accounts.refresh(cookie.as_deref(), client).await {
        Ok(refreshed) => {
            if let Some((token, expires_at)) = refreshed.refresh {
                set_cookie(state.cookies.set(&token, expires_at, unix_now()));
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
#[server(prefix = "/api", endpoint = "logout", client = AuthClient)]
pub async fn log_out() -> Result<SignedOut, ApiError> {
    use crate::server::edge::{bearer_token, request_headers, set_cookie};
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
#[server(prefix = "/api", endpoint = "sessions", input = GetUrl, client = AuthClient)]
pub async fn list_sessions() -> Result<Vec<SessionView>, ApiError> {
    use crate::server::sessions::describe_device;

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

/// Ends one of the user's sessions (its tokens stop working at once). 404 (field `id`)
/// when the user has no such session.
#[server(prefix = "/api", endpoint = "sessions/revoke", input = Json, client = AuthClient)]
pub async fn revoke_session(id: String) -> Result<Revoked, ApiError> {
    let (state, principal) = super::users::signed_in_session().await?;
    state.accounts.revoke_session(&principal, &id).await?;
    Ok(Revoked { revoked: 1 })
}

/// Ends every session of the user except the caller's.
#[server(prefix = "/api", endpoint = "sessions/revoke-others", client = AuthClient)]
pub async fn revoke_other_sessions() -> Result<Revoked, ApiError> {
    let (state, principal) = super::users::signed_in_session().await?;
    let revoked = state.accounts.revoke_other_sessions(&principal).await?;
    Ok(Revoked { revoked })
}

/// The state and headers of a request that uses the refresh cookie, after the `Origin`
/// check.
#[cfg(feature = "ssr")]
fn cookie_request() -> Result<(crate::server::state::AppState, http::HeaderMap), ApiError> {
    use crate::server::{edge::request_headers, state::AppState};

    let state = AppState::from_context()?;
    let headers = request_headers()?;
    check_origin(&state, &headers)?;
    Ok((state, headers))
}

#[cfg(feature = "ssr")]
pub(crate) fn check_origin(
    state: &crate::server::state::AppState,
    headers: &http::HeaderMap,
) -> Result<(), ApiError> {
    // HTTP/2 requests name the host in the URI (`:authority`), not in `Host`.
    let authority = leptos::prelude::use_context::<http::request::Parts>()
        .and_then(|parts| parts.uri.authority().map(|a| a.as_str().to_owned()));
    state
        .cookies
        .check_origin(headers, authority.as_deref())
        .map_err(|e| {
            tracing::warn!(reason = %e, "cookie request refused");
            ApiError::new(
                super::ErrorCode::Forbidden,
                "This request must come from the Keyhold site itself (Origin header).",
            )
        })
}

/// The request's `User-Agent` (empty when absent).
#[cfg(feature = "ssr")]
pub(crate) fn user_agent(headers: &http::HeaderMap) -> String {
    headers
        .get(http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// Where the request comes from, for the session record.
#[cfg(feature = "ssr")]
pub(crate) fn client<'a>(
    state: &crate::server::state::AppState,
    user_agent: &'a str,
) -> crate::server::accounts::Client<'a> {
    crate::server::accounts::Client {
        addr: crate::server::edge::client_addr(state.client_ip_header.as_ref()),
        user_agent,
    }
}
