//! A real Keyhold server for integration tests: the production router on a random
//! loopback port, over a fresh database (SQLite in a temporary directory, or a
//! PostgreSQL database created for the test and dropped afterwards). The real binary in
//! its own process is `instance.rs`.

use crate::client::{
    requests::{confirmed, registration},
    Client,
};
use keyhold::server::{
    building_blocks::second_factors::totp::code_at,
    config::Config,
    edge::router::router,
    runtime::state::{AppState, StartupError},
};
use leptos::prelude::LeptosOptions;
use sqlx::{Connection, Executor, PgConnection};
use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::atomic::{AtomicU32, Ordering},
};

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// The PostgreSQL server used for tests (its maintenance database).
pub fn postgres_admin_url() -> String {
    std::env::var("KEYHOLD_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A database that exists for one test.
pub struct TestDatabase {
    pub url: String,
    postgres_name: Option<String>,
    _dir: tempfile::TempDir,
    pub data_dir: std::path::PathBuf,
}

impl TestDatabase {
    pub async fn create(engine: Engine) -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let data_dir = dir.path().to_path_buf();
        match engine {
            Engine::Sqlite => Self {
                url: format!(
                    "sqlite://{}?mode=rwc",
                    data_dir.join("keyhold.db").display()
                ),
                postgres_name: None,
                _dir: dir,
                data_dir,
            },
            Engine::Postgres => {
                static COUNTER: AtomicU32 = AtomicU32::new(0);
                let name = format!(
                    "kh_test_{}_{}",
                    std::process::id(),
                    COUNTER.fetch_add(1, Ordering::Relaxed)
                );
                let admin = postgres_admin_url();
                let mut conn = PgConnection::connect(&admin).await.unwrap_or_else(|e| {
                    panic!("PostgreSQL for tests is not reachable at {admin}: {e} (make test starts it)")
                });
                conn.execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                    .await
                    .expect("drop stale test database");
                conn.execute(format!("CREATE DATABASE {name}").as_str())
                    .await
                    .expect("create test database");
                let url = match admin.rsplit_once('/') {
                    Some((server, _)) => format!("{server}/{name}"),
                    None => panic!("KEYHOLD_TEST_POSTGRES must end in /<database>"),
                };
                Self {
                    url,
                    postgres_name: Some(name),
                    _dir: dir,
                    data_dir,
                }
            }
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some(name) = self.postgres_name.take() else {
            return;
        };
        // Drop runs outside any runtime guarantee: use a private one-off runtime thread.
        let admin = postgres_admin_url();
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                if let Ok(mut conn) = PgConnection::connect(&admin).await {
                    let _ = conn
                        .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                        .await;
                }
            });
        })
        .join();
    }
}

/// A running server and a client for it.
pub struct TestServer {
    pub addr: SocketAddr,
    pub base: String,
    pub client: reqwest::Client,
    /// The server's clock: `clock.advance(..)` instead of sleeping through an expiry.
    pub clock: keyhold::server::building_blocks::clock::Clock,
    /// What the metrics sample (`throttle_keys`), and what shutdown drains.
    state: AppState,
    /// Dropped with the server (a PostgreSQL test database is dropped then).
    _db: TestDatabase,
    task: tokio::task::JoinHandle<()>,
}

/// The key-encryption key of the servers on PostgreSQL, where it is required (on SQLite
/// each server generates its own into its data directory, as it ships).
pub const POSTGRES_KEY_ENCRYPTION_KEY: &str = "postgres-test-key-encryption-key-0123456789abcdef";

/// `KEYHOLD_KEY_ENCRYPTION_KEY` for a server on `database_url`, if it needs one given.
pub fn key_encryption_key_for(database_url: &str) -> Option<(&'static str, &'static str)> {
    database_url
        .starts_with("postgres")
        .then_some(("KEYHOLD_KEY_ENCRYPTION_KEY", POSTGRES_KEY_ENCRYPTION_KEY))
}

/// Settings for a test server: cheap argon2 so tests stay fast, everything else real.
pub fn test_settings(db: &TestDatabase) -> HashMap<&'static str, String> {
    let mut settings = HashMap::from([
        ("KEYHOLD_DATA_DIR", db.data_dir.display().to_string()),
        ("DATABASE_URL", db.url.clone()),
        ("KEYHOLD_ARGON2_MEMORY_KIB", "1024".into()),
        ("KEYHOLD_ARGON2_ITERATIONS", "1".into()),
        ("KEYHOLD_DB_POOL_SIZE", "20".into()),
        // Tests sign up, log in and upload a lot from 127.0.0.1; `throttling.rs` puts
        // these budgets back to what ships.
        ("KEYHOLD_RATE_LOGIN_ADDRESS", "100000/1s".into()),
        ("KEYHOLD_RATE_REGISTRATION", "100000/1s".into()),
        ("KEYHOLD_RATE_PROFILE", "100000/1s".into()),
        ("KEYHOLD_RATE_UPLOAD", "100000/1s".into()),
        ("KEYHOLD_RATE_UPLOAD_ADDRESS", "100000/1s".into()),
        (
            "KEYHOLD_JWT_SECRET",
            "integration-test-secret-0123456789abcdef-0123456789".into(),
        ),
    ]);
    if let Some((name, key)) = key_encryption_key_for(&db.url) {
        settings.insert(name, key.into());
    }
    settings
}

impl TestServer {
    pub async fn start(engine: Engine) -> Self {
        Self::start_with(engine, |_| {}).await
    }

    /// Starts a server after `adjust` has changed its environment-style settings.
    pub async fn start_with(
        engine: Engine,
        adjust: impl FnOnce(&mut HashMap<&'static str, String>),
    ) -> Self {
        let db = TestDatabase::create(engine).await;
        let mut settings = test_settings(&db);
        adjust(&mut settings);
        let config = Config::from_lookup(|name| settings.get(name).cloned()).expect("config");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("address");
        let leptos_options = LeptosOptions::builder()
            .output_name("keyhold")
            .site_root("target/site")
            .site_addr(addr)
            .build();
        let state = AppState::build(&config, leptos_options)
            .await
            .expect("state");
        let clock = state.clock.clone();
        let app = router(state.clone(), &config);
        let header_timeout = config.header_timeout;
        let task = tokio::spawn(keyhold::server::runtime::serve::serve(
            listener,
            app,
            header_timeout,
            std::future::pending(),
        ));
        Self {
            addr,
            base: format!("http://{addr}"),
            client: reqwest::Client::new(),
            clock,
            state,
            _db: db,
            task,
        }
    }

    /// The start-up once more on this server's database and data directory, as a
    /// restart or another instance runs it, with `adjust` on the settings (this server
    /// keeps running).
    pub async fn start_up_again(
        &self,
        adjust: impl FnOnce(&mut HashMap<&'static str, String>),
    ) -> Result<AppState, StartupError> {
        let mut settings = test_settings(&self._db);
        adjust(&mut settings);
        let config = Config::from_lookup(|name| settings.get(name).cloned()).expect("config");
        let leptos_options = LeptosOptions::builder()
            .output_name("keyhold")
            .site_root("target/site")
            .site_addr(self.addr)
            .build();
        AppState::build(&config, leptos_options).await
    }

    /// How many throttling states the server keeps (its `keyhold_throttle_keys` gauge).
    pub async fn throttle_keys(&self) -> u64 {
        let gauges = self.state.accounts.gauges().await;
        gauges
            .throttle_keys
            .expect("the throttle state can be counted")
    }

    /// What the server does on shutdown after the last request: stores the activity
    /// entries still queued (`Accounts::drain`).
    pub async fn drain_activity(&self) {
        self.state.accounts.drain().await;
    }

    /// The server's database (for running `keyhold` commands on it).
    pub fn database(&self) -> &TestDatabase {
        &self._db
    }

    /// Where this server keeps its files (the SQLite database, the generated secret).
    pub fn data_dir(&self) -> &std::path::Path {
        &self._db.data_dir
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A client of this server's API.
    pub fn api(&self) -> Client {
        Client::over(self.client.clone(), &self.base)
    }

    /// Registers `username` at `<username>@example.com` with `PASSWORD`.
    pub async fn registered(&self, username: &str) {
        let email = format!("{username}@example.com");
        let request = registration(username, &email, PASSWORD);
        let registered = self.api().register(&request).await;
        assert_eq!(registered.status(), 201, "{}", registered.text());
    }

    /// Registers `username` (`registered`) and logs in: the access token.
    pub async fn signed_up(&self, username: &str) -> String {
        self.registered(username).await;
        let logged_in = self.api().login(username, PASSWORD).await;
        assert_eq!(logged_in.status(), 200);
        logged_in.value().access_token
    }

    /// How many rows `table` of the server's database holds, in all.
    pub async fn rows(&self, table: &str) -> i64 {
        use sqlx::Row;
        sqlx::any::install_default_drivers();
        let mut db = sqlx::AnyConnection::connect(&self._db.url)
            .await
            .expect("the test database");
        sqlx::query(&format!("SELECT COUNT(*) AS n FROM {table}"))
            .fetch_one(&mut db)
            .await
            .expect("a count")
            .try_get::<i64, _>("n")
            .expect("a number")
    }

    /// Turns the authenticator app on for the holder of `token` (whose password is
    /// `password`), with a code for the server's clock: its secret and recovery codes.
    pub async fn turn_on_authenticator(
        &self,
        token: &str,
        password: &str,
    ) -> (String, Vec<String>) {
        let holder = self.api().bearer(token);
        let setup = holder.authenticator_setup(&confirmed(password)).await;
        assert_eq!(setup.status(), 200);
        let secret = setup.value().secret;
        let code = code_at(&secret, self.clock.now()).unwrap();
        let activated = holder.authenticator_activate(&code).await;
        assert_eq!(activated.status(), 200);
        (secret, activated.value().recovery_codes)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A loopback port nothing listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free port")
}

/// A password that passes the policy.
pub const PASSWORD: &str = "correct horse battery staple";

/// The value and the whole `Set-Cookie` line `response` sets for cookie `name` (`None`
/// when it sets none; an empty value clears it).
pub fn set_cookie(response: &reqwest::Response, name: &str) -> Option<(String, String)> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|line| line.starts_with(&format!("{name}=")))
        .map(|line| {
            let value = line[name.len() + 1..].split(';').next().unwrap_or("");
            (value.to_owned(), line.to_owned())
        })
}

/// The JSON body of a response.
pub async fn json(response: reqwest::Response) -> serde_json::Value {
    let text = response.text().await.expect("body");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// The machine, shared by the tests that run side by side; a timing test takes it for
/// itself (`alone()`), so that it measures the server rather than the other tests.
static MACHINE: tokio::sync::RwLock<()> = tokio::sync::RwLock::const_new(());

/// Held by every test while it runs beside the others.
pub async fn shared() -> tokio::sync::RwLockReadGuard<'static, ()> {
    MACHINE.read().await
}

/// Held by a timing test: no other test runs meanwhile.
pub async fn alone() -> tokio::sync::RwLockWriteGuard<'static, ()> {
    MACHINE.write().await
}

/// Runs one async test body on SQLite and on PostgreSQL, beside the other tests:
/// `on_both_databases!(name, |engine| async move { ... });`, or with the machine to
/// itself: `on_both_databases!(alone name, ...)`.
macro_rules! on_both_databases {
    ($name:ident, $body:expr) => {
        on_both_databases!(@with shared, $name, $body);
    };
    (alone $name:ident, $body:expr) => {
        on_both_databases!(@with alone, $name, $body);
    };
    (@with $lock:ident, $name:ident, $body:expr) => {
        mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                let _machine = $crate::helpers::$lock().await;
                ($body)($crate::helpers::Engine::Sqlite).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                let _machine = $crate::helpers::$lock().await;
                ($body)($crate::helpers::Engine::Postgres).await;
            }
        }
    };
}
