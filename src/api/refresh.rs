//! The endpoints that read the `HttpOnly` refresh cookie, and so check `Origin` (CSRF):
//! `POST /api/refresh` renews the access token (the cookie rotates, see
//! `server/accounts/refresh_rotation.rs`) and `POST /api/logout` signs out. Both use the
//! plain browser client: they are how the token is renewed and given up.

#[cfg(feature = "ssr")]
use super::error_responses::{CrossSite, Unauthenticated};
use super::{ApiError, TokenResponse};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

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
        runtime::state::AppState,
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
                set_cookie(state.cookies.clear_session());
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
/// (which needs a same-origin `Origin`), and removes the cookies (refresh and browser
/// session). Signing out twice is
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
    use crate::server::runtime::state::AppState;

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
    set_cookie(state.cookies.clear_session());
    Ok(SignedOut { signed_out: true })
}

/// The endpoints of this module, for the OpenAPI document.
#[cfg(feature = "ssr")]
#[derive(utoipa::OpenApi)]
#[openapi(paths(refresh, log_out))]
pub struct Endpoints;
