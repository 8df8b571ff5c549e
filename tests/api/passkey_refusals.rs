//! Passkeys refuse hostile input with a 4xx, never a 5xx, on SQLite and PostgreSQL:
//! garbage bodies and credentials, ceremonies replayed, expired, mistyped or of another
//! purpose or account, another origin, no user verification, a signature by another key,
//! someone else's passkey, a cloned passkey (its counter going back), the limit of
//! passkeys per account, throttling, a deleted account, and no bearer token.

use crate::authenticator::{encode, Authenticator};
use crate::helpers::{json, Engine, TestServer, PASSWORD};
use crate::passkeys::{
    activity, confirmed, log_in, passkeys, post, register, start, start_registration,
    REGISTER_START, SITE,
};
use serde_json::{json, Value};
use std::time::Duration;

const REGISTER_FINISH: &str = "/api/users/me/passkeys/register/finish";
const LOG_IN_START: &str = "/api/login/passkey/start";
const LOG_IN_FINISH: &str = "/api/login/passkey/finish";

/// A server whose passkey log-in budget tests do not exhaust (one test checks it).
async fn server(engine: Engine) -> TestServer {
    TestServer::start_with(engine, |settings| {
        settings.insert("KEYHOLD_PUBLIC_URL", SITE.into());
        settings.insert("KEYHOLD_RATE_PASSKEY", "100000/1s".into());
    })
    .await
}

/// Asserts `response` is `status` with error code `error` (and `field`, if given).
async fn refused(response: reqwest::Response, status: u16, error: &str, field: Option<&str>) {
    assert_eq!(response.status(), status);
    let body = json(response).await;
    assert_eq!(body["error"], error, "{body}");
    if let Some(field) = field {
        assert_eq!(body["field"], field, "{body}");
    }
}

on_both_databases!(
    ceremonies_are_single_use_timed_and_bound,
    |engine: Engine| async move {
        let server = server(engine).await;
        let base = &server.base;
        let ada = server.signed_up("ada").await;
        let bob = server.signed_up("bob").await;
        let device = Authenticator::new(SITE);

        let (ceremony, options) = start(base, Some(&ada), REGISTER_START).await;
        let (credential, answer) = device.create(&options);
        let finish = json!({"ceremony": ceremony, "name": "Key", "credential": answer});
        // Another account cannot finish it (and that spends it).
        let stolen = post(base, Some(&bob), REGISTER_FINISH, finish.clone()).await;
        refused(stolen, 400, "invalid_ceremony", Some("ceremony")).await;
        let spent = post(base, Some(&ada), REGISTER_FINISH, finish).await;
        refused(spent, 400, "invalid_ceremony", Some("ceremony")).await;

        let (ceremony, options) = start(base, Some(&ada), REGISTER_START).await;
        let finish = json!({"ceremony": ceremony, "name": "Key", "credential": device.attest(&credential, &options)});
        assert_eq!(
            post(base, Some(&ada), REGISTER_FINISH, finish.clone())
                .await
                .status(),
            201
        );
        // Replayed: the ceremony is gone.
        let replayed = post(base, Some(&ada), REGISTER_FINISH, finish).await;
        refused(replayed, 400, "invalid_ceremony", Some("ceremony")).await;

        // A registration ceremony does not finish a log-in, and the reverse.
        let mut credential = credential;
        let (register_ceremony, register_options) =
            start_registration(base, &ada, &device, Some(&mut credential)).await;
        let (log_in_ceremony, log_in_options) = start(base, None, LOG_IN_START).await;
        let wrong = json!({"ceremony": register_ceremony, "credential": device.get(&mut credential, &log_in_options)});
        refused(
            post(base, None, LOG_IN_FINISH, wrong).await,
            400,
            "invalid_ceremony",
            None,
        )
        .await;
        let wrong = json!({"ceremony": log_in_ceremony, "name": "Key", "credential": device.create(&register_options).1});
        refused(
            post(base, Some(&ada), REGISTER_FINISH, wrong).await,
            400,
            "invalid_ceremony",
            None,
        )
        .await;

        // Expired after five minutes.
        let (ceremony, options) = start(base, None, LOG_IN_START).await;
        let late =
            json!({"ceremony": ceremony, "credential": device.get(&mut credential, &options)});
        server.clock.advance(Duration::from_secs(301));
        let response = post(base, None, LOG_IN_FINISH, late).await;
        assert_eq!(response.status(), 400);
        assert!(json(response).await["message"]
            .as_str()
            .unwrap()
            .contains("expired"));

        // Ids that were never handed out.
        for ceremony in ["", "x", &"A".repeat(43), &"é".repeat(43), &"A".repeat(5000)] {
            let (_, options) = start(base, None, LOG_IN_START).await;
            let body =
                json!({"ceremony": ceremony, "credential": device.get(&mut credential, &options)});
            let response = post(base, None, LOG_IN_FINISH, body).await;
            assert!(
                [400, 413].contains(&response.status().as_u16()),
                "{ceremony}"
            );
        }
    }
);

on_both_databases!(garbage_is_a_client_error, |engine: Engine| async move {
    let server = server(engine).await;
    let base = &server.base;
    let ada = server.signed_up("ada").await;
    for credential in [
        json!("text"),
        json!(null),
        json!({}),
        json!({"id": "x", "rawId": "!!", "type": "public-key", "response": {}}),
        json!({"id": "x", "rawId": "AAAA", "type": "public-key",
               "response": {"clientDataJSON": "AAAA", "attestationObject": "AAAA"}}),
    ] {
        let (ceremony, _) = start(base, Some(&ada), REGISTER_START).await;
        let body = json!({"ceremony": ceremony, "name": "Key", "credential": credential});
        let response = post(base, Some(&ada), REGISTER_FINISH, body).await;
        refused(response, 422, "validation_failed", Some("credential")).await;
    }
    for credential in [json!([1, 2]), json!({"id": 1})] {
        let (ceremony, _) = start(base, None, LOG_IN_START).await;
        let body = json!({"ceremony": ceremony, "credential": credential});
        let response = post(base, None, LOG_IN_FINISH, body).await;
        refused(response, 422, "validation_failed", Some("credential")).await;
    }
    let (ceremony, _) = start(base, None, LOG_IN_START).await;
    let body = json!({"ceremony": ceremony, "credential": {
        "id": "x", "rawId": "AAAA", "type": "public-key",
        "response": {"clientDataJSON": "AAAA", "authenticatorData": "AAAA",
                     "signature": "AAAA", "userHandle": "AAAA"}}});
    refused(
        post(base, None, LOG_IN_FINISH, body).await,
        401,
        "invalid_credentials",
        None,
    )
    .await;

    let missing = post(base, Some(&ada), REGISTER_FINISH, json!({"ceremony": "x"})).await;
    assert_eq!(missing.status(), 422);
    let not_json = server
        .client
        .post(server.url(LOG_IN_FINISH))
        .header("content-type", "application/json")
        .body("{\"ceremony\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), 400);
    let names = ["", "   ", &"n".repeat(65), "bad\u{0}name"];
    for name in names {
        let (ceremony, _) = start(base, Some(&ada), REGISTER_START).await;
        let body = json!({"ceremony": ceremony, "name": name, "credential": {}});
        let response = post(base, Some(&ada), REGISTER_FINISH, body).await;
        refused(response, 422, "validation_failed", Some("name")).await;
    }
    // No bearer token, no passkeys.
    let body = json!({"id": 1, "current_password": PASSWORD});
    for path in [REGISTER_START, "/api/users/me/passkeys/remove"] {
        assert_eq!(post(base, None, path, body.clone()).await.status(), 401);
    }
    let listed = server
        .client
        .get(server.url("/api/users/me/passkeys"))
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), 401);
});

on_both_databases!(
    the_authenticator_must_verify_the_person_at_this_origin,
    |engine: Engine| async move {
        let server = server(engine).await;
        let base = &server.base;
        let ada = server.signed_up("ada").await;
        let mut elsewhere = Authenticator::new("https://evil.test");
        let mut unverified = Authenticator::new(SITE);
        unverified.verifies_user = false;
        for authenticator in [&elsewhere, &unverified] {
            let (ceremony, options) = start(base, Some(&ada), REGISTER_START).await;
            let answer = authenticator.create(&options).1;
            let body = json!({"ceremony": ceremony, "name": "Key", "credential": answer});
            let response = post(base, Some(&ada), REGISTER_FINISH, body).await;
            refused(response, 422, "validation_failed", Some("credential")).await;
        }

        let device = Authenticator::new(SITE);
        let (mut credential, _) = register(&server, &ada, &device, "Key", None).await;
        elsewhere.origin = "https://keyhold.test.evil.test".into();
        for (authenticator, why) in [
            (&elsewhere, "origin"),
            (&unverified, "no user verification"),
        ] {
            let response = log_in(base, authenticator, &mut credential).await;
            assert_eq!(response.status(), 401, "{why}");
        }
        // Signed by another key under the passkey's id.
        let mut forged = credential.clone();
        forged.key = p256::ecdsa::SigningKey::random(&mut rand::rngs::OsRng);
        assert_eq!(log_in(base, &device, &mut forged).await.status(), 401);
        assert!(activity(&server, &ada)
            .await
            .contains(&"passkey_login_failed".to_owned()));
        assert_eq!(log_in(base, &device, &mut credential).await.status(), 200);
    }
);

on_both_databases!(
    someone_elses_passkey_is_not_yours,
    |engine: Engine| async move {
        let server = server(engine).await;
        let base = &server.base;
        let ada = server.signed_up("ada").await;
        let bob = server.signed_up("bob").await;
        let device = Authenticator::new(SITE);
        let (mut ada_key, added) = register(&server, &ada, &device, "Ada's key", None).await;
        let (mut bob_key, _) = register(&server, &bob, &device, "Bob's key", None).await;

        // Bob cannot register, rename or remove Ada's passkey.
        let (ceremony, options) = start_registration(base, &bob, &device, Some(&mut bob_key)).await;
        let body = json!({"ceremony": ceremony, "name": "Mine", "credential": device.attest(&ada_key, &options)});
        refused(
            post(base, Some(&bob), REGISTER_FINISH, body).await,
            409,
            "conflict",
            Some("credential"),
        )
        .await;
        for (path, body) in [
            (
                "/api/users/me/passkeys/rename",
                json!({"id": added["id"], "name": "Mine"}),
            ),
            (
                "/api/users/me/passkeys/remove",
                json!({"id": added["id"], "current_password": PASSWORD}),
            ),
        ] {
            refused(
                post(base, Some(&bob), path, body).await,
                404,
                "not_found",
                Some("id"),
            )
            .await;
        }
        assert_eq!(passkeys(&server, &ada).await[0]["name"], "Ada's key");

        // Ada's passkey presented as Bob's account (his handle) signs nobody in.
        let mut posing = ada_key.clone();
        posing.user_handle = bob_key.user_handle.clone();
        assert_eq!(log_in(base, &device, &mut posing).await.status(), 401);
        let (ceremony, options) = start(base, None, LOG_IN_START).await;
        let mut answer = device.get(&mut ada_key, &options);
        answer["response"]["userHandle"] = Value::String(encode(b"not a handle"));
        let body = json!({"ceremony": ceremony, "credential": answer});
        assert_eq!(post(base, None, LOG_IN_FINISH, body).await.status(), 401);
    }
);

on_both_databases!(a_cloned_passkey_is_refused, |engine: Engine| async move {
    let server = server(engine).await;
    let base = &server.base;
    let ada = server.signed_up("ada").await;
    let device = Authenticator::new(SITE);
    let (mut credential, _) = register(&server, &ada, &device, "Key", None).await;
    let clone = credential.clone();
    assert_eq!(log_in(base, &device, &mut credential).await.status(), 200);
    assert_eq!(log_in(base, &device, &mut credential).await.status(), 200);
    // The copy still presents the counter the original used first.
    let (ceremony, options) = start(base, None, LOG_IN_START).await;
    let body = json!({"ceremony": ceremony, "credential": device.assert(&clone, &options)});
    refused(
        post(base, None, LOG_IN_FINISH, body).await,
        401,
        "invalid_credentials",
        None,
    )
    .await;
    assert_eq!(activity(&server, &ada).await[0], "passkey_clone_suspected");
    // The original goes on.
    assert_eq!(log_in(base, &device, &mut credential).await.status(), 200);
});

on_both_databases!(
    limits_throttling_and_deletion,
    |engine: Engine| async move {
        let server = TestServer::start_with(engine, |settings| {
            settings.insert("KEYHOLD_PUBLIC_URL", SITE.into());
            // Twenty passkeys registered at test speed (account_limits.rs checks this).
            settings.insert("KEYHOLD_RATE_PASSKEY_CEREMONY", "100000/1s".into());
        })
        .await;
        let base = &server.base;
        let ada = server.signed_up("ada").await;
        let device = Authenticator::new(SITE);
        let (mut credential, _) = register(&server, &ada, &device, "Key", None).await;
        for n in 1..20 {
            let name = format!("Key {n}");
            register(&server, &ada, &device, &name, Some(&mut credential)).await;
        }
        let password = json!({"current_password": PASSWORD});
        let response = post(base, Some(&ada), REGISTER_START, password).await;
        refused(response, 409, "conflict", None).await;

        // A deleted account's passkeys go with it.
        let mut deletion = confirmed(base, &ada, &device, Some(&mut credential)).await;
        deletion["password"] = json!(PASSWORD);
        deletion["confirm"] = json!("ada");
        let deleted = post(base, Some(&ada), "/api/users/me/delete", deletion).await;
        assert_eq!(deleted.status(), 200);
        let response = log_in(base, &device, &mut credential).await;
        refused(response, 401, "invalid_credentials", None).await;

        // Failed passkey log-ins from one address: 429 once its budget is spent.
        let mut statuses = Vec::new();
        for _ in 0..8 {
            let started = post(base, None, LOG_IN_START, json!({})).await;
            if started.status() == 429 {
                assert!(started.headers().contains_key("retry-after"));
                statuses.push(429);
                break;
            }
            let options = json(started).await;
            let answer = device.get(&mut credential, &options["options"]);
            let body = json!({"ceremony": options["ceremony"], "credential": answer});
            statuses.push(
                post(base, None, LOG_IN_FINISH, body)
                    .await
                    .status()
                    .as_u16(),
            );
        }
        assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
        assert!(
            statuses.iter().all(|s| [401, 429].contains(s)),
            "{statuses:?}"
        );
    }
);
