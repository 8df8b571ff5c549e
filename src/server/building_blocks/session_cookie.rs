//! The browser session cookie's value: `<session id>.<HMAC(key, session id)>`, so the
//! server can tell which session a page request belongs to (server-rendered pages
//! signed in, settings pages only for a signed-in browser). It names a session row and
//! is worth nothing once that session ends (log-out, revocation, password change, reuse
//! of a replaced refresh token, a disabled account): every use looks the session up.
//! Only the key can make one, so knowing a session's id (it is in access tokens) is
//! not enough. Where it is set and read: `edge/cookie.rs`, `accounts/browser_session.rs`.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::digest::derived_mac;

type HmacSha256 = Hmac<Sha256>;

/// Length of a session id (`token::random_id`) and of the encoded MAC.
const ID_LEN: usize = 22;
const MAC_LEN: usize = 43;

pub struct SessionCookies {
    key: HmacSha256,
}

impl SessionCookies {
    /// Keyed by a key derived from the server's signing secret (not the secret itself,
    /// and not the device cookies' key).
    pub fn new(server_secret: &[u8]) -> Self {
        Self {
            key: derived_mac(server_secret, b"keyhold browser session cookie v1"),
        }
    }

    /// The cookie value for session `session_id`.
    pub fn seal(&self, session_id: &str) -> String {
        let mac = self.mac(session_id).finalize().into_bytes();
        format!("{session_id}.{}", URL_SAFE_NO_PAD.encode(mac))
    }

    /// The session id `value` names, if this key made it (compared in constant time).
    pub fn open<'a>(&self, value: &'a str) -> Option<&'a str> {
        let (session_id, mac) = value.split_once('.')?;
        if session_id.len() != ID_LEN || mac.len() != MAC_LEN {
            return None;
        }
        let mac = URL_SAFE_NO_PAD.decode(mac).ok()?;
        self.mac(session_id).verify_slice(&mac).ok()?;
        Some(session_id)
    }

    fn mac(&self, session_id: &str) -> HmacSha256 {
        let mut mac = self.key.clone();
        mac.update(session_id.as_bytes());
        mac
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cookie_names_its_session_only_under_its_key() {
        let cookies = SessionCookies::new(b"server secret for tests 0123456789");
        let id = "AAAAAAAAAAAAAAAAAAAAAA";
        let value = cookies.seal(id);
        assert_eq!(cookies.open(&value), Some(id));
        let other = SessionCookies::new(b"another server secret 0123456789ab");
        assert_eq!(other.open(&value), None, "another key");
        // Another session's id with this one's MAC.
        let (_, mac) = value.split_once('.').unwrap();
        assert_eq!(cookies.open(&format!("BAAAAAAAAAAAAAAAAAAAAA.{mac}")), None);
        let mut tampered = value.clone().into_bytes();
        let last = tampered.len() - 2;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        assert_eq!(cookies.open(&String::from_utf8(tampered).unwrap()), None);
        for junk in ["", ".", id, &format!("{value}x"), &format!("{id}.{id}")] {
            assert_eq!(cookies.open(junk), None, "{junk:?}");
        }
    }
}
