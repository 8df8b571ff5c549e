//! Tokens other services verify on their own: each algorithm (HS256, EdDSA, ES256) on
//! both databases, the JWKS and discovery documents, and rotation with `keyhold keys`
//! (a token signed before rotation verifies until it expires; two instances on one
//! PostgreSQL agree on the keys).

use crate::admin_cli::keyhold;
use crate::client::{requests::registration, Client};
use crate::devices::me_status;
use crate::helpers::{Engine, TestDatabase, TestServer, PASSWORD};
use crate::instance::Instance;
use jsonwebtoken::{decode, decode_header, jwk::JwkSet, DecodingKey, Validation};
use keyhold::server::building_blocks::token::KeyPair;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// The key-encryption key of these tests (PostgreSQL needs one from the environment).
pub const KEK: &str = "test-key-encryption-key-0123456789abcdef-XYZ";

/// Settings for a server signing with `alg`, reloading its keys every second.
pub fn settings_for(alg: &str) -> Vec<(&'static str, String)> {
    vec![
        ("KEYHOLD_JWT_ALG", alg.into()),
        ("KEYHOLD_KEY_ENCRYPTION_KEY", KEK.into()),
        ("KEYHOLD_JWT_KEYS_RELOAD", "1s".into()),
        // The rotation tests log in again and again while older tokens must stay live.
        ("KEYHOLD_SESSIONS_PER_USER", "1000".into()),
    ]
}

pub async fn start(engine: Engine, alg: &str) -> TestServer {
    TestServer::start_with(engine, |settings| settings.extend(settings_for(alg))).await
}

async fn get(client: &reqwest::Client, url: &str) -> reqwest::Response {
    let response = client.get(url).send().await.unwrap();
    assert_eq!(response.status(), 200, "{url}");
    response
}

/// The kids of the key set at `url`.
async fn kids(client: &reqwest::Client, url: &str) -> Vec<String> {
    let set: JwkSet = get(client, url).await.json().await.unwrap();
    set.keys
        .iter()
        .map(|key| key.common.key_id.clone().unwrap())
        .collect()
}

fn kid_of(token: &str) -> String {
    decode_header(token).unwrap().kid.unwrap()
}

on_both_databases!(
    each_algorithm_signs_tokens_the_jwks_verifies,
    |engine: Engine| async move {
        for alg in ["EdDSA", "ES256"] {
            let server = start(engine, alg).await;
            // The FastAPI-style flow is unchanged: JSON sign-up, form log-in, Bearer.
            let token = server.signed_up("ada").await;
            assert_eq!(me_status(&server, &token).await, 200, "{alg}");
            let header = decode_header(&token).unwrap();
            assert_eq!(format!("{:?}", header.alg), alg);
            assert_eq!(header.typ.as_deref(), Some("JWT"));

            let response = get(&server.client, &server.url("/.well-known/jwks.json")).await;
            assert_eq!(
                response.headers()["cache-control"],
                "public, max-age=600",
                "{alg}"
            );
            assert!(response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/json"));
            let body: Value = response.json().await.unwrap();
            let keys = body["keys"].as_array().unwrap();
            assert_eq!(keys.len(), 1, "{body}");
            let key = &keys[0];
            assert_eq!(key["kid"], header.kid.clone().unwrap().as_str());
            assert_eq!(key["alg"], alg);
            assert_eq!(key["use"], "sig");
            for private in ["d", "k", "p", "q"] {
                assert!(key.get(private).is_none(), "{private} published: {key}");
            }

            // What a resource server does: verify with the published key alone.
            let set: JwkSet = serde_json::from_value(body.clone()).unwrap();
            let jwk = set.find(&header.kid.unwrap()).unwrap();
            let mut validation = Validation::new(header.alg);
            validation.set_issuer(&["keyhold"]);
            validation.set_audience(&["keyhold-api"]);
            let claims = decode::<Value>(&token, &DecodingKey::from_jwk(jwk).unwrap(), &validation)
                .unwrap()
                .claims;
            assert!(
                claims["sid"].is_string() && claims["gen"].is_i64(),
                "{claims}"
            );

            let discovery: Value = get(
                &server.client,
                &server.url("/.well-known/openid-configuration"),
            )
            .await
            .json()
            .await
            .unwrap();
            assert_eq!(discovery["issuer"], claims["iss"]);
            // Absolute, from KEYHOLD_PUBLIC_URL (here its default, LEPTOS_SITE_ADDR's).
            let jwks_uri = discovery["jwks_uri"].as_str().unwrap();
            assert!(jwks_uri.starts_with("http://127.0.0.1:"), "{jwks_uri}");
            assert!(jwks_uri.ends_with("/.well-known/jwks.json"), "{jwks_uri}");
            let token_endpoint = discovery["token_endpoint"].as_str().unwrap();
            assert!(token_endpoint.ends_with("/api/login"), "{token_endpoint}");
            assert_eq!(
                discovery["grant_types_supported"],
                json!(["password", "refresh_token"])
            );
            assert_eq!(
                discovery["id_token_signing_alg_values_supported"],
                json!([alg])
            );
            assert!(discovery["response_types_supported"].is_array());
            assert!(discovery["subject_types_supported"].is_array());
            let refused = server
                .client
                .post(server.url("/.well-known/jwks.json"))
                .send()
                .await
                .unwrap();
            assert_eq!(refused.status(), 405, "{alg}: no other method");

            // Revocation stays instant for Keyhold's own API: the session check holds.
            let answer = server.api().bearer(&token).log_out_everywhere().await;
            let status = answer.status();
            assert!((200..300).contains(&status), "{status}");
            assert_eq!(me_status(&server, &token).await, 401, "{alg}");
        }
    }
);

on_both_databases!(hs256_publishes_no_key, |engine: Engine| async move {
    let server = TestServer::start(engine).await;
    let token = server.signed_up("ada").await;
    assert_eq!(format!("{:?}", decode_header(&token).unwrap().alg), "HS256");
    let body: Value = get(&server.client, &server.url("/.well-known/jwks.json"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        body,
        json!({"keys": []}),
        "an HMAC secret is never published"
    );
});

/// `keyhold keys ...` on `db` (EdDSA, the tests' key-encryption key); its output.
async fn keys(db: &TestDatabase, args: &[&str]) -> String {
    let mut all = vec!["keys"];
    all.extend_from_slice(args);
    let env = [
        ("KEYHOLD_JWT_ALG", "EdDSA"),
        ("KEYHOLD_KEY_ENCRYPTION_KEY", KEK),
    ];
    let run = keyhold(db, &all, &env).await;
    assert!(run.ok, "keys {args:?}: {}", run.stderr);
    run.stdout
}

/// The states `keyhold keys list --json` reports, in activation order.
async fn states(db: &TestDatabase) -> Vec<(String, String)> {
    let list: Value = serde_json::from_str(&keys(db, &["list", "--json"]).await).unwrap();
    list.as_array()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["kid"].as_str().unwrap().to_owned(),
                k["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Polls `check` every 100 ms for up to `within`.
async fn eventually<F: std::future::Future<Output = bool>>(
    within: Duration,
    what: &str,
    mut check: impl FnMut() -> F,
) {
    let deadline = Instant::now() + within;
    while !check().await {
        assert!(Instant::now() < deadline, "never happened: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Logs `ada` in through `api` (which must answer 200): the access token.
async fn log_in(api: &Client) -> String {
    let answer = api.login("ada", PASSWORD).await;
    assert_eq!(answer.status(), 200);
    answer.value().access_token
}

/// The status of `GET /api/users/me` through `api` with `token`.
async fn me(api: &Client, token: &str) -> u16 {
    api.bearer(token).me().await.status()
}

on_both_databases!(
    a_token_signed_before_rotation_verifies_until_it_expires,
    |engine: Engine| async move {
        let server = start(engine, "EdDSA").await;
        let jwks = server.url("/.well-known/jwks.json");
        let old = server.signed_up("ada").await;
        let first = kid_of(&old);
        keys(server.database(), &["rotate", "--promote-after", "0"]).await;
        let client = server.client.clone();
        let api = server.api();

        eventually(Duration::from_secs(10), "the new key signs", || async {
            kid_of(&log_in(&api).await) != first
        })
        .await;
        let new = log_in(&api).await;
        let second = kid_of(&new);
        assert_eq!(kids(&client, &jwks).await, [second.clone(), first.clone()]);
        assert_eq!(me(&api, &old).await, 200, "previous key");
        assert_eq!(me(&api, &new).await, 200);
        assert_eq!(
            states(server.database()).await,
            [
                (first.clone(), "previous".into()),
                (second.clone(), "current".into())
            ]
        );

        // Past the old key's last token (15 min, 30 s leeway, 1 s reload): unpublished.
        server.clock.advance(Duration::from_secs(900 + 30 + 1 + 1));
        assert_eq!(kids(&client, &jwks).await, std::slice::from_ref(&second));
        assert_eq!(me(&api, &old).await, 401);
        let fresh = log_in(&api).await;
        assert_eq!(kid_of(&fresh), second);
        assert_eq!(me(&api, &fresh).await, 200);
    }
);

/// Two instances on one PostgreSQL: the standby key is published by both before either
/// signs with it, and each verifies the other's tokens throughout.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_rotate_without_downtime() {
    let _machine = crate::helpers::shared().await;
    let db = TestDatabase::create(Engine::Postgres).await;
    let client = reqwest::Client::new();
    let env = [
        ("KEYHOLD_JWT_ALG", "EdDSA"),
        ("KEYHOLD_KEY_ENCRYPTION_KEY", KEK),
        ("KEYHOLD_JWT_KEYS_RELOAD", "1s"),
        ("KEYHOLD_SESSIONS_PER_USER", "1000"),
    ];
    let a = Instance::spawn_with(&db.url, &db.data_dir.join("a"), &env)
        .ready(&client)
        .await;
    let b = Instance::spawn_with(&db.url, &db.data_dir.join("b"), &env)
        .ready(&client)
        .await;
    let (on_a, on_b) = (a.api(), b.api());
    let request = registration("ada", "ada@example.com", PASSWORD);
    assert_eq!(on_a.register(&request).await.status(), 201);
    let before = log_in(&on_a).await;
    let first = kid_of(&before);
    assert_eq!(me(&on_b, &before).await, 200, "one key set");
    assert_eq!(
        kids(&client, &a.url("/.well-known/jwks.json")).await,
        std::slice::from_ref(&first)
    );

    keys(&db, &["rotate", "--promote-after", "8s"]).await;
    for instance in [&a, &b] {
        let url = instance.url("/.well-known/jwks.json");
        let client = &client;
        eventually(
            Duration::from_secs(5),
            "the standby key is published",
            || {
                let url = url.clone();
                async move { kids(client, &url).await.len() == 2 }
            },
        )
        .await;
    }
    assert_eq!(kid_of(&log_in(&on_b).await), first, "standby does not sign");
    let second = kids(&client, &b.url("/.well-known/jwks.json")).await[1].clone();
    let (on_b_ref, first_ref) = (&on_b, &first);
    eventually(
        Duration::from_secs(20),
        "the standby key is promoted",
        || async move { kid_of(&log_in(on_b_ref).await) != *first_ref },
    )
    .await;
    let after = log_in(&on_b).await;
    assert_eq!(kid_of(&after), second);
    for instance in [&a, &b] {
        let api = instance.api();
        assert_eq!(me(&api, &before).await, 200, "signed before");
        assert_eq!(me(&api, &after).await, 200, "signed after");
        assert_eq!(
            kids(&client, &instance.url("/.well-known/jwks.json")).await,
            [second.clone(), first.clone()]
        );
    }
}

/// The private keys in the database are sealed: a dump holds no usable key, and an
/// instance given another key-encryption key refuses to start, naming the variable.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stored_private_keys_are_sealed_and_need_their_key() {
    use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
    use sqlx::Connection;
    let _machine = crate::helpers::shared().await;
    let db = TestDatabase::create(Engine::Postgres).await;
    let client = reqwest::Client::new();
    let env = [
        ("KEYHOLD_JWT_ALG", "ES256"),
        ("KEYHOLD_KEY_ENCRYPTION_KEY", KEK),
    ];
    let first = Instance::spawn_with(&db.url, &db.data_dir.join("a"), &env)
        .ready(&client)
        .await;
    drop(first);
    let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
    let (public, sealed): (String, String) =
        sqlx::query_as("SELECT public_jwk, sealed_private_key FROM signing_keys")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert!(!public.contains("\"d\""), "{public}");
    let sealed = URL_SAFE_NO_PAD.decode(sealed).unwrap();
    for start in [0, 12] {
        let der = &sealed[start..];
        assert!(KeyPair::from_pkcs8_der(jsonwebtoken::Algorithm::ES256, der).is_err());
    }

    let other = [
        ("KEYHOLD_JWT_ALG", "ES256"),
        (
            "KEYHOLD_KEY_ENCRYPTION_KEY",
            "another-key-encryption-key-0123456789abcdef",
        ),
    ];
    let instance = Instance::spawn_with(&db.url, &db.data_dir.join("b"), &other);
    let (code, stderr) = tokio::task::spawn_blocking(move || {
        use std::io::Read;
        let mut instance = instance;
        let deadline = Instant::now() + Duration::from_secs(30);
        let status = loop {
            if let Some(status) = instance.child.try_wait().unwrap() {
                break status;
            }
            assert!(Instant::now() < deadline, "started with the wrong key");
            std::thread::sleep(Duration::from_millis(100));
        };
        let mut stderr = String::new();
        let mut pipe = instance.child.stderr.take().unwrap();
        pipe.read_to_string(&mut stderr).unwrap();
        (status.code(), stderr)
    })
    .await
    .unwrap();
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("KEYHOLD_KEY_ENCRYPTION_KEY"), "{stderr}");
    assert!(!stderr.contains(KEK) && !stderr.contains("another-key-encryption"));
}
