//! Hostile clients against the real binary: slow ones (slowloris headers, a trickled
//! body) are cut off while others are served, and ten thousand malformed requests leave
//! the server healthy, its memory bounded, with never a 5xx.

use crate::client::requests::registration;
use crate::helpers::PASSWORD;
use crate::instance::Instance;
use futures::StreamExt;
use std::time::{Duration, Instant};

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
    assert_eq!(app.api().health().await.status(), 200);
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
    let api = app.api();
    let request = registration("victim", "victim@example.com", PASSWORD);
    assert_eq!(api.register(&request).await.status(), 201);
    let answer = api.login("victim", PASSWORD).await;
    assert_eq!(answer.status(), 200);
    let token = answer.value().access_token;
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
    assert_eq!(app.api().health().await.status(), 200);
    assert_eq!(api.bearer(&token).me().await.status(), 200);
    let request = registration("after", "after@example.com", PASSWORD);
    assert_eq!(api.register(&request).await.status(), 201);
    let rss_after = app.memory_kib("VmRSS");
    println!("server RSS before {rss_before} KiB, after 10 000 hostile requests {rss_after} KiB");
    assert!(
        rss_after < rss_before + 150 * 1024,
        "RSS grew from {rss_before} to {rss_after} KiB"
    );
}
