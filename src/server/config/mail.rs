//! The mail settings: where links point, how mail leaves, how often it is retried, and
//! whether an unconfirmed address may sign in.

use super::{duration, parse, ConfigError};
use secrecy::SecretString;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct MailConfig {
    /// `KEYHOLD_SMTP_URL` (may hold a password); none: `.eml` files in the outbox.
    pub smtp_url: Option<SecretString>,
    /// `KEYHOLD_MAIL_FROM`.
    pub from: String,
    /// `KEYHOLD_PUBLIC_URL`: where the site is reached, for links in mail.
    pub public_url: String,
    /// `KEYHOLD_MAIL_RETRY`: the wait after a first failed attempt (then doubling).
    pub retry_base: Duration,
    /// `KEYHOLD_REQUIRE_VERIFIED_EMAIL`: log-in refuses unconfirmed addresses.
    pub require_verified_email: bool,
}

pub(super) fn mail(get: &impl Fn(&str) -> Option<String>) -> Result<MailConfig, ConfigError> {
    let site = get("LEPTOS_SITE_ADDR").unwrap_or_else(|| "127.0.0.1:3000".into());
    let public_url = get("KEYHOLD_PUBLIC_URL").unwrap_or_else(|| format!("http://{site}"));
    let public_url = public_url.trim().trim_end_matches('/').to_owned();
    let valid = (public_url.starts_with("https://") || public_url.starts_with("http://"))
        && !public_url.contains(['?', '#', ' '])
        && public_url
            .split("://")
            .nth(1)
            .is_some_and(|rest| !rest.is_empty());
    if !valid {
        return Err(ConfigError::Invalid {
            name: "KEYHOLD_PUBLIC_URL",
            reason: format!("{public_url:?} is not a URL such as https://id.example.com"),
        });
    }
    let smtp_url = get("KEYHOLD_SMTP_URL").map(SecretString::from);
    if let Some(url) = &smtp_url {
        use secrecy::ExposeSecret;
        let url = url.expose_secret();
        if !(url.starts_with("smtp://") || url.starts_with("smtps://")) {
            return Err(ConfigError::Invalid {
                name: "KEYHOLD_SMTP_URL",
                reason: "must start with smtp:// or smtps://".into(),
            });
        }
    }
    Ok(MailConfig {
        smtp_url,
        from: get("KEYHOLD_MAIL_FROM").unwrap_or_else(|| "Keyhold <keyhold@localhost>".into()),
        public_url,
        retry_base: duration(get, "KEYHOLD_MAIL_RETRY", Duration::from_secs(30))?,
        require_verified_email: parse(get, "KEYHOLD_REQUIRE_VERIFIED_EMAIL", false)?,
    })
}
