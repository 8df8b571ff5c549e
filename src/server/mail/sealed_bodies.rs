//! Queued messages at rest: their bodies (which carry live links: a password reset, an
//! address to confirm, an undo) are sealed under a key derived from
//! `KEYHOLD_KEY_ENCRYPTION_KEY` (`building_blocks/sealing.rs`), bound to the recipient and
//! the time queued, so the queue in the database holds no usable link while the mail
//! server is down, and a body moved to another recipient's row does not open. The
//! worker opens them just before sending; rows queued before bodies were sealed are
//! sent as they are (and sealed at start-up, `runtime/sealed_at_rest.rs`).

use super::messages::Composed;
use crate::server::{
    building_blocks::sealing::{purpose, SealingKey, Unopened},
    store::QueuedMail,
};
use secrecy::ExposeSecret;

/// Seals and opens the bodies of queued messages (never printed).
pub struct MailSeal(SealingKey);

impl MailSeal {
    /// From the key-encryption key (at least 256 bits, checked by the configuration).
    pub fn new(key_encryption_key: &[u8]) -> Self {
        Self(SealingKey::derive(key_encryption_key, purpose::MAIL_BODIES))
    }

    /// `message` to `to`, queued at `now`, its bodies sealed.
    pub fn queued(&self, to: &str, message: Composed, now: i64) -> QueuedMail {
        let readable = QueuedMail {
            id: 0,
            recipient: to.to_owned(),
            subject: message.subject,
            text_body: message.text,
            html_body: message.html,
            sealed: false,
            created_at: now,
            attempts: 0,
        };
        let (text_body, html_body) = self.sealed_bodies(&readable);
        QueuedMail {
            text_body,
            html_body,
            sealed: true,
            ..readable
        }
    }

    /// The text and HTML bodies of a readable `mail`, sealed for its row.
    pub fn sealed_bodies(&self, mail: &QueuedMail) -> (String, String) {
        (
            self.0
                .seal(mail.text_body.as_bytes(), &bound_to("text", mail)),
            self.0
                .seal(mail.html_body.as_bytes(), &bound_to("html", mail)),
        )
    }

    /// `mail` as it is sent: its bodies opened (a row queued readable as it is).
    pub fn readable(&self, mail: &QueuedMail) -> Result<QueuedMail, Unopened> {
        if !mail.sealed {
            return Ok(mail.clone());
        }
        let open = |sealed: &str, part| -> Result<String, Unopened> {
            let opened = self.0.open(sealed, &bound_to(part, mail))?;
            String::from_utf8(opened.expose_secret().to_vec()).map_err(|_| Unopened)
        };
        Ok(QueuedMail {
            text_body: open(&mail.text_body, "text")?,
            html_body: open(&mail.html_body, "html")?,
            sealed: false,
            ..mail.clone()
        })
    }
}

/// Which body of which message: its recipient and the time it was queued (the row's id
/// comes from the database after the insert).
fn bound_to(part: &str, mail: &QueuedMail) -> Vec<u8> {
    format!(
        "mail_queue\n{part}\n{}\n{}",
        mail.created_at, mail.recipient
    )
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::mail::messages;

    #[test]
    fn queued_bodies_hide_the_link_and_open_only_for_their_recipient() {
        let seal = MailSeal::new(b"a key-encryption secret of 32+ bytes!!");
        let link = "https://id.example/reset-password?token=abc123";
        let mail = seal.queued("ada@example.com", messages::password_reset(link, 30), 100);
        assert!(mail.sealed);
        assert!(!mail.text_body.contains("abc123") && !mail.html_body.contains("abc123"));
        let sent = seal.readable(&mail).unwrap();
        assert!(sent.text_body.contains(link) && sent.html_body.contains(link));
        let redirected = QueuedMail {
            recipient: "eve@example.com".into(),
            ..mail.clone()
        };
        assert_eq!(seal.readable(&redirected).unwrap_err(), Unopened);
        let swapped = QueuedMail {
            text_body: mail.html_body.clone(),
            ..mail.clone()
        };
        assert!(seal.readable(&swapped).is_err(), "html sealed as html only");
        let other = MailSeal::new(b"another key-encryption secret, 32+ b");
        assert!(other.readable(&mail).is_err());
        let old = QueuedMail {
            sealed: false,
            text_body: "as queued".into(),
            ..mail.clone()
        };
        assert_eq!(seal.readable(&old).unwrap().text_body, "as queued");
    }
}
