//! The upload storm (security review, finding 3): 200 concurrent uploads of a 4 MiB
//! photo-sized PNG from one account, against the real binary in its own process. Its
//! peak resident memory (`VmHWM`) must stay under 300 MiB, every upload must get an
//! answer among 2xx, 413, 429 and 503, and the server must be healthy afterwards.
//!
//! Run it alone: `cargo test --features ssr upload_storm -- --nocapture` (prints the
//! figures).

use crate::client::requests::registration;
use crate::helpers::{alone, PASSWORD};
use crate::instance::Instance;
use image::{codecs::png, ImageEncoder};
use std::{
    collections::BTreeMap,
    sync::Arc,
    time::{Duration, Instant},
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

const UPLOADS: usize = 200;
/// The most the server may ever have resident during the storm.
const PEAK_RSS_LIMIT_KIB: u64 = 300 * 1024;
/// Longest an upload may wait for its answer.
const ANSWER_WITHIN: Duration = Duration::from_secs(120);
const BOUNDARY: &str = "keyhold-upload-storm";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_concurrent_4_mib_uploads_keep_the_server_small_and_healthy() {
    let _machine = alone().await;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("k.db").display());
    let client = reqwest::Client::new();
    // The upload rate limits would answer most of the storm with 429 before it reaches
    // a slot: lifted, so the storm tests what bounds memory.
    let lifted = [
        ("KEYHOLD_RATE_UPLOAD", "100000/1s"),
        ("KEYHOLD_RATE_UPLOAD_ADDRESS", "100000/1s"),
    ];
    let app = Instance::spawn_with(&url, dir.path(), &lifted)
        .ready(&client)
        .await;
    let api = app.api();
    let request = registration("storm", "storm@example.com", PASSWORD);
    assert_eq!(api.register(&request).await.status(), 201);
    let token = api.login("storm", PASSWORD).await.value().access_token;

    let image = noise_png(4 * 1024 * 1024);
    let body = Arc::new(multipart_body(&image));
    let addr = app.base.trim_start_matches("http://").to_owned();
    let peak_before = app.memory_kib("VmHWM");
    let started = Instant::now();
    let uploads: Vec<_> = (0..UPLOADS)
        .map(|_| {
            let (addr, token, body) = (addr.clone(), token.clone(), Arc::clone(&body));
            tokio::spawn(async move {
                tokio::time::timeout(ANSWER_WITHIN, upload(&addr, &token, &body))
                    .await
                    .unwrap_or_else(|_| Err(format!("no answer within {ANSWER_WITHIN:?}")))
            })
        })
        .collect();
    let mut answers: BTreeMap<String, usize> = BTreeMap::new();
    for upload in uploads {
        let answer = match upload.await.unwrap() {
            Ok(status) => status.to_string(),
            Err(failure) => failure,
        };
        *answers.entry(answer).or_default() += 1;
    }
    let took = started.elapsed();
    let peak = app.memory_kib("VmHWM");
    let healthz = client
        .get(app.url("/healthz"))
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .map(|response| response.status().as_u16());
    println!(
        "upload storm: {UPLOADS} uploads of a {} KiB PNG in {took:.1?}: answers {answers:?}; \
         server peak RSS {} MiB (before the storm {} MiB); /healthz {healthz:?}",
        image.len() / 1024,
        peak / 1024,
        peak_before / 1024,
    );

    assert!(
        peak < PEAK_RSS_LIMIT_KIB,
        "peak RSS {} MiB, over {} MiB",
        peak / 1024,
        PEAK_RSS_LIMIT_KIB / 1024
    );
    let allowed = |answer: &str| {
        answer
            .parse::<u16>()
            .is_ok_and(|status| (200..300).contains(&status) || [413, 429, 503].contains(&status))
    };
    assert!(
        answers.keys().all(|answer| allowed(answer)),
        "answers other than 2xx/413/429/503: {answers:?}"
    );
    assert!(
        answers.contains_key("200"),
        "no upload succeeded: {answers:?}"
    );
    assert_eq!(healthz.ok(), Some(200), "/healthz after the storm");
}

/// One upload on its own connection, written the way a hostile client would: the whole
/// body is sent without waiting, and the answer is read while sending, since the server
/// may answer (503) before reading the body. Returns the status of the answer.
async fn upload(addr: &str, token: &str, body: &[u8]) -> Result<u16, String> {
    let stream = TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let (mut from_server, mut to_server) = stream.into_split();
    let head = format!(
        "POST /api/users/me/image HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n",
        body.len()
    );
    let send = async {
        to_server.write_all(head.as_bytes()).await?;
        to_server.write_all(body).await
    };
    let answer = async {
        let mut answer = Vec::new();
        let mut buffer = [0u8; 1024];
        loop {
            let read = from_server
                .read(&mut buffer)
                .await
                .map_err(|e| format!("connection failed before an answer: {e}"))?;
            if read == 0 {
                return Err("connection closed without an answer".to_owned());
            }
            answer.extend_from_slice(&buffer[..read]);
            if let Some(end) = answer.windows(2).position(|w| w == b"\r\n") {
                let line = String::from_utf8_lossy(&answer[..end]).into_owned();
                return line
                    .split(' ')
                    .nth(1)
                    .and_then(|status| status.parse().ok())
                    .ok_or(format!("not an HTTP answer: {line}"));
            }
        }
    };
    tokio::pin!(send, answer);
    let mut sending = true;
    loop {
        tokio::select! {
            // A write error after an early answer is expected: the answer decides.
            _ = &mut send, if sending => sending = false,
            status = &mut answer => return status,
        }
    }
}

fn multipart_body(image: &[u8]) -> Vec<u8> {
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"noise.png\"\r\n\
         Content-Type: image/png\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(image);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

/// A valid RGB PNG of random noise just under `bytes` (noise does not compress, so it is
/// stored as is: fast to make, and as many pixels as a photo of that size).
fn noise_png(bytes: usize) -> Vec<u8> {
    // Three bytes a pixel, and a little room for the PNG and zlib framing.
    let side = (((bytes - 64 * 1024) / 3) as f64).sqrt() as u32;
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let pixels: Vec<u8> = (0..side * side * 3)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 32) as u8
        })
        .collect();
    let mut out = Vec::new();
    png::PngEncoder::new_with_quality(
        &mut out,
        png::CompressionType::Uncompressed,
        png::FilterType::NoFilter,
    )
    .write_image(&pixels, side, side, image::ExtendedColorType::Rgb8)
    .unwrap();
    assert!(out.len() <= bytes, "{} bytes", out.len());
    out
}
