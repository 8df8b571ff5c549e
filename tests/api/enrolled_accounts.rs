//! Accounts with the authenticator app on, for the second-factor tests: a server behind
//! a proxy (the tests' requests come from `HERE`), enrolment, the password step's
//! `mfa_token`, and the app's code by the server's (moved) clock.

use crate::client::Client;
use crate::helpers::{Engine, TestServer, PASSWORD};
use keyhold::{api::ErrorCode, server::building_blocks::second_factors::totp::code_at};
use std::time::Duration;

/// The address the tests' requests come from (`X-Forwarded-For`).
pub const HERE: &str = "198.51.100.10";
/// One step of the authenticator app: its next code.
pub const STEP: Duration = Duration::from_secs(30);

/// A server behind a proxy that writes the client's address in `X-Forwarded-For`.
pub async fn server(engine: Engine) -> TestServer {
    TestServer::start_with(engine, |s| {
        s.insert("KEYHOLD_CLIENT_IP_HEADER", "x-forwarded-for".into());
    })
    .await
}

/// A client of `server` whose requests come from `HERE`.
pub fn from_here(server: &TestServer) -> Client {
    server.api().header("x-forwarded-for", HERE)
}

/// The password step for an account with a second factor: its `mfa_token`.
pub async fn mfa_token(server: &TestServer, username: &str) -> String {
    let answer = from_here(server).login(username, PASSWORD).await;
    assert_eq!(answer.status(), 401);
    assert!(
        answer.headers().get("set-cookie").is_none(),
        "no cookie before the second factor"
    );
    let error = answer.error();
    assert_eq!(error.error, ErrorCode::MfaRequired, "{}", answer.text());
    assert!(answer.json().get("access_token").is_none());
    error.mfa.expect("how to finish").mfa_token
}

/// The code the app shows now (by the server's clock).
pub fn code_now(server: &TestServer, secret: &str) -> String {
    code_at(secret, server.clock.now()).unwrap()
}

/// Signs `username` up and turns the app on: (token, secret, recovery codes).
pub async fn enrolled(server: &TestServer, username: &str) -> (String, String, Vec<String>) {
    let token = server.signed_up(username).await;
    let (secret, codes) = server.turn_on_authenticator(&token, PASSWORD).await;
    // The code just used cannot be used again: later steps only.
    server.clock.advance(STEP);
    (token, secret, codes)
}
