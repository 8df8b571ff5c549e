//! Recovery codes: ten single-use codes shown once when a second factor is turned on,
//! each 80 random bits written as `xxxx-xxxx-xxxx-xxxx` in lowercase base32 (no 0/1/8/9,
//! nothing to confuse), stored only as SHA-256 (80 bits cannot be searched), compared in
//! constant time.

use crate::server::building_blocks::digest::sha256_hex;
use data_encoding::BASE32_NOPAD;
use rand::RngCore;

/// Codes handed out at once.
pub const COUNT: usize = 10;
/// Characters of a code without its dashes.
const CHARS: usize = 16;

/// `COUNT` new codes, as shown to the person.
pub fn generate() -> Vec<String> {
    (0..COUNT)
        .map(|_| {
            let mut bytes = [0u8; 10];
            rand::rngs::OsRng.fill_bytes(&mut bytes);
            let text = BASE32_NOPAD.encode(&bytes).to_ascii_lowercase();
            let groups: Vec<&str> = (0..CHARS).step_by(4).map(|i| &text[i..i + 4]).collect();
            groups.join("-")
        })
        .collect()
}

/// The stored form of a code as typed (dashes, spaces and case ignored); `None` when
/// it cannot be a code.
pub fn hash(typed: &str) -> Option<String> {
    let code: String = typed
        .chars()
        .filter(|c| *c != '-' && !c.is_whitespace())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let shaped =
        code.len() == CHARS && code.bytes().all(|b| matches!(b, b'a'..=b'z' | b'2'..=b'7'));
    shaped.then(|| sha256_hex(&code))
}

/// Which of `stored` equals `candidate`, comparing every one in constant time.
pub fn find<'a>(stored: &'a [String], candidate: &str) -> Option<&'a String> {
    let mut found = None;
    for hash in stored {
        let same: bool =
            subtle::ConstantTimeEq::ct_eq(hash.as_bytes(), candidate.as_bytes()).into();
        if same {
            found = Some(hash);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_readable_and_hash_as_typed() {
        let codes = generate();
        assert_eq!(codes.len(), COUNT);
        let hashes: Vec<String> = codes.iter().map(|c| hash(c).unwrap()).collect();
        let mut unique = hashes.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), COUNT);
        let code = &codes[0];
        assert_eq!(code.len(), 19);
        assert_eq!(code.matches('-').count(), 3);
        let typed = format!(" {} ", code.to_uppercase().replace('-', " "));
        assert_eq!(hash(&typed), Some(hashes[0].clone()));
        assert_eq!(find(&hashes, &hashes[3]), Some(&hashes[3]));
        assert_eq!(find(&hashes, &"0".repeat(64)), None);
    }

    #[test]
    fn malformed_codes_have_no_hash() {
        for typed in [
            "",
            "abcd",
            "abcd-efgh-ijkl-mno1",
            "abcd-efgh-ijkl-mnop-q",
            "123456",
        ] {
            assert_eq!(hash(typed), None, "{typed}");
        }
    }
}
