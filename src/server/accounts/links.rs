//! Links sent by mail (reset a password, confirm an address, undo an address change):
//! 256 random bits from the OS in the URL, only their SHA-256 stored, one live link per
//! account and purpose, single use, with a lifetime. Shared by `recovery.rs` and
//! `email_verification.rs`, with queuing a message.

use super::{AccountError, Accounts};
use crate::server::building_blocks::digest::sha256_hex;
use crate::server::{mail::messages::Composed, store::OneTimeLink};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use rand::RngCore;

/// Resets a password; 30 minutes.
pub const RESET: Purpose = Purpose {
    name: "password_reset",
    lifetime_secs: 30 * 60,
};
/// Confirms an address (the account's, or the new one it asked for); 24 hours.
pub(super) const VERIFY: Purpose = Purpose {
    name: "verify_email",
    lifetime_secs: 24 * 3_600,
};
/// Puts back the address an account had before a change; 7 days.
pub(super) const UNDO: Purpose = Purpose {
    name: "undo_email_change",
    lifetime_secs: 7 * 86_400,
};

/// At most one mail of a kind per account this often (held in the database, so on
/// every instance).
pub(super) const MAIL_INTERVAL_SECS: i64 = 60;

#[derive(Debug, Clone, Copy)]
pub struct Purpose {
    pub name: &'static str,
    pub lifetime_secs: i64,
}

/// Characters of a link's token: 32 bytes in unpadded base64url.
const TOKEN_CHARS: usize = 43;

/// The stored hash of a token, if it has a token's shape (no database look-up for
/// anything else).
fn token_hash(token: &str) -> Result<String, AccountError> {
    secret_hash(token).ok_or(AccountError::InvalidLink { expired: false })
}

/// SHA-256 (hex) of a secret made by `new_secret`, if `token` has its shape.
pub(super) fn secret_hash(token: &str) -> Option<String> {
    let shaped = token.len() == TOKEN_CHARS
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    shaped.then(|| sha256_hex(token))
}

/// 256 random bits from the OS, unpadded base64url, and their SHA-256 (hex).
pub(super) fn new_secret() -> (String, String) {
    let mut secret = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut secret);
    let token = URL_SAFE_NO_PAD.encode(secret);
    let hash = sha256_hex(&token);
    (token, hash)
}

/// A fresh token and the link record that stores its hash.
pub fn new_link(
    user_id: i64,
    purpose: Purpose,
    email: &str,
    binding: &str,
    now: i64,
) -> (String, OneTimeLink) {
    let (token, hash) = new_secret();
    let link = OneTimeLink {
        hash,
        user_id,
        purpose: purpose.name,
        email: email.to_owned(),
        binding: binding.to_owned(),
        created_at: now,
        expires_at: now + purpose.lifetime_secs,
    };
    (token, link)
}

impl Accounts {
    /// A new link of `purpose` for account `user_id` about `email`; `None` when
    /// `limited` and one went out less than a minute ago. Earlier links of the purpose
    /// stop working.
    pub(super) async fn issue_link(
        &self,
        user_id: i64,
        purpose: Purpose,
        email: &str,
        binding: &str,
        limited: bool,
    ) -> Result<Option<String>, AccountError> {
        let now = self.clock.now();
        let (token, link) = new_link(user_id, purpose, email, binding, now);
        let not_since = limited.then_some(now - MAIL_INTERVAL_SECS);
        Ok(self
            .store
            .issue_link(&link, not_since)
            .await?
            .then_some(token))
    }

    /// The live link behind `token` (left in place: `take_link` uses it).
    pub(super) async fn find_link(
        &self,
        token: &str,
        purpose: Purpose,
    ) -> Result<OneTimeLink, AccountError> {
        let hash = token_hash(token)?;
        let link = self.store.find_link(&hash, purpose.name).await?;
        self.live(link)
    }

    /// Uses the link behind `token`: of two requests presenting it, one gets it.
    pub(super) async fn take_link(
        &self,
        token: &str,
        purpose: Purpose,
    ) -> Result<OneTimeLink, AccountError> {
        let hash = token_hash(token)?;
        let link = self.store.take_link(&hash, purpose.name).await?;
        self.live(link)
    }

    fn live(&self, link: Option<OneTimeLink>) -> Result<OneTimeLink, AccountError> {
        match link {
            Some(link) if link.expires_at > self.clock.now() => Ok(link),
            Some(_) => Err(AccountError::InvalidLink { expired: true }),
            None => Err(AccountError::InvalidLink { expired: false }),
        }
    }

    /// Queues `message` to `to` (its bodies sealed) and wakes the delivery worker.
    pub(super) async fn send(&self, to: &str, message: Composed) -> Result<(), AccountError> {
        let mail = self.mailer.queued(to, message, self.clock.now());
        self.store.enqueue_mail(&mail).await?;
        self.mailer.wake();
        Ok(())
    }
}
