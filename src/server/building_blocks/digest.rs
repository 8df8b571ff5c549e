//! SHA-256 as lowercase hex: what is stored in place of a secret (refresh tokens, mailed
//! links, recovery codes, throttle keys) and the content hash in a picture's URL. The
//! stored values depend on this exact spelling, so every such hash is made here. Also
//! the HMAC keys the cookies are signed with, each derived for its one purpose.

use data_encoding::HEXLOWER;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// HMAC-SHA256 keyed by `HMAC(server_secret, purpose)`: a key of its own for each use of
/// the server's secret (never the secret itself), so one cookie's MAC is never valid as
/// another's.
pub fn derived_mac(server_secret: &[u8], purpose: &[u8]) -> Hmac<Sha256> {
    let mut derive =
        Hmac::<Sha256>::new_from_slice(server_secret).expect("HMAC takes a key of any length");
    derive.update(purpose);
    let key = derive.finalize().into_bytes();
    Hmac::<Sha256>::new_from_slice(&key).expect("HMAC takes a key of any length")
}

/// SHA-256 of `data`, 64 lowercase hex digits.
pub fn sha256_hex(data: impl AsRef<[u8]>) -> String {
    HEXLOWER.encode(&Sha256::digest(data))
}

/// SHA-256 of `parts` one after the other, 64 lowercase hex digits.
pub fn sha256_hex_of(parts: &[&[u8]]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part);
    }
    HEXLOWER.encode(&hasher.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hex_is_lowercase_and_the_same_in_parts() {
        let empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        assert_eq!(sha256_hex(""), empty);
        assert_eq!(sha256_hex_of(&[]), empty);
        assert_eq!(sha256_hex_of(&[b"ab", b"c"]), sha256_hex("abc"));
    }
}
