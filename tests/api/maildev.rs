//! A real SMTP server for the tests: maildev 2.2.1 (installed in `end2end/` by
//! `scripts/setup.sh`), one per test on free loopback ports, read through its HTTP API.

use crate::helpers::free_port;
use serde_json::Value;
use std::{
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

pub struct Maildev {
    child: Child,
    pub smtp_port: u16,
    web: String,
}

/// One message as maildev received it.
#[derive(Debug, Clone)]
pub struct Mail {
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl Mail {
    /// The token of the link in the message (`…?token=<token>`).
    pub fn token(&self) -> String {
        let after = self
            .text
            .split("token=")
            .nth(1)
            .expect("a link with a token");
        after
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect()
    }

    /// The first link in the text.
    pub fn link(&self) -> String {
        let start = self.text.find("http").expect("a link");
        self.text[start..]
            .split_whitespace()
            .next()
            .unwrap()
            .to_owned()
    }
}

impl Maildev {
    /// Starts maildev with its SMTP server on a free port.
    pub async fn start() -> Self {
        Self::start_on(free_port()).await
    }

    /// Starts maildev with its SMTP server on `smtp_port`.
    pub async fn start_on(smtp_port: u16) -> Self {
        let bin = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/end2end/node_modules/.bin/maildev"
        );
        let web_port = free_port();
        let child = Command::new(bin)
            .args(["--ip", "127.0.0.1", "--web-ip", "127.0.0.1", "--silent"])
            .args([
                "--smtp",
                &smtp_port.to_string(),
                "--web",
                &web_port.to_string(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {bin} ({e}): run scripts/setup.sh"));
        let maildev = Self {
            child,
            smtp_port,
            web: format!("http://127.0.0.1:{web_port}"),
        };
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let up = client.get(format!("{}/healthz", maildev.web)).send().await;
            if up.is_ok_and(|r| r.status() == 200) {
                return maildev;
            }
            assert!(Instant::now() < deadline, "maildev did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// `KEYHOLD_SMTP_URL` for it.
    pub fn smtp_url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.smtp_port)
    }

    /// Every message received so far for `to`, oldest first.
    pub async fn messages_to(&self, to: &str) -> Vec<Mail> {
        let all: Value = reqwest::get(format!("{}/email", self.web))
            .await
            .expect("maildev's API")
            .json()
            .await
            .expect("maildev's JSON");
        all.as_array()
            .unwrap()
            .iter()
            .filter(|m| {
                m["envelope"]["to"]
                    .as_array()
                    .is_some_and(|list| list.iter().any(|t| t["address"] == to))
            })
            .map(|m| Mail {
                subject: m["subject"].as_str().unwrap_or_default().to_owned(),
                text: m["text"].as_str().unwrap_or_default().to_owned(),
                html: m["html"].as_str().unwrap_or_default().to_owned(),
            })
            .collect()
    }

    /// Waits (up to 20 s) for the `nth` (from 1) message to `to` whose subject contains
    /// `subject`.
    pub async fn wait_for(&self, to: &str, subject: &str, nth: usize) -> Mail {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let found: Vec<Mail> = self
                .messages_to(to)
                .await
                .into_iter()
                .filter(|m| m.subject.contains(subject))
                .collect();
            if let Some(mail) = found.get(nth - 1) {
                return mail.clone();
            }
            assert!(
                Instant::now() < deadline,
                "no mail #{nth} {subject:?} to {to}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Maildev {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Without an SMTP server, mail goes to `<data dir>/outbox/*.eml`: waits (up to 10 s)
/// for a message to `to` with a `kind` link (`verify-email`, `reset-password`, …) and
/// returns the newest such link's token.
pub async fn outbox_token(data_dir: &std::path::Path, to: &str, kind: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    let needle = format!("{kind}?token=");
    loop {
        let mut found: Vec<(std::time::SystemTime, String)> =
            std::fs::read_dir(data_dir.join("outbox"))
                .into_iter()
                .flatten()
                .flatten()
                .filter_map(|entry| {
                    let text = std::fs::read_to_string(entry.path()).ok()?;
                    let modified = entry.metadata().ok()?.modified().ok()?;
                    (text.contains(&format!("To: {to}")) && text.contains(&needle))
                        .then_some((modified, text))
                })
                .collect();
        found.sort();
        if let Some((_, text)) = found.last() {
            let after = text.split(&needle).nth(1).unwrap();
            return after
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                .collect();
        }
        assert!(
            Instant::now() < deadline,
            "no {kind} mail to {to} in the outbox"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
