//! Device cookies (OWASP "Slow Down Online Guessing Attacks with Device Cookies"): a
//! browser that signed in to an account gets
//! `<nonce>.<HMAC(key, user id ‖ token generation ‖ nonce)>`. Presented at a later log-in
//! of the same account, it proves this browser signed in before, and the attempt is
//! throttled on the device's own budget, so failures from elsewhere cannot lock the owner
//! out. Nothing is stored; a forged or foreign cookie is simply an unknown device. The
//! account's token generation is in the MAC, so a password change (or log-out
//! everywhere) voids every device cookie: cookies minted in bulk with a stolen password
//! stop counting once the owner changes it.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

use super::digest::derived_mac;

type HmacSha256 = Hmac<Sha256>;

/// How long a device stays known without signing in again (the cookie's lifetime).
pub const DEVICE_LIFETIME_SECS: i64 = 365 * 24 * 3600;

pub struct DeviceCookies {
    key: HmacSha256,
}

impl DeviceCookies {
    /// Keyed by a key derived from the server's signing secret (not the secret itself).
    pub fn new(server_secret: &[u8]) -> Self {
        Self {
            key: derived_mac(server_secret, b"keyhold device cookie v2"),
        }
    }

    /// A new cookie value for a browser that just signed in to `user_id` (whose tokens
    /// are of `generation`).
    pub fn issue(&self, user_id: i64, generation: i64) -> String {
        let mut nonce = [0u8; 16];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let nonce = URL_SAFE_NO_PAD.encode(nonce);
        let mac = self.mac(user_id, generation, &nonce);
        let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        format!("{nonce}.{signature}")
    }

    /// The device's id (its nonce) if `value` is a cookie issued for `user_id` in token
    /// `generation`; the signature is compared in constant time.
    pub fn verify(&self, value: &str, user_id: i64, generation: i64) -> Option<String> {
        let (nonce, signature) = value.split_once('.')?;
        if nonce.len() != 22 || signature.len() != 43 {
            return None;
        }
        let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
        self.mac(user_id, generation, nonce)
            .verify_slice(&signature)
            .ok()
            .map(|()| nonce.to_owned())
    }

    fn mac(&self, user_id: i64, generation: i64, nonce: &str) -> HmacSha256 {
        let mut mac = self.key.clone();
        mac.update(format!("{user_id}.{generation}.{nonce}").as_bytes());
        mac
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cookie_proves_only_its_own_account_and_key() {
        let devices = DeviceCookies::new(b"server secret for tests 0123456789");
        let cookie = devices.issue(7, 1);
        let nonce = devices
            .verify(&cookie, 7, 1)
            .expect("valid for its account");
        assert!(cookie.starts_with(&nonce));
        assert_eq!(devices.verify(&cookie, 8, 1), None, "another account");
        assert_eq!(
            devices.verify(&cookie, 7, 2),
            None,
            "after a password change"
        );
        let other = DeviceCookies::new(b"another server secret 0123456789ab");
        assert_eq!(other.verify(&cookie, 7, 1), None, "another key");
        let (nonce, signature) = cookie.split_once('.').unwrap();
        let mut tampered = signature.as_bytes().to_vec();
        tampered[0] = if tampered[0] == b'A' { b'B' } else { b'A' };
        let tampered = format!("{nonce}.{}", String::from_utf8(tampered).unwrap());
        assert_eq!(devices.verify(&tampered, 7, 1), None);
        for junk in ["", ".", "abc", &format!("{cookie}x")] {
            assert_eq!(devices.verify(junk, 7, 1), None, "{junk:?}");
        }
    }
}
