//! Static assets of the site (`/pkg`): their file names carry a content hash
//! (cargo-leptos `hash-files`), so browsers may keep them forever; `cargo leptos build
//! --precompress` writes their brotli and gzip forms, served as they are.

/// Whether a `/pkg` file name carries a content hash (`keyhold.<hash>.wasm`).
pub fn is_hashed(file_name: &str) -> bool {
    let mut parts = file_name.split('.');
    let _stem = parts.next();
    let hash = parts.next();
    parts.next().is_some()
        && hash.is_some_and(|h| {
            h.len() >= 8
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// Whether cargo-leptos built with `hash-files` (it writes `hash.txt` next to the binary).
pub fn hash_file_present(name: &str) -> bool {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join(name)))
        .is_some_and(|path| path.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_names_are_recognised() {
        assert!(is_hashed("keyhold.a1B2c3D4e5F6g7H8.wasm"));
        assert!(!is_hashed("keyhold.wasm"));
        assert!(!is_hashed("keyhold.css"));
        assert!(!is_hashed("keyhold.ab.js"));
    }
}
