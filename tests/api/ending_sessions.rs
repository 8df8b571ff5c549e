//! Ending sessions over real HTTP on SQLite and PostgreSQL: the list of an account's
//! sessions and revoking one of them or all the others; log out (with the bearer token
//! or the cookie alone), log out everywhere (even against a log-in still in flight), a
//! password change and a deleted account.

use crate::client::{
    requests::{deletion, password_change},
    REFRESH_COOKIE,
};
use crate::devices::{me_status, refresh, sessions, sign_in};
use crate::helpers::{Engine, TestServer, PASSWORD};
use keyhold::api::sessions::SessionView;
use std::time::Duration;

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
        server.registered("racer").await;
        let owner = sign_in(&server, "racer", "curl/8.5.0").await;

        let started = std::time::Instant::now();
        let api = server.api();
        let in_flight = api.login("racer", PASSWORD);
        let log_out = async {
            tokio::time::sleep(Duration::from_millis(20)).await;
            let answer = api.bearer(&owner.access).log_out_everywhere().await;
            assert_eq!(answer.status(), 200);
            started.elapsed()
        };
        let (answer, logged_out_after) = tokio::join!(in_flight, log_out);
        let answered_after = started.elapsed();
        let cookie = answer.set_cookie(REFRESH_COOKIE).map(|(value, _)| value);
        let body = answer.json();
        if logged_out_after < answered_after {
            assert_eq!(answer.status(), 401, "the log-in lost the race: {body}");
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

on_both_databases!(list_and_revoke_sessions, |engine: Engine| async move {
    let server = TestServer::start(engine).await;
    server.registered("juggler").await;
    server.registered("stranger").await;
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

    let on_laptop = server.api().bearer(&laptop.access);
    let answer = on_laptop.sessions().await;
    assert_eq!(answer.status(), 200);
    let list = answer.value();
    assert_eq!(list.len(), 2);
    let devices: Vec<&str> = list.iter().map(|s| s.device.as_str()).collect();
    assert!(devices.contains(&"Firefox on Linux") && devices.contains(&"Safari on iOS"));
    let current: Vec<&SessionView> = list.iter().filter(|s| s.current).collect();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0].device, "Firefox on Linux");
    assert_eq!(current[0].address, "127.0.0.1");
    for session in answer.json().as_array().unwrap() {
        assert!(session.get("refresh_hash").is_none() && session.get("user_agent").is_none());
    }
    let phone_id = &list.iter().find(|s| !s.current).unwrap().id;

    // Somebody else's session is not yours to end.
    let strangers = sessions(&server, &stranger.access).await;
    let answer = on_laptop.revoke_session(&strangers[0].id).await;
    assert_eq!(answer.status(), 404);
    assert_eq!(answer.error().field.as_deref(), Some("id"));
    assert_eq!(me_status(&server, &stranger.access).await, 200);

    let answer = on_laptop.revoke_session(phone_id).await;
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.value().revoked, 1);
    assert_eq!(me_status(&server, &phone.access).await, 401);
    assert_eq!(refresh(&server, &phone.cookie).await, Err(401));
    assert_eq!(me_status(&server, &laptop.access).await, 200);

    // Sign out everywhere else.
    let tablet = sign_in(&server, "juggler", "curl/8.5.0").await;
    let desktop = sign_in(&server, "juggler", "curl/8.5.0").await;
    let answer = on_laptop.revoke_other_sessions().await;
    assert_eq!(answer.value().revoked, 2);
    for other in [&tablet, &desktop] {
        assert_eq!(me_status(&server, &other.access).await, 401);
        assert_eq!(refresh(&server, &other.cookie).await, Err(401));
    }
    assert_eq!(sessions(&server, &laptop.access).await.len(), 1);
    assert!(refresh(&server, &laptop.cookie).await.is_ok());

    // Log out everywhere ends this one too.
    assert_eq!(on_laptop.log_out_everywhere().await.status(), 200);
    assert_eq!(me_status(&server, &stranger.access).await, 200);
});

on_both_databases!(
    password_change_ends_other_sessions,
    |engine: Engine| async move {
        let server = TestServer::start(engine).await;
        server.registered("rotator").await;
        let here = sign_in(&server, "rotator", "curl/8.5.0").await;
        let there = sign_in(&server, "rotator", "curl/8.5.0").await;
        let change = password_change(PASSWORD, "a whole new passphrase here");
        let answer = server
            .api()
            .bearer(&here.access)
            .change_password(&change)
            .await;
        assert_eq!(answer.status(), 200);
        let fresh = answer.value().access_token;
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
    server.registered("leaver").await;
    // With the bearer token (an API client: no cookie, no Origin).
    let program = sign_in(&server, "leaver", "curl/8.5.0").await;
    let answer = server.api().bearer(&program.access).log_out(None).await;
    assert_eq!(answer.status(), 200);
    assert_eq!(
        answer.set_cookie(REFRESH_COOKIE).map(|c| c.0).as_deref(),
        Some("")
    );
    assert!(answer.value().signed_out);
    assert_eq!(me_status(&server, &program.access).await, 401);
    assert_eq!(refresh(&server, &program.cookie).await, Err(401));

    // With only the cookie (the access token already expired), from the site itself.
    let browser = sign_in(&server, "leaver", "curl/8.5.0").await;
    let site = server.api().same_origin();
    assert_eq!(site.log_out(Some(&browser.cookie)).await.status(), 200);
    assert_eq!(me_status(&server, &browser.access).await, 401);
    // Twice is fine.
    assert_eq!(server.api().log_out(None).await.status(), 200);
});

on_both_databases!(
    deleted_account_ends_its_sessions,
    |engine: Engine| async move {
        let server = TestServer::start(engine).await;
        server.registered("gone").await;
        let device = sign_in(&server, "gone", "curl/8.5.0").await;
        let holder = server.api().bearer(&device.access);
        let answer = holder.delete_account(&deletion(PASSWORD, "gone")).await;
        assert_eq!(answer.status(), 200);
        assert_eq!(refresh(&server, &device.cookie).await, Err(401));
    }
);
