//! The entries of failed and throttled log-ins, written after the answer (issue 31
//! finding 10): only a name that is an account's has an entry to write, so writing it
//! on the request path would let the answer's timing tell known names from unknown.
//! Both now answer without waiting for the database (a known name's entry is a job put
//! in a queue, well under a microsecond); one writer stores the entries in order. A
//! flood queues at most `QUEUE_LENGTH` of them; beyond, an entry is only logged and
//! counted.

use super::{
    activity::{announce, record_event, Origin},
    truncate, Accounts, Client, MAX_USER_AGENT,
};
use crate::api::security_events::ActivityKind;
use crate::server::store::Store;
use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
};
use tokio::sync::{
    mpsc::{self, error::TrySendError},
    oneshot,
};

const QUEUE_LENGTH: usize = 1024;

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
                        record_event(store.as_ref(), kind, user_id, attempt.origin(), at).await;
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

    /// Queues `attempt`'s entry (or, with the queue full, logs and counts it).
    fn queue(&self, attempt: Attempt) {
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
        announce(attempt.kind, attempt.user_id, attempt.origin());
        metrics::counter!("keyhold_security_events_unstored_total").increment(1);
    }

    /// Waits until every entry queued so far for `user_id` is written (at once when
    /// none is): what the account records or reads next comes after them.
    pub(super) async fn written(&self, user_id: i64) {
        let waiting = self
            .pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains_key(&user_id);
        if !waiting {
            return;
        }
        let (done, marked) = oneshot::channel();
        if self.queue.send(Job::Mark(done)).await.is_ok() {
            let _ = marked.await;
        }
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
