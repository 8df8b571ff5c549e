//! The security activity log as stored: the `ActivityStore` trait, its entries and how a
//! new event folds into an earlier one. What goes in it is `accounts/activity.rs`.

use super::StoreError;
use async_trait::async_trait;

/// One entry of the security activity log, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    pub id: i64,
    pub user_id: i64,
    /// An `ActivityKind` name (`login_failed`, …).
    pub kind: String,
    /// Unix seconds of the latest occurrence.
    pub at: i64,
    pub address: String,
    pub user_agent: String,
    pub session_id: Option<String>,
    /// How many occurrences this entry stands for (repeats are folded).
    pub count: i64,
}

/// A security event about to be recorded.
#[derive(Debug, Clone, Copy)]
pub struct NewEvent<'a> {
    pub user_id: i64,
    pub kind: &'a str,
    pub at: i64,
    pub address: &'a str,
    pub user_agent: &'a str,
    pub session_id: Option<&'a str>,
    /// Whether it may fold into an earlier entry (a count) instead of adding one.
    pub fold: Option<Fold>,
}

/// Which earlier entry a new event folds into, if one no older than `since` (unix
/// seconds) is found; else it is added.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fold {
    /// The user's latest entry, if it is of the same kind (from whatever address: the
    /// entry then shows the latest).
    IntoLatest { since: i64 },
    /// The user's latest entry of the same kind from the same session, wherever it is in
    /// the list: it moves to the top, so the list stays in time order.
    SameSession { since: i64 },
}

/// What recording an event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    Added,
    /// It folded into an earlier entry (one more in its count): no new entry.
    Folded,
}

/// The security activity log.
#[async_trait]
pub trait ActivityStore: Send + Sync {
    async fn record_event(&self, event: NewEvent<'_>) -> Result<Recorded, StoreError>;
    /// The user's entries newest first, those with an id below `before` if given.
    async fn events(
        &self,
        user_id: i64,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<StoredEvent>, StoreError>;
    /// Removes entries last seen before `cutoff` (unix seconds); returns how many.
    async fn prune_events(&self, cutoff: i64) -> Result<u64, StoreError>;
}
