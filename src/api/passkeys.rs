//! Passkeys (WebAuthn) of the signed-in account (all with `Authorization: Bearer
//! <token>`): registering one, the list, renaming and removing, and confirming a
//! sensitive change with one. Each ceremony has two steps: `start` answers a `ceremony`
//! id and the `options` for `navigator.credentials.create` / `.get`; the browser's
//! answer (`credential.toJSON()`) goes back with the same `ceremony`. Signing in with a
//! passkey is in `passkey_log_in.rs`.

#[cfg(feature = "ssr")]
use super::error_responses::{
    InvalidCeremony, NoSuchPasskey, PasskeyConflict, PasskeysOff, SecondFactorState, Throttled,
    Unauthenticated, WrongPassword,
};
use super::proofs::{ConfirmedRequest, PasskeyChallenge, SecondFactorFields};
use super::ApiError;
use crate::client::AuthClient;
use leptos::prelude::*;
use leptos::server_fn::codec::{GetUrl, Json};
use serde::{Deserialize, Serialize};

/// One of the user's passkeys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PasskeyView {
    /// Pass it to rename or remove the passkey.
    pub id: i64,
    pub name: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds of the latest sign-in with it (none yet: `null`).
    pub last_used_at: Option<i64>,
}

#[cfg(feature = "ssr")]
impl From<crate::server::store::StoredPasskey> for PasskeyView {
    fn from(stored: crate::server::store::StoredPasskey) -> Self {
        Self {
            id: stored.id,
            name: stored.name,
            created_at: stored.created_at,
            last_used_at: stored.last_used_at,
        }
    }
}

/// The user's passkeys, oldest first.
#[cfg_attr(feature = "ssr", utoipa::path(
    get, path = "/api/users/me/passkeys", operation_id = "list_passkeys", tag = "passkeys",
    summary = "The user's passkeys, oldest first",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The passkeys.", body = Vec<PasskeyView>),
        Unauthenticated,
        PasskeysOff,
    ),
))]
#[server(prefix = "/api", endpoint = "users/me/passkeys", input = GetUrl, client = AuthClient)]
pub async fn list_passkeys() -> Result<Vec<PasskeyView>, ApiError> {
    let (state, principal) = crate::server::edge::signed_in_session().await?;
    let passkeys = state.accounts.passkeys(&principal).await?;
    Ok(passkeys.into_iter().map(PasskeyView::from).collect())
}

/// Begins registering a passkey for the user: user verification required, a
/// discoverable credential (so it can sign in alone), the user's passkeys excluded. A
/// change of second factors: needs the password, and the second factor once there is one.
#[cfg_attr(feature = "ssr", utoipa::path(
    post, path = "/api/users/me/passkeys/register/start",
    operation_id = "start_passkey_registration", tag = "passkeys",
    summary = "Begin registering a passkey: options for navigator.credentials.create",
    security(("bearer" = [])),
    request_body(content = ConfirmedRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The ceremony and its options.", body = PasskeyChallenge),
        InvalidCeremony,
        Unauthenticated,
        WrongPassword,
        PasskeysOff,
        PasskeyConflict,
        Throttled,
    ),
))]
#[server(prefix = "/api", endpoint = "users/me/passkeys/register/start", input = Json, client = AuthClient)]
pub async fn start_passkey_registration(
    #[server(flatten)] request: ConfirmedRequest,
) -> Result<PasskeyChallenge, ApiError> {
    let (state, principal, caller) = crate::server::edge::signed_in_caller().await?;
    let password = request.current_password.as_str();
    let challenge = state
        .accounts
        .start_passkey_registration(
            &principal,
            (password, request.second_factor.proof()),
            caller.client(),
        )
        .await?;
    Ok(challenge.into())
}

/// `POST /api/users/me/passkeys/register/finish`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RegisterPasskeyRequest {
    /// From the `start` answer.
    #[cfg_attr(feature = "ssr", schema(max_length = 64))]
    pub ceremony: String,
    /// 1–64 characters, such as "Laptop" or "Phone".
    #[cfg_attr(feature = "ssr", schema(max_length = 64))]
    pub name: String,
    /// The new credential, as `credential.toJSON()` gives it.
    #[cfg_attr(feature = "ssr", schema(value_type = Object))]
    pub credential: serde_json::Value,
}

/// Verifies the authenticator's answer and stores the passkey. 422 (field `credential`)
/// when it does not verify, 409 when it is registered already.
#[cfg_attr(feature = "ssr", utoipa::path(
    post, path = "/api/users/me/passkeys/register/finish",
    operation_id = "finish_passkey_registration", tag = "passkeys",
    summary = "Finish registering a passkey with the browser's answer",
    security(("bearer" = [])),
    request_body(content = RegisterPasskeyRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "The passkey was added.", body = PasskeyView),
        InvalidCeremony,
        Unauthenticated,
        PasskeysOff,
        PasskeyConflict,
    ),
))]
#[server(prefix = "/api", endpoint = "users/me/passkeys/register/finish", input = Json, client = AuthClient)]
pub async fn finish_passkey_registration(
    #[server(flatten)] request: RegisterPasskeyRequest,
) -> Result<PasskeyView, ApiError> {
    let (state, principal, caller) = crate::server::edge::signed_in_caller().await?;
    let added = state
        .accounts
        .finish_passkey_registration(
            &principal,
            &request.ceremony,
            &request.name,
            request.credential,
            caller.client(),
        )
        .await?;
    crate::server::edge::set_status(http::StatusCode::CREATED);
    Ok(added.into())
}

/// `POST /api/users/me/passkeys/rename`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RenamePasskeyRequest {
    /// A passkey id from `GET /api/users/me/passkeys`.
    pub id: i64,
    /// 1–64 characters.
    #[cfg_attr(feature = "ssr", schema(max_length = 64))]
    pub name: String,
}

/// Renames one of the user's passkeys.
#[cfg_attr(feature = "ssr", utoipa::path(
    post, path = "/api/users/me/passkeys/rename", operation_id = "rename_passkey", tag = "passkeys",
    summary = "Rename one of the user's passkeys",
    security(("bearer" = [])),
    request_body(content = RenamePasskeyRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The renamed passkey.", body = PasskeyView),
        Unauthenticated,
        NoSuchPasskey,
    ),
))]
#[server(prefix = "/api", endpoint = "users/me/passkeys/rename", input = Json, client = AuthClient)]
pub async fn rename_passkey(
    #[server(flatten)] request: RenamePasskeyRequest,
) -> Result<PasskeyView, ApiError> {
    let (state, principal) = crate::server::edge::signed_in_session().await?;
    let renamed = state
        .accounts
        .rename_passkey(&principal, request.id, &request.name)
        .await?;
    Ok(renamed.into())
}

/// `POST /api/users/me/passkeys/remove`.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RemovePasskeyRequest {
    /// A passkey id from `GET /api/users/me/passkeys`.
    pub id: i64,
    #[cfg_attr(feature = "ssr", schema(format = "password"))]
    pub current_password: String,
    #[serde(flatten)]
    pub second_factor: SecondFactorFields,
}

debug_without_secrets!(RemovePasskeyRequest { id });

/// The answer to removing a passkey.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PasskeyRemoved {
    pub removed: bool,
}

/// Removes one of the user's passkeys: it can no longer sign in. (The authenticator
/// still holds it; the person may delete it there too.) Needs the password, and the
/// second factor (this passkey too may confirm its own removal).
#[cfg_attr(feature = "ssr", utoipa::path(
    post, path = "/api/users/me/passkeys/remove", operation_id = "remove_passkey", tag = "passkeys",
    summary = "Remove one of the user's passkeys",
    security(("bearer" = [])),
    request_body(content = RemovePasskeyRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The passkey was removed.", body = PasskeyRemoved),
        InvalidCeremony,
        Unauthenticated,
        WrongPassword,
        NoSuchPasskey,
        Throttled,
    ),
))]
#[server(prefix = "/api", endpoint = "users/me/passkeys/remove", input = Json, client = AuthClient)]
pub async fn remove_passkey(
    #[server(flatten)] request: RemovePasskeyRequest,
) -> Result<PasskeyRemoved, ApiError> {
    let (state, principal, caller) = crate::server::edge::signed_in_caller().await?;
    let password = request.current_password.as_str();
    state
        .accounts
        .remove_passkey(
            &principal,
            request.id,
            (password, request.second_factor.proof()),
            caller.client(),
        )
        .await?;
    Ok(PasskeyRemoved { removed: true })
}

/// Begins confirming a sensitive change (password, e-mail, second factors, deletion)
/// with a passkey: send the answer as `passkey` beside the password in that request.
#[cfg_attr(feature = "ssr", utoipa::path(
    post, path = "/api/users/me/passkeys/confirm", operation_id = "start_passkey_confirmation", tag = "passkeys",
    summary = "Begin confirming a change with a passkey: options for navigator.credentials.get",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The ceremony and its options.", body = PasskeyChallenge),
        Unauthenticated,
        PasskeysOff,
        SecondFactorState,
        Throttled,
    ),
))]
#[server(prefix = "/api", endpoint = "users/me/passkeys/confirm", client = AuthClient)]
pub async fn start_passkey_confirmation() -> Result<PasskeyChallenge, ApiError> {
    let (state, principal, caller) = crate::server::edge::signed_in_caller().await?;
    let challenge = state
        .accounts
        .start_passkey_confirmation(&principal, caller.client())
        .await?;
    Ok(challenge.into())
}

/// The endpoints of this module, for the OpenAPI document.
#[cfg(feature = "ssr")]
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    list_passkeys,
    start_passkey_registration,
    finish_passkey_registration,
    rename_passkey,
    remove_passkey,
    start_passkey_confirmation
))]
pub struct Endpoints;
