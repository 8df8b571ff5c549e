//! The refresh cookie over real HTTP on SQLite and PostgreSQL: it rotates on each use;
//! tabs racing with one cookie share one rotation; a replaced cookie replayed outside
//! the grace window ends the whole session, and the session remembers a bounded number
//! of replaced cookies.

use crate::client::{requests::newest, REFRESH_COOKIE};
use crate::devices::{me_status, refresh, sessions, sign_in};
use crate::helpers::{Engine, TestServer};
use std::time::Duration;

on_both_databases!(refresh_rotates_the_cookie, |engine: Engine| async move {
    let server = TestServer::start(engine).await;
    server.registered("rotor").await;
    let device = sign_in(&server, "rotor", "curl/8.5.0").await;

    let answer = server
        .api()
        .same_origin()
        .refresh(Some(&device.cookie))
        .await;
    assert_eq!(answer.status(), 200);
    let (second, line) = answer.set_cookie(REFRESH_COOKIE).expect("rotated");
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
    let token = answer.value();
    assert_eq!(token.token_type, "bearer");
    assert_eq!(token.expires_in, 900);
    let access = token.access_token;
    assert_ne!(access, device.access);
    assert_eq!(me_status(&server, &access).await, 200);
    // The new cookie rotates again; the first session is still the only one.
    let (_, third) = refresh(&server, &second).await.unwrap();
    assert!(third.is_some_and(|t| t != second));
    assert_eq!(sessions(&server, &access).await.len(), 1);
});

on_both_databases!(
    racing_tabs_share_one_rotation,
    |engine: Engine| async move {
        let server = TestServer::start(engine).await;
        server.registered("tabs").await;
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
        server.registered("victim").await;
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
        let owner = server.api().bearer(&again.access);
        let activity = owner.activity(&newest(None)).await.value();
        let kinds: Vec<&str> = activity.entries.iter().map(|e| e.kind.name()).collect();
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
        server.registered("victim2").await;
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

/// How many replaced refresh tokens the database keeps, in all.
async fn retired_rows(server: &TestServer) -> i64 {
    use sqlx::{Connection, Row};
    sqlx::any::install_default_drivers();
    let mut db = sqlx::AnyConnection::connect(&server.database().url)
        .await
        .unwrap();
    let row = sqlx::query("SELECT COUNT(*) AS n FROM retired_refresh_hashes")
        .fetch_one(&mut db)
        .await
        .unwrap();
    row.try_get::<i64, _>("n").unwrap()
}

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
        assert_eq!(retired_rows(&server).await, 100);
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
