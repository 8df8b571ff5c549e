//! Static assets of the site (`/pkg`): compressed once with brotli (quality 11) and gzip
//! (level 9) next to the originals, then served as they are (no compression per
//! request). File names carry a content hash (cargo-leptos `hash-files`), so browsers may
//! keep them forever.

use std::{
    io::Write,
    path::{Path, PathBuf},
    time::SystemTime,
};

/// The files worth compressing.
const COMPRESSIBLE: &[&str] = &["wasm", "js", "css"];

/// Writes `<file>.br` and `<file>.gz` for every asset in `dir` that lacks them or changed
/// since. Best effort: a read-only directory only means compression per request.
pub fn precompress(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut written = 0;
    for path in entries.flatten().map(|e| e.path()) {
        let compressible = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| COMPRESSIBLE.contains(&e));
        if !compressible {
            continue;
        }
        for (suffix, compress) in [
            ("br", brotli_bytes as fn(&[u8]) -> Vec<u8>),
            ("gz", gzip_bytes),
        ] {
            let target = with_suffix(&path, suffix);
            if modified(&target) >= modified(&path) && modified(&target).is_some() {
                continue;
            }
            match std::fs::read(&path).and_then(|raw| write_atomically(&target, &compress(&raw))) {
                Ok(()) => written += 1,
                Err(e) => {
                    tracing::warn!(file = %target.display(), error = %e, "cannot precompress");
                    return written;
                }
            }
        }
    }
    written
}

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

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".");
    name.push(suffix);
    PathBuf::from(name)
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

fn write_atomically(target: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let temporary = with_suffix(target, &format!("tmp{}", std::process::id()));
    let mut file = std::fs::File::create(&temporary)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&temporary, target)
}

fn brotli_bytes(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len() / 3);
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        lgwin: 22,
        ..Default::default()
    };
    let mut input = raw;
    // Writing into a Vec cannot fail.
    let _ = brotli::BrotliCompress(&mut input, &mut out, &params);
    out
}

fn gzip_bytes(raw: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let _ = encoder.write_all(raw);
    encoder.finish().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn hashed_names_are_recognised() {
        assert!(is_hashed("keyhold.a1B2c3D4e5F6g7H8.wasm"));
        assert!(!is_hashed("keyhold.wasm"));
        assert!(!is_hashed("keyhold.css"));
        assert!(!is_hashed("keyhold.ab.js"));
    }

    #[test]
    fn assets_are_compressed_once_and_decompress_to_the_original() {
        let dir = tempfile::tempdir().unwrap();
        let original = "body { color: red }\n".repeat(500);
        std::fs::write(dir.path().join("site.css"), &original).unwrap();
        std::fs::write(dir.path().join("notes.txt"), "not an asset").unwrap();
        assert_eq!(precompress(dir.path()), 2);
        assert_eq!(precompress(dir.path()), 0, "up to date: nothing rewritten");
        assert!(!dir.path().join("notes.txt.br").exists());

        let br = std::fs::read(dir.path().join("site.css.br")).unwrap();
        assert!(br.len() < original.len() / 10);
        let mut decoded = Vec::new();
        brotli::BrotliDecompress(&mut br.as_slice(), &mut decoded).unwrap();
        assert_eq!(decoded, original.as_bytes());
        let gz = std::fs::read(dir.path().join("site.css.gz")).unwrap();
        let mut text = String::new();
        flate2::read::GzDecoder::new(gz.as_slice())
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text, original);
    }
}
