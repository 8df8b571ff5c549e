//! The first-party answer to a completed log-in: an access token (JWT) naming the
//! session, and the session's refresh token for the browser's cookie. One consumer of
//! [`OpenedSession`](super::OpenedSession); the HTTP answer (cookies, JSON body) is
//! made at the edge (`api/auth.rs`).

use super::{AccountError, Accounts, OpenedSession};
use crate::server::building_blocks::{refresh_token::RefreshToken, token::IssuedToken};

/// A first-party sign-in: the access token and the session's refresh token.
#[derive(Debug, Clone)]
pub struct SignIn {
    pub access: IssuedToken,
    pub refresh: RefreshToken,
    /// When the session ends at the latest (unix seconds): the cookie's lifetime.
    pub expires_at: i64,
    /// A new device cookie for the browser (`None`: it proved a valid one).
    pub device: Option<String>,
}

impl Accounts {
    /// Issues the access token of the session `opened`.
    pub fn issue_first_party(&self, opened: OpenedSession) -> Result<SignIn, AccountError> {
        let user = &opened.user;
        let access = self.tokens.issue(
            user.id,
            user.token_generation,
            opened.session_id(),
            &opened.amr,
        )?;
        Ok(SignIn {
            access,
            refresh: opened.refresh,
            expires_at: opened.expires_at,
            device: opened.device,
        })
    }
}
