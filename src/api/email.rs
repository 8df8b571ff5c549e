//! Confirming addresses: `POST /api/email/verify` follows a confirmation link,
//! `POST /api/email/verify/resend` (signed in) sends a new one, and
//! `POST /api/email/undo-change` follows the link the old address got after a change.

#[cfg(feature = "ssr")]
use super::error_responses::{Conflict, InvalidLink, Throttled, Unauthenticated};
use super::ApiError;
use crate::client::AuthClient;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};

/// A link's token: `POST /api/email/verify` and `POST /api/email/undo-change`.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LinkToken {
    /// The `token` of the link in the mail.
    #[cfg_attr(feature = "ssr", schema(max_length = 64))]
    pub token: String,
}

debug_without_secrets!(LinkToken {});

/// The account's address after a link was followed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct EmailConfirmed {
    /// The account's address now.
    pub email: String,
    /// Always true: `email` is confirmed.
    pub verified: bool,
}

/// Follows a confirmation link (valid 24 hours, single use): the address is confirmed,
/// or, after a change, the new address becomes the account's (and the old one is sent
/// a link that undoes it).
#[cfg_attr(feature = "ssr", utoipa::path(
    post, path = "/api/email/verify", operation_id = "verify_email", tag = "recovery",
    summary = "Confirm an e-mail address with the link's token",
    request_body(content = LinkToken, content_type = "application/json"),
    responses(
        (status = 200, description = "The address is confirmed.", body = EmailConfirmed),
        InvalidLink,
        Conflict,
        Throttled,
    ),
))]
#[server(prefix = "/api", endpoint = "email/verify", input = Json)]
pub async fn verify_email(
    #[server(flatten)] request: LinkToken,
) -> Result<EmailConfirmed, ApiError> {
    use crate::server::{edge::Caller, runtime::state::AppState};

    let state = AppState::from_context()?;
    let caller = Caller::current(&state)?;
    let user = state
        .accounts
        .verify_email(&request.token, caller.client())
        .await?;
    Ok(EmailConfirmed {
        email: user.email,
        verified: true,
    })
}

/// Where a new confirmation link went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ConfirmationSent {
    pub sent_to: String,
}

/// Sends a new confirmation link to the address waiting for confirmation, else to the
/// account's own if it is not confirmed yet (422 on field `email` when there is
/// nothing to confirm; 429 when one went out less than a minute ago).
#[cfg_attr(feature = "ssr", utoipa::path(
    post, path = "/api/email/verify/resend", operation_id = "resend_confirmation", tag = "recovery",
    summary = "Send a new confirmation link",
    security(("bearer" = [])),
    responses(
        (status = 202, description = "A new link is on its way.", body = ConfirmationSent),
        Unauthenticated,
        Throttled,
    ),
))]
#[server(prefix = "/api", endpoint = "email/verify/resend", client = AuthClient)]
pub async fn resend_confirmation() -> Result<ConfirmationSent, ApiError> {
    use crate::server::edge::set_status;

    let (state, principal, caller) = crate::server::edge::signed_in_caller().await?;
    let sent_to = state
        .accounts
        .resend_confirmation(&principal, caller.client())
        .await?;
    set_status(http::StatusCode::ACCEPTED);
    Ok(ConfirmationSent { sent_to })
}

/// Follows the link the old address got after an address change (valid 7 days): the
/// old address is back, confirmed, and every session and token of the account ends.
#[cfg_attr(feature = "ssr", utoipa::path(
    post, path = "/api/email/undo-change", operation_id = "undo_email_change", tag = "recovery",
    summary = "Undo an e-mail address change with the link sent to the old address",
    request_body(content = LinkToken, content_type = "application/json"),
    responses(
        (status = 200, description = "The old address is back; every session ended.", body = EmailConfirmed),
        InvalidLink,
        Conflict,
        Throttled,
    ),
))]
#[server(prefix = "/api", endpoint = "email/undo-change", input = Json)]
pub async fn undo_email_change(
    #[server(flatten)] request: LinkToken,
) -> Result<EmailConfirmed, ApiError> {
    use crate::server::{edge::Caller, runtime::state::AppState};

    let state = AppState::from_context()?;
    let caller = Caller::current(&state)?;
    let user = state
        .accounts
        .undo_email_change(&request.token, caller.client())
        .await?;
    Ok(EmailConfirmed {
        email: user.email,
        verified: true,
    })
}

/// The endpoints of this module, for the OpenAPI document.
#[cfg(feature = "ssr")]
#[derive(utoipa::OpenApi)]
#[openapi(paths(verify_email, resend_confirmation, undo_email_change))]
pub struct Endpoints;
