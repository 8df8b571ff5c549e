//! Sign-up and log-in: `POST /api/register` (JSON) and `POST /api/login` (OAuth2 password form).

use super::{ApiError, TokenResponse, UserView};
use crate::client::AuthClient;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

/// Creates an account. Answers 201 with the new user, 409 when the username or e-mail
/// is taken, 422 naming the field when the input breaks a rule.
#[server(prefix = "/api", endpoint = "register", input = Json, client = AuthClient)]
pub async fn register(
    username: String,
    email: String,
    password: String,
) -> Result<UserView, ApiError> {
    use crate::server::{edge::set_status, state::AppState};

    let state = AppState::from_context()?;
    let user = state
        .accounts
        .register(&username, &email, &password)
        .await?;
    set_status(http::StatusCode::CREATED);
    Ok(user.into())
}

/// Exchanges a username (or e-mail) and password for a bearer token, exactly as an
/// OAuth2 password-grant client sends it (`application/x-www-form-urlencoded`).
/// Extra OAuth2 fields (`grant_type`, `scope`, `client_id`) are accepted and ignored.
/// Each log-in opens a session; the answer also sets the session's refresh cookie,
/// which browsers use to renew the short-lived token (`POST /api/refresh`). A request
/// with an `Origin` header must come from the site itself (403 otherwise).
#[server(prefix = "/api", endpoint = "login", client = AuthClient)]
pub async fn login(username: String, password: String) -> Result<TokenResponse, ApiError> {
    use super::sessions::{client, user_agent};
    use crate::server::{
        edge::{request_headers, set_cookie},
        state::AppState,
        unix_now,
    };

    let state = AppState::from_context()?;
    let headers = request_headers()?;
    // A browser on another site must not sign this browser in to an account of its
    // choosing (login CSRF: the answer sets the refresh cookie). Programs send no Origin.
    if headers.contains_key(http::header::ORIGIN) {
        super::sessions::check_origin(&state, &headers)?;
    }
    let user_agent = user_agent(&headers);
    let client = client(&state, &user_agent);
    let signed_in = state.accounts.login(&username, &password, client).await?;
    set_cookie(
        state
            .cookies
            .set(&signed_in.refresh, signed_in.expires_at, unix_now()),
    );
    let access = signed_in.access;
    Ok(TokenResponse::bearer(access.token, access.expires_in))
}
