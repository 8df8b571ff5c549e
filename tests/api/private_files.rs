//! The files Keyhold keeps are its own: another user of the machine cannot read them.

use crate::helpers::{Engine, TestServer};

/// Another user of the machine cannot read the accounts: the SQLite database and its
/// journal are 0600 (PostgreSQL keeps no files of ours).
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_sqlite_database_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let _machine = crate::helpers::shared().await;
    let server = TestServer::start(Engine::Sqlite).await;
    server.signed_up("private").await;
    for file in ["keyhold.db", "keyhold.db-wal"] {
        let path = server.data_dir().join(file);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", path.display());
    }
}
