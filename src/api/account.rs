//! Account self-service: edit the profile, delete the account, download my data.
//! All take `Authorization: Bearer <token>`.

use super::proofs::{SecondFactorFields, SecondFactorsView};
use super::{ApiError, UserView};
use crate::client::AuthClient;
use leptos::prelude::*;
use leptos::server_fn::codec::{GetUrl, Json};
use serde::{Deserialize, Serialize};

/// `POST /api/users/me/profile`: omitted fields keep their value.
#[derive(Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UpdateProfileRequest {
    #[serde(default)]
    #[cfg_attr(
        feature = "ssr",
        schema(min_length = 3, max_length = 32, pattern = "^[A-Za-z0-9_.-]{3,32}$")
    )]
    pub username: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(max_length = 254, format = "email"))]
    pub email: Option<String>,
    /// Required when the username or the e-mail changes.
    #[serde(default)]
    #[cfg_attr(feature = "ssr", schema(format = "password"))]
    pub current_password: Option<String>,
    /// With the password, when the account has a second factor.
    #[serde(flatten)]
    pub second_factor: SecondFactorFields,
}

debug_without_secrets!(UpdateProfileRequest { username, email });

/// Changes the username and/or e-mail (omit or send the current value to keep one).
/// Changing either needs `current_password`. 409 when taken (either, regardless of
/// case), 422 naming the field, 403 when the password is wrong.
#[cfg_attr(feature = "ssr", utoipa::path(
    post, path = "/api/users/me/profile", operation_id = "update_profile", tag = "accounts",
    summary = "Change username and/or e-mail (either needs the current password)",
    security(("bearer" = [])),
    request_body(content = UpdateProfileRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The updated account.", body = UserView),
        super::error_responses::Unauthenticated,
        super::error_responses::WrongPassword,
        super::error_responses::Conflict,
        super::error_responses::Throttled,
    ),
))]
#[server(prefix = "/api", endpoint = "users/me/profile", input = Json, client = AuthClient)]
pub async fn update_profile(
    #[server(flatten)] request: UpdateProfileRequest,
) -> Result<UserView, ApiError> {
    use crate::server::accounts::ProfileChange;

    let (state, principal, caller) = crate::server::edge::signed_in_caller().await?;
    let change = ProfileChange {
        username: request.username.as_deref(),
        email: request.email.as_deref(),
        current_password: request.current_password.as_deref(),
        second_factor: request.second_factor.proof(),
    };
    let updated = state
        .accounts
        .update_profile(&principal, change, caller.client())
        .await?;
    Ok(updated.into())
}

/// The answer to a deletion.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deleted {
    pub deleted: bool,
}

/// `POST /api/users/me/delete`.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DeleteAccountRequest {
    #[cfg_attr(feature = "ssr", schema(format = "password"))]
    pub password: String,
    /// The username, typed again to confirm.
    pub confirm: String,
    /// Needed when the account has a second factor.
    #[serde(flatten)]
    pub second_factor: SecondFactorFields,
}

debug_without_secrets!(DeleteAccountRequest { confirm });

/// Deletes the account, its image and everything else stored about it, in one
/// transaction. Needs the password and `confirm` = the username. Every token of the
/// account stops working at once; the username and e-mail become free.
#[cfg_attr(feature = "ssr", utoipa::path(
    post, path = "/api/users/me/delete", operation_id = "delete_account", tag = "accounts",
    summary = "Delete the account and everything stored about it",
    security(("bearer" = [])),
    request_body(content = DeleteAccountRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The account is gone; its tokens no longer work.", body = Deleted),
        super::error_responses::Unauthenticated,
        super::error_responses::WrongPassword,
        super::error_responses::Throttled,
    ),
))]
#[server(prefix = "/api", endpoint = "users/me/delete", input = Json, client = AuthClient)]
pub async fn delete_account(
    #[server(flatten)] request: DeleteAccountRequest,
) -> Result<Deleted, ApiError> {
    let (state, principal, caller) = crate::server::edge::signed_in_caller().await?;
    state
        .accounts
        .delete_account(
            &principal,
            (&request.password, &request.confirm),
            request.second_factor.proof(),
            caller.client(),
        )
        .await?;
    Ok(Deleted { deleted: true })
}

/// Everything Keyhold stores about the account (never the password hash).
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountExport {
    /// When this export was made (Unix seconds).
    pub exported_at: i64,
    pub profile: ExportedProfile,
    pub security: ExportedSecurity,
    /// The live sign-in sessions (refresh tokens are stored only as hashes: not included).
    pub sessions: Vec<ExportedSession>,
    /// The security activity log, newest first.
    pub activity: Vec<super::security_events::ActivityEntry>,
}

/// One sign-in session as stored.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedSession {
    pub device: String,
    pub user_agent: String,
    pub address: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub last_seen_at: i64,
    /// Unix seconds.
    pub expires_at: i64,
    /// How the session was signed in (RFC 8176 values).
    pub amr: Vec<String>,
}

#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedProfile {
    pub username: String,
    pub email: String,
    pub image_url: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub updated_at: i64,
}

#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportedSecurity {
    /// How the password is kept (the hash itself is never exported).
    pub password_storage: String,
    /// How many times every token was revoked (password changes, log out everywhere).
    pub token_revocations: i64,
    /// The second factors (their secrets and codes are never exported).
    pub second_factors: SecondFactorsView,
}

/// "Download my data": a JSON document with everything stored about the account.
#[cfg_attr(feature = "ssr", utoipa::path(
    get, path = "/api/users/me/export", operation_id = "export_data", tag = "accounts",
    summary = "Everything stored about the account, as JSON (never the password hash)",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The account's data.", body = AccountExport),
        super::error_responses::Unauthenticated,
    ),
))]
#[server(prefix = "/api", endpoint = "users/me/export", input = GetUrl, client = AuthClient)]
pub async fn export_data() -> Result<AccountExport, ApiError> {
    use crate::server::building_blocks::user_agent::describe_device;

    let (state, principal) = crate::server::edge::signed_in_session().await?;
    let sessions = state.accounts.sessions(&principal).await?;
    let activity = state.accounts.all_activity(&principal.user).await?;
    let second_factors = state
        .accounts
        .second_factor_status(principal.user.id)
        .await?;
    let current_session = principal.session_id;
    let user = principal.user;
    let exported_at = state.clock.now();
    let view = UserView::from(user.clone());
    Ok(AccountExport {
        exported_at,
        profile: ExportedProfile {
            username: view.username,
            email: view.email,
            image_url: view.image_url,
            created_at: user.created_at,
            updated_at: user.updated_at,
        },
        security: ExportedSecurity {
            password_storage: "argon2id hash (not included)".into(),
            token_revocations: user.token_generation,
            second_factors: second_factors.into(),
        },
        sessions: sessions
            .into_iter()
            .map(|s| ExportedSession {
                device: describe_device(&s.user_agent),
                user_agent: s.user_agent,
                address: s.address,
                created_at: s.created_at,
                last_seen_at: s.last_seen_at,
                expires_at: s.expires_at,
                amr: s.amr.split(',').map(str::to_owned).collect(),
            })
            .collect(),
        activity: activity
            .into_iter()
            .map(|event| event.view(&current_session))
            .collect(),
    })
}

/// The endpoints of this module, for the OpenAPI document.
#[cfg(feature = "ssr")]
#[derive(utoipa::OpenApi)]
#[openapi(paths(update_profile, delete_account, export_data))]
pub struct Endpoints;
