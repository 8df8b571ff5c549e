//! The JWT attack suite over real HTTP on SQLite and PostgreSQL: every forged, altered,
//! expired or misdirected token (`alg: none`, algorithm confusion, another key, another
//! subject, a stale generation...) gets 401 `invalid_token`; an honest re-signing is
//! accepted, so the crafting itself is right. Published keys: `key_confusion.rs`.

use crate::devices::me_status;
use crate::helpers::{Engine, TestServer};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use jsonwebtoken::{Algorithm, EncodingKey};
use keyhold::api::ErrorCode;
use serde_json::{json, Value};
use std::time::{SystemTime, UNIX_EPOCH};

const SECRET: &str = "integration-test-secret-0123456789abcdef-0123456789";

pub(crate) fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap())
}

pub(crate) fn decode_part(token: &str, index: usize) -> Value {
    let part = token.split('.').nth(index).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// `header.claims` signed with `key` under `alg`.
pub(crate) fn signed(header: &Value, claims: &Value, key: &EncodingKey, alg: Algorithm) -> String {
    let message = format!("{}.{}", b64(header), b64(claims));
    let signature = jsonwebtoken::crypto::sign(message.as_bytes(), key, alg).unwrap();
    format!("{message}.{signature}")
}

/// A token with exactly this header and payload, HMAC-signed with `secret` and `alg`.
fn craft(header: &Value, claims: &Value, secret: &str, alg: Algorithm) -> String {
    signed(
        header,
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
        alg,
    )
}

/// Asserts `token` is refused as the bearer token of `GET /api/users/me`: 401
/// `invalid_token`, also in `WWW-Authenticate`.
pub(crate) async fn assert_refused(server: &TestServer, token: &str, what: &str) {
    let answer = server.api().bearer(token).me().await;
    assert_eq!(answer.status(), 401, "{what} must be refused");
    assert_eq!(
        answer.headers()["www-authenticate"],
        r#"Bearer error="invalid_token""#,
        "{what}"
    );
    assert_eq!(answer.error().error, ErrorCode::InvalidToken, "{what}");
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
    assert_eq!(me_status(&server, &honest).await, 200, "control token");

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
    assert_eq!(me_status(&server, &real).await, 200);
});
