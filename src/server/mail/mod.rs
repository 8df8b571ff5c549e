//! Mail: what Keyhold writes (`messages.rs`), how it leaves (`transport.rs`: SMTP with
//! lettre, or `.eml` files in `$KEYHOLD_DATA_DIR/outbox/` when no SMTP server is set) and
//! the background delivery from the durable queue (`delivery.rs`). A request only adds a
//! row to the queue and wakes the worker: it never waits for a mail server.

mod delivery;
pub mod messages;
mod transport;

pub use delivery::{start_delivery, RetryPolicy};
pub use transport::{Transport, TransportError};

use std::sync::Arc;
use tokio::sync::Notify;

/// What the account rules need to send mail: where links point, and the worker's bell.
#[derive(Clone)]
pub struct Mailer {
    /// `KEYHOLD_PUBLIC_URL` without a trailing slash: links are built from it, never
    /// from the request's `Host`.
    pub public_url: String,
    wake: Arc<Notify>,
}

impl Mailer {
    pub fn new(public_url: &str, wake: Arc<Notify>) -> Self {
        Self {
            public_url: public_url.trim_end_matches('/').to_owned(),
            wake,
        }
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
