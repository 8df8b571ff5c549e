//! Who calls a server function: the `Caller` (headers, client address, user agent) and
//! the signed-in account of its `Authorization: Bearer` token (`signed_in*`).

use super::request_context::{bearer_token, client_addr, request_headers};
use crate::api::ApiError;
use crate::server::{
    accounts::{Client, Principal},
    runtime::state::AppState,
    store::User,
};
use http::HeaderMap;
use std::net::IpAddr;

/// Who is calling: the request's headers, the client's address and its user agent.
pub struct Caller {
    pub headers: HeaderMap,
    pub addr: IpAddr,
    pub user_agent: String,
}

impl Caller {
    /// The caller of the request being served.
    pub fn current(state: &AppState) -> Result<Self, ApiError> {
        let headers = request_headers()?;
        let user_agent = headers
            .get(http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        Ok(Self {
            addr: client_addr(state),
            headers,
            user_agent,
        })
    }

    /// Where the request comes from, for the session record.
    pub fn client(&self) -> Client<'_> {
        Client {
            addr: self.addr,
            user_agent: &self.user_agent,
        }
    }
}

/// The app state and the user of the request's bearer token.
pub async fn signed_in() -> Result<(AppState, User), ApiError> {
    let (state, principal) = signed_in_session().await?;
    Ok((state, principal.user))
}

/// The app state, the user and session of the request's bearer token, and who calls
/// (for the activity log and the throttles).
pub async fn signed_in_caller() -> Result<(AppState, Principal, Caller), ApiError> {
    let (state, principal) = signed_in_session().await?;
    let caller = Caller::current(&state)?;
    Ok((state, principal, caller))
}

/// The app state and the user and session of the request's bearer token.
pub async fn signed_in_session() -> Result<(AppState, Principal), ApiError> {
    let state = AppState::from_context()?;
    let principal = state
        .accounts
        .authenticate(bearer_token()?.as_deref())
        .await?;
    Ok((state, principal))
}
