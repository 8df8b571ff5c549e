//! A database that is down: the start-up waits for it with backoff, then gives up
//! clearly; a running instance answers 503 (never 500) while it is unreachable, says so
//! on `/healthz`, and recovers when it is back.

use crate::client::requests::registration;
use crate::helpers::{free_port, Engine, TestDatabase, PASSWORD};
use crate::instance::Instance;
use keyhold::api::ErrorCode;
use std::time::{Duration, Instant};

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
    let api = app.api();
    let request = registration("outage", "outage@example.com", PASSWORD);
    assert_eq!(api.register(&request).await.status(), 201);
    let answer = api.login("outage", PASSWORD).await;
    assert_eq!(answer.status(), 200);
    let token = answer.value().access_token;

    outage.cut();
    let health = api.health().await;
    assert_eq!(health.status(), 503);
    assert_eq!(health.json()["database"], "unreachable");
    let answer = api.bearer(&token).me().await;
    assert_eq!(answer.status(), 503, "a database outage is 503, not 500");
    assert!(answer.headers().contains_key("retry-after"));
    assert_eq!(answer.error().error, ErrorCode::Unavailable);

    outage.restore();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if api.health().await.status() == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "did not recover");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(api.bearer(&token).me().await.status(), 200);
}
