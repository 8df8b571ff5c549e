//! The signed-in user: `GET /api/users/me`, changing the password and logging out
//! everywhere. All take `Authorization: Bearer <token>`.

use super::{proofs::SecondFactorFields, ApiError, TokenResponse, UserView};
use crate::client::AuthClient;
use leptos::prelude::*;
use leptos::server_fn::codec::{GetUrl, Json};
use serde::{Deserialize, Serialize};

/// The user the bearer token belongs to; 401 when the token is missing or rejected.
#[cfg_attr(feature = "ssr", utoipa::path(
    get, path = "/api/users/me", operation_id = "current_user", tag = "accounts",
    summary = "The signed-in user",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The user the token belongs to.", body = UserView),
        super::error_responses::Unauthenticated,
    ),
))]
#[server(prefix = "/api", endpoint = "users/me", input = GetUrl, client = AuthClient)]
pub async fn current_user() -> Result<UserView, ApiError> {
    let (_, user) = crate::server::edge::signed_in().await?;
    Ok(user.into())
}

/// `POST /api/users/me/password`.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ChangePasswordRequest {
    #[cfg_attr(feature = "ssr", schema(format = "password"))]
    pub current_password: String,
    /// The same rules as at sign-up.
    #[cfg_attr(feature = "ssr", schema(format = "password"))]
    pub new_password: String,
    /// Needed when the account has a second factor.
    #[serde(flatten)]
    pub second_factor: SecondFactorFields,
}

debug_without_secrets!(ChangePasswordRequest {});

/// Sets a new password after checking the current one. Every token issued before stops
/// working at once (on every instance) and every other session ends; the answer carries
/// a fresh token for the caller's session.
/// 403 (field `current_password`) when the current password is wrong, 422 when the new
/// one breaks a rule, 429 after too many wrong attempts.
#[cfg_attr(feature = "ssr", utoipa::path(
    post, path = "/api/users/me/password", operation_id = "change_password", tag = "accounts",
    summary = "Change the password; every earlier token stops working",
    security(("bearer" = [])),
    request_body(content = ChangePasswordRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "A fresh token for the caller.", body = TokenResponse),
        super::error_responses::Unauthenticated,
        super::error_responses::WrongPassword,
        super::error_responses::Throttled,
    ),
))]
#[server(prefix = "/api", endpoint = "users/me/password", input = Json, client = AuthClient)]
pub async fn change_password(
    #[server(flatten)] request: ChangePasswordRequest,
) -> Result<TokenResponse, ApiError> {
    let (state, principal, caller) = crate::server::edge::signed_in_caller().await?;
    let issued = state
        .accounts
        .change_password(
            &principal,
            (&request.current_password, &request.new_password),
            request.second_factor.proof(),
            caller.client(),
        )
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
/// on every instance. Takes no arguments: an empty body (or an empty form) is fine.
#[cfg_attr(feature = "ssr", utoipa::path(
    post, path = "/api/users/me/logout-all", operation_id = "log_out_everywhere", tag = "accounts",
    summary = "Revoke every token of the account, the caller's included",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Every token was revoked.", body = LoggedOut),
        super::error_responses::Unauthenticated,
    ),
))]
#[server(prefix = "/api", endpoint = "users/me/logout-all", client = AuthClient)]
pub async fn log_out_everywhere() -> Result<LoggedOut, ApiError> {
    let (state, principal, caller) = crate::server::edge::signed_in_caller().await?;
    state
        .accounts
        .log_out_everywhere(&principal, caller.client())
        .await?;
    Ok(LoggedOut { revoked: true })
}

/// The endpoints of this module, for the OpenAPI document.
#[cfg(feature = "ssr")]
#[derive(utoipa::OpenApi)]
#[openapi(paths(current_user, change_password, log_out_everywhere))]
pub struct Endpoints;
