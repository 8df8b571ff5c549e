//! Files only this service may read: the data directory it creates (0700), the SQLite
//! database with its journal files, and the generated JWT secret (0600).

use std::{fs, io, path::Path};

/// Creates `dir` (and missing parents) readable by this user only.
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Writes a new file readable by this user only; `AlreadyExists` if it is there.
pub fn write_new_private_file(path: &Path, contents: &[u8]) -> io::Result<()> {
    use std::io::Write;
    let mut file = private_options().write(true).create_new(true).open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

/// Makes the SQLite database at `path` readable by this user only: created empty (a
/// valid empty database) with mode 0600 when missing, else narrowed to 0600, with its
/// `-wal` and `-shm` files (SQLite gives new ones the database's mode).
pub fn make_database_private(path: &Path) -> io::Result<()> {
    if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        create_private_dir(dir)?;
    }
    match private_options().write(true).create_new(true).open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            for suffix in ["", "-wal", "-shm"] {
                let mut name = path.as_os_str().to_owned();
                name.push(suffix);
                narrow(Path::new(&name))?;
            }
            Ok(())
        }
        Err(e) => Err(e),
    }
}

fn private_options() -> fs::OpenOptions {
    let mut options = fs::OpenOptions::new();
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
}

#[cfg(unix)]
fn narrow(path: &Path) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    match fs::metadata(path) {
        Ok(meta) if meta.permissions().mode() & 0o077 != 0 => {
            fs::set_permissions(path, fs::Permissions::from_mode(0o600))
        }
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(not(unix))]
fn narrow(_path: &Path) -> io::Result<()> {
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn a_new_data_dir_and_database_are_private() {
        let root = tempfile::tempdir().unwrap();
        let database = root.path().join("data/keyhold.db");
        make_database_private(&database).unwrap();
        assert_eq!(mode(&root.path().join("data")), 0o700);
        assert_eq!(mode(&database), 0o600);
    }

    #[test]
    fn an_existing_world_readable_database_is_narrowed() {
        let root = tempfile::tempdir().unwrap();
        let database = root.path().join("keyhold.db");
        for name in ["keyhold.db", "keyhold.db-wal"] {
            let path = root.path().join(name);
            fs::write(&path, b"").unwrap();
            fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        }
        make_database_private(&database).unwrap();
        assert_eq!(mode(&database), 0o600);
        assert_eq!(mode(&root.path().join("keyhold.db-wal")), 0o600);
    }
}
