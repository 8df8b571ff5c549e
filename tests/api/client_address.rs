//! Which address a request is from (issue 31, finding 11), over real HTTP on SQLite and
//! PostgreSQL: behind the configured proxies the client's address is the header's entry
//! they wrote; a client that reaches the port itself is known by its socket address,
//! whatever `X-Forwarded-For` it sends, so it cannot pick the address its throttling
//! budgets and `mfa_token` are tied to.

use crate::helpers::{Engine, TestServer, PASSWORD};

/// Logs in as `username` sending `X-Forwarded-For: forwarded`: the address the new
/// session records.
async fn recorded_address(server: &TestServer, username: &str, forwarded: &str) -> String {
    let proxied = server.api().header("x-forwarded-for", forwarded);
    let login = proxied.login(username, PASSWORD).await;
    assert_eq!(login.status(), 200);
    let token = login.value().access_token;
    let sessions = server.api().bearer(&token).sessions().await.value();
    let current = sessions
        .into_iter()
        .find(|session| session.current)
        .expect("the current session");
    current.address
}

async fn server(engine: Engine, proxies: Option<&'static str>) -> TestServer {
    TestServer::start_with(engine, move |settings| {
        settings.insert("KEYHOLD_CLIENT_IP_HEADER", "x-forwarded-for".into());
        if let Some(proxies) = proxies {
            settings.insert("KEYHOLD_TRUSTED_PROXIES", proxies.into());
        }
    })
    .await
}

on_both_databases!(
    the_header_counts_only_from_the_proxies,
    |engine: Engine| async move {
        // The proxy in front runs on this machine (the default: loopback).
        let behind_proxy = server(engine, None).await;
        behind_proxy.signed_up("via_proxy").await;
        let seen = recorded_address(&behind_proxy, "via_proxy", "203.0.113.9").await;
        assert_eq!(seen, "203.0.113.9");

        // The proxies are elsewhere: this client reached the port itself.
        let direct = server(engine, Some("192.0.2.0/24, 2001:db8::1")).await;
        direct.signed_up("direct_client").await;
        let seen = recorded_address(&direct, "direct_client", "203.0.113.9").await;
        assert_eq!(seen, "127.0.0.1", "the spoofed header is ignored");
    }
);
