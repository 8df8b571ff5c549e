//! The endpoints that read the refresh cookie answer only the site itself, over real
//! HTTP on SQLite and PostgreSQL: a refresh, a log-out or a log-in from another origin
//! (or with no `Origin`, where a cookie is read) is refused and changes nothing; a
//! made-up secret for a known session is refused without ending it; a plain `http` page
//! of the same host is another origin.

use crate::client::REFRESH_COOKIE;
use crate::devices::{refresh, sign_in};
use crate::helpers::{Engine, TestServer, PASSWORD};
use keyhold::api::ErrorCode;

on_both_databases!(cookie_endpoints_check_origin, |engine: Engine| async move {
    let server = TestServer::start(engine).await;
    server.registered("origins").await;
    let device = sign_in(&server, "origins", "curl/8.5.0").await;

    let api = server.api();
    let from = |origin: Option<&str>| match origin {
        Some(origin) => api.header("origin", origin),
        None => api.clone(),
    };
    for origin in [None, Some("https://evil.example"), Some("null")] {
        let answer = from(origin).refresh(Some(&device.cookie)).await;
        assert_eq!(answer.status(), 403, "origin {origin:?}");
        assert_eq!(answer.error().error, ErrorCode::Forbidden);
    }
    // A refused cross-site request changed nothing: the cookie still works.
    let (_, rotated) = refresh(&server, &device.cookie).await.unwrap();
    let cookie = rotated.unwrap();

    let same_origin = api.same_origin();
    assert_eq!(same_origin.refresh(None).await.status(), 401);
    assert_eq!(same_origin.refresh(Some("not-a-token")).await.status(), 401);

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
        let answer = from(origin).login("origins", PASSWORD).await;
        assert_eq!(answer.status(), status, "login with origin {origin:?}");
        assert_eq!(answer.set_cookie(REFRESH_COOKIE).is_some(), status == 200);
    }

    // Logging out with the cookie from another site is refused too.
    let evil = from(Some("https://evil.example"));
    assert_eq!(evil.log_out(Some(&cookie)).await.status(), 403);
});

on_both_databases!(
    a_plain_http_page_of_the_same_host_is_another_origin,
    |engine: Engine| async move {
        let server = TestServer::start(engine).await;
        server.registered("schemer").await;
        let device = sign_in(&server, "schemer", "curl/8.5.0").await;
        let host = server.api().header("host", "keyhold.example");
        // Secure cookies: whoever can write http://keyhold.example (anyone on the
        // network) must not use them.
        let plain = host.header("origin", "http://keyhold.example");
        assert_eq!(plain.refresh(Some(&device.cookie)).await.status(), 403);
        let secure = host.header("origin", "https://keyhold.example");
        assert_eq!(secure.refresh(Some(&device.cookie)).await.status(), 200);
    }
);
