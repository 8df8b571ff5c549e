//! Session rules that need no database: lifetimes, refresh tokens (random, stored only
//! as a hash, compared in constant time) and a readable name for the client's device.

use super::token::random_id;
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::time::Duration;

/// How long sessions live and how refresh tokens rotate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    /// A session unused for this long ends.
    pub idle: Duration,
    /// A session ends this long after the log-in, whatever the activity.
    pub lifetime: Duration,
    /// How long a just-replaced refresh token is still accepted (tabs racing).
    pub grace: Duration,
    /// Sessions kept per user; the least recently used go first.
    pub max_per_user: u32,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self {
            idle: Duration::from_secs(7 * 86_400),
            lifetime: Duration::from_secs(30 * 86_400),
            grace: Duration::from_secs(10),
            max_per_user: 50,
        }
    }
}

impl SessionPolicy {
    /// Whether a session with these times is over at `now` (unix seconds).
    pub fn is_over(&self, last_seen_at: i64, expires_at: i64, now: i64) -> bool {
        now >= expires_at || now - last_seen_at >= secs(self.idle)
    }

    /// Sessions last seen before this are idle.
    pub fn idle_cutoff(&self, now: i64) -> i64 {
        now - secs(self.idle)
    }

    pub fn expires_at(&self, now: i64) -> i64 {
        now + secs(self.lifetime)
    }

    /// Seconds between two recordings of activity: at most a minute, and often enough
    /// that a short idle timeout cannot end a session in use.
    pub fn touch_interval(&self) -> i64 {
        (secs(self.idle) / 10).clamp(1, 60)
    }

    pub fn in_grace(&self, rotated_at: i64, now: i64) -> bool {
        now - rotated_at <= secs(self.grace)
    }
}

fn secs(duration: Duration) -> i64 {
    i64::try_from(duration.as_secs()).unwrap_or(i64::MAX / 2)
}

/// A refresh token as the client holds it: `<session id>.<secret>`. Only the SHA-256 of
/// the secret is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshToken {
    pub session_id: String,
    secret: String,
}

impl RefreshToken {
    /// A new token for a new session.
    pub fn generate() -> Self {
        Self::for_session(random_id())
    }

    /// A new secret for an existing session (rotation).
    pub fn for_session(session_id: String) -> Self {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        Self {
            session_id,
            secret: URL_SAFE_NO_PAD.encode(bytes),
        }
    }

    /// Parses what the client sent; `None` for anything not shaped like a token.
    pub fn parse(text: &str) -> Option<Self> {
        let (session_id, secret) = text.split_once('.')?;
        let url_safe = |s: &str, len: usize| {
            s.len() == len
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        };
        (url_safe(session_id, 22) && url_safe(secret, 43)).then(|| Self {
            session_id: session_id.into(),
            secret: secret.into(),
        })
    }

    /// What is stored: SHA-256 of the secret, hex.
    pub fn hash(&self) -> String {
        Sha256::digest(self.secret.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// Whether this token's hash is `stored`, in time independent of where they differ.
    pub fn matches(&self, stored: &str) -> bool {
        let ours = self.hash();
        ours.len() == stored.len()
            && ours
                .bytes()
                .zip(stored.bytes())
                .fold(0u8, |diff, (a, b)| diff | (a ^ b))
                == 0
    }

    /// The value sent to the client.
    pub fn value(&self) -> String {
        format!("{}.{}", self.session_id, self.secret)
    }
}

/// "Firefox on Windows", "curl", … from a `User-Agent` header, for the session list.
pub fn describe_device(user_agent: &str) -> String {
    let ua = user_agent;
    let has = |needle: &str| ua.contains(needle);
    let browser = if has("Edg/") {
        Some("Edge")
    } else if has("OPR/") || has("Opera") {
        Some("Opera")
    } else if has("Firefox/") {
        Some("Firefox")
    } else if has("Chrome/") || has("Chromium/") || has("CriOS/") {
        Some("Chrome")
    } else if has("Safari/") && has("Version/") {
        Some("Safari")
    } else {
        None
    };
    let system = if has("Android") {
        Some("Android")
    } else if has("iPhone") || has("iPad") {
        Some("iOS")
    } else if has("Windows") {
        Some("Windows")
    } else if has("Mac OS X") || has("Macintosh") {
        Some("macOS")
    } else if has("CrOS") {
        Some("ChromeOS")
    } else if has("Linux") {
        Some("Linux")
    } else {
        None
    };
    match (browser, system) {
        (Some(b), Some(s)) => format!("{b} on {s}"),
        (Some(b), None) => b.to_owned(),
        (None, Some(s)) => format!("Browser on {s}"),
        (None, None) => {
            // A program: its product token ("curl/8.5.0" → "curl").
            let product: String = ua
                .split(['/', ' '])
                .next()
                .unwrap_or_default()
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
                .take(40)
                .collect();
            if product.is_empty() {
                "Unknown device".into()
            } else {
                product
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_hash() {
        let token = RefreshToken::generate();
        let parsed = RefreshToken::parse(&token.value()).unwrap();
        assert_eq!(parsed, token);
        assert!(parsed.matches(&token.hash()));
        assert_eq!(token.hash().len(), 64);
        let other = RefreshToken::for_session(token.session_id.clone());
        assert!(!other.matches(&token.hash()));
        assert!(!token.matches(""));
    }

    #[test]
    fn malformed_tokens_are_refused() {
        let good = RefreshToken::generate().value();
        for bad in [
            "",
            ".",
            "abc",
            &good[..good.len() - 1],
            &format!("{good}x"),
            &good.replace('.', ":"),
            &format!("{}.{}", "é".repeat(11), "a".repeat(43)),
        ] {
            assert!(RefreshToken::parse(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn policy_ends_idle_and_old_sessions() {
        let policy = SessionPolicy {
            idle: Duration::from_secs(100),
            lifetime: Duration::from_secs(1000),
            ..SessionPolicy::default()
        };
        assert!(!policy.is_over(0, 1000, 99));
        assert!(policy.is_over(0, 1000, 100), "idle");
        assert!(policy.is_over(950, 1000, 1000), "absolute");
        assert!(policy.in_grace(50, 60));
        assert!(!policy.in_grace(50, 61));
    }

    #[test]
    fn devices_are_named() {
        let cases = [
            ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36", "Chrome on Linux"),
            ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", "Chrome on Linux"),
            ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0", "Firefox on Windows"),
            ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15", "Safari on macOS"),
            ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1", "Safari on iOS"),
            ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0", "Edge on Windows"),
            ("curl/8.5.0", "curl"),
            ("python-requests/2.32.3", "python-requests"),
            ("", "Unknown device"),
            ("<script>/1", "script"),
            ("Mozilla/5.0 (Linux; Android 14)", "Browser on Android"),
        ];
        for (ua, expected) in cases {
            assert_eq!(describe_device(ua), expected, "{ua}");
        }
    }
}
