//! Throttling performed as an attack, on SQLite and PostgreSQL: concurrent guesses
//! cannot all pass one check, nobody can lock the owner out (device cookies, capped
//! progressive delays), IPv6 neighbours share a budget, and sign-ups, profile changes
//! and uploads are limited per address. Across two instances: `instances.rs`.

use crate::helpers::{form, json, text_field, Engine, TestServer, PASSWORD};
use serde_json::json;
use std::{collections::HashMap, time::Duration};

const WRONG: &str = "wrong password number one";

/// The shipped budgets (the test helpers lift the sign-up, profile and upload ones).
fn as_shipped(settings: &mut HashMap<&'static str, String>) {
    settings.retain(|name, _| !name.starts_with("KEYHOLD_RATE_"));
}

/// With the shipped budgets, behind a proxy that appends the client address to
/// `X-Forwarded-For`.
async fn behind_proxy(engine: Engine) -> TestServer {
    TestServer::start_with(engine, |s| {
        as_shipped(s);
        s.insert("KEYHOLD_CLIENT_IP_HEADER", "x-forwarded-for".into());
    })
    .await
}

/// `POST /api/login` from `addr`, with a device cookie if given: status, the device
/// cookie set (if any) and `Retry-After` (if any).
async fn login_from(
    server: &TestServer,
    addr: &str,
    username: &str,
    password: &str,
    device: Option<&str>,
) -> (u16, Option<String>, Option<u64>) {
    let mut request = server
        .client
        .post(server.url("/api/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-forwarded-for", addr)
        .body(form(&[("username", username), ("password", password)]));
    if let Some(device) = device {
        request = request.header("cookie", format!("__Host-keyhold-device={device}"));
    }
    let response = request.send().await.unwrap();
    let device = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("__Host-keyhold-device="))
        .map(|v| v.split(';').next().unwrap_or_default().to_owned());
    let retry = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok()?.parse().ok());
    (response.status().as_u16(), device, retry)
}

on_both_databases!(
    concurrent_guesses_cannot_all_pass_one_check,
    |engine: Engine| async move {
        let server = TestServer::start(engine).await;
        server.signed_up("target").await;
        let guesses = (0..40).map(|_| server.login("target", WRONG));
        let statuses: Vec<u16> = futures::future::join_all(guesses)
            .await
            .iter()
            .map(|r| r.status().as_u16())
            .collect();
        let checked = statuses.iter().filter(|s| **s == 401).count();
        let refused = statuses.iter().filter(|s| **s == 429).count();
        assert_eq!((checked, refused), (5, 35), "{statuses:?}");
    }
);

on_both_databases!(nobody_can_lock_the_owner_out, |engine: Engine| async move {
    let server = behind_proxy(engine).await;
    server.signed_up("owner").await;
    // The owner's browser signed in before: it holds a device cookie.
    let (status, device, _) = login_from(&server, "192.0.2.10", "owner", PASSWORD, None).await;
    assert_eq!(status, 200);
    let device = device.expect("a log-in sets a device cookie");
    let owner_token = text_field(server.login("owner", PASSWORD).await, "access_token").await;

    // An attacker guesses from many addresses, each under its own budget: the
    // account's first 10 failures are free, then each wait doubles.
    for i in 0..11 {
        let (status, _, _) =
            login_from(&server, &format!("203.0.113.{i}"), "owner", WRONG, None).await;
        assert_eq!(status, 401, "guess {i}");
    }
    let mut waits = Vec::new();
    for i in 0..4 {
        let (status, _, retry) =
            login_from(&server, &format!("198.51.100.{i}"), "owner", WRONG, None).await;
        assert_eq!(status, 429);
        let wait = retry.unwrap();
        waits.push(wait);
        server.clock.advance(Duration::from_secs(wait));
        let (status, _, _) = login_from(
            &server,
            &format!("198.51.100.{}", i + 50),
            "owner",
            WRONG,
            None,
        )
        .await;
        assert_eq!(status, 401, "allowed again after the wait");
    }
    assert_eq!(waits, vec![1, 2, 4, 8], "progressive, not a wall");

    // From an unknown device the owner waits too (a few seconds, capped)...
    let (status, _, retry) = login_from(&server, "192.0.2.77", "owner", PASSWORD, None).await;
    assert_eq!(status, 429);
    assert!(retry.unwrap() <= 300);
    // ...but the known browser signs in at once, and a forged or foreign device
    // cookie does not help the attacker.
    let (status, _, _) = login_from(&server, "192.0.2.10", "owner", PASSWORD, Some(&device)).await;
    assert_eq!(status, 200, "the owner's device is not locked out");
    let forged = format!("{}.{}", "A".repeat(22), "B".repeat(43));
    let (status, _, _) = login_from(&server, "203.0.113.200", "owner", WRONG, Some(&forged)).await;
    assert_eq!(status, 429);
    // The attack does not block the owner's own changes either.
    let response = server
            .client
            .post(server.url("/api/users/me/password"))
            .bearer_auth(&owner_token)
            .json(&json!({"current_password": PASSWORD, "new_password": "completely different words here"}))
            .send()
            .await
            .unwrap();
    assert_eq!(response.status(), 200);
});

on_both_databases!(a_device_has_its_own_budget, |engine: Engine| async move {
    let server = behind_proxy(engine).await;
    server.signed_up("dana").await;
    let (_, device, _) = login_from(&server, "192.0.2.10", "dana", PASSWORD, None).await;
    let device = device.unwrap();
    // A stolen device cookie is no free pass: it has a budget of its own.
    for i in 0..5 {
        let (status, _, _) = login_from(
            &server,
            &format!("203.0.113.{i}"),
            "dana",
            WRONG,
            Some(&device),
        )
        .await;
        assert_eq!(status, 401);
    }
    let (status, _, _) = login_from(&server, "203.0.113.9", "dana", WRONG, Some(&device)).await;
    assert_eq!(status, 429);
});

on_both_databases!(
    ipv6_neighbours_share_a_budget,
    |engine: Engine| async move {
        let server = behind_proxy(engine).await;
        server.signed_up("sixer").await;
        for i in 1..=5 {
            let (status, _, _) = login_from(
                &server,
                &format!("2001:db8:1:2::{i:x}"),
                "sixer",
                WRONG,
                None,
            )
            .await;
            assert_eq!(status, 401);
        }
        // Another address in the same /64 is the same subscriber.
        let (status, _, _) =
            login_from(&server, "2001:db8:1:2:ffff::99", "sixer", WRONG, None).await;
        assert_eq!(status, 429);
        // Another /64 is not.
        let (status, _, _) = login_from(&server, "2001:db8:1:3::1", "sixer", WRONG, None).await;
        assert_eq!(status, 401);
    }
);

on_both_databases!(
    sign_ups_and_profile_changes_are_limited_per_address,
    |engine: Engine| async move {
        let server = behind_proxy(engine).await;
        let register = |name: String, addr: &'static str| {
            server
                .client
                .post(server.url("/api/register"))
                .header("x-forwarded-for", addr)
                .json(&json!({"username": name, "email": format!("{name}@example.com"), "password": PASSWORD}))
                .send()
        };
        for i in 0..10 {
            let response = register(format!("probe{i}"), "203.0.113.5").await.unwrap();
            assert_eq!(response.status(), 201);
        }
        // Whether a name is taken is no longer free to ask from here.
        let response = register("admin".into(), "203.0.113.5").await.unwrap();
        assert_eq!(response.status(), 429);
        assert!(response.headers().contains_key("retry-after"));
        let body = json(response).await;
        assert_eq!(body["error"], "too_many_requests");
        let response = register("elsewhere".into(), "192.0.2.5").await.unwrap();
        assert_eq!(response.status(), 201);

        let token = text_field(server.login("elsewhere", PASSWORD).await, "access_token").await;
        let mut statuses = Vec::new();
        for _ in 0..21 {
            let response = server
                .client
                .post(server.url("/api/users/me/profile"))
                .header("x-forwarded-for", "192.0.2.5")
                .bearer_auth(&token)
                .json(&json!({"username": "elsewhere", "current_password": PASSWORD}))
                .send()
                .await
                .unwrap();
            statuses.push(response.status().as_u16());
        }
        assert_eq!(&statuses[..20], &[200; 20]);
        assert_eq!(statuses[20], 429);
    }
);

on_both_databases!(
    uploads_are_limited_per_account,
    |engine: Engine| async move {
        let server = TestServer::start_with(engine, as_shipped).await;
        let token = server.signed_up("painter").await;
        let mut png = Vec::new();
        image::DynamicImage::new_rgb8(8, 8)
            .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        let mut statuses = Vec::new();
        for _ in 0..11 {
            let part = reqwest::multipart::Part::bytes(png.clone())
                .file_name("a.png")
                .mime_str("image/png")
                .unwrap();
            let response = server
                .client
                .post(server.url("/api/users/me/image"))
                .bearer_auth(&token)
                .multipart(reqwest::multipart::Form::new().part("image", part))
                .send()
                .await
                .unwrap();
            statuses.push(response.status().as_u16());
        }
        assert_eq!(&statuses[..10], &[200; 10]);
        assert_eq!(statuses[10], 429);
    }
);

on_both_databases!(
    a_password_change_voids_the_device_cookies,
    |engine: Engine| async move {
        let server = behind_proxy(engine).await;
        let token = server.signed_up("erin").await;
        let (_, device, _) = login_from(&server, "192.0.2.10", "erin", PASSWORD, None).await;
        let device = device.expect("a device cookie");
        // A known device gets no new cookie.
        let (status, again, _) =
            login_from(&server, "192.0.2.10", "erin", PASSWORD, Some(&device)).await;
        assert_eq!((status, again), (200, None));
        // Cookies minted with a password stop counting once it is changed.
        let new_password = "completely different words here";
        let response = server
            .client
            .post(server.url("/api/users/me/password"))
            .bearer_auth(&token)
            .json(&json!({"current_password": PASSWORD, "new_password": new_password}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let (status, renewed, _) =
            login_from(&server, "192.0.2.10", "erin", new_password, Some(&device)).await;
        assert_eq!(status, 200);
        let renewed = renewed.expect("an unknown device again: a new cookie");
        assert_ne!(renewed, device);
    }
);

on_both_databases!(
    fresh_names_from_one_address_spend_its_budget,
    |engine: Engine| async move {
        // The shipped 20 at once, then one every 3 min instead of 3 s: a slow machine
        // cannot earn a try back meanwhile (the shipped pace: the unit tests).
        let server = TestServer::start_with(engine, |s| {
            as_shipped(s);
            s.insert("KEYHOLD_CLIENT_IP_HEADER", "x-forwarded-for".into());
            s.insert("KEYHOLD_RATE_LOGIN_ADDRESS", "20/1h".into());
        })
        .await;
        server.signed_up("owner").await;
        // A new name each time passes every per-name budget; the address's own budget
        // is spent first, whatever the name.
        for i in 0..20 {
            let name = format!("fresh{i}");
            let (status, _, _) = login_from(&server, "203.0.113.7", &name, WRONG, None).await;
            assert_eq!(status, 401, "attempt {i}");
        }
        let (status, _, retry) = login_from(&server, "203.0.113.7", "fresh20", WRONG, None).await;
        assert_eq!(status, 429);
        assert!((170..=180).contains(&retry.unwrap()), "{retry:?}");
        // A known name from there waits too; refused attempts create no state.
        let kept = server.throttle_keys().await;
        for i in 21..61 {
            let name = format!("fresh{i}");
            let (status, _, _) = login_from(&server, "203.0.113.7", &name, WRONG, None).await;
            assert_eq!(status, 429);
        }
        let (status, _, _) = login_from(&server, "203.0.113.7", "owner", PASSWORD, None).await;
        assert_eq!(status, 429);
        assert_eq!(server.throttle_keys().await, kept);
        // Another address logs in at once; the first gets one more try after the wait.
        let (status, _, _) = login_from(&server, "192.0.2.44", "owner", PASSWORD, None).await;
        assert_eq!(status, 200);
        server.clock.advance(Duration::from_secs(180));
        let (status, _, _) = login_from(&server, "203.0.113.7", "owner", PASSWORD, None).await;
        assert_eq!(status, 200);
    }
);

on_both_databases!(
    the_throttle_state_stays_bounded,
    |engine: Engine| async move {
        const BOUND: u64 = 40;
        let server = TestServer::start_with(engine, |s| {
            s.insert("KEYHOLD_CLIENT_IP_HEADER", "x-forwarded-for".into());
            s.insert("KEYHOLD_THROTTLE_MAX_KEYS", BOUND.to_string());
        })
        .await;
        server.signed_up("owner").await;
        // Each log-in from a new address with a new name brings three keys (the
        // address, the name there, the name): 300 in all, against a bound of 40.
        for i in 0..100u32 {
            let addr = format!("10.{}.{}.1", i / 200, i % 200);
            let (status, _, _) =
                login_from(&server, &addr, &format!("flood{i}"), WRONG, None).await;
            assert_eq!(status, 401);
        }
        // Memory drops the least recently used at once; PostgreSQL prunes off the
        // request path every BOUND / 4 steps (so up to that many more): wait for it.
        let most = BOUND + BOUND / 4;
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        let mut kept = server.throttle_keys().await;
        while kept > most && std::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
            kept = server.throttle_keys().await;
        }
        assert!((BOUND / 2..=most).contains(&kept), "{kept} states kept");
        let (status, _, _) = login_from(&server, "192.0.2.44", "owner", PASSWORD, None).await;
        assert_eq!(status, 200);
    }
);
