//! Authenticator-app codes (RFC 6238 with totp-rs): 160-bit secrets, 6 digits, 30-second
//! steps, one step of drift either way. Which step a code belongs to is returned, so the
//! caller can refuse a step used before (RFC 6238 §5.2).

use data_encoding::BASE32_NOPAD;
use rand::RngCore;
use totp_rs::{Algorithm, TOTP};

/// Seconds per step.
pub const STEP_SECS: i64 = 30;
/// Digits per code.
pub const DIGITS: usize = 6;
/// What authenticator apps show as the account's issuer.
const ISSUER: &str = "Keyhold";

/// A new random secret (160 bits, RFC 4226's recommended length), base32 without padding.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 20];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    BASE32_NOPAD.encode(&bytes)
}

fn totp(secret: &str, account: &str) -> Option<TOTP> {
    let bytes = BASE32_NOPAD.decode(secret.as_bytes()).ok()?;
    TOTP::new(
        Algorithm::SHA1,
        DIGITS,
        1,
        STEP_SECS as u64,
        bytes,
        Some(ISSUER.into()),
        account.replace(':', "."),
    )
    .ok()
}

/// The `otpauth://` URI an authenticator app reads from the QR code.
pub fn provisioning_uri(secret: &str, account: &str) -> Option<String> {
    totp(secret, account).map(|totp| totp.get_url())
}

/// The step (unix time / 30) of `code` if it is the code for now or one step either
/// side, latest first; every candidate is compared in constant time.
pub fn matching_step(secret: &str, code: &str, now: i64) -> Option<i64> {
    let totp = totp(secret, "")?;
    let code = code.trim();
    if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let current = now.div_euclid(STEP_SECS);
    let mut found = None;
    for step in [current + 1, current, current - 1] {
        let time = u64::try_from(step * STEP_SECS).ok()?;
        let expected = totp.generate(time);
        let same: bool = subtle::ConstantTimeEq::ct_eq(expected.as_bytes(), code.as_bytes()).into();
        if same && found.is_none() {
            found = Some(step);
        }
    }
    found
}

/// The code for `time` (tests use it to act as the authenticator app).
pub fn code_at(secret: &str, time: i64) -> Option<String> {
    totp(secret, "").map(|totp| totp.generate(u64::try_from(time).unwrap_or(0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B, SHA-1 (the 8-digit values, last six digits).
    #[test]
    fn rfc_6238_vectors() {
        let secret = BASE32_NOPAD.encode(b"12345678901234567890");
        for (time, code) in [
            (59, "287082"),
            (1_111_111_109, "081804"),
            (1_111_111_111, "050471"),
            (1_234_567_890, "005924"),
            (2_000_000_000, "279037"),
        ] {
            assert_eq!(code_at(&secret, time).as_deref(), Some(code), "t={time}");
            assert_eq!(matching_step(&secret, code, time), Some(time / STEP_SECS));
        }
    }

    #[test]
    fn one_step_of_drift_and_no_more() {
        let secret = new_secret();
        assert_eq!(secret.len(), 32);
        let now = 1_700_000_000;
        let step = now / STEP_SECS;
        for (offset, accepted) in [(-2, false), (-1, true), (0, true), (1, true), (2, false)] {
            let code = code_at(&secret, (step + offset) * STEP_SECS).unwrap();
            let found = matching_step(&secret, &code, now);
            if accepted {
                assert_eq!(found, Some(step + offset), "offset {offset}");
            } else if found.is_some() {
                // A collision with a neighbouring step's code is possible (1 in 10^6).
                assert_ne!(found, Some(step + offset));
            }
        }
        assert_eq!(matching_step(&secret, "12345", now), None);
        assert_eq!(matching_step(&secret, "abcdef", now), None);
        assert_eq!(matching_step("not base32!", "123456", now), None);
    }

    #[test]
    fn provisioning_uri_names_issuer_and_account() {
        let uri = provisioning_uri("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "alice").unwrap();
        assert_eq!(
            uri,
            "otpauth://totp/Keyhold:alice?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Keyhold"
        );
    }
}
