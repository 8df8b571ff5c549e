//! Passkeys (WebAuthn): registering one, the list, renaming and removing (all with
//! `Authorization: Bearer <token>`), and signing in with one alone. Each ceremony has
//! two steps: `start` answers a `ceremony` id and the `options` for
//! `navigator.credentials.create` / `.get`; `finish` takes the same `ceremony` and the
//! browser's answer (`credential.toJSON()`).

#[cfg(feature = "ssr")]
use super::error_responses::{
    CrossSite, InvalidCeremony, NoSuchPasskey, PasskeyConflict, PasskeysOff, Throttled,
    Unauthenticated,
};
use super::{ApiError, TokenResponse};
use crate::client::AuthClient;
use leptos::prelude::*;
use leptos::server_fn::codec::{GetUrl, Json};
use serde::{Deserialize, Serialize};

/// A ceremony begun: pass `options.publicKey` to
/// `PublicKeyCredential.parseCreationOptionsFromJSON` (registration) or
/// `parseRequestOptionsFromJSON` (log-in), and `ceremony` back with the answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PasskeyChallenge {
    /// The ceremony's id: single use, valid for 5 minutes.
    pub ceremony: String,
    /// `{"publicKey": {...}}`: WebAuthn's options in their JSON form (binary fields in
    /// base64url).
    #[cfg_attr(feature = "ssr", schema(value_type = Object))]
    pub options: serde_json::Value,
}

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

#[cfg(feature = "ssr")]
impl From<crate::server::accounts::Challenge> for PasskeyChallenge {
    fn from(challenge: crate::server::accounts::Challenge) -> Self {
        Self {
            ceremony: challenge.ceremony,
            options: challenge.options,
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
    let (state, principal) = super::users::signed_in_session().await?;
    let passkeys = state.accounts.passkeys(&principal).await?;
    Ok(passkeys.into_iter().map(PasskeyView::from).collect())
}

/// Begins registering a passkey for the user: user verification required, a
/// discoverable credential (so it can sign in alone), the user's passkeys excluded.
#[cfg_attr(feature = "ssr", utoipa::path(
    post, path = "/api/users/me/passkeys/register/start",
    operation_id = "start_passkey_registration", tag = "passkeys",
    summary = "Begin registering a passkey: options for navigator.credentials.create",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The ceremony and its options.", body = PasskeyChallenge),
        Unauthenticated,
        PasskeysOff,
        PasskeyConflict,
    ),
))]
#[server(prefix = "/api", endpoint = "users/me/passkeys/register/start", client = AuthClient)]
pub async fn start_passkey_registration() -> Result<PasskeyChallenge, ApiError> {
    let (state, principal) = super::users::signed_in_session().await?;
    let challenge = state
        .accounts
        .start_passkey_registration(&principal)
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
    let (state, principal, caller) = super::users::signed_in_caller().await?;
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
    let (state, principal) = super::users::signed_in_session().await?;
    let renamed = state
        .accounts
        .rename_passkey(&principal, request.id, &request.name)
        .await?;
    Ok(renamed.into())
}

/// `POST /api/users/me/passkeys/remove`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RemovePasskeyRequest {
    /// A passkey id from `GET /api/users/me/passkeys`.
    pub id: i64,
}

/// The answer to removing a passkey.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PasskeyRemoved {
    pub removed: bool,
}

/// Removes one of the user's passkeys: it can no longer sign in. (The authenticator
/// still holds it; the person may delete it there too.)
#[cfg_attr(feature = "ssr", utoipa::path(
    post, path = "/api/users/me/passkeys/remove", operation_id = "remove_passkey", tag = "passkeys",
    summary = "Remove one of the user's passkeys",
    security(("bearer" = [])),
    request_body(content = RemovePasskeyRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The passkey was removed.", body = PasskeyRemoved),
        Unauthenticated,
        NoSuchPasskey,
    ),
))]
#[server(prefix = "/api", endpoint = "users/me/passkeys/remove", input = Json, client = AuthClient)]
pub async fn remove_passkey(
    #[server(flatten)] request: RemovePasskeyRequest,
) -> Result<PasskeyRemoved, ApiError> {
    let (state, principal, caller) = super::users::signed_in_caller().await?;
    state
        .accounts
        .remove_passkey(&principal, request.id, caller.client())
        .await?;
    Ok(PasskeyRemoved { removed: true })
}

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
    use crate::server::{edge::client_addr, state::AppState};

    let state = AppState::from_context()?;
    let challenge = state
        .accounts
        .start_passkey_log_in(client_addr(&state))
        .await?;
    Ok(challenge.into())
}

/// `POST /api/login/passkey/finish`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PasskeyLogInRequest {
    /// From the `start` answer.
    #[cfg_attr(feature = "ssr", schema(max_length = 64))]
    pub ceremony: String,
    /// The assertion, as `credential.toJSON()` gives it.
    #[cfg_attr(feature = "ssr", schema(value_type = Object))]
    pub credential: serde_json::Value,
}

/// Verifies the passkey's assertion (user verification required) and signs in to its
/// account: the same answer and cookies as `POST /api/login`. 401 when the passkey is
/// unknown, does not verify or looks cloned; disabled accounts and unconfirmed addresses
/// are refused as at a password log-in.
#[cfg_attr(feature = "ssr", utoipa::path(
    post, path = "/api/login/passkey/finish", operation_id = "finish_passkey_log_in", tag = "passkeys",
    summary = "Finish logging in with a passkey: a bearer token, as POST /api/login",
    request_body(content = PasskeyLogInRequest, content_type = "application/json"),
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
    #[server(flatten)] request: PasskeyLogInRequest,
) -> Result<TokenResponse, ApiError> {
    use crate::server::state::AppState;

    let state = AppState::from_context()?;
    let caller = super::auth::log_in_caller(&state)?;
    let device = state.cookies.read_device(&caller.headers);
    let signed_in = state
        .accounts
        .passkey_log_in(
            &request.ceremony,
            request.credential,
            caller.client(),
            device.as_deref(),
        )
        .await?;
    Ok(super::auth::signed_in_answer(&state, signed_in))
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
    start_passkey_log_in,
    finish_passkey_log_in
))]
pub struct Endpoints;
