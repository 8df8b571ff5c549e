//! "Forgot password": `POST /api/password/forgot` mails a reset link, and
//! `POST /api/password/reset` sets the new password with the link's token. Neither
//! needs a bearer token.

#[cfg(feature = "ssr")]
use super::error_responses::{InvalidLink, Throttled};
use super::ApiError;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};

/// `POST /api/password/forgot`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ForgotPasswordRequest {
    #[cfg_attr(feature = "ssr", schema(format = "email", max_length = 254))]
    pub email: String,
}

/// The one answer to "forgot password", whether or not an account uses the address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ForgotPasswordResponse {
    pub message: String,
}

/// Mails a reset link (valid 30 minutes, single use) to the account using this
/// address. The answer is the same 202, body and timing whether or not one does; an
/// account gets at most one such mail a minute.
#[cfg_attr(feature = "ssr", utoipa::path(
    post, path = "/api/password/forgot", operation_id = "forgot_password", tag = "recovery",
    summary = "Mail a password reset link (same answer whether or not the account exists)",
    request_body(content = ForgotPasswordRequest, content_type = "application/json"),
    responses(
        (status = 202, description = "If an account uses the address, a link is on its way.", body = ForgotPasswordResponse),
        Throttled,
    ),
))]
#[server(prefix = "/api", endpoint = "password/forgot", input = Json)]
pub async fn forgot_password(
    #[server(flatten)] request: ForgotPasswordRequest,
) -> Result<ForgotPasswordResponse, ApiError> {
    use crate::server::{
        edge::{client_addr, set_status},
        runtime::state::AppState,
    };

    let state = AppState::from_context()?;
    let email = state
        .accounts
        .forgot_password(&request.email, client_addr(&state))
        .await?;
    // After the answer: looking the account up must not show in its timing.
    let background = state.clone();
    tokio::spawn(async move {
        if let Err(e) = background.accounts.send_reset_link(&email).await {
            tracing::warn!(reason = %e, "cannot send a reset link");
        }
    });
    set_status(http::StatusCode::ACCEPTED);
    Ok(ForgotPasswordResponse {
        message: "If an account uses that address, we sent it a link to choose a new password. \
                  It works once, for 30 minutes."
            .into(),
    })
}

/// `POST /api/password/reset`.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ResetPasswordRequest {
    /// The `token` of the link in the mail.
    #[cfg_attr(feature = "ssr", schema(max_length = 64))]
    pub token: String,
    /// The new password (the sign-up rules apply).
    #[cfg_attr(feature = "ssr", schema(format = "password"))]
    pub password: String,
}

debug_without_secrets!(ResetPasswordRequest {});

/// The answer to a reset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PasswordReset {
    /// Always true: log in with the new password (every session was ended).
    pub reset: bool,
}

/// Sets a new password with a reset link's token: every session of the account ends,
/// its failed log-ins are forgiven and its owner is told by mail. Nobody is signed in:
/// log in with the new password.
#[cfg_attr(feature = "ssr", utoipa::path(
    post, path = "/api/password/reset", operation_id = "reset_password", tag = "recovery",
    summary = "Set a new password with a reset link's token",
    request_body(content = ResetPasswordRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The password was changed; log in with it.", body = PasswordReset),
        InvalidLink,
        Throttled,
    ),
))]
#[server(prefix = "/api", endpoint = "password/reset", input = Json)]
pub async fn reset_password(
    #[server(flatten)] request: ResetPasswordRequest,
) -> Result<PasswordReset, ApiError> {
    use crate::server::{edge::Caller, runtime::state::AppState};

    let state = AppState::from_context()?;
    let caller = Caller::current(&state)?;
    state
        .accounts
        .reset_password(&request.token, &request.password, caller.client())
        .await?;
    Ok(PasswordReset { reset: true })
}

/// The endpoints of this module, for the OpenAPI document.
#[cfg(feature = "ssr")]
#[derive(utoipa::OpenApi)]
#[openapi(paths(forgot_password, reset_password))]
pub struct Endpoints;
