//! A real Keyhold server for integration tests: the production router on a random
//! loopback port, over a fresh database (SQLite in a temporary directory, or a
//! PostgreSQL database created for the test and dropped afterwards); or the real binary
//! in its own process (`Instance`), when a test needs the server's own memory or exit.

use keyhold::server::{
    building_blocks::second_factors::totp::code_at, config::Config, edge::router::router,
    runtime::state::AppState,
};
use leptos::prelude::LeptosOptions;
use sqlx::{Connection, Executor, PgConnection};
use std::{
    collections::HashMap,
    net::SocketAddr,
    process::{Child, Command, Stdio},
    sync::atomic::{AtomicU32, Ordering},
    time::{Duration, Instant},
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
    /// Dropped with the server (a PostgreSQL test database is dropped then).
    _db: TestDatabase,
    task: tokio::task::JoinHandle<()>,
}

/// Settings for a test server: cheap argon2 so tests stay fast, everything else real.
pub fn test_settings(db: &TestDatabase) -> HashMap<&'static str, String> {
    HashMap::from([
        ("KEYHOLD_DATA_DIR", db.data_dir.display().to_string()),
        ("DATABASE_URL", db.url.clone()),
        ("KEYHOLD_ARGON2_MEMORY_KIB", "1024".into()),
        ("KEYHOLD_ARGON2_ITERATIONS", "1".into()),
        ("KEYHOLD_DB_POOL_SIZE", "20".into()),
        // Tests sign up and upload a lot from 127.0.0.1; `throttling.rs` puts these
        // budgets back to what ships.
        ("KEYHOLD_RATE_REGISTRATION", "100000/1s".into()),
        ("KEYHOLD_RATE_PROFILE", "100000/1s".into()),
        ("KEYHOLD_RATE_UPLOAD", "100000/1s".into()),
        ("KEYHOLD_RATE_UPLOAD_ADDRESS", "100000/1s".into()),
        (
            "KEYHOLD_JWT_SECRET",
            "integration-test-secret-0123456789abcdef-0123456789".into(),
        ),
    ])
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
        let app = router(state, &config);
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
            _db: db,
            task,
        }
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

    /// `POST /api/register` with a JSON body.
    pub async fn register(&self, username: &str, email: &str, password: &str) -> reqwest::Response {
        self.client
            .post(self.url("/api/register"))
            .json(&serde_json::json!({"username": username, "email": email, "password": password}))
            .send()
            .await
            .expect("register request")
    }

    /// `POST /api/login` with the OAuth2 password form.
    pub async fn login(&self, username: &str, password: &str) -> reqwest::Response {
        self.client
            .post(self.url("/api/login"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(&[
                ("grant_type", "password"),
                ("username", username),
                ("password", password),
            ]))
            .send()
            .await
            .expect("login request")
    }

    /// Registers and logs in, returning the access token.
    pub async fn signed_up(&self, username: &str) -> String {
        let email = format!("{username}@example.com");
        let response = self.register(username, &email, PASSWORD).await;
        assert_eq!(
            response.status(),
            201,
            "{}",
            response.text().await.unwrap_or_default()
        );
        let response = self.login(username, PASSWORD).await;
        assert_eq!(response.status(), 200);
        let body: serde_json::Value = response.json().await.expect("token json");
        body["access_token"]
            .as_str()
            .expect("access_token")
            .to_owned()
    }

    /// `GET /api/users/me` with the token.
    pub async fn me(&self, token: &str) -> reqwest::Response {
        self.client
            .get(self.url("/api/users/me"))
            .bearer_auth(token)
            .send()
            .await
            .expect("users/me request")
    }

    /// `POST path` with a JSON body, as the holder of `token` when given.
    pub async fn post_json(
        &self,
        token: Option<&str>,
        path: &str,
        body: serde_json::Value,
    ) -> reqwest::Response {
        let mut request = self.client.post(self.url(path)).json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("POST request")
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
        let body = serde_json::json!({"current_password": password});
        let setup = self
            .post_json(Some(token), "/api/users/me/authenticator/setup", body)
            .await;
        assert_eq!(setup.status(), 200);
        let secret = json(setup).await["secret"].as_str().unwrap().to_owned();
        let code = code_at(&secret, self.clock.now()).unwrap();
        let body = serde_json::json!({"code": code});
        let activated = self
            .post_json(Some(token), "/api/users/me/authenticator/activate", body)
            .await;
        assert_eq!(activated.status(), 200);
        let codes = json(activated).await["recovery_codes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|code| code.as_str().unwrap().to_owned())
            .collect();
        (secret, codes)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The JWT secret of every `Instance` (so that several act as one service).
const INSTANCE_SECRET: &str = "shared-secret-of-both-instances-0123456789abcdef";

/// A Keyhold server process: the real binary, with its own memory to measure.
pub struct Instance {
    pub child: Child,
    pub base: String,
}

impl Instance {
    pub fn spawn(database_url: &str, data_dir: &std::path::Path) -> Self {
        Self::spawn_with(database_url, data_dir, &[])
    }

    pub fn spawn_with(
        database_url: &str,
        data_dir: &std::path::Path,
        extra: &[(&str, &str)],
    ) -> Self {
        let port = free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_keyhold"))
            .env("LEPTOS_OUTPUT_NAME", "keyhold")
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
            .env("LEPTOS_SITE_ROOT", "target/site")
            .env("DATABASE_URL", database_url)
            .env("KEYHOLD_DATA_DIR", data_dir)
            .env("KEYHOLD_JWT_SECRET", INSTANCE_SECRET)
            .env("KEYHOLD_ARGON2_MEMORY_KIB", "1024")
            .env("KEYHOLD_ARGON2_ITERATIONS", "1")
            .env("KEYHOLD_DB_POOL_SIZE", "20")
            .env("RUST_LOG", "warn")
            .env("KEYHOLD_RATE_REGISTRATION", "100000/1s")
            .envs(extra.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the keyhold binary");
        Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
        }
    }

    pub async fn ready(self, client: &reqwest::Client) -> Self {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(response) = client.get(format!("{}/healthz", self.base)).send().await {
                if response.status() == 200 {
                    return self;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("instance at {} did not become healthy", self.base);
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A memory figure of the process from `/proc/<pid>/status`, in KiB: `VmRSS` (resident
    /// now) or `VmHWM` (the peak so far); 0 if unreadable.
    pub fn memory_kib(&self, field: &str) -> u64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .ok()
            .and_then(|status| {
                status
                    .lines()
                    .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
                    .and_then(|value| value.split_whitespace().next()?.parse().ok())
            })
            .unwrap_or(0)
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
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

/// `application/x-www-form-urlencoded` encoding of pairs.
pub fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            b' ' => "+".into(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The JSON body of a response.
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

pub async fn json(response: reqwest::Response) -> serde_json::Value {
    let text = response.text().await.expect("body");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// A string field of a response's JSON body (`access_token`, `image_url`...).
pub async fn text_field(response: reqwest::Response, name: &str) -> String {
    let body = json(response).await;
    body[name]
        .as_str()
        .unwrap_or_else(|| panic!("no string {name:?} in {body}"))
        .to_owned()
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
