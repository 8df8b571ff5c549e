//! The signed-in user: `GET /api/users/me` with `Authorization: Bearer <token>`.

use super::{ApiError, UserView};
use crate::client::AuthClient;
use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;

/// The user the bearer token belongs to; 401 when the token is missing or rejected.
#[server(prefix = "/api", endpoint = "users/me", input = GetUrl, client = AuthClient)]
pub async fn current_user() -> Result<UserView, ApiError> {
    use crate::server::{edge::bearer_token, state::AppState};

    let state = AppState::from_context()?;
    let user = state
        .accounts
        .authenticate(bearer_token()?.as_deref())
        .await?;
    Ok(user.into())
}
