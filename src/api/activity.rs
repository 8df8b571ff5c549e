//! The account's security activity log: `GET /api/users/me/activity` (newest first,
//! paged) and `POST /api/users/me/activity/not-me` ("This wasn't me"). Both take
//! `Authorization: Bearer <token>`.

#[cfg(feature = "ssr")]
use super::error_responses::{Invalid, NoSuchEntry, Unauthenticated};
use super::ApiError;
use crate::client::AuthClient;
use leptos::prelude::*;
use leptos::server_fn::codec::{GetUrl, Json};
use serde::{Deserialize, Serialize};

pub use super::security_events::{ActivityEntry, ActivityKind};

/// A page of the activity log, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ActivityPage {
    pub entries: Vec<ActivityEntry>,
    /// Pass as `before` to get the next (older) page; absent on the last page.
    pub next_before: Option<i64>,
}

/// The account's security activity (sign-ins, failures, password and e-mail changes,
/// sessions ended, …), newest first, kept for `KEYHOLD_AUDIT_RETENTION` (90 days).
#[cfg_attr(feature = "ssr", utoipa::path(
    get, path = "/api/users/me/activity", operation_id = "list_activity", tag = "accounts",
    summary = "The account's security activity, newest first, paged",
    security(("bearer" = [])),
    params(
        ("before" = Option<i64>, Query, description = "Only entries older than this entry id (a page's `next_before`)."),
        ("limit" = Option<i64>, Query, description = "Entries per page, 1 to 100 (default 20)."),
    ),
    responses(
        (status = 200, description = "A page of entries.", body = ActivityPage),
        (status = 400, description = "`limit` or `before` is not a whole number.", body = ApiError),
        Unauthenticated,
        Invalid,
    ),
))]
#[server(prefix = "/api", endpoint = "users/me/activity", input = GetUrl, client = AuthClient)]
pub async fn list_activity(
    #[server(default)] before: Option<i64>,
    #[server(default)] limit: Option<i64>,
) -> Result<ActivityPage, ApiError> {
    let (state, principal) = crate::server::edge::signed_in_session().await?;
    let (entries, next_before) = state
        .accounts
        .activity(&principal.user, before, limit)
        .await?;
    Ok(ActivityPage {
        entries: entries
            .into_iter()
            .map(|event| event.view(&principal.session_id))
            .collect(),
        next_before,
    })
}

/// `POST /api/users/me/activity/not-me`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NotMeRequest {
    /// The entry's `id`.
    pub id: i64,
}

/// What "This wasn't me" did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NotMeResponse {
    /// How many other sessions were ended.
    pub sessions_ended: u64,
    /// Always true: change the password next (`POST /api/users/me/password`).
    pub change_password: bool,
}

/// "This wasn't me" about one entry: ends every session but the caller's at once and
/// records the report; the caller should then change the password. 404 (field `id`)
/// when the account has no such entry.
#[cfg_attr(feature = "ssr", utoipa::path(
    post, path = "/api/users/me/activity/not-me", operation_id = "report_not_me", tag = "accounts",
    summary = "Report an entry as not you: every other session ends",
    security(("bearer" = [])),
    request_body(content = NotMeRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "Every other session ended; change the password next.", body = NotMeResponse),
        Unauthenticated,
        NoSuchEntry,
    ),
))]
#[server(prefix = "/api", endpoint = "users/me/activity/not-me", input = Json, client = AuthClient)]
pub async fn report_not_me(
    #[server(flatten)] request: NotMeRequest,
) -> Result<NotMeResponse, ApiError> {
    let (state, principal, caller) = crate::server::edge::signed_in_caller().await?;
    let sessions_ended = state
        .accounts
        .report_not_me(&principal, request.id, caller.client())
        .await?;
    Ok(NotMeResponse {
        sessions_ended,
        change_password: true,
    })
}

/// The endpoints of this module, for the OpenAPI document.
#[cfg(feature = "ssr")]
#[derive(utoipa::OpenApi)]
#[openapi(paths(list_activity, report_not_me))]
pub struct Endpoints;
