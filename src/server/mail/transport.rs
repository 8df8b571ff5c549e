//! How a message leaves: an SMTP server (`KEYHOLD_SMTP_URL`, with lettre over tokio and
//! rustls), or, without one, a `.eml` file in `$KEYHOLD_DATA_DIR/outbox/` (mode 0600) so
//! the flows work out of the box on one machine. The log says where a file went, never
//! what it says (it holds a link that signs somebody in to a change).

use crate::server::{
    runtime::private_files::{create_private_dir, write_new_private_file},
    store::QueuedMail,
};
use lettre::{
    message::{
        header::{ContentTransferEncoding, ContentType},
        Body, Mailbox, MultiPart, SinglePart,
    },
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
};
use std::{path::PathBuf, time::Duration};

/// Longest one SMTP conversation may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(20);

pub enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>, Mailbox),
    Outbox(PathBuf, Mailbox),
}

#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// Worth trying again later (the server is down, refused for now, timed out).
    #[error("{0}")]
    Retry(String),
    /// The message can never be sent (an address that does not parse).
    #[error("{0}")]
    Permanent(String),
}

impl Transport {
    /// SMTP to `url` (`smtp://host:port`, `smtps://user:pass@host:465`,
    /// `smtp://host:587?tls=required`), or the outbox in `data_dir` without one.
    pub fn new(url: Option<&str>, from: &str, data_dir: &std::path::Path) -> Result<Self, String> {
        let from: Mailbox = from
            .parse()
            .map_err(|e| format!("KEYHOLD_MAIL_FROM is not an address: {e}"))?;
        match url {
            Some(url) => {
                let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| format!("KEYHOLD_SMTP_URL is invalid: {e}"))?
                    .timeout(Some(SMTP_TIMEOUT))
                    .build();
                Ok(Self::Smtp(transport, from))
            }
            None => Ok(Self::Outbox(data_dir.join("outbox"), from)),
        }
    }

    pub async fn send(&self, mail: &QueuedMail) -> Result<(), TransportError> {
        match self {
            Self::Smtp(transport, from) => {
                let message = compose(mail, from)?;
                transport.send(message).await.map(drop).map_err(|e| {
                    if e.is_permanent() {
                        TransportError::Permanent(format!("the mail server refused it: {e}"))
                    } else {
                        TransportError::Retry(format!("the mail server is unavailable: {e}"))
                    }
                })
            }
            Self::Outbox(dir, from) => {
                let bytes = compose(mail, from)?.formatted();
                let path = dir.join(format!("{}-{}.eml", mail.created_at, mail.id));
                let written = create_private_dir(dir).and_then(|()| {
                    match write_new_private_file(&path, &bytes) {
                        // A retry after a crash between writing and dequeuing.
                        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
                        other => other,
                    }
                });
                written
                    .map_err(|e| TransportError::Retry(format!("cannot write {path:?}: {e}")))?;
                tracing::info!(file = %path.display(), "a message was written to the outbox");
                Ok(())
            }
        }
    }
}

fn compose(mail: &QueuedMail, from: &Mailbox) -> Result<Message, TransportError> {
    let to: Mailbox = mail
        .recipient
        .parse()
        .map_err(|e| TransportError::Permanent(format!("the recipient is not an address: {e}")))?;
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(&mail.subject)
        .multipart(
            MultiPart::alternative()
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_PLAIN)
                        .body(readable(&mail.text_body)),
                )
                .singlepart(
                    SinglePart::builder()
                        .header(ContentType::TEXT_HTML)
                        .body(readable(&mail.html_body)),
                ),
        )
        .map_err(|e| TransportError::Permanent(format!("cannot build the message: {e}")))
}

/// As written when it is ASCII in lines of at most 998 octets (7bit allows that, RFC
/// 5322 §2.1.1; lettre would pick quoted-printable for lines over 76, which breaks
/// links for anyone reading the outbox's files); otherwise what lettre picks.
fn readable(text: &str) -> Body {
    let crlf = text.replace("\r\n", "\n").replace('\n', "\r\n");
    let fits =
        crlf.is_ascii() && !crlf.contains('\0') && crlf.split("\r\n").all(|l| l.len() <= 998);
    if fits {
        Body::dangerous_pre_encoded(crlf.into_bytes(), ContentTransferEncoding::SevenBit)
    } else {
        Body::new(text.to_owned())
    }
}
