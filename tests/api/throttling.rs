//! Throttling performed as an attack, on SQLite and PostgreSQL: failed log-ins are
//! throttled per account (unknown ones too), concurrent guesses cannot all pass one
//! check, a spoofed `X-Forwarded-For` dodges nothing, nobody can lock the owner out
//! (device cookies, capped progressive delays), IPv6 neighbours share a budget, and
//! sign-ups, profile changes and uploads are limited per address. Across two
//! instances: `scale_out.rs`.

use crate::client::{
    requests::{new_username, password_change, registration},
    DEVICE_COOKIE,
};
use crate::helpers::{Engine, TestServer, PASSWORD};
use keyhold::api::ErrorCode;
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
    let mut api = server.api().header("x-forwarded-for", addr);
    if let Some(device) = device {
        api = api.header("cookie", &format!("{DEVICE_COOKIE}={device}"));
    }
    let answer = api.login(username, password).await;
    let device = answer.set_cookie(DEVICE_COOKIE).map(|(value, _)| value);
    let retry = answer
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok()?.parse().ok());
    (answer.status(), device, retry)
}

on_both_databases!(failed_logins_are_throttled, |engine: Engine| async move {
    let server = TestServer::start(engine).await;
    server.signed_up("pat").await;
    server.signed_up("quinn").await;
    let api = server.api();
    for attempt in 0..5 {
        let answer = api.login("pat", WRONG).await;
        assert_eq!(answer.status(), 401, "attempt {attempt}");
    }
    // The sixth attempt is refused before any hashing, even with the right password.
    for password in [WRONG, PASSWORD] {
        let answer = api.login("PAT", password).await;
        assert_eq!(answer.status(), 429);
        let retry: u64 = answer.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=12).contains(&retry), "Retry-After {retry}");
        let error = answer.error();
        assert_eq!(error.error, ErrorCode::TooManyRequests);
        assert!(error.message.contains("Too many attempts"));
    }
    // Other accounts are not slowed down.
    assert_eq!(api.login("quinn", PASSWORD).await.status(), 200);
    // An unknown account is throttled the same way (no enumeration through 429s).
    for _ in 0..5 {
        let answer = api.login("nobody-here", "whatever password").await;
        assert_eq!(answer.status(), 401);
    }
    let answer = api.login("nobody-here", "whatever password").await;
    assert_eq!(answer.status(), 429);
});

on_both_databases!(
    concurrent_guesses_cannot_all_pass_one_check,
    |engine: Engine| async move {
        let server = TestServer::start(engine).await;
        server.signed_up("target").await;
        let api = server.api();
        let guesses = (0..40).map(|_| api.login("target", WRONG));
        let statuses: Vec<u16> = futures::future::join_all(guesses)
            .await
            .iter()
            .map(|answer| answer.status())
            .collect();
        let checked = statuses.iter().filter(|s| **s == 401).count();
        let refused = statuses.iter().filter(|s| **s == 429).count();
        assert_eq!((checked, refused), (5, 35), "{statuses:?}");
    }
);

on_both_databases!(
    a_spoofed_forwarded_for_neither_dodges_throttling_nor_names_the_session,
    |engine: Engine| async move {
        let server = TestServer::start_with(engine, |s| {
            s.insert("KEYHOLD_CLIENT_IP_HEADER", "x-forwarded-for".into());
        })
        .await;
        server.signed_up("pat").await;
        // The attacker writes a new address on the left of each request; the proxy
        // appends the one it really saw.
        let login = |spoofed: String, password: &'static str| {
            let forwarded = format!("{spoofed}, 198.51.100.7");
            let api = server.api().header("x-forwarded-for", &forwarded);
            async move { api.login("pat", password).await }
        };
        for attempt in 0..5 {
            let answer = login(format!("203.0.113.{attempt}"), WRONG).await;
            assert_eq!(answer.status(), 401, "attempt {attempt}");
        }
        let sixth = login("203.0.113.99".into(), WRONG).await;
        assert_eq!(sixth.status(), 429, "the budget is the real address's");

        // Another real address signs in; its session shows that address, not the spoof.
        let proxied = server
            .api()
            .header("x-forwarded-for", "203.0.113.66, 192.0.2.44");
        let signed_in = proxied.login("pat", PASSWORD).await;
        assert_eq!(signed_in.status(), 200);
        let token = signed_in.value().access_token;
        let sessions = server.api().bearer(&token).sessions().await;
        let current = sessions.value().into_iter().find(|s| s.current).unwrap();
        assert_eq!(current.address, "192.0.2.44", "{}", sessions.text());
    }
);

on_both_databases!(nobody_can_lock_the_owner_out, |engine: Engine| async move {
    let server = behind_proxy(engine).await;
    server.signed_up("owner").await;
    // The owner's browser signed in before: it holds a device cookie.
    let (status, device, _) = login_from(&server, "192.0.2.10", "owner", PASSWORD, None).await;
    assert_eq!(status, 200);
    let device = device.expect("a log-in sets a device cookie");
    let owner_token = server.api().login("owner", PASSWORD).await;
    let owner_token = owner_token.value().access_token;

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
    let change = password_change(PASSWORD, "completely different words here");
    let owner = server.api().bearer(&owner_token);
    assert_eq!(owner.change_password(&change).await.status(), 200);
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
            let api = server.api().header("x-forwarded-for", addr);
            async move {
                let email = format!("{name}@example.com");
                api.register(&registration(&name, &email, PASSWORD)).await
            }
        };
        for i in 0..10 {
            let answer = register(format!("probe{i}"), "203.0.113.5").await;
            assert_eq!(answer.status(), 201);
        }
        // Whether a name is taken is no longer free to ask from here.
        let answer = register("admin".into(), "203.0.113.5").await;
        assert_eq!(answer.status(), 429);
        assert!(answer.headers().contains_key("retry-after"));
        assert_eq!(answer.error().error, ErrorCode::TooManyRequests);
        let answer = register("elsewhere".into(), "192.0.2.5").await;
        assert_eq!(answer.status(), 201);

        let token = server.api().login("elsewhere", PASSWORD).await;
        let token = token.value().access_token;
        let from = server.api().header("x-forwarded-for", "192.0.2.5");
        let same_name = new_username("elsewhere", Some(PASSWORD));
        let mut statuses = Vec::new();
        for _ in 0..21 {
            let answer = from.bearer(&token).update_profile(&same_name).await;
            statuses.push(answer.status());
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
        let painter = server.api().bearer(&token);
        let mut statuses = Vec::new();
        for _ in 0..11 {
            let answer = painter.upload_image(png.clone(), "a.png").await;
            statuses.push(answer.status());
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
        let change = password_change(PASSWORD, new_password);
        let answer = server.api().bearer(&token).change_password(&change).await;
        assert_eq!(answer.status(), 200);
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
        server.signed_up("guessed").await;
        // Someone guesses at "guessed" from ever new addresses until its account makes
        // each attempt wait: that streak is what the bound must never drop.
        for i in 0..11u32 {
            let addr = format!("10.9.{i}.1");
            let (status, _, _) = login_from(&server, &addr, "guessed", WRONG, None).await;
            assert_eq!(status, 401);
        }
        let (status, _, _) = login_from(&server, "10.9.99.1", "guessed", WRONG, None).await;
        assert_eq!(status, 429, "the account's streak makes it wait");
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
        // The flood did not wipe the guessed account's streak: still no free guess.
        let (status, _, _) = login_from(&server, "10.9.98.1", "guessed", WRONG, None).await;
        assert_eq!(status, 429, "the streak outlived the flood");
        let (status, _, _) = login_from(&server, "192.0.2.44", "owner", PASSWORD, None).await;
        assert_eq!(status, 200);
    }
);
