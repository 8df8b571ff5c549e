//! The entries of failed and throttled log-ins, written after the answer (issue 31
//! finding 10): only a name that is an account's has an entry to write, so writing it
//! on the request path would let the answer's timing tell known names from unknown.
//! Both now answer without waiting for the database (a known name's entry is a job put
//! in a queue, well under a microsecond); one writer stores the entries in order. A
//! flood queues at most `QUEUE_LENGTH` of them; beyond, an entry is only logged and
//! counted.
//!
//! An entry's log line (target `keyhold::audit`) and count are written when it is
//! queued, not when it is stored: what is still queued at exit is at least in the log.
//! On shutdown `Accounts::drain` waits (up to `DRAIN_WAIT`) for the queue to be stored.
//!
//! What an account records or reads next waits for its own queued entries first, so its
//! list stays in order; but the queue is one for all accounts, so that wait is bounded
//! (`ORDER_WAIT`): a flood of another account's entries (or a slow database) delays a
//! request by at most that much, after which it goes on and its entry may come before
//! an earlier failed log-in's (the entries keep their own times).

use super::{
    activity::{announce, store_event, Origin},
    truncate, Accounts, Client, MAX_USER_AGENT,
};
use crate::api::security_events::ActivityKind;
use crate::server::store::Store;
use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};
use tokio::sync::{
    mpsc::{self, error::TrySendError},
    oneshot,
};

const QUEUE_LENGTH: usize = 1024;
/// How long a request waits for its account's queued entries before going on.
const ORDER_WAIT: Duration = Duration::from_millis(250);
/// How long shutdown waits for the queued entries to be stored.
const DRAIN_WAIT: Duration = Duration::from_secs(5);

/// A failed or throttled log-in of an account, as it will be stored.
struct Attempt {
    kind: ActivityKind,
    user_id: i64,
    address: String,
    user_agent: String,
    at: i64,
}

impl Attempt {
    fn origin(&self) -> Origin<'_> {
        Origin {
            address: &self.address,
            user_agent: &self.user_agent,
            session_id: None,
        }
    }
}

enum Job {
    Store(Attempt),
    /// Answered once every job queued before it is done.
    Mark(oneshot::Sender<()>),
}

/// Entries queued and not yet written, per account.
type Pending = Arc<Mutex<HashMap<i64, usize>>>;

pub(super) struct DeferredActivity {
    queue: mpsc::Sender<Job>,
    pending: Pending,
}

impl DeferredActivity {
    /// Starts the writer, which stops when this is dropped.
    pub(super) fn start(store: Arc<dyn Store>) -> Self {
        let (queue, mut jobs) = mpsc::channel(QUEUE_LENGTH);
        let pending = Pending::default();
        let written = pending.clone();
        tokio::spawn(async move {
            while let Some(job) = jobs.recv().await {
                match job {
                    Job::Store(attempt) => {
                        let (kind, user_id, at) = (attempt.kind, attempt.user_id, attempt.at);
                        // Announced when queued.
                        store_event(store.as_ref(), kind, user_id, attempt.origin(), at).await;
                        settle(&written, user_id);
                    }
                    Job::Mark(done) => {
                        let _ = done.send(());
                    }
                }
            }
        });
        Self { queue, pending }
    }

    /// Logs and counts `attempt`'s entry and queues it for the database (with the queue
    /// full, it is only logged and counted).
    fn queue(&self, attempt: Attempt) {
        announce(attempt.kind, attempt.user_id, attempt.origin());
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        *pending.entry(attempt.user_id).or_default() += 1;
        drop(pending);
        let refused = match self.queue.try_send(Job::Store(attempt)) {
            Ok(()) => return,
            Err(TrySendError::Full(job) | TrySendError::Closed(job)) => job,
        };
        let Job::Store(attempt) = refused else {
            return;
        };
        settle(&self.pending, attempt.user_id);
        metrics::counter!("keyhold_security_events_unstored_total").increment(1);
    }

    /// Waits until every entry queued so far for `user_id` is written (at once when
    /// none is), or `ORDER_WAIT` at most: what the account records or reads next comes
    /// after them.
    pub(super) async fn written(&self, user_id: i64) {
        let waiting = self
            .pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains_key(&user_id);
        if waiting && !self.flushed(ORDER_WAIT).await {
            tracing::debug!(
                user_id,
                "activity entries still queued: going on without them"
            );
        }
    }

    /// Waits up to `wait` until every entry queued so far is written: whether they are.
    async fn flushed(&self, wait: Duration) -> bool {
        let (done, marked) = oneshot::channel();
        let flushed =
            async { self.queue.send(Job::Mark(done)).await.is_ok() && marked.await.is_ok() };
        tokio::time::timeout(wait, flushed).await.unwrap_or(false)
    }
}

/// One of `user_id`'s queued entries is done with.
fn settle(pending: &Pending, user_id: i64) {
    let mut pending = pending.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(count) = pending.get_mut(&user_id) {
        *count -= 1;
        if *count == 0 {
            pending.remove(&user_id);
        }
    }
}

impl Accounts {
    /// Waits (up to `DRAIN_WAIT`) until the activity entries queued so far are stored:
    /// called on shutdown, before the runtime drops the writer.
    pub async fn drain(&self) {
        if !self.deferred.flushed(DRAIN_WAIT).await {
            let queued: usize = self
                .deferred
                .pending
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .values()
                .sum();
            tracing::error!(
                queued,
                "activity entries not stored before exit (they are logged)"
            );
        }
    }

    /// Records a failed or throttled log-in after the answer: `user_id` is the account
    /// the name typed belongs to, none for an unknown name (nothing to write). Either
    /// way the request does not wait for the database.
    pub(super) fn record_attempt(
        &self,
        kind: ActivityKind,
        user_id: Option<i64>,
        client: Client<'_>,
    ) {
        let Some(user_id) = user_id else {
            return;
        };
        self.deferred.queue(Attempt {
            kind,
            user_id,
            address: client.addr.to_string(),
            user_agent: truncate(client.user_agent, MAX_USER_AGENT),
            at: self.clock.now(),
        });
    }
}
