//! The security headers over real HTTP on SQLite and PostgreSQL: on every response
//! (pages, API, health, errors, files), no CORS, and HSTS when served over https (or
//! asked for), unless turned off.

use crate::helpers::{Engine, TestServer};

on_both_databases!(
    security_headers_on_every_response,
    |engine: Engine| async move {
        let server = TestServer::start(engine).await;
        for path in [
            "/login",
            "/api/users/me",
            "/healthz",
            "/api/nothing",
            "/favicon.svg",
        ] {
            let response = server.client.get(server.url(path)).send().await.unwrap();
            let headers = response.headers();
            assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
            assert_eq!(headers["referrer-policy"], "no-referrer", "{path}");
            assert_eq!(
                headers["cross-origin-opener-policy"], "same-origin",
                "{path}"
            );
            assert_eq!(headers["x-frame-options"], "DENY", "{path}");
            let csp = headers["content-security-policy"].to_str().unwrap();
            assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
            assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
            assert!(
                !headers.contains_key("strict-transport-security"),
                "no HSTS over plain http"
            );
            assert!(
                !headers.contains_key("access-control-allow-origin"),
                "no CORS"
            );
        }
        let tls = TestServer::start_with(engine, |s| {
            s.insert("KEYHOLD_HSTS", "true".into());
        })
        .await;
        let response = tls.client.get(tls.url("/login")).send().await.unwrap();
        assert!(response.headers()["strict-transport-security"]
            .to_str()
            .unwrap()
            .starts_with("max-age="));
        // Served at an https address: HSTS unless turned off, so a network attacker cannot
        // keep a browser on plain http (SSL stripping).
        let public = TestServer::start_with(engine, |s| {
            s.insert("KEYHOLD_PUBLIC_URL", "https://id.example".into());
        })
        .await;
        let response = public
            .client
            .get(public.url("/login"))
            .send()
            .await
            .unwrap();
        assert!(response.headers()["strict-transport-security"]
            .to_str()
            .unwrap()
            .starts_with("max-age=63072000"));
        let off = TestServer::start_with(engine, |s| {
            s.insert("KEYHOLD_PUBLIC_URL", "https://id.example".into());
            s.insert("KEYHOLD_HSTS", "false".into());
        })
        .await;
        let response = off.client.get(off.url("/login")).send().await.unwrap();
        assert!(!response.headers().contains_key("strict-transport-security"));
    }
);
