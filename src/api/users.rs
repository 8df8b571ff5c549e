//! The signed-in user: `GET /api/users/me`, changing the password and logging out
//! everywhere. All take `Authorization: Bearer <token>`.

use super::{ApiError, TokenResponse, UserView};
use crate::client::AuthClient;
use leptos::prelude::*;
use leptos::server_fn::codec::{GetUrl, Json};
use serde::{Deserialize, Serialize};

/// The user the bearer token belongs to; 401 when the token is missing or rejected.
#[server(prefix = "/api", endpoint = "users/me", input = GetUrl, client = AuthClient)]
pub async fn current_user() -> Result<UserView, ApiError> {
    let (_, user) = signed_in().await?;
    Ok(user.into())
}

/// Sets a new password after checking the current one. Every token issued before stops
/// working at once (on every instance) and every other session ends; the answer carries
/// a fresh token for the caller's session.
/// 403 (field `current_password`) when the current password is wrong, 422 when the new
/// one breaks a rule, 429 after too many wrong attempts.
#[server(prefix = "/api", endpoint = "users/me/password", input = Json, client = AuthClient)]
pub async fn change_password(
    current_password: String,
    new_password: String,
) -> Result<TokenResponse, ApiError> {
    use crate::server::edge::client_addr;

    let (state, principal) = signed_in_session().await?;
    let client = client_addr(state.client_ip_header.as_ref());
    let issued = state
        .accounts
        .change_password(&principal, &current_password, &new_password, client)
        .await?;
    Ok(TokenResponse::bearer(issued.token, issued.expires_in))
}

/// The answer to "log out everywhere".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LoggedOut {
    /// Always true: every token of the account, the caller's included, is revoked.
    pub revoked: bool,
}

/// Revokes every token and ends every session of the account, the caller's included,
/// on every instance.
/// Takes no arguments: an empty body (or an empty form) is fine.
#[server(prefix = "/api", endpoint = "users/me/logout-all", client = AuthClient)]
pub async fn log_out_everywhere() -> Result<LoggedOut, ApiError> {
    let (state, user) = signed_in().await?;
    state.accounts.log_out_everywhere(&user).await?;
    Ok(LoggedOut { revoked: true })
}

/// The app state and the user of the request's bearer token.
#[cfg(feature = "ssr")]
pub(crate) async fn signed_in(
) -> Result<(crate::server::state::AppState, crate::server::store::User), ApiError> {
    let (state, principal) = signed_in_session().await?;
    Ok((state, principal.user))
}

/// The app state and the user and session of the request's bearer token.
#[cfg(feature = "ssr")]
pub(crate) async fn signed_in_session() -> Result<
    (
        crate::server::state::AppState,
        crate::server::accounts::Principal,
    ),
    ApiError,
> {
    use crate::server::{edge::bearer_token, state::AppState};

    let state = AppState::from_context()?;
    let principal = state
        .accounts
        .authenticate(bearer_token()?.as_deref())
        .await?;
    Ok((state, principal))
}
