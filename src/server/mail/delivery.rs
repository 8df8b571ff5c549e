//! The delivery worker, one per instance: it sends every message that is due, oldest
//! first, when woken by a request that queued one and at least once a second (to pick
//! up what another instance queued or what is due for a retry). A message that cannot
//! be sent now is retried with exponential backoff; it is dropped (and the log says so)
//! only when it can never be sent or after `give_up_after`.

use super::{
    sealed_bodies::MailSeal,
    transport::{Transport, TransportError},
};
use crate::server::{
    building_blocks::clock::Clock,
    store::{QueuedMail, Store},
};
use std::{sync::Arc, time::Duration};
use tokio::sync::Notify;

/// How long a claimed message is reserved for its sender (then another may retry it).
const LEASE_SECS: i64 = 120;
/// How often the queue is looked at without being woken.
const POLL: Duration = Duration::from_secs(1);
/// The longest wait between two attempts.
const MAX_DELAY_SECS: i64 = 3_600;

/// When to try again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The wait after the first failure; it doubles with each further one.
    pub base: Duration,
    /// A message still unsent this long after it was queued is dropped.
    pub give_up_after: Duration,
}

impl RetryPolicy {
    fn delay_after(&self, attempts: i64) -> i64 {
        let base = i64::try_from(self.base.as_secs()).unwrap_or(MAX_DELAY_SECS);
        let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 20)).unwrap_or(20);
        base.saturating_mul(1 << doublings).clamp(1, MAX_DELAY_SECS)
    }
}

/// How the worker sends: the transport, and the seal that opens queued bodies.
pub struct Sender {
    pub transport: Transport,
    pub seal: Arc<MailSeal>,
}

/// Starts the worker; it stops once `store` is dropped (the server shut down).
pub fn start_delivery(
    store: &Arc<dyn Store>,
    sender: Sender,
    wake: Arc<Notify>,
    clock: Clock,
    retry: RetryPolicy,
) {
    let store = Arc::downgrade(store);
    tokio::spawn(async move {
        loop {
            let Some(queue) = store.upgrade() else { return };
            loop {
                let now = clock.now();
                match queue.claim_mail(now, now + LEASE_SECS).await {
                    Ok(Some(mail)) => deliver(queue.as_ref(), &sender, &mail, now, retry).await,
                    Ok(None) => break,
                    Err(e) => {
                        tracing::warn!(reason = %e, "cannot read the mail queue");
                        break;
                    }
                }
            }
            drop(queue);
            tokio::select! {
                () = wake.notified() => {}
                () = tokio::time::sleep(POLL) => {}
            }
        }
    });
}

async fn deliver(
    queue: &dyn Store,
    sender: &Sender,
    mail: &QueuedMail,
    now: i64,
    retry: RetryPolicy,
) {
    let give_up_at =
        mail.created_at + i64::try_from(retry.give_up_after.as_secs()).unwrap_or(i64::MAX / 2);
    // The key was checked at start-up: a body that does not open was altered (or moved
    // to another recipient's row) and is never sent.
    let sent = match sender.seal.readable(mail) {
        Ok(readable) => sender.transport.send(&readable).await,
        Err(_) => Err(TransportError::Permanent(
            "its sealed body does not open: the row was altered".into(),
        )),
    };
    let outcome = match sent {
        Ok(()) => {
            metrics::counter!("keyhold_mail_sent_total").increment(1);
            tracing::info!(mail_id = mail.id, attempts = mail.attempts, "mail sent");
            queue.mail_sent(mail.id).await
        }
        Err(TransportError::Retry(reason)) if now < give_up_at => {
            metrics::counter!("keyhold_mail_failures_total").increment(1);
            let delay = retry.delay_after(mail.attempts);
            tracing::warn!(
                mail_id = mail.id,
                attempts = mail.attempts,
                retry_in_s = delay,
                %reason,
                "mail not sent; will retry"
            );
            queue.mail_failed(mail.id, now + delay, &reason).await
        }
        Err(e) => {
            metrics::counter!("keyhold_mail_dropped_total").increment(1);
            tracing::error!(mail_id = mail.id, attempts = mail.attempts, reason = %e, "mail dropped");
            queue.mail_sent(mail.id).await
        }
    };
    if let Err(e) = outcome {
        tracing::warn!(mail_id = mail.id, reason = %e, "cannot update the mail queue");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_to_an_hour() {
        let policy = RetryPolicy {
            base: Duration::from_secs(30),
            give_up_after: Duration::from_secs(3 * 86_400),
        };
        let delays: Vec<i64> = (1..=9).map(|n| policy.delay_after(n)).collect();
        assert_eq!(delays, [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]);
        assert_eq!(policy.delay_after(1_000), 3600);
    }
}
