//! The log-in's second step with the authenticator app, over real HTTP on SQLite and
//! PostgreSQL: the password answers `mfa_required`, the code finishes (`amr` in the
//! tokens and the session, kept by a refresh); replayed codes, recovery codes used once,
//! every misuse of the `mfa_token`, and throttled guessing. Codes are computed here from
//! the secret the server hands out, with the server's (moved) clock.

use crate::client::{
    requests::{code, confirmed, newest, password_change, recovery_code, second_step},
    REFRESH_COOKIE, SESSION_COOKIE,
};
use crate::devices::{claims, me_status};
use crate::enrolled_accounts::{code_now, enrolled, from_here, mfa_token, server, STEP};
use crate::helpers::PASSWORD;
use keyhold::api::{proofs::ConfirmedRequest, users::ChangePasswordRequest, ErrorCode};
use serde_json::json;
use std::time::Duration;

on_both_databases!(log_in_with_the_code, |engine| async move {
    let server = server(engine).await;
    let (_, secret, _) = enrolled(&server, "uma").await;
    let api = from_here(&server);
    let step = api.login("uma", PASSWORD).await.error();
    assert_eq!(step.mfa.expect("mfa").methods, ["totp", "recovery_code"]);
    // A wrong password says nothing about the second factor.
    let wrong = api.login("uma", "a wrong password, surely").await;
    assert_eq!(wrong.error().error, ErrorCode::InvalidCredentials);
    assert!(wrong.json().get("mfa_token").is_none());

    let token = mfa_token(&server, "uma").await;
    let now = code_now(&server, &secret);
    let signed_in = api.login_mfa(&second_step(&token, code(&now))).await;
    assert_eq!(signed_in.status(), 200);
    let (refresh_cookie, _) = signed_in
        .set_cookie(REFRESH_COOKIE)
        .expect("a refresh cookie");
    // The browser session cookie too: the server sees this browser signed in.
    let (_, session) = signed_in
        .set_cookie(SESSION_COOKIE)
        .expect("a session cookie");
    assert!(
        session.contains("SameSite=Lax") && session.contains("HttpOnly"),
        "{session}"
    );
    let access = signed_in.value().access_token;
    assert_eq!(claims(&access)["amr"], json!(["pwd", "otp", "mfa"]));
    assert_eq!(me_status(&server, &access).await, 200);
    let sessions = server.api().bearer(&access).sessions().await.value();
    let current = sessions.iter().find(|s| s.current).unwrap();
    assert_eq!(current.amr, ["pwd", "otp", "mfa"]);
    // The token was used; the same code again (same step) is refused.
    let reused = api.login_mfa(&second_step(&token, code(&now))).await;
    assert_eq!(reused.error().error, ErrorCode::InvalidMfaToken);
    let fresh_token = mfa_token(&server, "uma").await;
    let replay = api.login_mfa(&second_step(&fresh_token, code(&now))).await;
    assert_eq!(replay.status(), 401);
    let replay = replay.error();
    assert_eq!(
        (replay.error, replay.field.as_deref()),
        (ErrorCode::InvalidCredentials, Some("code"))
    );
    // The refresh keeps how the session was signed in.
    let refreshed = server
        .api()
        .same_origin()
        .refresh(Some(&refresh_cookie))
        .await;
    assert_eq!(refreshed.status(), 200);
    let renewed = refreshed.value().access_token;
    assert_eq!(claims(&renewed)["amr"], json!(["pwd", "otp", "mfa"]));
    // An account without a second factor: the FastAPI flow, and `amr` says password.
    let plain = server.signed_up("vic").await;
    assert_eq!(claims(&plain)["amr"], json!(["pwd"]));
});

on_both_databases!(recovery_codes_work_once, |engine| async move {
    let server = server(engine).await;
    let (token, secret, codes) = enrolled(&server, "wes").await;
    let api = from_here(&server);
    let typed = format!(" {} ", codes[0].to_uppercase());
    let step = mfa_token(&server, "wes").await;
    let first = api
        .login_mfa(&second_step(&step, recovery_code(&typed)))
        .await;
    assert_eq!(first.status(), 200);
    let step = mfa_token(&server, "wes").await;
    let again = api
        .login_mfa(&second_step(&step, recovery_code(&codes[0])))
        .await;
    assert_eq!(again.status(), 401);
    assert_eq!(again.error().field.as_deref(), Some("recovery_code"));
    let status = server.api().bearer(&token).second_factors().await.value();
    assert_eq!(status.recovery_codes_left, 9);
    // New codes: the old ones stop working.
    let confirmation = ConfirmedRequest {
        second_factor: code(&code_now(&server, &secret)),
        ..confirmed(PASSWORD)
    };
    let fresh = api.bearer(&token).new_recovery_codes(&confirmation).await;
    assert_eq!(fresh.status(), 200);
    let fresh = fresh.value().recovery_codes;
    let step = mfa_token(&server, "wes").await;
    let old = api
        .login_mfa(&second_step(&step, recovery_code(&codes[1])))
        .await;
    assert_eq!(old.status(), 401);
    let step = mfa_token(&server, "wes").await;
    let new = api
        .login_mfa(&second_step(&step, recovery_code(&fresh[1])))
        .await;
    assert_eq!(new.status(), 200);
});

on_both_databases!(mfa_token_misuse, |engine| async move {
    let server = server(engine).await;
    let (token, secret, _) = enrolled(&server, "xena").await;
    let (_, other_secret, _) = enrolled(&server, "yuri").await;
    let api = from_here(&server);
    // Garbage tokens, unknown tokens.
    for garbage in ["", "x", &"A".repeat(43), &"é".repeat(30)] {
        let now = code_now(&server, &secret);
        let refused = api.login_mfa(&second_step(garbage, code(&now))).await;
        assert_eq!(refused.status(), 401, "{garbage}");
        assert_eq!(refused.error().error, ErrorCode::InvalidMfaToken);
    }
    // Another account's code does not fit this account.
    let step = mfa_token(&server, "xena").await;
    let theirs = code(&code_now(&server, &other_secret));
    let wrong_account = api.login_mfa(&second_step(&step, theirs)).await;
    assert_eq!(wrong_account.error().error, ErrorCode::InvalidCredentials);
    // From another address.
    let step = mfa_token(&server, "xena").await;
    let elsewhere = server.api().header("x-forwarded-for", "203.0.113.99");
    let now = code(&code_now(&server, &secret));
    let elsewhere = elsewhere.login_mfa(&second_step(&step, now)).await;
    assert_eq!(elsewhere.error().error, ErrorCode::InvalidMfaToken);
    // Expired after 5 minutes.
    let step = mfa_token(&server, "xena").await;
    server.clock.advance(Duration::from_secs(301));
    let now = code(&code_now(&server, &secret));
    let late = api.login_mfa(&second_step(&step, now)).await.error();
    assert_eq!(late.error, ErrorCode::InvalidMfaToken);
    assert!(late.message.contains("too long"), "{late:?}");
    // Voided by a password change in between.
    let step = mfa_token(&server, "xena").await;
    let change = ChangePasswordRequest {
        second_factor: code(&code_now(&server, &secret)),
        ..password_change(PASSWORD, "another long passphrase here")
    };
    let changed = api.bearer(&token).change_password(&change).await;
    assert_eq!(changed.status(), 200);
    server.clock.advance(STEP);
    let now = code(&code_now(&server, &secret));
    let voided = api.login_mfa(&second_step(&step, now)).await;
    assert_eq!(voided.error().error, ErrorCode::InvalidMfaToken);
    // Five wrong codes spend the token: the right code no longer helps.
    let step = api.login("yuri", PASSWORD).await.error();
    let step = step.mfa.expect("mfa").mfa_token;
    for _ in 0..5 {
        let wrong = api.login_mfa(&second_step(&step, code("000000"))).await;
        assert_eq!(wrong.error().error, ErrorCode::InvalidCredentials);
    }
    let now = code(&code_now(&server, &other_secret));
    let spent = api.login_mfa(&second_step(&step, now)).await;
    assert_eq!(spent.error().error, ErrorCode::InvalidMfaToken);
});

on_both_databases!(guessing_codes_is_throttled, |engine| async move {
    let server = server(engine).await;
    let (owner, secret, _) = enrolled(&server, "zoe").await;
    let api = from_here(&server);
    let mut throttled = None;
    for attempt in 0..30 {
        let step = mfa_token(&server, "zoe").await;
        let answer = api.login_mfa(&second_step(&step, code("000001"))).await;
        if answer.status() == 429 {
            assert!(answer.headers().contains_key("retry-after"));
            throttled = Some(attempt);
            break;
        }
    }
    let attempt = throttled.expect("wrong codes are throttled");
    assert!(attempt >= 10, "the first wrong codes are free ({attempt})");
    // The right code must wait too.
    let step = mfa_token(&server, "zoe").await;
    let now = code(&code_now(&server, &secret));
    let waiting = api.login_mfa(&second_step(&step, now)).await;
    assert_eq!(waiting.status(), 429);
    // The owner sees the failures, folded into one entry with its count.
    let page = server.api().bearer(&owner).activity(&newest(None)).await;
    let page = page.value();
    let failed = page
        .entries
        .iter()
        .find(|e| e.kind.name() == "second_factor_failed")
        .unwrap();
    assert!(failed.count >= 10, "{failed:?}");
});
