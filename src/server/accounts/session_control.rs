//! Ending sessions: signing out, the user's session list and revoking one, the others,
//! or all of them (log out everywhere).

use super::{AccountError, Accounts, Client, Principal};
use crate::api::security_events::ActivityKind;
use crate::server::{building_blocks::refresh_token::RefreshToken, store::Session};

impl Accounts {
    /// Ends the session of a valid access token, else of a refresh token (current or
    /// just replaced). Nothing to end is fine: signing out twice is no error.
    pub async fn sign_out(
        &self,
        access: Option<&str>,
        refresh: Option<&str>,
    ) -> Result<(), AccountError> {
        if let Ok(principal) = self.authenticate(access).await {
            return self
                .end_session(principal.user.id, &principal.session_id)
                .await;
        }
        let Some(presented) = refresh.and_then(RefreshToken::parse) else {
            return Ok(());
        };
        if let Some((session, user)) = self.store.session(&presented.session_id).await? {
            let known = std::iter::once(session.refresh_hash.as_str())
                .chain(session.previous_hash.as_deref())
                .any(|hash| presented.matches(hash));
            if known {
                self.end_session(user.id, &session.id).await?;
            }
        }
        Ok(())
    }

    pub(super) async fn end_session(&self, user_id: i64, id: &str) -> Result<(), AccountError> {
        self.store.delete_session(user_id, id).await?;
        tracing::info!(user_id, "signed out");
        Ok(())
    }

    /// The user's live sessions, most recently active first.
    pub async fn sessions(&self, principal: &Principal) -> Result<Vec<Session>, AccountError> {
        let now = self.clock.now();
        let mut sessions = self.store.sessions(principal.user.id).await?;
        sessions.retain(|s| !self.sessions.is_over(s.last_seen_at, s.expires_at, now));
        Ok(sessions)
    }

    /// Ends one of the user's sessions (possibly the caller's own).
    pub async fn revoke_session(
        &self,
        principal: &Principal,
        id: &str,
        client: Client<'_>,
    ) -> Result<(), AccountError> {
        let user_id = principal.user.id;
        if !self.store.delete_session(user_id, id).await? {
            return Err(AccountError::NoSuchSession);
        }
        let by = Some(principal.session_id.as_str());
        self.record(ActivityKind::SessionRevoked, user_id, client, by)
            .await;
        Ok(())
    }

    /// Ends every session of the user but the caller's; returns how many ended.
    pub async fn revoke_other_sessions(
        &self,
        principal: &Principal,
        client: Client<'_>,
    ) -> Result<u64, AccountError> {
        let user_id = principal.user.id;
        let by = Some(principal.session_id.as_str());
        let ended = self.store.delete_sessions(user_id, by).await?;
        self.record(ActivityKind::OtherSessionsRevoked, user_id, client, by)
            .await;
        Ok(ended)
    }

    /// Revokes every token and session of the user, this one included.
    pub async fn log_out_everywhere(
        &self,
        principal: &Principal,
        client: Client<'_>,
    ) -> Result<(), AccountError> {
        let user_id = principal.user.id;
        self.store.revoke_tokens(user_id).await?;
        self.drop_pending_email(user_id).await?;
        let by = Some(principal.session_id.as_str());
        self.record(ActivityKind::LoggedOutEverywhere, user_id, client, by)
            .await;
        Ok(())
    }
}
