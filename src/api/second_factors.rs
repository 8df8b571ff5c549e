//! Second factors of the signed-in account: what it has, turning the authenticator app
//! (TOTP) on and off, and new recovery codes. All take `Authorization: Bearer <token>`;
//! every change needs the password, and the second factor once there is one. The log-in
//! with a second factor is in `auth.rs` (`POST /api/login/mfa`).

use super::proofs::{ConfirmedRequest, SecondFactorsView};
use super::ApiError;
use crate::client::AuthClient;
use leptos::prelude::*;
use leptos::server_fn::codec::{GetUrl, Json};
use serde::{Deserialize, Serialize};

/// What the account's second factors are.
#[cfg_attr(feature = "ssr", utoipa::path(
    get, path = "/api/users/me/second-factors", operation_id = "second_factors", tag = "second factors",
    summary = "The account's second factors",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "What is set up.", body = SecondFactorsView),
        super::error_responses::Unauthenticated,
    ),
))]
#[server(prefix = "/api", endpoint = "users/me/second-factors", input = GetUrl, client = AuthClient)]
pub async fn second_factors() -> Result<SecondFactorsView, ApiError> {
    let (state, user) = crate::server::edge::signed_in().await?;
    Ok(state.accounts.second_factor_status(user.id).await?.into())
}

/// A new authenticator-app secret, waiting for its first code.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AuthenticatorSetupView {
    /// The secret in base32, for typing into the app.
    pub secret: String,
    /// The `otpauth://totp/...` URI (what the QR code holds).
    pub otpauth_uri: String,
    /// The QR code as an SVG document.
    pub qr_svg: String,
}

debug_without_secrets!(AuthenticatorSetupView {});

/// Makes a new secret for an authenticator app and answers it as text, URI and QR code.
/// Nothing changes for log-ins until `activate` gets a valid code (within 15 minutes).
/// 409 when an app is already on.
#[cfg_attr(feature = "ssr", utoipa::path(
    post, path = "/api/users/me/authenticator/setup", operation_id = "authenticator_setup", tag = "second factors",
    summary = "Start setting up an authenticator app",
    security(("bearer" = [])),
    request_body(content = ConfirmedRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The secret to put in the app.", body = AuthenticatorSetupView),
        super::error_responses::Unauthenticated,
        super::error_responses::WrongPassword,
        super::error_responses::SecondFactorState,
        super::error_responses::Throttled,
    ),
))]
#[server(prefix = "/api", endpoint = "users/me/authenticator/setup", input = Json, client = AuthClient)]
pub async fn authenticator_setup(
    #[server(flatten)] request: ConfirmedRequest,
) -> Result<AuthenticatorSetupView, ApiError> {
    let (state, principal, caller) = crate::server::edge::signed_in_caller().await?;
    let setup = state
        .accounts
        .start_authenticator_setup(
            &principal,
            &request.current_password,
            request.second_factor.proof(),
            caller.client(),
        )
        .await?;
    Ok(AuthenticatorSetupView {
        secret: setup.secret,
        otpauth_uri: setup.uri,
        qr_svg: setup.qr_svg,
    })
}

/// `POST /api/users/me/authenticator/activate`.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ActivateRequest {
    /// The code the app shows now for the new secret.
    #[cfg_attr(feature = "ssr", schema(max_length = 64))]
    pub code: String,
}

debug_without_secrets!(ActivateRequest {});

/// Recovery codes, shown once: each works once instead of the app's code.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RecoveryCodesView {
    pub recovery_codes: Vec<String>,
}

debug_without_secrets!(RecoveryCodesView {});

/// Turns the authenticator app on with its first code and answers ten recovery codes
/// (shown only now). From then on, log-ins and sensitive changes ask for a code.
/// 403 on `code` when the code is wrong, 409 when no set-up is waiting.
#[cfg_attr(feature = "ssr", utoipa::path(
    post, path = "/api/users/me/authenticator/activate", operation_id = "authenticator_activate", tag = "second factors",
    summary = "Turn the authenticator app on with its first code",
    security(("bearer" = [])),
    request_body(content = ActivateRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The app is on; the recovery codes.", body = RecoveryCodesView),
        super::error_responses::Unauthenticated,
        super::error_responses::WrongPassword,
        super::error_responses::SecondFactorState,
        super::error_responses::Throttled,
    ),
))]
#[server(prefix = "/api", endpoint = "users/me/authenticator/activate", input = Json, client = AuthClient)]
pub async fn authenticator_activate(
    #[server(flatten)] request: ActivateRequest,
) -> Result<RecoveryCodesView, ApiError> {
    let (state, principal, caller) = crate::server::edge::signed_in_caller().await?;
    let recovery_codes = state
        .accounts
        .activate_authenticator(&principal, &request.code, caller.client())
        .await?;
    Ok(RecoveryCodesView { recovery_codes })
}

/// Removes the authenticator app and the recovery codes; the password alone signs in
/// again. Needs the password and a current code (or a recovery code).
#[cfg_attr(feature = "ssr", utoipa::path(
    post, path = "/api/users/me/authenticator/remove", operation_id = "authenticator_remove", tag = "second factors",
    summary = "Remove the authenticator app",
    security(("bearer" = [])),
    request_body(content = ConfirmedRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "What is left.", body = SecondFactorsView),
        super::error_responses::Unauthenticated,
        super::error_responses::WrongPassword,
        super::error_responses::SecondFactorState,
        super::error_responses::Throttled,
    ),
))]
#[server(prefix = "/api", endpoint = "users/me/authenticator/remove", input = Json, client = AuthClient)]
pub async fn authenticator_remove(
    #[server(flatten)] request: ConfirmedRequest,
) -> Result<SecondFactorsView, ApiError> {
    let (state, principal, caller) = crate::server::edge::signed_in_caller().await?;
    let accounts = &state.accounts;
    let proof = request.second_factor.proof();
    accounts
        .remove_authenticator(
            &principal,
            &request.current_password,
            proof,
            caller.client(),
        )
        .await?;
    Ok(accounts
        .second_factor_status(principal.user.id)
        .await?
        .into())
}

/// Replaces the recovery codes with ten new ones (the old ones stop working). Needs the
/// password and a current code (or a recovery code).
#[cfg_attr(feature = "ssr", utoipa::path(
    post, path = "/api/users/me/recovery-codes", operation_id = "recovery_codes_regenerate", tag = "second factors",
    summary = "New recovery codes",
    security(("bearer" = [])),
    request_body(content = ConfirmedRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The new codes, shown only now.", body = RecoveryCodesView),
        super::error_responses::Unauthenticated,
        super::error_responses::WrongPassword,
        super::error_responses::SecondFactorState,
        super::error_responses::Throttled,
    ),
))]
#[server(prefix = "/api", endpoint = "users/me/recovery-codes", input = Json, client = AuthClient)]
pub async fn recovery_codes_regenerate(
    #[server(flatten)] request: ConfirmedRequest,
) -> Result<RecoveryCodesView, ApiError> {
    let (state, principal, caller) = crate::server::edge::signed_in_caller().await?;
    let proof = request.second_factor.proof();
    let recovery_codes = state
        .accounts
        .regenerate_recovery_codes(
            &principal,
            &request.current_password,
            proof,
            caller.client(),
        )
        .await?;
    Ok(RecoveryCodesView { recovery_codes })
}

/// The endpoints of this module, for the OpenAPI document.
#[cfg(feature = "ssr")]
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    second_factors,
    authenticator_setup,
    authenticator_activate,
    authenticator_remove,
    recovery_codes_regenerate
))]
pub struct Endpoints;
