//! The browser session the server can see: every browser sign-in also sets a cookie
//! naming its session (`session_cookie.rs`), which page requests carry. It is good for
//! exactly as long as the session: each use looks the session up as a bearer token's
//! use does (ended, expired, idle, superseded by a password change or log-out
//! everywhere, or a disabled account: no one).

use super::{AccountError, Accounts, Principal};

impl Accounts {
    /// The browser session cookie's value for session `session_id`.
    pub fn session_cookie(&self, session_id: &str) -> String {
        self.session_cookies.seal(session_id)
    }

    /// Who the browser session cookie `value` speaks for, if this server made it and
    /// its session is live. `SessionEnded` otherwise.
    pub async fn browser_session(&self, value: &str) -> Result<Principal, AccountError> {
        let session_id = self
            .session_cookies
            .open(value)
            .ok_or(AccountError::SessionEnded)?;
        let (session, user) = self.live_session(session_id).await?;
        self.principal(session, user).await
    }
}
