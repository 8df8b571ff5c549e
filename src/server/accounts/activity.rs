//! The security activity log: what happened to an account (sign-ins, failures, changes,
//! sessions ended), recorded as it happens, read back by its owner, "This wasn't me",
//! and pruned after the retention period. Every entry is also a structured log line
//! (target `keyhold::audit`); a change to how the account signs in is also mailed to its
//! owner (`messages::security_notice`), once per entry: a repeat folded into it sends
//! nothing more.

use super::{truncate, AccountError, Accounts, Client, Principal, MAX_USER_AGENT};
use crate::api::security_events::{ActivityEntry, ActivityKind};
use crate::server::{
    building_blocks::{user_agent::describe_device, validation::Invalid},
    mail::messages::{self, Composed},
    store::{ActivityStore, Fold, NewEvent, Recorded, StoredEvent, User},
};
use std::time::Duration;

/// Repeats within this long of the entry's latest are one entry (with a count).
const FOLD_WINDOW_SECS: i64 = 15 * 60;
const DEFAULT_PAGE: i64 = 20;
const MAX_PAGE: i64 = 100;
/// The data export includes at most this many entries (far more than retention holds
/// for any real account).
const MAX_EXPORTED: usize = 10_000;

/// Where an event came from: a request's client, or the admin command line.
#[derive(Debug, Clone, Copy)]
pub struct Origin<'a> {
    pub address: &'a str,
    pub user_agent: &'a str,
    pub session_id: Option<&'a str>,
}

/// How an event of `kind` folds into an earlier entry, if it does.
fn fold(kind: ActivityKind, now: i64) -> Option<Fold> {
    let since = now - FOLD_WINDOW_SECS;
    match kind {
        // Anyone can cause these, from anywhere: one entry per run of them.
        ActivityKind::LoginFailed
        | ActivityKind::LoginThrottled
        | ActivityKind::SecondFactorFailed
        | ActivityKind::PasskeyLoginFailed => Some(Fold::IntoLatest { since }),
        // What a signed-in session can repeat at will: one entry per session and kind
        // (another session's, the owner's or an intruder's, is never folded into it).
        ActivityKind::SessionRevoked
        | ActivityKind::OtherSessionsRevoked
        | ActivityKind::ReportedNotMe
        | ActivityKind::PasswordChanged
        | ActivityKind::UsernameChanged
        | ActivityKind::EmailChangeRequested
        | ActivityKind::AuthenticatorAppAdded
        | ActivityKind::AuthenticatorAppRemoved
        | ActivityKind::RecoveryCodesRegenerated
        | ActivityKind::PasskeyAdded
        | ActivityKind::PasskeyRemoved => Some(Fold::SameSession { since }),
        _ => None,
    }
}

/// Records `kind` for user `user_id` at `now`: one log line, and one entry in the
/// database, or one more in the count of an earlier one (best effort: a database error
/// is logged and counted, does not undo what the event reports, and counts as added).
pub async fn record_event(
    store: &dyn ActivityStore,
    kind: ActivityKind,
    user_id: i64,
    origin: Origin<'_>,
    now: i64,
) -> Recorded {
    announce(kind, user_id, origin);
    store_event(store, kind, user_id, origin, now).await
}

/// `record_event` without the log line: the store part, for an entry announced already
/// (the deferred ones are announced when queued, `deferred_activity.rs`).
pub(super) async fn store_event(
    store: &dyn ActivityStore,
    kind: ActivityKind,
    user_id: i64,
    origin: Origin<'_>,
    now: i64,
) -> Recorded {
    let event = NewEvent {
        user_id,
        kind: kind.name(),
        at: now,
        address: origin.address,
        user_agent: &truncate(origin.user_agent, MAX_USER_AGENT),
        session_id: origin.session_id,
        fold: fold(kind, now),
    };
    store.record_event(event).await.unwrap_or_else(|e| {
        metrics::counter!("keyhold_db_errors_total").increment(1);
        tracing::error!(reason = %e, event = kind.name(), user_id, "cannot store a security event");
        Recorded::Added
    })
}

/// The event's log line (target `keyhold::audit`) and count.
pub(super) fn announce(kind: ActivityKind, user_id: i64, origin: Origin<'_>) {
    tracing::info!(
        target: "keyhold::audit",
        event = kind.name(),
        user_id,
        address = origin.address,
        session = origin.session_id,
        "security event"
    );
    metrics::counter!("keyhold_security_events_total", "kind" => kind.name()).increment(1);
}

impl StoredEvent {
    /// The entry as its owner sees it, from the session `current_session`.
    pub fn view(self, current_session: &str) -> ActivityEntry {
        ActivityEntry {
            current_session: self.session_id.as_deref() == Some(current_session),
            id: self.id,
            kind: ActivityKind::from_name(&self.kind),
            at: self.at,
            count: self.count,
            device: describe_device(&self.user_agent),
            address: self.address,
        }
    }
}

impl Accounts {
    /// Records `kind` for `user_id`, as done by `client` in session `session_id`.
    pub(super) async fn record(
        &self,
        kind: ActivityKind,
        user_id: i64,
        client: Client<'_>,
        session_id: Option<&str>,
    ) {
        // After the account's failed log-ins still queued, so the list stays in order.
        self.deferred.written(user_id).await;
        let address = client.addr.to_string();
        let origin = Origin {
            address: &address,
            user_agent: client.user_agent,
            session_id,
        };
        let now = self.clock.now();
        if record_event(self.store.as_ref(), kind, user_id, origin, now).await == Recorded::Folded {
            // Its entry's notice went out already.
            return;
        }
        let security = format!("{}/profile/security", self.mailer.public_url);
        if let Some(notice) = messages::security_notice(kind, &security) {
            self.notify(user_id, notice).await;
        }
    }

    /// Mails `notice` to the account's address (best effort, like the record itself: a
    /// failure is logged and does not undo the change).
    async fn notify(&self, user_id: i64, notice: Composed) {
        let sent = async {
            match self.store.find(user_id).await? {
                Some(user) => self.send(&user.email, notice).await,
                None => Ok(()),
            }
        };
        if let Err(e) = sent.await {
            tracing::error!(reason = %e, user_id, "cannot queue a security notice");
        }
    }

    /// A page of the user's activity, newest first: up to `limit` entries (default 20,
    /// at most 100) older than entry `before`, and the `before` of the next page.
    pub async fn activity(
        &self,
        user: &User,
        before: Option<i64>,
        limit: Option<i64>,
    ) -> Result<(Vec<StoredEvent>, Option<i64>), AccountError> {
        let limit = limit.unwrap_or(DEFAULT_PAGE);
        if !(1..=MAX_PAGE).contains(&limit) {
            return Err(Invalid {
                field: "limit",
                message: format!("Ask for 1 to {MAX_PAGE} entries per page."),
            }
            .into());
        }
        if before.is_some_and(|before| before < 1) {
            return Err(Invalid {
                field: "before",
                message: "Pass the next_before of the previous page.".into(),
            }
            .into());
        }
        self.deferred.written(user.id).await;
        let mut events = self.store.events(user.id, before, limit + 1).await?;
        let more = events.len() > limit as usize;
        events.truncate(limit as usize);
        let next = more.then(|| events.last().map(|e| e.id)).flatten();
        Ok((events, next))
    }

    /// Every entry of the user's activity (for the data export), newest first.
    pub async fn all_activity(&self, user: &User) -> Result<Vec<StoredEvent>, AccountError> {
        let mut all = Vec::new();
        let mut before = None;
        loop {
            let (page, next) = self.activity(user, before, Some(MAX_PAGE)).await?;
            all.extend(page);
            match next {
                Some(next) if all.len() < MAX_EXPORTED => before = Some(next),
                _ => return Ok(all),
            }
        }
    }

    /// "This wasn't me" about entry `id`: ends every session but the caller's at once
    /// and records the report; returns how many sessions ended. The caller is then
    /// led to change the password.
    pub async fn report_not_me(
        &self,
        principal: &Principal,
        id: i64,
        client: Client<'_>,
    ) -> Result<u64, AccountError> {
        let user_id = principal.user.id;
        let found = self.store.events(user_id, id.checked_add(1), 1).await?;
        if found.first().map(|event| event.id) != Some(id) {
            return Err(AccountError::NoSuchEntry);
        }
        let ended = self
            .store
            .delete_sessions(user_id, Some(&principal.session_id))
            .await?;
        self.drop_pending_email(user_id).await?;
        self.record(
            ActivityKind::ReportedNotMe,
            user_id,
            client,
            Some(&principal.session_id),
        )
        .await;
        Ok(ended)
    }

    /// Removes entries older than `retention`; returns how many.
    pub async fn prune_activity(&self, retention: Duration) -> Result<u64, AccountError> {
        let age = i64::try_from(retention.as_secs()).unwrap_or(i64::MAX);
        let cutoff = self.clock.now().saturating_sub(age);
        Ok(self.store.prune_events(cutoff).await?)
    }
}
