//! Signing in with a passkey: alone (`POST /api/login/passkey/start` and `/finish`,
//! discoverable credentials), or as the second factor after the password
//! (`POST /api/login/mfa/passkey` begins it; the answer goes to `POST /api/login/mfa`).

#[cfg(feature = "ssr")]
use super::error_responses::{
    CrossSite, InvalidCeremony, PasskeysOff, SecondFactorState, Throttled, Unauthenticated,
};
use super::proofs::{PasskeyAssertion, PasskeyChallenge};
use super::{ApiError, TokenResponse};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};

/// Begins a passwordless log-in: a challenge any passkey of this site may answer (the
/// browser lets the person choose). Throttled per address.
#[cfg_attr(feature = "ssr", utoipa::path(
    post, path = "/api/login/passkey/start", operation_id = "start_passkey_log_in", tag = "passkeys",
    summary = "Begin logging in with a passkey: options for navigator.credentials.get",
    responses(
        (status = 200, description = "The ceremony and its options.", body = PasskeyChallenge),
        PasskeysOff,
        Throttled,
    ),
))]
#[server(prefix = "/api", endpoint = "login/passkey/start")]
pub async fn start_passkey_log_in() -> Result<PasskeyChallenge, ApiError> {
    use crate::server::{edge::client_addr, runtime::state::AppState};

    let state = AppState::from_context()?;
    let challenge = state
        .accounts
        .start_passkey_log_in(client_addr(&state))
        .await?;
    Ok(challenge.into())
}

/// Verifies the passkey's assertion (user verification required) and signs in to its
/// account: the same answer and cookies as `POST /api/login`. 401 when the passkey is
/// unknown, does not verify or looks cloned; disabled accounts and unconfirmed addresses
/// are refused as at a password log-in.
#[cfg_attr(feature = "ssr", utoipa::path(
    post, path = "/api/login/passkey/finish", operation_id = "finish_passkey_log_in", tag = "passkeys",
    summary = "Finish logging in with a passkey: a bearer token, as POST /api/login",
    request_body(content = PasskeyAssertion, content_type = "application/json"),
    responses(
        (status = 200, description = "A bearer token.", body = TokenResponse),
        InvalidCeremony,
        Unauthenticated,
        CrossSite,
        PasskeysOff,
        Throttled,
    ),
))]
#[server(prefix = "/api", endpoint = "login/passkey/finish", input = Json)]
pub async fn finish_passkey_log_in(
    #[server(flatten)] request: PasskeyAssertion,
) -> Result<TokenResponse, ApiError> {
    use crate::server::runtime::state::AppState;

    let state = AppState::from_context()?;
    let caller = super::auth::log_in_caller(&state)?;
    let device = state.cookies.read_device(&caller.headers);
    let person = state
        .accounts
        .passkey_log_in(
            &request.ceremony,
            request.credential,
            caller.client(),
            device.as_deref(),
        )
        .await?;
    super::auth::signed_in_answer(&state, &caller, person).await
}

/// `POST /api/login/mfa/passkey`.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PasskeySecondFactorRequest {
    /// From the `mfa_required` answer of `POST /api/login`.
    #[cfg_attr(feature = "ssr", schema(max_length = 64))]
    pub mfa_token: String,
}

debug_without_secrets!(PasskeySecondFactorRequest {});

/// Begins the passkey step of a log-in that answered `mfa_required` with `webauthn`
/// among its `methods`: options naming the account's passkeys. Send the answer to
/// `POST /api/login/mfa` as `{"mfa_token", "passkey": {"ceremony", "credential"}}`.
#[cfg_attr(feature = "ssr", utoipa::path(
    post, path = "/api/login/mfa/passkey", operation_id = "start_passkey_second_factor", tag = "passkeys",
    summary = "Begin the passkey step of a log-in: options for navigator.credentials.get",
    request_body(content = PasskeySecondFactorRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The ceremony and its options.", body = PasskeyChallenge),
        Unauthenticated,
        PasskeysOff,
        SecondFactorState,
    ),
))]
#[server(prefix = "/api", endpoint = "login/mfa/passkey", input = Json)]
pub async fn start_passkey_second_factor(
    #[server(flatten)] request: PasskeySecondFactorRequest,
) -> Result<PasskeyChallenge, ApiError> {
    use crate::server::{edge::Caller, runtime::state::AppState};

    let state = AppState::from_context()?;
    let caller = Caller::current(&state)?;
    let challenge = state
        .accounts
        .start_passkey_second_factor(&request.mfa_token, caller.client())
        .await?;
    Ok(challenge.into())
}

/// The endpoints of this module, for the OpenAPI document.
#[cfg(feature = "ssr")]
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    start_passkey_log_in,
    finish_passkey_log_in,
    start_passkey_second_factor
))]
pub struct Endpoints;
