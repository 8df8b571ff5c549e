//! Scale-out: two Keyhold processes (the real binary) on one PostgreSQL with one JWT
//! secret behave as one service. Also the start-up wait for a database that is down.

mod common;

use common::{json, Engine, TestDatabase, PASSWORD};
use serde_json::json;
use std::{
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

const SECRET: &str = "shared-secret-of-both-instances-0123456789abcdef";

/// A Keyhold server process.
struct Instance {
    child: Child,
    base: String,
}

impl Instance {
    fn spawn(database_url: &str, data_dir: &std::path::Path) -> Self {
        Self::spawn_with(database_url, data_dir, &[])
    }

    fn spawn_with(database_url: &str, data_dir: &std::path::Path, extra: &[(&str, &str)]) -> Self {
        let port = free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_keyhold"))
            .env("LEPTOS_OUTPUT_NAME", "keyhold")
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
            .env("LEPTOS_SITE_ROOT", "target/site")
            .env("DATABASE_URL", database_url)
            .env("KEYHOLD_DATA_DIR", data_dir)
            .env("KEYHOLD_JWT_SECRET", SECRET)
            .env("KEYHOLD_ARGON2_MEMORY_KIB", "1024")
            .env("KEYHOLD_ARGON2_ITERATIONS", "1")
            .env("KEYHOLD_DB_POOL_SIZE", "20")
            .env("RUST_LOG", "warn")
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

    async fn ready(self, client: &reqwest::Client) -> Self {
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

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free port")
}

async fn register(client: &reqwest::Client, at: &Instance, username: &str, email: &str) -> u16 {
    client
        .post(at.url("/api/register"))
        .json(&json!({"username": username, "email": email, "password": PASSWORD}))
        .send()
        .await
        .expect("register")
        .status()
        .as_u16()
}

async fn login(client: &reqwest::Client, at: &Instance, username: &str, password: &str) -> String {
    let response = client
        .post(at.url("/api/login"))
        .form(&[("username", username), ("password", password)])
        .send()
        .await
        .expect("login");
    assert_eq!(response.status(), 200);
    json(response).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn me(client: &reqwest::Client, at: &Instance, token: &str) -> u16 {
    client
        .get(at.url("/api/users/me"))
        .bearer_auth(token)
        .send()
        .await
        .expect("users/me")
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_on_one_postgres_act_as_one() {
    let db = TestDatabase::create(Engine::Postgres).await;
    let client = reqwest::Client::new();
    let a = Instance::spawn(&db.url, &db.data_dir.join("a"))
        .ready(&client)
        .await;
    let b = Instance::spawn(&db.url, &db.data_dir.join("b"))
        .ready(&client)
        .await;

    // An account made on A logs in on B, and B's token works on A.
    assert_eq!(
        register(&client, &a, "shared", "shared@example.com").await,
        201
    );
    let token_b = login(&client, &b, "shared", PASSWORD).await;
    assert_eq!(me(&client, &a, &token_b).await, 200);
    let token_a = login(&client, &a, "shared", PASSWORD).await;
    assert_eq!(me(&client, &b, &token_a).await, 200);

    // An image uploaded through A is served by B.
    let png = {
        let pixels = image::ImageBuffer::from_pixel(40, 40, image::Rgba([200u8, 30, 30, 255]));
        let mut out = Vec::new();
        image::DynamicImage::ImageRgba8(pixels)
            .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
            .unwrap();
        out
    };
    let form = reqwest::multipart::Form::new().part(
        "image",
        reqwest::multipart::Part::bytes(png).file_name("red.png"),
    );
    let response = client
        .post(a.url("/api/users/me/image"))
        .bearer_auth(&token_a)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let image_url = json(response).await["image_url"]
        .as_str()
        .unwrap()
        .to_owned();
    let response = client.get(b.url(&image_url)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "image/webp");

    // A password change on A rejects the old tokens on B at once.
    let new_password = "another long passphrase indeed";
    let response = client
        .post(a.url("/api/users/me/password"))
        .bearer_auth(&token_a)
        .json(&json!({"current_password": PASSWORD, "new_password": new_password}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let fresh = json(response).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(me(&client, &b, &token_a).await, 401);
    assert_eq!(me(&client, &b, &token_b).await, 401);
    assert_eq!(me(&client, &b, &fresh).await, 200);

    // Log out everywhere on B rejects the fresh token on A at once.
    let response = client
        .post(b.url("/api/users/me/logout-all"))
        .bearer_auth(&fresh)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(me(&client, &a, &fresh).await, 401);

    // 100 concurrent registrations of one username over both: exactly one account.
    let attempts = (0..100).map(|i| {
        let (client, target) = (&client, if i % 2 == 0 { &a } else { &b });
        async move { register(client, target, "contested", &format!("c{i}@example.com")).await }
    });
    let statuses = futures::future::join_all(attempts).await;
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        99,
        "{statuses:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_up_waits_for_the_database_then_gives_up_clearly() {
    let dir = tempfile::tempdir().unwrap();
    // Nothing listens on this port: the instance retries with backoff, then exits.
    let url = format!("postgres://postgres@127.0.0.1:{}/none", free_port());
    let started = Instant::now();
    let mut instance = Instance::spawn_with(
        &url,
        dir.path(),
        &[("KEYHOLD_DB_CONNECT_TIMEOUT", "3"), ("RUST_LOG", "info")],
    );
    let status = tokio::task::spawn_blocking(move || {
        let status = instance.child.wait().expect("exit status");
        let mut log = String::new();
        if let Some(mut stderr) = instance.child.stderr.take() {
            use std::io::Read;
            let _ = stderr.read_to_string(&mut log);
        }
        (status, log)
    })
    .await
    .unwrap();
    let (status, log) = status;
    let waited = started.elapsed();
    assert!(!status.success(), "must exit with an error");
    assert!(
        waited >= Duration::from_secs(2),
        "gave up after only {waited:?}"
    );
    assert!(waited < Duration::from_secs(20), "waited {waited:?}");
    assert!(log.contains("database not reachable yet"), "{log}");
    assert!(log.contains("start-up failed"), "{log}");
}

/// A TCP forwarder to PostgreSQL that the test can cut and restore, to play an outage.
struct Outage {
    port: u16,
    up: std::sync::Arc<std::sync::atomic::AtomicBool>,
    connections: std::sync::Arc<std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>>,
    accept: tokio::task::JoinHandle<()>,
}

impl Outage {
    async fn forward_to(target: &'static str) -> Self {
        use std::sync::{atomic::AtomicBool, Arc, Mutex};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let up = Arc::new(AtomicBool::new(true));
        let connections: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>> = Arc::default();
        let (up2, connections2) = (up.clone(), connections.clone());
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !up2.load(std::sync::atomic::Ordering::SeqCst) {
                    continue; // dropped: connection refused/reset
                }
                let task = tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                connections2.lock().unwrap().push(task);
            }
        });
        Self {
            port,
            up,
            connections,
            accept,
        }
    }

    fn cut(&self) {
        self.up.store(false, std::sync::atomic::Ordering::SeqCst);
        for task in self.connections.lock().unwrap().drain(..) {
            task.abort();
        }
    }

    fn restore(&self) {
        self.up.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Drop for Outage {
    fn drop(&mut self) {
        self.cut();
        self.accept.abort();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn health_check_and_requests_follow_a_database_outage() {
    let db = TestDatabase::create(Engine::Postgres).await;
    let outage = Outage::forward_to("127.0.0.1:5432").await;
    let name = db.url.rsplit('/').next().unwrap().to_owned();
    let via_proxy = format!("postgres://postgres@127.0.0.1:{}/{name}", outage.port);
    let client = reqwest::Client::new();
    let app = Instance::spawn(&via_proxy, &db.data_dir)
        .ready(&client)
        .await;
    assert_eq!(
        register(&client, &app, "outage", "outage@example.com").await,
        201
    );
    let token = login(&client, &app, "outage", PASSWORD).await;

    outage.cut();
    let response = client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(response.status(), 503);
    assert_eq!(json(response).await["database"], "unreachable");
    let response = client
        .get(app.url("/api/users/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503, "a database outage is 503, not 500");
    assert!(response.headers().contains_key("retry-after"));
    assert_eq!(json(response).await["error"], "unavailable");

    outage.restore();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let status = client
            .get(app.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status();
        if status == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "did not recover");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(me(&client, &app, &token).await, 200);
}
