//! The attack suite against published keys (EdDSA, ES256): every forgery that RFC 8725
//! and the JWT CVEs describe gets 401 `invalid_token`: HS256 signed with the public key
//! as the secret, `alg: none`, a key named or carried in the header (`jku`, `x5u`,
//! `jwk`), a `kid` outside the set, and a token signed by a key of the attacker's own.

use crate::devices::me_status;
use crate::helpers::Engine;
use crate::jwt_attacks::{assert_refused, b64, decode_part as part, signed};
use crate::published_keys::start;
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use jsonwebtoken::{Algorithm, EncodingKey};
use keyhold::server::building_blocks::token::KeyPair;
use serde_json::{json, Value};

on_both_databases!(
    forged_tokens_against_published_keys_are_refused,
    |engine: Engine| async move {
        for (alg, name) in [(Algorithm::EdDSA, "EdDSA"), (Algorithm::ES256, "ES256")] {
            let server = start(engine, name).await;
            let real = server.signed_up("victim").await;
            let header = part(&real, 0);
            let claims = part(&real, 1);
            let kid = header["kid"].as_str().unwrap().to_owned();
            let jwks: Value = server
                .client
                .get(server.url("/.well-known/jwks.json"))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let published = jwks["keys"][0].clone();
            let header_with = |edit: &dyn Fn(&mut Value)| {
                let mut h = header.clone();
                edit(&mut h);
                h
            };
            let hs256 = header_with(&|h| h["alg"] = json!("HS256"));
            let hmac = |secret: &[u8]| EncodingKey::from_secret(secret);
            // The attacker's own key pair, published on a server of theirs.
            let own = KeyPair::generate(alg).unwrap();
            let own_key = own.encoding_key();
            let own_jwk = serde_json::to_value(&own.jwk).unwrap();
            let (head, payload, _) = {
                let mut parts = real.split('.');
                (
                    parts.next().unwrap().to_owned(),
                    parts.next().unwrap().to_owned(),
                    parts.next().unwrap(),
                )
            };
            let none = b64(&header_with(&|h| h["alg"] = json!("none")));
            let mut attacks: Vec<(String, String)> = vec![
                ("alg none".into(), format!("{none}.{payload}.")),
                ("stripped signature".into(), format!("{head}.{payload}.")),
                (
                    "kid not in the set, signed by the attacker's key".into(),
                    signed(
                        &header_with(&|h| h["kid"] = json!(own.kid)),
                        &claims,
                        &own_key,
                        alg,
                    ),
                ),
                (
                    "our kid, signed by the attacker's key".into(),
                    signed(&header, &claims, &own_key, alg),
                ),
                (
                    "jku pointing at the attacker's key set".into(),
                    signed(
                        &header_with(&|h| {
                            h["jku"] = json!("https://attacker.example/jwks.json");
                            h["kid"] = json!(own.kid);
                        }),
                        &claims,
                        &own_key,
                        alg,
                    ),
                ),
                (
                    "x5u pointing at the attacker's certificate".into(),
                    signed(
                        &header_with(&|h| h["x5u"] = json!("https://attacker.example/c.pem")),
                        &claims,
                        &own_key,
                        alg,
                    ),
                ),
                (
                    "the attacker's key embedded as jwk".into(),
                    signed(
                        &header_with(&|h| {
                            h["jwk"] = own_jwk.clone();
                            h["kid"] = json!(own.kid);
                        }),
                        &claims,
                        &own_key,
                        alg,
                    ),
                ),
                (
                    "our kid with the attacker's key embedded as jwk".into(),
                    signed(
                        &header_with(&|h| h["jwk"] = own_jwk.clone()),
                        &claims,
                        &own_key,
                        alg,
                    ),
                ),
            ];
            // HS256 keyed with every spelling of the public key a library might use.
            let mut spellings = vec![
                ("the JWK JSON", serde_json::to_vec(&published).unwrap()),
                ("the JWK set JSON", serde_json::to_vec(&jwks).unwrap()),
            ];
            for field in ["x", "y"] {
                if let Some(text) = published[field].as_str() {
                    spellings.push(("a coordinate, base64url", text.as_bytes().to_vec()));
                    let raw = URL_SAFE_NO_PAD.decode(text).unwrap();
                    spellings.push(("a coordinate, raw", raw));
                }
            }
            for (spelling, secret) in spellings {
                attacks.push((
                    format!("HS256 keyed with {spelling}"),
                    signed(&hs256, &claims, &hmac(&secret), Algorithm::HS256),
                ));
            }
            attacks.push((
                "HS256 with no kid".into(),
                signed(
                    &header_with(&|h| {
                        h["alg"] = json!("HS256");
                        h.as_object_mut().unwrap().remove("kid");
                    }),
                    &claims,
                    &hmac(kid.as_bytes()),
                    Algorithm::HS256,
                ),
            ));
            for (what, token) in attacks {
                assert_refused(&server, &token, &format!("{name}: {what}")).await;
            }
            assert_eq!(me_status(&server, &real).await, 200, "{name}: the real one");
        }
    }
);
