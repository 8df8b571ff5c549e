//! Security over real HTTP: the JWT attack suite, revocation (password change, log out
//! everywhere), login throttling and security headers. Timing tests are in `load.rs`.

use crate::helpers::{form, json, text_field, Engine, TestServer, PASSWORD};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{json, Value};
use std::time::{SystemTime, UNIX_EPOCH};

const SECRET: &str = "integration-test-secret-0123456789abcdef-0123456789";

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap())
}

fn decode_part(token: &str, index: usize) -> Value {
    let part = token.split('.').nth(index).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A token with exactly this header and payload, HMAC-signed with `secret` and `alg`.
fn craft(header: &Value, claims: &Value, secret: &str, alg: Algorithm) -> String {
    let message = format!("{}.{}", b64(header), b64(claims));
    let signature = jsonwebtoken::crypto::sign(
        message.as_bytes(),
        &EncodingKey::from_secret(secret.as_bytes()),
        alg,
    )
    .unwrap();
    format!("{message}.{signature}")
}

async fn assert_refused(server: &TestServer, token: &str, what: &str) {
    let response = server.me(token).await;
    assert_eq!(response.status(), 401, "{what} must be refused");
    assert_eq!(
        response.headers()["www-authenticate"],
        r#"Bearer error="invalid_token""#,
        "{what}"
    );
    assert_eq!(json(response).await["error"], "invalid_token", "{what}");
}

on_both_databases!(jwt_attacks_are_refused, |engine: Engine| async move {
    let server = TestServer::start(engine).await;
    let real = server.signed_up("victim").await;
    server.signed_up("attacker").await;
    let header = decode_part(&real, 0);
    let claims = decode_part(&real, 1);
    assert_eq!(header["alg"], "HS256");
    assert_eq!(header["typ"], "JWT");
    assert!(header["kid"].is_string());
    for claim in ["sub", "iat", "nbf", "exp", "iss", "aud", "jti"] {
        assert!(!claims[claim].is_null(), "claim {claim} present");
    }
    let with = |edit: &dyn Fn(&mut Value)| {
        let mut c = claims.clone();
        edit(&mut c);
        c
    };
    let header_with = |edit: &dyn Fn(&mut Value)| {
        let mut h = header.clone();
        edit(&mut h);
        h
    };

    // The crafting itself is right: an honest re-signing is accepted.
    let honest = craft(&header, &claims, SECRET, Algorithm::HS256);
    assert_eq!(server.me(&honest).await.status(), 200, "control token");

    let (head, payload, _) = {
        let mut parts = real.split('.');
        (
            parts.next().unwrap(),
            parts.next().unwrap(),
            parts.next().unwrap(),
        )
    };
    let none_header = b64(&header_with(&|h| h["alg"] = json!("none")));
    let attacks: Vec<(&str, String)> = vec![
        (
            "alg none, empty signature",
            format!("{none_header}.{payload}."),
        ),
        (
            "alg none, no signature part",
            format!("{none_header}.{payload}"),
        ),
        (
            "alg None spelled oddly",
            format!(
                "{}.{payload}.",
                b64(&header_with(&|h| h["alg"] = json!("None")))
            ),
        ),
        ("stripped signature", format!("{head}.{payload}.")),
        ("no signature part", format!("{head}.{payload}")),
        (
            "alg confusion: RS256 header, HMAC signature",
            craft(
                &header_with(&|h| h["alg"] = json!("RS256")),
                &claims,
                SECRET,
                Algorithm::HS256,
            ),
        ),
        (
            "HS512 with the right secret",
            craft(
                &header_with(&|h| h["alg"] = json!("HS512")),
                &claims,
                SECRET,
                Algorithm::HS512,
            ),
        ),
        (
            "tampered payload (other user), original signature",
            format!(
                "{head}.{}.{}",
                b64(&with(&|c| c["sub"] = json!("2"))),
                real.rsplit('.').next().unwrap()
            ),
        ),
        (
            "wrong key",
            craft(
                &header,
                &claims,
                "another-secret-of-sufficient-length-0123456789",
                Algorithm::HS256,
            ),
        ),
        (
            "expired",
            craft(
                &header,
                &with(&|c| {
                    c["exp"] = json!(now() - 120);
                    c["iat"] = json!(now() - 3600);
                    c["nbf"] = json!(now() - 3600)
                }),
                SECRET,
                Algorithm::HS256,
            ),
        ),
        (
            "not yet valid",
            craft(
                &header,
                &with(&|c| c["nbf"] = json!(now() + 300)),
                SECRET,
                Algorithm::HS256,
            ),
        ),
        (
            "wrong issuer",
            craft(
                &header,
                &with(&|c| c["iss"] = json!("evil")),
                SECRET,
                Algorithm::HS256,
            ),
        ),
        (
            "wrong audience",
            craft(
                &header,
                &with(&|c| c["aud"] = json!("other-api")),
                SECRET,
                Algorithm::HS256,
            ),
        ),
        (
            "no expiry",
            craft(
                &header,
                &with(&|c| {
                    c.as_object_mut().unwrap().remove("exp");
                }),
                SECRET,
                Algorithm::HS256,
            ),
        ),
        (
            "unknown kid",
            craft(
                &header_with(&|h| h["kid"] = json!("unknown-key")),
                &claims,
                SECRET,
                Algorithm::HS256,
            ),
        ),
        (
            "no kid",
            craft(
                &header_with(&|h| {
                    h.as_object_mut().unwrap().remove("kid");
                }),
                &claims,
                SECRET,
                Algorithm::HS256,
            ),
        ),
        (
            "user that does not exist",
            craft(
                &header,
                &with(&|c| c["sub"] = json!("987654")),
                SECRET,
                Algorithm::HS256,
            ),
        ),
        (
            "non-numeric subject",
            craft(
                &header,
                &with(&|c| c["sub"] = json!("victim")),
                SECRET,
                Algorithm::HS256,
            ),
        ),
        (
            "stale token generation",
            craft(
                &header,
                &with(&|c| c["gen"] = json!(-1)),
                SECRET,
                Algorithm::HS256,
            ),
        ),
        ("garbage", "not-a-token".into()),
        ("empty parts", "..".into()),
    ];
    for (what, token) in attacks {
        assert_refused(&server, &token, what).await;
    }
    // After all that, the real token still works.
    assert_eq!(server.me(&real).await.status(), 200);
});

on_both_databases!(
    password_change_revokes_earlier_tokens,
    |engine: Engine| async move {
        let server = TestServer::start(engine).await;
        let old = server.signed_up("mallory").await;
        let other_device =
            text_field(server.login("mallory", PASSWORD).await, "access_token").await;
        let change = |token: &str, current: &str, new: &str| {
            server
                .client
                .post(server.url("/api/users/me/password"))
                .bearer_auth(token)
                .json(&json!({"current_password": current, "new_password": new}))
                .send()
        };

        let response = change(
            &old,
            "not the current password!",
            "a brand new passphrase here",
        )
        .await
        .unwrap();
        assert_eq!(response.status(), 403);
        assert_eq!(json(response).await["field"], "current_password");

        let response = change(&old, PASSWORD, "short").await.unwrap();
        assert_eq!(response.status(), 422);
        assert_eq!(json(response).await["field"], "new_password");

        let response = change(&old, PASSWORD, "mallory-has-a-new-password")
            .await
            .unwrap();
        assert_eq!(response.status(), 422, "containing the username");

        let new_password = "a brand new passphrase here";
        let response = change(&old, PASSWORD, new_password).await.unwrap();
        assert_eq!(response.status(), 200);
        let fresh = text_field(response, "access_token").await;

        assert_refused(&server, &old, "token from before the password change").await;
        assert_refused(&server, &other_device, "other device's token").await;
        assert_eq!(server.me(&fresh).await.status(), 200);
        assert_eq!(server.login("mallory", PASSWORD).await.status(), 401);
        assert_eq!(server.login("mallory", new_password).await.status(), 200);

        // Without a token there is nothing to change.
        let response = server
            .client
            .post(server.url("/api/users/me/password"))
            .json(&json!({"current_password": new_password, "new_password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401);
    }
);

on_both_databases!(
    log_out_everywhere_revokes_every_token,
    |engine: Engine| async move {
        let server = TestServer::start(engine).await;
        let first = server.signed_up("nina").await;
        let second = text_field(server.login("nina", PASSWORD).await, "access_token").await;
        let bystander = server.signed_up("oscar").await;
        let response = server
            .client
            .post(server.url("/api/users/me/logout-all"))
            .bearer_auth(&second)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{:?}", response.text().await);
        assert_refused(&server, &first, "first token after log out everywhere").await;
        assert_refused(
            &server,
            &second,
            "the caller's token after log out everywhere",
        )
        .await;
        assert_eq!(
            server.me(&bystander).await.status(),
            200,
            "other users keep theirs"
        );
        // Logging in again works and gives a valid token.
        let again = text_field(server.login("nina", PASSWORD).await, "access_token").await;
        assert_eq!(server.me(&again).await.status(), 200);
    }
);

on_both_databases!(failed_logins_are_throttled, |engine: Engine| async move {
    let server = TestServer::start(engine).await;
    server.signed_up("pat").await;
    server.signed_up("quinn").await;
    for attempt in 0..5 {
        let response = server.login("pat", "wrong password number one").await;
        assert_eq!(response.status(), 401, "attempt {attempt}");
    }
    // The sixth attempt is refused before any hashing, even with the right password.
    for password in ["wrong password number one", PASSWORD] {
        let response = server.login("PAT", password).await;
        assert_eq!(response.status(), 429);
        let retry: u64 = response.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=12).contains(&retry), "Retry-After {retry}");
        let body = json(response).await;
        assert_eq!(body["error"], "too_many_requests");
        assert!(body["message"]
            .as_str()
            .unwrap()
            .contains("Too many attempts"));
    }
    // Other accounts are not slowed down.
    assert_eq!(server.login("quinn", PASSWORD).await.status(), 200);
    // An unknown account is throttled the same way (no enumeration through 429s).
    for _ in 0..5 {
        assert_eq!(
            server
                .login("nobody-here", "whatever password")
                .await
                .status(),
            401
        );
    }
    assert_eq!(
        server
            .login("nobody-here", "whatever password")
            .await
            .status(),
        429
    );
});

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

on_both_databases!(
    a_spoofed_forwarded_for_neither_dodges_throttling_nor_names_the_session,
    |engine: Engine| async move {
        let server = TestServer::start_with(engine, |s| {
            s.insert("KEYHOLD_CLIENT_IP_HEADER", "x-forwarded-for".into());
        })
        .await;
        server.signed_up("pat").await;
        // The attacker writes a new address on the left of each request; the proxy
        // appends the one it really saw.
        let login = |spoofed: String, password: &'static str| {
            server
                .client
                .post(server.url("/api/login"))
                .header("content-type", "application/x-www-form-urlencoded")
                .header("x-forwarded-for", format!("{spoofed}, 198.51.100.7"))
                .body(form(&[("username", "pat"), ("password", password)]))
                .send()
        };
        for attempt in 0..5 {
            let response = login(format!("203.0.113.{attempt}"), "wrong password number one")
                .await
                .unwrap();
            assert_eq!(response.status(), 401, "attempt {attempt}");
        }
        let sixth = login("203.0.113.99".into(), "wrong password number one")
            .await
            .unwrap();
        assert_eq!(sixth.status(), 429, "the budget is the real address's");

        // Another real address signs in; its session shows that address, not the spoof.
        let signed_in = server
            .client
            .post(server.url("/api/login"))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("x-forwarded-for", "203.0.113.66, 192.0.2.44")
            .body(form(&[("username", "pat"), ("password", PASSWORD)]))
            .send()
            .await
            .unwrap();
        assert_eq!(signed_in.status(), 200);
        let token = text_field(signed_in, "access_token").await;
        let sessions = server
            .client
            .get(server.url("/api/sessions"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        let sessions = json(sessions).await;
        let current = sessions
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["current"] == true)
            .unwrap();
        assert_eq!(current["address"], "192.0.2.44", "{sessions}");
    }
);

/// Another user of the machine cannot read the accounts: the SQLite database and its
/// journal are 0600 (PostgreSQL keeps no files of ours).
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_sqlite_database_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let _machine = crate::helpers::shared().await;
    let server = TestServer::start(Engine::Sqlite).await;
    server.signed_up("private").await;
    for file in ["keyhold.db", "keyhold.db-wal"] {
        let path = server.data_dir().join(file);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", path.display());
    }
}
