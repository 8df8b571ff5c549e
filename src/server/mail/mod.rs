//! Mail: what Keyhold writes (`messages.rs`), how it leaves (`transport.rs`: SMTP with
//! lettre, or `.eml` files in `$KEYHOLD_DATA_DIR/outbox/` when no SMTP server is set) and
//! the background delivery from the durable queue (`delivery.rs`), whose bodies are sealed
//! at rest (`sealed_bodies.rs`). A request only adds a row to the queue and wakes the
//! worker: it never waits for a mail server.

mod delivery;
pub mod messages;
mod sealed_bodies;
mod transport;

pub use delivery::{start_delivery, RetryPolicy, Sender};
pub use sealed_bodies::MailSeal;
pub use transport::{Transport, TransportError};

use crate::server::store::QueuedMail;
use messages::Composed;

use std::sync::Arc;
use tokio::sync::Notify;

/// What the account rules need to send mail: where links point, the seal of queued
/// bodies, and the worker's bell.
#[derive(Clone)]
pub struct Mailer {
    /// `KEYHOLD_PUBLIC_URL` without a trailing slash: links are built from it, never
    /// from the request's `Host`.
    pub public_url: String,
    seal: Arc<MailSeal>,
    wake: Arc<Notify>,
}

impl Mailer {
    pub fn new(public_url: &str, seal: Arc<MailSeal>, wake: Arc<Notify>) -> Self {
        Self {
            public_url: public_url.trim_end_matches('/').to_owned(),
            seal,
            wake,
        }
    }

    /// `message` to `to`, as the queue keeps it (bodies sealed).
    pub fn queued(&self, to: &str, message: Composed, now: i64) -> QueuedMail {
        self.seal.queued(to, message, now)
    }

    /// `<public url><path>?token=<token>`.
    pub fn link(&self, path: &str, token: &str) -> String {
        format!("{}{path}?token={token}", self.public_url)
    }

    /// Tells the delivery worker a message was queued.
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}
