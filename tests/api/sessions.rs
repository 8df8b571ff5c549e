//! Sessions over real HTTP on SQLite and PostgreSQL: the refresh cookie rotates, a
//! replayed one ends the session (outside the grace window), idle and absolute expiry,
//! revoking one, the others or all sessions, and the `Origin` check.

use crate::helpers::{json, text_field, Engine, TestServer, PASSWORD};
use serde_json::{json, Value};
use std::time::Duration;

const COOKIE: &str = "__Host-keyhold-refresh";

/// One signed-in client: its access token and refresh cookie.
#[derive(Debug, Clone)]
struct Device {
    access: String,
    cookie: String,
}

/// The refresh cookie a response sets (`None` when it sets none; `Some("")` clears it).
fn set_cookie(response: &reqwest::Response) -> Option<(String, String)> {
    crate::helpers::set_cookie(response, COOKIE)
}

async fn sign_in(server: &TestServer, username: &str, user_agent: &str) -> Device {
    let response = server
        .client
        .post(server.url("/api/login"))
        .header("user-agent", user_agent)
        .form(&[("username", username), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let (cookie, _) = set_cookie(&response).expect("login sets the refresh cookie");
    let body = json(response).await;
    Device {
        access: body["access_token"].as_str().unwrap().to_owned(),
        cookie,
    }
}

async fn refresh_with(
    server: &TestServer,
    cookie: Option<&str>,
    origin: Option<&str>,
) -> reqwest::Response {
    let mut request = server.client.post(server.url("/api/refresh"));
    if let Some(cookie) = cookie {
        request = request.header("cookie", format!("{COOKIE}={cookie}"));
    }
    if let Some(origin) = origin {
        request = request.header("origin", origin);
    }
    request.send().await.unwrap()
}

/// A same-origin refresh: the new access token and the rotated cookie (if rotated).
async fn refresh(server: &TestServer, cookie: &str) -> Result<(String, Option<String>), u16> {
    let response = refresh_with(server, Some(cookie), Some(&server.base)).await;
    let status = response.status().as_u16();
    let rotated = set_cookie(&response).map(|(value, _)| value);
    if status != 200 {
        assert_eq!(
            rotated.as_deref(),
            Some(""),
            "a refused refresh clears the cookie"
        );
        return Err(status);
    }
    let body = json(response).await;
    Ok((body["access_token"].as_str().unwrap().to_owned(), rotated))
}

async fn register(server: &TestServer, username: &str) {
    let email = format!("{username}@example.com");
    let response = server.register(username, &email, PASSWORD).await;
    assert_eq!(response.status(), 201);
}

async fn me_status(server: &TestServer, access: &str) -> u16 {
    server.me(access).await.status().as_u16()
}

async fn authed(
    server: &TestServer,
    path: &str,
    access: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let request = match body {
        Some(body) => server.client.post(server.url(path)).json(&body),
        None => server.client.get(server.url(path)),
    };
    request.bearer_auth(access).send().await.unwrap()
}

async fn sessions(server: &TestServer, access: &str) -> Vec<Value> {
    let response = authed(server, "/api/sessions", access, None).await;
    assert_eq!(response.status(), 200);
    json(response).await.as_array().unwrap().clone()
}

on_both_databases!(refresh_rotates_the_cookie, |engine: Engine| async move {
    let server = TestServer::start(engine).await;
    register(&server, "rotor").await;
    let device = sign_in(&server, "rotor", "curl/8.5.0").await;

    let response = refresh_with(&server, Some(&device.cookie), Some(&server.base)).await;
    assert_eq!(response.status(), 200);
    let (second, line) = set_cookie(&response).expect("rotated");
    for attribute in [
        "Path=/",
        "HttpOnly",
        "SameSite=Strict",
        "Secure",
        "Max-Age=",
    ] {
        assert!(line.contains(attribute), "{attribute} missing in {line}");
    }
    let max_age: i64 = line
        .split("Max-Age=")
        .nth(1)
        .and_then(|rest| rest.split(';').next())
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (30 * 86_400 - 5..=30 * 86_400).contains(&max_age),
        "{max_age}"
    );
    assert_ne!(second, device.cookie);
    let body = json(response).await;
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 900);
    let access = body["access_token"].as_str().unwrap();
    assert_ne!(access, device.access);
    assert_eq!(me_status(&server, access).await, 200);
    // The new cookie rotates again; the first session is still the only one.
    let (_, third) = refresh(&server, &second).await.unwrap();
    assert!(third.is_some_and(|t| t != second));
    assert_eq!(sessions(&server, access).await.len(), 1);
});

on_both_databases!(cookie_endpoints_check_origin, |engine: Engine| async move {
    let server = TestServer::start(engine).await;
    register(&server, "origins").await;
    let device = sign_in(&server, "origins", "curl/8.5.0").await;

    for origin in [None, Some("https://evil.example"), Some("null")] {
        let response = refresh_with(&server, Some(&device.cookie), origin).await;
        assert_eq!(response.status(), 403, "origin {origin:?}");
        assert_eq!(json(response).await["error"], "forbidden");
    }
    // A refused cross-site request changed nothing: the cookie still works.
    let (_, rotated) = refresh(&server, &device.cookie).await.unwrap();
    let cookie = rotated.unwrap();

    let response = refresh_with(&server, None, Some(&server.base)).await;
    assert_eq!(response.status(), 401);
    let response = refresh_with(&server, Some("not-a-token"), Some(&server.base)).await;
    assert_eq!(response.status(), 401);

    // A made-up secret for a known session id (every access token shows the id) is
    // refused, but cannot end the session.
    let session_id = device.cookie.split('.').next().unwrap();
    let forged = format!("{session_id}.{}", "A".repeat(43));
    assert_eq!(refresh(&server, &forged).await, Err(401));
    let (_, rotated) = refresh(&server, &cookie).await.expect("session still live");
    let cookie = rotated.unwrap();

    // Another site cannot sign this browser in (login CSRF); programs send no Origin.
    for (origin, status) in [
        (Some("https://evil.example"), 403),
        (Some(server.base.as_str()), 200),
        (None, 200),
    ] {
        let mut request = server
            .client
            .post(server.url("/api/login"))
            .form(&[("username", "origins"), ("password", PASSWORD)]);
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), status, "login with origin {origin:?}");
        assert_eq!(set_cookie(&response).is_some(), status == 200);
    }

    // Logging out with the cookie from another site is refused too.
    let response = server
        .client
        .post(server.url("/api/logout"))
        .header("cookie", format!("{COOKIE}={}", cookie))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
});

on_both_databases!(
    a_plain_http_page_of_the_same_host_is_another_origin,
    |engine: Engine| async move {
        let server = TestServer::start(engine).await;
        register(&server, "schemer").await;
        let device = sign_in(&server, "schemer", "curl/8.5.0").await;
        let refresh_from = |origin: &'static str, cookie: String| {
            server
                .client
                .post(server.url("/api/refresh"))
                .header("host", "keyhold.example")
                .header("origin", origin)
                .header("cookie", format!("{COOKIE}={cookie}"))
                .send()
        };
        // Secure cookies: whoever can write http://keyhold.example (anyone on the
        // network) must not use them.
        let response = refresh_from("http://keyhold.example", device.cookie.clone())
            .await
            .unwrap();
        assert_eq!(response.status(), 403);
        let response = refresh_from("https://keyhold.example", device.cookie.clone())
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
);

on_both_databases!(
    racing_tabs_share_one_rotation,
    |engine: Engine| async move {
        let server = TestServer::start(engine).await;
        register(&server, "tabs").await;
        let device = sign_in(&server, "tabs", "curl/8.5.0").await;

        // Eight tabs refresh with the same cookie at once: all get a token, one rotates.
        let results =
            futures::future::join_all((0..8).map(|_| refresh(&server, &device.cookie))).await;
        let mut rotated = Vec::new();
        for result in results {
            let (access, cookie) = result.expect("every tab gets a token");
            assert_eq!(me_status(&server, &access).await, 200);
            rotated.extend(cookie);
        }
        assert_eq!(
            rotated.len(),
            1,
            "exactly one answer carries the new cookie"
        );
        // A late tab still holding the old cookie, inside the grace window: fine.
        let (_, cookie) = refresh(&server, &device.cookie).await.unwrap();
        assert_eq!(cookie, None);
        assert!(refresh(&server, &rotated[0]).await.is_ok());
    }
);

on_both_databases!(
    replayed_cookie_ends_the_session,
    |engine: Engine| async move {
        let server = TestServer::start(engine).await;
        register(&server, "victim").await;
        let device = sign_in(&server, "victim", "curl/8.5.0").await;
        let (thief_access, thief_cookie) = refresh(&server, &device.cookie).await.unwrap();
        let thief_cookie = thief_cookie.unwrap();
        // Past the grace window (10 s) for tabs racing each other.
        server.clock.advance(Duration::from_secs(11));

        // The victim's browser replays the replaced cookie: theft detected.
        assert_eq!(refresh(&server, &device.cookie).await, Err(401));
        assert_eq!(refresh(&server, &thief_cookie).await, Err(401));
        assert_eq!(me_status(&server, &thief_access).await, 401);
        assert_eq!(me_status(&server, &device.access).await, 401);
        // The account itself is fine: a new log-in works.
        let again = sign_in(&server, "victim", "curl/8.5.0").await;
        assert_eq!(me_status(&server, &again.access).await, 200);
        // And its owner sees what happened in the activity log.
        let activity = authed(&server, "/api/users/me/activity", &again.access, None).await;
        let kinds: Vec<Value> = json(activity).await["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["kind"].clone())
            .collect();
        assert_eq!(
            kinds,
            [
                "login_succeeded",
                "refresh_reuse_detected",
                "login_succeeded"
            ]
        );
    }
);

on_both_databases!(
    any_earlier_cookie_replayed_ends_the_session,
    |engine: Engine| async move {
        let server = TestServer::start(engine).await;
        register(&server, "victim2").await;
        let device = sign_in(&server, "victim2", "curl/8.5.0").await;
        // The thief steals the first cookie and rotates twice, so the victim's cookie
        // is no longer even the one just replaced.
        let (_, first) = refresh(&server, &device.cookie).await.unwrap();
        let (_, second) = refresh(&server, &first.unwrap()).await.unwrap();
        server.clock.advance(Duration::from_secs(11));

        // A secret this session never issued (anyone can read the session id off an
        // access token): refused, but the session goes on.
        let session_id = device.cookie.split('.').next().unwrap();
        let forged = format!("{session_id}.{}", "A".repeat(43));
        assert_eq!(refresh(&server, &forged).await, Err(401));
        let (thief_access, third) = refresh(&server, &second.unwrap()).await.unwrap();
        assert_eq!(me_status(&server, &thief_access).await, 200);

        // The victim's old cookie comes back: the whole session ends, thief included.
        assert_eq!(refresh(&server, &device.cookie).await, Err(401));
        assert_eq!(refresh(&server, &third.unwrap()).await, Err(401));
        assert_eq!(me_status(&server, &thief_access).await, 401);
    }
);

on_both_databases!(
    a_log_in_in_flight_does_not_survive_log_out_everywhere,
    |engine: Engine| async move {
        // A slow hash on one thread, so a log-in is still checking its password when
        // the owner logs out everywhere from another device.
        let server = TestServer::start_with(engine, |settings| {
            settings.insert("KEYHOLD_ARGON2_MEMORY_KIB", "65536".into());
            settings.insert("KEYHOLD_ARGON2_ITERATIONS", "4".into());
            settings.insert("KEYHOLD_HASH_CONCURRENCY", "1".into());
        })
        .await;
        register(&server, "racer").await;
        let owner = sign_in(&server, "racer", "curl/8.5.0").await;

        let started = std::time::Instant::now();
        let in_flight = server.login("racer", PASSWORD);
        let log_out = async {
            tokio::time::sleep(Duration::from_millis(20)).await;
            let response = authed(
                &server,
                "/api/users/me/logout-all",
                &owner.access,
                Some(json!({})),
            )
            .await;
            assert_eq!(response.status(), 200);
            started.elapsed()
        };
        let (response, logged_out_after) = tokio::join!(in_flight, log_out);
        let answered_after = started.elapsed();
        let status = response.status().as_u16();
        let cookie = set_cookie(&response).map(|(value, _)| value);
        let body = json(response).await;
        if logged_out_after < answered_after {
            assert_eq!(status, 401, "the log-in lost the race: {body}");
        }
        // Whatever the order, nothing it opened outlives the log-out.
        if let Some(access) = body["access_token"].as_str() {
            assert_eq!(me_status(&server, access).await, 401);
        }
        if let Some(cookie) = cookie.filter(|c| !c.is_empty()) {
            assert_eq!(refresh(&server, &cookie).await, Err(401));
        }
        // Afterwards the password still opens a session.
        let again = sign_in(&server, "racer", "curl/8.5.0").await;
        assert_eq!(me_status(&server, &again.access).await, 200);
    }
);

const DAY: Duration = Duration::from_secs(86_400);

on_both_databases!(idle_sessions_end, |engine: Engine| async move {
    // The default idle timeout: 7 days.
    let server = TestServer::start(engine).await;
    register(&server, "sleepy").await;
    let idle = sign_in(&server, "sleepy", "curl/8.5.0").await;
    let active = sign_in(&server, "sleepy", "curl/8.5.0").await;
    server.clock.advance(4 * DAY);
    let (_, cookie) = refresh(&server, &active.cookie).await.unwrap();
    server.clock.advance(4 * DAY);

    // Eight days without use: over. Used four days ago: alive.
    assert_eq!(me_status(&server, &idle.access).await, 401);
    assert_eq!(refresh(&server, &idle.cookie).await, Err(401));
    let (access, _) = refresh(&server, &cookie.unwrap()).await.unwrap();
    assert_eq!(me_status(&server, &access).await, 200);
});

on_both_databases!(
    sessions_end_at_their_absolute_lifetime,
    |engine: Engine| async move {
        // The default absolute lifetime: 30 days.
        let server = TestServer::start(engine).await;
        register(&server, "mayfly").await;
        let device = sign_in(&server, "mayfly", "curl/8.5.0").await;
        let mut cookie = device.cookie;
        for _ in 0..4 {
            server.clock.advance(6 * DAY);
            let (access, next) = refresh(&server, &cookie).await.unwrap();
            assert_eq!(me_status(&server, &access).await, 200);
            cookie = next.unwrap();
        }
        // Refreshing every six days kept it active, but 30 days after the log-in it is over.
        server.clock.advance(6 * DAY);
        assert_eq!(refresh(&server, &cookie).await, Err(401));
    }
);

on_both_databases!(list_and_revoke_sessions, |engine: Engine| async move {
    let server = TestServer::start(engine).await;
    register(&server, "juggler").await;
    register(&server, "stranger").await;
    let laptop = sign_in(
        &server,
        "juggler",
        "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    )
    .await;
    let phone = sign_in(
        &server,
        "juggler",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    )
    .await;
    let stranger = sign_in(&server, "stranger", "curl/8.5.0").await;

    let list = sessions(&server, &laptop.access).await;
    assert_eq!(list.len(), 2);
    let devices: Vec<&str> = list.iter().map(|s| s["device"].as_str().unwrap()).collect();
    assert!(devices.contains(&"Firefox on Linux") && devices.contains(&"Safari on iOS"));
    let current: Vec<&Value> = list.iter().filter(|s| s["current"] == true).collect();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0]["device"], "Firefox on Linux");
    assert_eq!(current[0]["address"], "127.0.0.1");
    for session in &list {
        assert!(session.get("refresh_hash").is_none() && session.get("user_agent").is_none());
    }
    let phone_id = list.iter().find(|s| s["current"] == false).unwrap()["id"].clone();

    // Somebody else's session is not yours to end.
    let stranger_id = sessions(&server, &stranger.access).await[0]["id"].clone();
    let response = authed(
        &server,
        "/api/sessions/revoke",
        &laptop.access,
        Some(json!({"id": stranger_id})),
    )
    .await;
    assert_eq!(response.status(), 404);
    assert_eq!(json(response).await["field"], "id");
    assert_eq!(me_status(&server, &stranger.access).await, 200);

    let response = authed(
        &server,
        "/api/sessions/revoke",
        &laptop.access,
        Some(json!({"id": phone_id})),
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(json(response).await["revoked"], 1);
    assert_eq!(me_status(&server, &phone.access).await, 401);
    assert_eq!(refresh(&server, &phone.cookie).await, Err(401));
    assert_eq!(me_status(&server, &laptop.access).await, 200);

    // Sign out everywhere else.
    let tablet = sign_in(&server, "juggler", "curl/8.5.0").await;
    let desktop = sign_in(&server, "juggler", "curl/8.5.0").await;
    let response = authed(
        &server,
        "/api/sessions/revoke-others",
        &laptop.access,
        Some(json!({})),
    )
    .await;
    assert_eq!(json(response).await["revoked"], 2);
    for other in [&tablet, &desktop] {
        assert_eq!(me_status(&server, &other.access).await, 401);
        assert_eq!(refresh(&server, &other.cookie).await, Err(401));
    }
    assert_eq!(sessions(&server, &laptop.access).await.len(), 1);
    assert!(refresh(&server, &laptop.cookie).await.is_ok());

    // Log out everywhere ends this one too.
    let response = authed(
        &server,
        "/api/users/me/logout-all",
        &laptop.access,
        Some(json!({})),
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(me_status(&server, &stranger.access).await, 200);
});

on_both_databases!(
    password_change_ends_other_sessions,
    |engine: Engine| async move {
        let server = TestServer::start(engine).await;
        register(&server, "rotator").await;
        let here = sign_in(&server, "rotator", "curl/8.5.0").await;
        let there = sign_in(&server, "rotator", "curl/8.5.0").await;
        let response = authed(
        &server,
        "/api/users/me/password",
        &here.access,
        Some(json!({"current_password": PASSWORD, "new_password": "a whole new passphrase here"})),
    )
    .await;
        assert_eq!(response.status(), 200);
        let fresh = text_field(response, "access_token").await;
        assert_eq!(me_status(&server, &fresh).await, 200);
        assert_eq!(
            me_status(&server, &here.access).await,
            401,
            "old tokens are revoked"
        );
        assert_eq!(me_status(&server, &there.access).await, 401);
        assert_eq!(refresh(&server, &there.cookie).await, Err(401));
        // This device's session lives on: its cookie still refreshes.
        let (access, _) = refresh(&server, &here.cookie).await.unwrap();
        assert_eq!(me_status(&server, &access).await, 200);
        assert_eq!(sessions(&server, &access).await.len(), 1);
    }
);

on_both_databases!(logout_ends_the_session, |engine: Engine| async move {
    let server = TestServer::start(engine).await;
    register(&server, "leaver").await;
    // With the bearer token (an API client: no cookie, no Origin).
    let api = sign_in(&server, "leaver", "curl/8.5.0").await;
    let response = server
        .client
        .post(server.url("/api/logout"))
        .bearer_auth(&api.access)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(set_cookie(&response).map(|c| c.0).as_deref(), Some(""));
    assert_eq!(json(response).await["signed_out"], true);
    assert_eq!(me_status(&server, &api.access).await, 401);
    assert_eq!(refresh(&server, &api.cookie).await, Err(401));

    // With only the cookie (the access token already expired), from the site itself.
    let browser = sign_in(&server, "leaver", "curl/8.5.0").await;
    let response = server
        .client
        .post(server.url("/api/logout"))
        .header("cookie", format!("{COOKIE}={}", browser.cookie))
        .header("origin", &server.base)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(me_status(&server, &browser.access).await, 401);
    // Twice is fine.
    let response = server
        .client
        .post(server.url("/api/logout"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
});

on_both_databases!(sessions_per_user_are_capped, |engine: Engine| async move {
    let server = TestServer::start_with(engine, |s| {
        s.insert("KEYHOLD_SESSIONS_PER_USER", "3".into());
    })
    .await;
    register(&server, "hoarder").await;
    let mut devices = Vec::new();
    for _ in 0..5 {
        devices.push(sign_in(&server, "hoarder", "curl/8.5.0").await);
    }
    let newest = devices.last().unwrap();
    assert_eq!(sessions(&server, &newest.access).await.len(), 3);
    assert_eq!(me_status(&server, &newest.access).await, 200);
});

on_both_databases!(
    deleted_account_ends_its_sessions,
    |engine: Engine| async move {
        let server = TestServer::start(engine).await;
        register(&server, "gone").await;
        let device = sign_in(&server, "gone", "curl/8.5.0").await;
        let response = authed(
            &server,
            "/api/users/me/delete",
            &device.access,
            Some(json!({"password": PASSWORD, "confirm": "gone"})),
        )
        .await;
        assert_eq!(response.status(), 200);
        assert_eq!(refresh(&server, &device.cookie).await, Err(401));
    }
);

on_both_databases!(
    a_session_remembers_a_bounded_number_of_replaced_tokens,
    |engine: Engine| async move {
        let server = TestServer::start(engine).await;
        server.signed_up("ada").await;
        let device = sign_in(&server, "ada", "curl/8.5").await;
        // A client refreshing as fast as it can: the table keeps the newest 100.
        let mut cookies = vec![device.cookie];
        for _ in 0..130 {
            let (_, rotated) = refresh(&server, cookies.last().unwrap()).await.unwrap();
            cookies.push(rotated.expect("rotated"));
        }
        assert_eq!(server.rows("retired_refresh_hashes").await, 100);
        server.clock.advance(Duration::from_secs(11));
        // Forgotten: refused, and the session goes on.
        assert_eq!(refresh(&server, &cookies[0]).await, Err(401));
        assert_eq!(refresh(&server, &cookies[29]).await, Err(401));
        let newest = cookies.last().unwrap().clone();
        let (_, rotated) = refresh(&server, &newest).await.unwrap();
        let newest = rotated.expect("rotated");
        // Remembered: a replay ends the whole session.
        assert_eq!(refresh(&server, &cookies[31]).await, Err(401));
        assert_eq!(refresh(&server, &newest).await, Err(401));
    }
);
