//! Profile images over real HTTP on SQLite and PostgreSQL: valid formats are re-encoded
//! without metadata, hostile files get the right 4xx, and the pictures are served with
//! private, short caching under their content hash.

use crate::client::requests::deletion;
use crate::helpers::{Engine, TestServer, PASSWORD};
use image::{DynamicImage, ImageBuffer, ImageFormat, Rgba};
use keyhold::api::ErrorCode;
use std::{
    io::Cursor,
    time::{Duration, Instant},
};

fn picture(width: u32, height: u32, format: ImageFormat) -> Vec<u8> {
    let pixels = ImageBuffer::from_fn(width, height, |x, y| {
        Rgba([(x * 7 % 256) as u8, (y * 5 % 256) as u8, 120, 255])
    });
    let image = match format {
        ImageFormat::Jpeg => DynamicImage::ImageRgb8(DynamicImage::ImageRgba8(pixels).into_rgb8()),
        _ => DynamicImage::ImageRgba8(pixels),
    };
    let mut out = Vec::new();
    image.write_to(&mut Cursor::new(&mut out), format).unwrap();
    out
}

/// A JPEG with an EXIF segment holding GPS-like text right after the start marker.
fn jpeg_with_exif() -> Vec<u8> {
    let plain = picture(300, 200, ImageFormat::Jpeg);
    let payload = b"Exif\0\0SECRET-GPS-48.8584N-2.2945E";
    let mut out = plain[..2].to_vec(); // SOI
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(payload);
    out.extend_from_slice(&plain[2..]);
    out
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A tiny PNG whose header declares 100000 × 100000 pixels.
fn png_bomb() -> Vec<u8> {
    let mut bomb = picture(1, 1, ImageFormat::Png);
    bomb[16..20].copy_from_slice(&100_000u32.to_be_bytes());
    bomb[20..24].copy_from_slice(&100_000u32.to_be_bytes());
    let crc = crc32(&bomb[12..29]);
    bomb[29..33].copy_from_slice(&crc.to_be_bytes());
    bomb
}

async fn fetch(server: &TestServer, url: &str) -> reqwest::Response {
    server.client.get(server.url(url)).send().await.unwrap()
}

on_both_databases!(
    valid_images_are_re_encoded_and_served,
    |engine: Engine| async move {
        let server = TestServer::start(engine).await;
        let token = server.signed_up("painter").await;
        let painter = server.api().bearer(&token);
        let gif = {
            // Two frames: only the first one is kept.
            let mut out = Vec::new();
            {
                let mut encoder = image::codecs::gif::GifEncoder::new(&mut out);
                for shade in [10u8, 200] {
                    let frame = ImageBuffer::from_pixel(80, 60, Rgba([shade, shade, shade, 255]));
                    encoder.encode_frame(image::Frame::new(frame)).unwrap();
                }
            }
            out
        };
        let cases = [
            ("photo.png", picture(640, 480, ImageFormat::Png)),
            ("photo.jpg", jpeg_with_exif()),
            ("photo.webp", picture(200, 300, ImageFormat::WebP)),
            ("anim.gif", gif),
        ];
        let mut previous: Option<String> = None;
        for (name, bytes) in cases {
            let answer = painter.upload_image(bytes, name).await;
            assert_eq!(answer.status(), 200, "{name}: {}", answer.text());
            let url = answer.value().image_url.unwrap();
            assert!(
                url.starts_with("/media/avatars/") && url.ends_with("/256.webp"),
                "{url}"
            );
            assert_eq!(painter.me().await.value().image_url, Some(url.clone()));

            for (url, side) in [
                (url.clone(), 256),
                (url.replace("/256.webp", "/64.webp"), 64),
            ] {
                let response = fetch(&server, &url).await;
                assert_eq!(response.status(), 200, "{url}");
                let headers = response.headers().clone();
                assert_eq!(headers["content-type"], "image/webp");
                // Only the browser keeps a copy, for an hour: a removed or replaced
                // picture does not live on in shared caches.
                assert_eq!(headers["cache-control"], "private, max-age=3600");
                assert_eq!(headers["x-content-type-options"], "nosniff");
                assert_eq!(headers["content-security-policy"], "default-src 'none'");
                let etag = headers["etag"].to_str().unwrap().to_owned();
                let bytes = response.bytes().await.unwrap();
                assert!(
                    !bytes.windows(10).any(|w| w == b"SECRET-GPS"),
                    "metadata dropped"
                );
                assert!(!bytes.windows(4).any(|w| w == b"Exif"), "no EXIF");
                let decoded = image::load_from_memory(&bytes).unwrap();
                assert_eq!((decoded.width(), decoded.height()), (side, side), "{name}");
                let revalidated = server
                    .client
                    .get(server.url(&url))
                    .header("if-none-match", &etag)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(revalidated.status(), 304);
                assert!(revalidated.bytes().await.unwrap().is_empty());
            }
            // The replaced image is gone, also for a browser revalidating its copy.
            if let Some(old) = previous.replace(url) {
                let gone = fetch(&server, &old).await;
                assert_eq!(gone.status(), 404, "old image deleted");
                assert_eq!(gone.headers()["cache-control"], "no-store");
                let revalidated = server
                    .client
                    .get(server.url(&old))
                    .header("if-none-match", "*")
                    .send()
                    .await
                    .unwrap();
                assert_eq!(revalidated.status(), 404, "no 304 for a removed image");
            }
        }

        // Remove: back to the initials, the picture is gone.
        let url = previous.unwrap();
        let answer = painter.remove_image().await;
        assert_eq!(answer.status(), 200);
        assert!(answer.value().image_url.is_none());
        assert_eq!(fetch(&server, &url).await.status(), 404);
    }
);

on_both_databases!(
    hostile_files_get_the_right_4xx,
    |engine: Engine| async move {
        let server = TestServer::start(engine).await;
        let token = server.signed_up("attacker").await;
        let attacker = server.api().bearer(&token);
        let valid = picture(120, 120, ImageFormat::Png);
        let mut polyglot_valid = valid.clone();
        polyglot_valid.extend_from_slice(b"<script>alert(document.cookie)</script>PK\x03\x04zip");
        let cases: Vec<(&str, Vec<u8>, u16)> = vec![
            ("empty", Vec::new(), 422),
            (
                "svg with script",
                br#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#
                    .to_vec(),
                415,
            ),
            (
                "html",
                b"<!doctype html><script>alert(1)</script>".to_vec(),
                415,
            ),
            ("truncated png", valid[..valid.len() / 2].to_vec(), 422),
            ("decompression bomb", png_bomb(), 422),
            ("too many pixels", picture(4097, 8, ImageFormat::Png), 422),
            (
                "gif/js polyglot",
                b"GIF89a/*\x00\x00*/=alert(1);//".to_vec(),
                422,
            ),
        ];
        for (what, bytes, status) in cases {
            let answer = attacker.upload_image(bytes, "x.png").await;
            assert_eq!(answer.status(), status, "{what}");
            let error = answer.error();
            if status != 413 {
                assert_eq!(error.field.as_deref(), Some("image"), "{what}: {error:?}");
            }
            assert!(!error.message.is_empty());
        }
        // An oversized upload is refused from its declared length, before the body is sent
        // (a raw request: HTTP clients may report the early answer as a broken pipe).
        {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
            let head = format!(
            "POST /api/users/me/image HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: multipart/form-data; boundary=xyz\r\nContent-Length: {}\r\n\r\n",
            server.addr,
            6 * 1024 * 1024
        );
            stream.write_all(head.as_bytes()).await.unwrap();
            let mut answer = vec![0u8; 4096];
            let read = stream.read(&mut answer).await.unwrap();
            let answer = String::from_utf8_lossy(&answer[..read]);
            assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
            assert!(answer.contains("payload_too_large"), "{answer}");
        }

        // Nothing was stored by the refusals; the server is fine.
        assert!(attacker.me().await.value().image_url.is_none());

        // A valid image with a payload appended is accepted, and the payload is gone.
        let answer = attacker.upload_image(polyglot_valid, "poly.png").await;
        assert_eq!(answer.status(), 200);
        let url = answer.value().image_url.unwrap();
        let bytes = fetch(&server, &url).await.bytes().await.unwrap();
        assert!(!bytes.windows(8).any(|w| w == b"<script>"));

        // Multipart without a boundary (found by schemathesis: the decoder used to panic).
        for content_type in [
            "multipart/form-data",
            "multipart/form-data; boundary=",
            "multipart/form-data; charset=utf-8",
        ] {
            let response = server
                .client
                .post(server.url("/api/users/me/image"))
                .bearer_auth(&token)
                .header("content-type", content_type)
                .body("--x\r\n")
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 400, "{content_type}");
        }

        // No field, wrong content type, no token.
        let response = server
            .client
            .post(server.url("/api/users/me/image"))
            .bearer_auth(&token)
            .multipart(reqwest::multipart::Form::new().text("other", "x"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 422);
        let response = server
            .client
            .post(server.url("/api/users/me/image"))
            .bearer_auth(&token)
            .json(&serde_json::json!({"image": "x"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 415);
        let stranger = server.api().bearer("not-a-token");
        let answer = stranger
            .upload_image(picture(10, 10, ImageFormat::Png), "a.png")
            .await;
        assert_eq!(answer.status(), 401);
        assert_eq!(server.api().health().await.status(), 200);
        assert_eq!(
            fetch(&server, "/media/avatars/0123/256.webp")
                .await
                .status(),
            404
        );
        assert_eq!(
            fetch(&server, "/media/avatars/../../etc/passwd")
                .await
                .status(),
            404
        );
    }
);

on_both_databases!(
    deleting_the_account_deletes_the_image,
    |engine: Engine| async move {
        let server = TestServer::start(engine).await;
        let token = server.signed_up("ephemeral").await;
        let holder = server.api().bearer(&token);
        let image = picture(50, 50, ImageFormat::Png);
        let url = holder.upload_image(image, "a.png").await.value().image_url;
        let url = url.unwrap();
        assert_eq!(fetch(&server, &url).await.status(), 200);
        let answer = holder
            .delete_account(&deletion(PASSWORD, "ephemeral"))
            .await;
        assert_eq!(answer.status(), 200);
        assert_eq!(
            fetch(&server, &url).await.status(),
            404,
            "image deleted with the account"
        );
    }
);

on_both_databases!(
    uploads_beyond_the_slots_get_503_until_one_frees,
    |engine: Engine| async move {
        use tokio::io::AsyncWriteExt;
        let server = TestServer::start_with(engine, |settings| {
            settings.insert("KEYHOLD_IMAGE_SLOTS", "1".into());
            settings.insert("KEYHOLD_IMAGE_QUEUE", "0".into());
        })
        .await;
        let token = server.signed_up("crowd").await;
        let crowd = server.api().bearer(&token);
        let small = picture(32, 32, ImageFormat::Png);

        // An upload whose body is still on its way holds the only slot.
        let mut slow = tokio::net::TcpStream::connect(server.addr).await.unwrap();
        let head = format!(
            "POST /api/users/me/image HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: multipart/form-data; boundary=slow\r\nContent-Length: 100000\r\n\r\n\
             --slow\r\nContent-Disposition: form-data; name=\"image\"\r\n\r\n",
            server.addr
        );
        slow.write_all(head.as_bytes()).await.unwrap();
        slow.write_all(&small[..16]).await.unwrap();
        // Let it pass its checks (token, upload budget) and take the slot first.
        tokio::time::sleep(Duration::from_millis(300)).await;

        // Once it has the slot, the next upload is turned away at once: 503, Retry-After.
        let deadline = Instant::now() + Duration::from_secs(10);
        let refused = loop {
            let answer = crowd.upload_image(small.clone(), "a.png").await;
            if answer.status() == 503 {
                break answer;
            }
            assert_eq!(answer.status(), 200, "before the slow upload took the slot");
            if Instant::now() >= deadline {
                use tokio::io::AsyncReadExt;
                let mut answer = vec![0u8; 2048];
                let n = tokio::time::timeout(Duration::from_secs(1), slow.read(&mut answer))
                    .await
                    .map_or(0, |r| r.unwrap_or(0));
                panic!(
                    "the slot was never taken; the slow upload got {:?}",
                    String::from_utf8_lossy(&answer[..n])
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        assert_eq!(refused.headers()["retry-after"], "2");
        let error = refused.error();
        assert_eq!(error.error, ErrorCode::Unavailable, "{error:?}");
        assert!(!error.message.is_empty());

        // The slow client gives up: the slot is free again and the next upload goes through.
        drop(slow);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let answer = crowd.upload_image(small.clone(), "a.png").await;
            match answer.status() {
                200 => break,
                503 => assert!(Instant::now() < deadline, "the slot was never freed"),
                other => panic!("{other}: {}", answer.text()),
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(crowd.me().await.value().image_url.is_some());
    }
);
