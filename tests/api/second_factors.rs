//! Second factors over real HTTP on SQLite and PostgreSQL: turning the authenticator
//! app on (and the refusals on the way), the log-in that answers `mfa_required` and its
//! second step, replayed codes, recovery codes used once, every misuse of the
//! `mfa_token`, throttled guessing, `amr` in tokens and sessions, sensitive changes that
//! need the code, and turning it off. Codes are computed here from the secret the
//! server hands out, with the server's (moved) clock.

use crate::helpers::{json, Engine, TestServer, PASSWORD};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use keyhold::server::building_blocks::second_factors::totp::code_at;
use serde_json::{json, Value};
use std::time::Duration;

const HERE: &str = "198.51.100.10";
const STEP: Duration = Duration::from_secs(30);

async fn server(engine: Engine) -> TestServer {
    TestServer::start_with(engine, |s| {
        s.insert("KEYHOLD_CLIENT_IP_HEADER", "x-forwarded-for".into());
    })
    .await
}

async fn post(
    server: &TestServer,
    token: Option<&str>,
    path: &str,
    body: Value,
) -> reqwest::Response {
    let mut request = server
        .client
        .post(server.url(path))
        .header("x-forwarded-for", HERE)
        .json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

/// `GET` `path` with the bearer token: the JSON answer.
async fn get(server: &TestServer, token: &str, path: &str) -> Value {
    let response = server.client.get(server.url(path)).bearer_auth(token);
    json(response.send().await.unwrap()).await
}

/// What `GET /api/users/me/second-factors` says.
async fn factors(server: &TestServer, token: &str) -> Value {
    get(server, token, "/api/users/me/second-factors").await
}

/// `POST /api/login` from `addr`.
async fn login_from(
    server: &TestServer,
    username: &str,
    password: &str,
    addr: &str,
) -> reqwest::Response {
    server
        .client
        .post(server.url("/api/login"))
        .header("x-forwarded-for", addr)
        .form(&[("username", username), ("password", password)])
        .send()
        .await
        .unwrap()
}

/// The password step for an account with a second factor: its `mfa_token`.
async fn mfa_token(server: &TestServer, username: &str) -> String {
    let response = login_from(server, username, PASSWORD, HERE).await;
    assert_eq!(response.status(), 401);
    assert!(
        response.headers().get("set-cookie").is_none(),
        "no cookie before the second factor"
    );
    let body = json(response).await;
    assert_eq!(body["error"], "mfa_required", "{body}");
    assert!(body.get("access_token").is_none());
    body["mfa_token"].as_str().unwrap().to_owned()
}

/// The code the app shows now (by the server's clock).
fn code(server: &TestServer, secret: &str) -> String {
    code_at(secret, server.clock.now()).unwrap()
}

/// Signs `username` up and turns the app on: (token, secret, recovery codes).
async fn enrolled(server: &TestServer, username: &str) -> (String, String, Vec<String>) {
    let token = server.signed_up(username).await;
    let (secret, codes) = server.turn_on_authenticator(&token, PASSWORD).await;
    // The code just used cannot be used again: later steps only.
    server.clock.advance(STEP);
    (token, secret, codes)
}

fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

on_both_databases!(turning_the_app_on, |engine| async move {
    let server = server(engine).await;
    let token = server.signed_up("tara").await;
    let path = "/api/users/me/authenticator/setup";
    let wrong = post(
        &server,
        Some(&token),
        path,
        json!({"current_password": "not it at all, sorry"}),
    )
    .await;
    assert_eq!(wrong.status(), 403);
    assert_eq!(json(wrong).await["field"], "current_password");
    let setup = json(
        post(
            &server,
            Some(&token),
            path,
            json!({"current_password": PASSWORD}),
        )
        .await,
    )
    .await;
    let secret = setup["secret"].as_str().unwrap().to_owned();
    assert_eq!(secret.len(), 32, "160 bits in base32");
    assert_eq!(
        setup["otpauth_uri"],
        format!("otpauth://totp/Keyhold:tara?secret={secret}&issuer=Keyhold")
    );
    assert!(setup["qr_svg"].as_str().unwrap().starts_with("<svg "));
    // Not active until a code came back: the password alone still signs in.
    assert_eq!(
        login_from(&server, "tara", PASSWORD, HERE).await.status(),
        200
    );
    let status = factors(&server, &token).await;
    assert_eq!(
        status,
        json!({"authenticator_app": false, "recovery_codes_left": 0, "passkeys": 0})
    );
    let activate = "/api/users/me/authenticator/activate";
    for garbage in ["000000", "12345", "abcdef", ""] {
        let refused = post(&server, Some(&token), activate, json!({"code": garbage})).await;
        assert_eq!(refused.status(), 403, "{garbage}");
        assert_eq!(json(refused).await["field"], "code");
    }
    let on = post(
        &server,
        Some(&token),
        activate,
        json!({"code": code(&server, &secret)}),
    )
    .await;
    assert_eq!(on.status(), 200);
    let codes = json(on).await["recovery_codes"].as_array().unwrap().clone();
    assert_eq!(codes.len(), 10);
    let status = factors(&server, &token).await;
    assert_eq!(
        status,
        json!({"authenticator_app": true, "recovery_codes_left": 10, "passkeys": 0})
    );
    // A second app needs the first one removed; activating again finds nothing waiting.
    let again = post(
        &server,
        Some(&token),
        path,
        json!({"current_password": PASSWORD, "code": code(&server, &secret)}),
    )
    .await;
    assert_eq!(again.status(), 409);
    let twice = post(
        &server,
        Some(&token),
        activate,
        json!({"code": code(&server, &secret)}),
    )
    .await;
    assert_eq!(twice.status(), 409);
    // Without a token nothing is set up.
    let anonymous = post(&server, None, path, json!({"current_password": PASSWORD})).await;
    assert_eq!(anonymous.status(), 401);
});

on_both_databases!(log_in_with_the_code, |engine| async move {
    let server = server(engine).await;
    let (_, secret, _) = enrolled(&server, "uma").await;
    let response = login_from(&server, "uma", PASSWORD, HERE).await;
    let body = json(response).await;
    assert_eq!(body["methods"], json!(["totp", "recovery_code"]));
    // A wrong password says nothing about the second factor.
    let wrong = json(login_from(&server, "uma", "a wrong password, surely", HERE).await).await;
    assert_eq!(wrong["error"], "invalid_credentials");
    assert!(wrong.get("mfa_token").is_none());

    let token = mfa_token(&server, "uma").await;
    let code = code(&server, &secret);
    let signed_in = post(
        &server,
        None,
        "/api/login/mfa",
        json!({"mfa_token": token, "code": code}),
    )
    .await;
    assert_eq!(signed_in.status(), 200);
    let cookies: Vec<String> = signed_in
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|c| c.to_str().unwrap().to_owned())
        .collect();
    let refresh_cookie = cookies
        .iter()
        .find(|c| c.starts_with("__Host-keyhold-refresh="))
        .unwrap_or_else(|| panic!("{cookies:?}"))
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    // The browser session cookie too: the server sees this browser signed in.
    assert!(
        cookies
            .iter()
            .any(|c| c.starts_with("__Host-keyhold-session=")
                && c.contains("SameSite=Lax")
                && c.contains("HttpOnly")),
        "{cookies:?}"
    );
    let access = json(signed_in).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(claims(&access)["amr"], json!(["pwd", "otp", "mfa"]));
    assert_eq!(server.me(&access).await.status(), 200);
    let sessions = get(&server, &access, "/api/sessions").await;
    let current = sessions
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == true)
        .unwrap();
    assert_eq!(current["amr"], json!(["pwd", "otp", "mfa"]));
    // The token was used; the same code again (same step) is refused.
    let reused = post(
        &server,
        None,
        "/api/login/mfa",
        json!({"mfa_token": token, "code": code}),
    )
    .await;
    assert_eq!(json(reused).await["error"], "invalid_mfa_token");
    let replay = post(
        &server,
        None,
        "/api/login/mfa",
        json!({"mfa_token": mfa_token(&server, "uma").await, "code": code}),
    )
    .await;
    assert_eq!(replay.status(), 401);
    let replay = json(replay).await;
    assert_eq!(
        (replay["error"].as_str(), replay["field"].as_str()),
        (Some("invalid_credentials"), Some("code"))
    );
    // The refresh keeps how the session was signed in.
    let refreshed = server
        .client
        .post(server.url("/api/refresh"))
        .header("cookie", refresh_cookie)
        .header("origin", &server.base)
        .send()
        .await
        .unwrap();
    assert_eq!(refreshed.status(), 200);
    let renewed = json(refreshed).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(claims(&renewed)["amr"], json!(["pwd", "otp", "mfa"]));
    // An account without a second factor: the FastAPI flow, and `amr` says password.
    let plain = server.signed_up("vic").await;
    assert_eq!(claims(&plain)["amr"], json!(["pwd"]));
});

on_both_databases!(recovery_codes_work_once, |engine| async move {
    let server = server(engine).await;
    let (token, secret, codes) = enrolled(&server, "wes").await;
    let typed = format!(" {} ", codes[0].to_uppercase());
    let first = post(
        &server,
        None,
        "/api/login/mfa",
        json!({"mfa_token": mfa_token(&server, "wes").await, "recovery_code": typed}),
    )
    .await;
    assert_eq!(first.status(), 200);
    let again = post(
        &server,
        None,
        "/api/login/mfa",
        json!({"mfa_token": mfa_token(&server, "wes").await, "recovery_code": codes[0]}),
    )
    .await;
    assert_eq!(again.status(), 401);
    assert_eq!(json(again).await["field"], "recovery_code");
    let status = factors(&server, &token).await;
    assert_eq!(status["recovery_codes_left"], 9);
    // New codes: the old ones stop working.
    let fresh = post(
        &server,
        Some(&token),
        "/api/users/me/recovery-codes",
        json!({"current_password": PASSWORD, "code": code(&server, &secret)}),
    )
    .await;
    assert_eq!(fresh.status(), 200);
    let fresh = json(fresh).await["recovery_codes"]
        .as_array()
        .unwrap()
        .clone();
    let old = post(
        &server,
        None,
        "/api/login/mfa",
        json!({"mfa_token": mfa_token(&server, "wes").await, "recovery_code": codes[1]}),
    )
    .await;
    assert_eq!(old.status(), 401);
    let new = post(
        &server,
        None,
        "/api/login/mfa",
        json!({"mfa_token": mfa_token(&server, "wes").await, "recovery_code": fresh[1]}),
    )
    .await;
    assert_eq!(new.status(), 200);
});

on_both_databases!(mfa_token_misuse, |engine| async move {
    let server = server(engine).await;
    let (token, secret, _) = enrolled(&server, "xena").await;
    let (_, other_secret, _) = enrolled(&server, "yuri").await;
    let finish = |mfa: String, code: String| {
        let server = &server;
        async move {
            post(
                server,
                None,
                "/api/login/mfa",
                json!({"mfa_token": mfa, "code": code}),
            )
            .await
        }
    };
    // Garbage tokens, unknown tokens.
    for garbage in ["", "x", &"A".repeat(43), &"é".repeat(30)] {
        let refused = finish(garbage.to_owned(), code(&server, &secret)).await;
        assert_eq!(refused.status(), 401, "{garbage}");
        assert_eq!(json(refused).await["error"], "invalid_mfa_token");
    }
    // Another account's code does not fit this account.
    let wrong_account = finish(
        mfa_token(&server, "xena").await,
        code(&server, &other_secret),
    )
    .await;
    assert_eq!(json(wrong_account).await["error"], "invalid_credentials");
    // From another address.
    let mfa = mfa_token(&server, "xena").await;
    let elsewhere = server
        .client
        .post(server.url("/api/login/mfa"))
        .header("x-forwarded-for", "203.0.113.99")
        .json(&json!({"mfa_token": mfa, "code": code(&server, &secret)}))
        .send()
        .await
        .unwrap();
    assert_eq!(json(elsewhere).await["error"], "invalid_mfa_token");
    // Expired after 5 minutes.
    let mfa = mfa_token(&server, "xena").await;
    server.clock.advance(Duration::from_secs(301));
    let late = json(finish(mfa, code(&server, &secret)).await).await;
    assert_eq!(late["error"], "invalid_mfa_token");
    assert!(
        late["message"].as_str().unwrap().contains("too long"),
        "{late}"
    );
    // Voided by a password change in between.
    let mfa = mfa_token(&server, "xena").await;
    let changed = post(&server, Some(&token), "/api/users/me/password", json!({"current_password": PASSWORD, "new_password": "another long passphrase here", "code": code(&server, &secret)})).await;
    assert_eq!(changed.status(), 200);
    server.clock.advance(STEP);
    let voided = finish(mfa, code(&server, &secret)).await;
    assert_eq!(json(voided).await["error"], "invalid_mfa_token");
    // Five wrong codes spend the token: the right code no longer helps.
    let response = login_from(&server, "yuri", PASSWORD, HERE).await;
    let mfa = json(response).await["mfa_token"]
        .as_str()
        .unwrap()
        .to_owned();
    for _ in 0..5 {
        let wrong = finish(mfa.clone(), "000000".into()).await;
        assert_eq!(json(wrong).await["error"], "invalid_credentials");
    }
    let spent = finish(mfa, code(&server, &other_secret)).await;
    assert_eq!(json(spent).await["error"], "invalid_mfa_token");
});

on_both_databases!(guessing_codes_is_throttled, |engine| async move {
    let server = server(engine).await;
    let (owner, secret, _) = enrolled(&server, "zoe").await;
    let mut throttled = None;
    for attempt in 0..30 {
        let mfa = mfa_token(&server, "zoe").await;
        let response = post(
            &server,
            None,
            "/api/login/mfa",
            json!({"mfa_token": mfa, "code": "000001"}),
        )
        .await;
        if response.status() == 429 {
            assert!(response.headers().contains_key("retry-after"));
            throttled = Some(attempt);
            break;
        }
    }
    let attempt = throttled.expect("wrong codes are throttled");
    assert!(attempt >= 10, "the first wrong codes are free ({attempt})");
    // The right code must wait too.
    let mfa = mfa_token(&server, "zoe").await;
    let waiting = post(
        &server,
        None,
        "/api/login/mfa",
        json!({"mfa_token": mfa, "code": code(&server, &secret)}),
    )
    .await;
    assert_eq!(waiting.status(), 429);
    // The owner sees the failures, folded into one entry with its count.
    let page = get(&server, &owner, "/api/users/me/activity").await;
    let failed = page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "second_factor_failed")
        .unwrap();
    assert!(failed["count"].as_i64().unwrap() >= 10, "{failed}");
});

on_both_databases!(sensitive_changes_need_the_code, |engine| async move {
    let server = server(engine).await;
    let (token, secret, codes) = enrolled(&server, "ada").await;
    let password = "/api/users/me/password";
    let new = "a brand new passphrase, long";
    let missing = post(
        &server,
        Some(&token),
        password,
        json!({"current_password": PASSWORD, "new_password": new}),
    )
    .await;
    assert_eq!(missing.status(), 422);
    assert_eq!(json(missing).await["field"], "code");
    let wrong = post(
        &server,
        Some(&token),
        password,
        json!({"current_password": PASSWORD, "new_password": new, "code": "000000"}),
    )
    .await;
    assert_eq!(wrong.status(), 403);
    assert_eq!(json(wrong).await["field"], "code");
    // A stolen token alone changes nothing: the e-mail and deletion ask too.
    let email = post(
        &server,
        Some(&token),
        "/api/users/me/profile",
        json!({"email": "thief@example.com", "current_password": PASSWORD}),
    )
    .await;
    assert_eq!(email.status(), 422);
    let delete = post(
        &server,
        Some(&token),
        "/api/users/me/delete",
        json!({"password": PASSWORD, "confirm": "ada"}),
    )
    .await;
    assert_eq!(delete.status(), 422);
    let remove = post(
        &server,
        Some(&token),
        "/api/users/me/authenticator/remove",
        json!({"current_password": PASSWORD}),
    )
    .await;
    assert_eq!(remove.status(), 422);
    let ok = post(
        &server,
        Some(&token),
        password,
        json!({"current_password": PASSWORD, "new_password": new, "code": code(&server, &secret)}),
    )
    .await;
    assert_eq!(ok.status(), 200);
    let token = json(ok).await["access_token"].as_str().unwrap().to_owned();
    // Turning it off takes the password and a recovery code; then the password is enough.
    let off = post(
        &server,
        Some(&token),
        "/api/users/me/authenticator/remove",
        json!({"current_password": new, "recovery_code": codes[4]}),
    )
    .await;
    assert_eq!(off.status(), 200);
    assert_eq!(
        json(off).await,
        json!({"authenticator_app": false, "recovery_codes_left": 0, "passkeys": 0})
    );
    assert_eq!(login_from(&server, "ada", new, HERE).await.status(), 200);
    let kinds = get(&server, &token, "/api/users/me/activity?limit=100").await;
    let kinds: Vec<&str> = kinds["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    for kind in [
        "authenticator_app_added",
        "authenticator_app_removed",
        "recovery_code_used",
        "password_changed",
    ] {
        assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
    }
    // Deleting the account needs nothing more once the app is gone.
    let delete = post(
        &server,
        Some(&token),
        "/api/users/me/delete",
        json!({"password": new, "confirm": "ada"}),
    )
    .await;
    assert_eq!(delete.status(), 200);
});

on_both_databases!(an_administrator_removes_lost_factors, |engine| async move {
    let server = server(engine).await;
    let (token, _, _) = enrolled(&server, "bea").await;
    let args = ["admin", "users", "remove-second-factors", "bea"];
    let refused = crate::admin_cli::keyhold(server.database(), &args, &[]).await;
    assert!(
        !refused.ok && refused.stderr.contains("--yes"),
        "{}",
        refused.stderr
    );
    assert_eq!(
        mfa_token(&server, "bea").await.len(),
        43,
        "still on without --yes"
    );
    let removed =
        crate::admin_cli::keyhold(server.database(), &[&args[..], &["--yes"]].concat(), &[]).await;
    assert!(removed.ok, "{}", removed.stderr);
    assert_eq!(
        login_from(&server, "bea", PASSWORD, HERE).await.status(),
        200
    );
    // Every earlier session ended (a SQLite server learns of it within a second).
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while server.me(&token).await.status() == 200 {
        assert!(
            std::time::Instant::now() < deadline,
            "the old token still works"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
});
