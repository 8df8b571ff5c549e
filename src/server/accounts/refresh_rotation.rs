//! Sessions begin at log-in and are kept alive by the refresh cookie: every refresh
//! rotates its token, and replaying any token it replaced ends the session (theft
//! detection). A session opened under an older token generation is over.

use super::{truncate, AccountError, Accounts, Client, Refreshed, MAX_USER_AGENT};
use crate::api::security_events::ActivityKind;
use crate::server::{
    building_blocks::refresh_token::RefreshToken,
    store::{Rotation, Session, SessionLimits, User},
};

impl Accounts {
    /// Starts a session for `user` (after a log-in), authenticated by `amr` (RFC 8176):
    /// its refresh token, and when it ends at the latest (unix seconds).
    pub(super) async fn open_session(
        &self,
        user: &User,
        client: Client<'_>,
        amr: &[&str],
    ) -> Result<(RefreshToken, i64), AccountError> {
        let now = self.clock.now();
        let refresh = RefreshToken::generate();
        let session = Session {
            id: refresh.session_id.clone(),
            user_id: user.id,
            created_at: now,
            last_seen_at: now,
            expires_at: self.sessions.expires_at(now),
            user_agent: truncate(client.user_agent, MAX_USER_AGENT),
            address: client.addr.to_string(),
            refresh_hash: refresh.hash(),
            previous_hash: None,
            rotated_at: now,
            generation: user.token_generation,
            amr: amr.join(","),
        };
        let limits = SessionLimits {
            idle_cutoff: self.sessions.idle_cutoff(now),
            max_per_user: i64::from(self.sessions.max_per_user),
        };
        if !self.store.create_session(&session, limits).await? {
            // A password change or log-out-everywhere landed while the password was
            // being checked: this log-in must not outlive it.
            return Err(AccountError::SessionEnded);
        }
        Ok((refresh, session.expires_at))
    }

    /// Exchanges a refresh token for a new access token and rotates it. Replaying the
    /// token it replaced after the grace window ends the whole session (theft detection).
    pub async fn refresh(
        &self,
        token: Option<&str>,
        client: Client<'_>,
    ) -> Result<Refreshed, AccountError> {
        let presented = token
            .and_then(RefreshToken::parse)
            .ok_or(AccountError::SessionEnded)?;
        let (session, user) = self.live_session(&presented.session_id).await?;
        let now = self.clock.now();
        if presented.matches(&session.refresh_hash) {
            let next = RefreshToken::for_session(session.id.clone());
            let user_agent = truncate(client.user_agent, MAX_USER_AGENT);
            let rotation = Rotation {
                from: &session.refresh_hash,
                to: &next.hash(),
                now,
                user_agent: &user_agent,
                address: &client.addr.to_string(),
            };
            let rotated = self
                .store
                .rotate_session(user.id, &session.id, rotation)
                .await?;
            let access =
                self.tokens
                    .issue(user.id, user.token_generation, &session.id, &session.amr)?;
            // Lost a race with another refresh of this token: that one rotated it, and
            // its answer carries the new cookie.
            if rotated {
                metrics::counter!("keyhold_refresh_rotations_total").increment(1);
            }
            let refresh = rotated.then_some((next, session.expires_at));
            return Ok(Refreshed { access, refresh });
        }
        let just_replaced = session
            .previous_hash
            .as_deref()
            .is_some_and(|previous| presented.matches(previous));
        if just_replaced && self.sessions.in_grace(session.rotated_at, now) {
            let access =
                self.tokens
                    .issue(user.id, user.token_generation, &session.id, &session.amr)?;
            return Ok(Refreshed {
                access,
                refresh: None,
            });
        }
        if !self
            .store
            .was_retired(&session.id, &presented.hash())
            .await?
        {
            // Not a token this session ever handed out (a forgery by somebody who only
            // knows the session id, which every access token shows): refuse it, but do
            // not let it end the session.
            return Err(AccountError::SessionEnded);
        }
        // An earlier token of this session (one of the last `RETIRED_HASHES_KEPT`
        // replaced): two parties hold this session's tokens, so neither keeps it.
        self.store.delete_session(user.id, &session.id).await?;
        metrics::counter!("keyhold_refresh_reuse_detected_total").increment(1);
        tracing::warn!(
            user_id = user.id,
            "a replaced refresh token was replayed; the session was ended"
        );
        self.record(
            ActivityKind::RefreshReuseDetected,
            user.id,
            client,
            Some(&session.id),
        )
        .await;
        Err(AccountError::SessionEnded)
    }

    /// The session `id` and its user, if it is still live (an expired one is removed).
    pub(super) async fn live_session(&self, id: &str) -> Result<(Session, User), AccountError> {
        let (session, user) = self
            .store
            .session(id)
            .await?
            .ok_or(AccountError::SessionEnded)?;
        // Disabling an account ends its sessions; this holds even against a cached row.
        let superseded = session.generation != user.token_generation || user.disabled_at.is_some();
        if superseded
            || self
                .sessions
                .is_over(session.last_seen_at, session.expires_at, self.clock.now())
        {
            self.store.delete_session(user.id, &session.id).await?;
            return Err(AccountError::SessionEnded);
        }
        Ok((session, user))
    }
}
