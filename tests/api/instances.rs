//! Scale-out: two Keyhold processes (the real binary) on one PostgreSQL with one JWT
//! secret behave as one service. Also the start-up wait for a database that is down.

use crate::helpers::{free_port, json, text_field, Engine, Instance, TestDatabase, PASSWORD};
use futures::StreamExt;
use serde_json::json;
use std::time::{Duration, Instant};

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
    text_field(response, "access_token").await
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

/// Two processes of the real binary on one PostgreSQL database, both answering.
async fn two_instances(db: &TestDatabase, client: &reqwest::Client) -> (Instance, Instance) {
    let a = Instance::spawn(&db.url, &db.data_dir.join("a"))
        .ready(client)
        .await;
    let b = Instance::spawn(&db.url, &db.data_dir.join("b"))
        .ready(client)
        .await;
    (a, b)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_on_one_postgres_act_as_one() {
    let _machine = crate::helpers::shared().await;
    let db = TestDatabase::create(Engine::Postgres).await;
    let client = reqwest::Client::new();
    let (a, b) = two_instances(&db, &client).await;

    // An account made on A logs in on B, and B's token works on A.
    assert_eq!(
        register(&client, &a, "shared", "shared@example.com").await,
        201
    );
    let token_b = login(&client, &b, "shared", PASSWORD).await;
    assert_eq!(me(&client, &a, &token_b).await, 200);
    let token_a = login(&client, &a, "shared", PASSWORD).await;
    assert_eq!(me(&client, &b, &token_a).await, 200);

    // A session opened on A is refreshed on B; signing out on B ends it on A at once.
    let response = client
        .post(a.url("/api/login"))
        .form(&[("username", "shared"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    let cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("__Host-keyhold-refresh="))
        .and_then(|v| v.split(';').next())
        .expect("refresh cookie")
        .to_owned();
    let refresh = |at: &Instance| {
        client
            .post(at.url("/api/refresh"))
            .header("cookie", &cookie)
            .header("origin", at.url(""))
            .send()
    };
    let response = refresh(&b).await.unwrap();
    assert_eq!(response.status(), 200);
    let renewed = text_field(response, "access_token").await;
    assert_eq!(me(&client, &a, &renewed).await, 200);
    let response = client
        .post(b.url("/api/logout"))
        .bearer_auth(&renewed)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(me(&client, &a, &renewed).await, 401);
    assert_eq!(refresh(&a).await.unwrap().status(), 401);

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
    let image_url = text_field(response, "image_url").await;
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
    let fresh = text_field(response, "access_token").await;
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
    let _machine = crate::helpers::shared().await;
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
    let _machine = crate::helpers::shared().await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn slow_clients_are_cut_off() {
    let _machine = crate::helpers::shared().await;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("k.db").display());
    let client = reqwest::Client::new();
    let app = Instance::spawn_with(
        &url,
        dir.path(),
        &[
            ("KEYHOLD_HEADER_TIMEOUT", "1"),
            ("KEYHOLD_BODY_TIMEOUT", "1"),
        ],
    )
    .ready(&client)
    .await;
    let addr = app.base.trim_start_matches("http://").to_owned();

    // 50 slowloris connections: half a request line and header, then silence.
    let mut slow = Vec::new();
    for _ in 0..50 {
        let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            .await
            .unwrap();
        slow.push(stream);
    }
    // Meanwhile the server answers others at once.
    let started = Instant::now();
    assert_eq!(
        client
            .get(app.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert!(started.elapsed() < Duration::from_secs(1));
    // Within the header deadline (plus slack) every slow connection is closed.
    for mut stream in slow {
        let mut buffer = [0u8; 512];
        let closed = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buffer)).await;
        assert!(
            matches!(closed, Ok(Ok(_)) | Ok(Err(_))),
            "a slow connection stayed open"
        );
    }

    // A body trickled slower than the body deadline is refused, not waited for.
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    stream
        .write_all(b"POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nusername=")
        .await
        .unwrap();
    let mut answer = vec![0u8; 2048];
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut answer))
        .await
        .expect("the server must give up on the body")
        .unwrap_or(0);
    let answer = String::from_utf8_lossy(&answer[..read]);
    assert!(read == 0 || answer.starts_with("HTTP/1.1 4"), "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_thousand_hostile_requests_leave_the_server_healthy() {
    let _machine = crate::helpers::shared().await;
    use tokio::io::AsyncWriteExt;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("k.db").display());
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .unwrap();
    let app = Instance::spawn(&url, dir.path()).ready(&client).await;
    assert_eq!(
        register(&client, &app, "victim", "victim@example.com").await,
        201
    );
    let token = login(&client, &app, "victim", PASSWORD).await;
    let rss_before = app.memory_kib("VmRSS");

    let deep_json = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let long_field = format!(
        "{{\"username\":\"{}\",\"email\":\"a@b.co\",\"password\":\"x\"}}",
        "a".repeat(15_000)
    );
    let bodies: Vec<(&str, Vec<u8>)> = vec![
        ("application/json", deep_json.into_bytes()),
        ("application/json", long_field.into_bytes()),
        ("application/json", b"\xff\xfe\xfd{\"a\":1}".to_vec()),
        (
            "application/json",
            b"{\"username\":1e999999,\"password\":null}".to_vec(),
        ),
        (
            "application/json",
            b"{\"username\":\"\\ud800\",\"email\":\"x\",\"password\":\"y\"}".to_vec(),
        ),
        (
            "application/x-www-form-urlencoded",
            b"username=%ZZ&password=%".to_vec(),
        ),
        (
            "application/x-www-form-urlencoded",
            "a=".repeat(5_000).into_bytes(),
        ),
        ("text/plain", b"hello".to_vec()),
        (
            "multipart/form-data; boundary=zz",
            b"--zz\r\nContent-Disposition: form-data; name=\"image\"\r\n\r\n\x00\x01--zz--"
                .to_vec(),
        ),
        (
            "application/xml",
            b"<?xml version=\"1.0\"?><!DOCTYPE a [<!ENTITY b \"c\">]><a>&b;</a>".to_vec(),
        ),
    ];
    let paths = [
        ("POST", "/api/register"),
        ("POST", "/api/login"),
        ("POST", "/api/users/me/password"),
        ("POST", "/api/users/me/profile"),
        ("POST", "/api/users/me/image"),
        ("GET", "/api/users/me"),
        ("PUT", "/api/users/me"),
        ("POST", "/api/nothing"),
        ("GET", "/profile?%00=%ff"),
        ("GET", "/media/avatars/zzzz/256.webp"),
    ];
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let requests: Vec<_> = (0..10_000)
        .map(|_| {
            let (method, path) = paths[(next() % paths.len() as u64) as usize];
            let (content_type, body) = bodies[(next() % bodies.len() as u64) as usize].clone();
            let authorized = next() % 2 == 0;
            (method, path, content_type, body, authorized)
        })
        .collect();
    let statuses: Vec<u16> = futures::stream::iter(requests)
        .map(|(method, path, content_type, body, authorized)| {
            let (client, app, token) = (&client, &app, &token);
            async move {
                let mut request = client
                    .request(method.parse().unwrap(), app.url(path))
                    .header("content-type", content_type)
                    .body(body);
                if authorized {
                    request = request.bearer_auth(token);
                }
                request
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
                    .unwrap_or(0)
            }
        })
        .buffer_unordered(32)
        .collect()
        .await;
    let server_errors = statuses.iter().filter(|s| **s >= 500 || **s == 0).count();
    assert_eq!(
        server_errors, 0,
        "5xx or dropped connections among 10 000 hostile requests"
    );

    // Raw garbage and oversized headers on the socket.
    for size in [1usize, 100, 10_000, 200_000] {
        if let Ok(mut stream) =
            tokio::net::TcpStream::connect(app.base.trim_start_matches("http://")).await
        {
            let garbage: Vec<u8> = (0..size).map(|i| (i * 7919 % 251) as u8).collect();
            let _ = stream.write_all(&garbage).await;
        }
    }
    let huge_header = "x".repeat(100_000);
    let response = client
        .get(app.url("/healthz"))
        .header("x-huge", huge_header)
        .send()
        .await;
    assert!(response.map(|r| r.status().as_u16() < 500).unwrap_or(true));

    // Still healthy, still serving the normal flow, memory bounded.
    assert_eq!(
        client
            .get(app.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(me(&client, &app, &token).await, 200);
    assert_eq!(
        register(&client, &app, "after", "after@example.com").await,
        201
    );
    let rss_after = app.memory_kib("VmRSS");
    println!("server RSS before {rss_before} KiB, after 10 000 hostile requests {rss_after} KiB");
    assert!(
        rss_after < rss_before + 150 * 1024,
        "RSS grew from {rss_before} to {rss_after} KiB"
    );
}

/// Throttling is shared: failed log-ins alternating between two instances reach 429 at
/// the same count as on one (5 per account and address), and concurrent guesses on
/// both cannot all pass one check.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_share_one_throttling_budget() {
    let _machine = crate::helpers::shared().await;
    let db = TestDatabase::create(Engine::Postgres).await;
    let client = reqwest::Client::new();
    let (a, b) = two_instances(&db, &client).await;
    assert_eq!(
        register(&client, &a, "split", "split@example.com").await,
        201
    );
    assert_eq!(
        register(&client, &a, "burst", "burst@example.com").await,
        201
    );
    let guess = |at: &Instance, username: &'static str| {
        client
            .post(at.url("/api/login"))
            .form(&[
                ("username", username),
                ("password", "wrong password number one"),
            ])
            .send()
    };
    let mut statuses = Vec::new();
    for i in 0..6 {
        let at = if i % 2 == 0 { &a } else { &b };
        statuses.push(guess(at, "split").await.unwrap().status().as_u16());
    }
    assert_eq!(statuses, vec![401, 401, 401, 401, 401, 429]);

    let guesses = (0..30).map(|i| guess(if i % 2 == 0 { &a } else { &b }, "burst"));
    let statuses: Vec<u16> = futures::future::join_all(guesses)
        .await
        .into_iter()
        .map(|r| r.unwrap().status().as_u16())
        .collect();
    let checked = statuses.iter().filter(|s| **s == 401).count();
    assert_eq!(checked, 5, "{statuses:?}");
}
