//! Guessing authenticator codes slowly (issue 31, finding 1), over real HTTP and a real
//! SMTP server on SQLite and PostgreSQL: someone with the password tries one wrong code
//! an hour, each after the per-account backoff has forgotten the last. After 100 wrong
//! codes in a row the app is locked, whatever the pace: even its right code is refused,
//! and the owner gets a mail. A recovery code still signs in, and unlocks the app.

use crate::client::{
    requests::{code, recovery_code, second_step},
    Answer,
};
use crate::enrolled_accounts::code_now;
use crate::helpers::{Engine, TestServer, PASSWORD};
use crate::recovery::mailed_server;
use keyhold::{
    api::{proofs::SecondFactorFields, ErrorCode, TokenResponse},
    server::{accounts::TOTP_FAILURE_CAP, building_blocks::second_factors::totp::code_at},
};
use std::time::Duration;

/// A code that is none of the app's (now, a step before or after).
fn wrong_code(server: &TestServer, secret: &str) -> String {
    let right: u32 = code_now(server, secret).parse().unwrap();
    let mut guess = (right + 500_000) % 1_000_000;
    let now = server.clock.now();
    let valid: Vec<String> = [-30, 0, 30]
        .iter()
        .map(|d| code_at(secret, now + d).unwrap())
        .collect();
    while valid.contains(&format!("{guess:06}")) {
        guess = (guess + 1) % 1_000_000;
    }
    format!("{guess:06}")
}

/// The password step: its `mfa_token`.
async fn password_step(server: &TestServer, username: &str) -> String {
    let error = server.api().login(username, PASSWORD).await.error();
    assert_eq!(error.error, ErrorCode::MfaRequired, "{error:?}");
    error.mfa.expect("how to finish").mfa_token
}

/// The second step of the log-in behind `mfa_token`, with `proof`.
async fn finish(
    server: &TestServer,
    mfa_token: &str,
    proof: SecondFactorFields,
) -> Answer<TokenResponse> {
    server.api().login_mfa(&second_step(mfa_token, proof)).await
}

on_both_databases!(a_slow_guesser_locks_the_app, |engine: Engine| async move {
    let (server, maildev) = mailed_server(engine, &[]).await;
    let token = server.signed_up("guessed").await;
    let (secret, recovery) = server.turn_on_authenticator(&token, PASSWORD).await;
    let recovery = recovery[0].clone();

    // One wrong code an hour: the backoff has forgotten each by the next.
    for attempt in 1..=TOTP_FAILURE_CAP {
        server.clock.advance(Duration::from_secs(3600));
        let mfa_token = password_step(&server, "guessed").await;
        let guess = code(&wrong_code(&server, &secret));
        let answer = finish(&server, &mfa_token, guess).await;
        assert_eq!(answer.status(), 401, "attempt {attempt}");
    }
    let locked = maildev
        .wait_for("guessed@example.com", "authenticator app was locked", 1)
        .await;
    assert!(locked.text.contains("recovery codes"), "{}", locked.text);

    // Locked: even the right code is refused now.
    server.clock.advance(Duration::from_secs(3600));
    let mfa_token = password_step(&server, "guessed").await;
    let right = code(&code_now(&server, &secret));
    let refused = finish(&server, &mfa_token, right).await;
    assert_eq!(refused.status(), 403);
    let error = refused.error();
    assert_eq!(error.field.as_deref(), Some("code"));
    assert!(error.message.contains("locked"), "{error:?}");

    // The owner's way in: a recovery code signs in and unlocks the app.
    let mfa_token = password_step(&server, "guessed").await;
    let signed_in = finish(&server, &mfa_token, recovery_code(&recovery)).await;
    assert_eq!(signed_in.status(), 200);
    server.clock.advance(Duration::from_secs(30));
    let mfa_token = password_step(&server, "guessed").await;
    let right = code(&code_now(&server, &secret));
    assert_eq!(finish(&server, &mfa_token, right).await.status(), 200);
});
