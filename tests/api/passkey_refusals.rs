//! Passkeys refuse hostile input with a 4xx, never a 5xx, on SQLite and PostgreSQL:
//! garbage bodies and credentials, ceremonies replayed, expired, mistyped or of another
//! purpose or account, another origin, no user verification, a signature by another key,
//! someone else's passkey, a cloned passkey (its counter going back), the limit of
//! passkeys per account, throttling, a deleted account, and no bearer token.

use crate::authenticator::{encode, Authenticator};
use crate::client::{
    requests::{confirmed, deletion},
    Answer,
};
use crate::helpers::{Engine, TestServer, PASSWORD};
use crate::passkeys::{
    activity, begun, log_in, passkey_proof, passkeys, register, start_registration, SITE,
};
use keyhold::api::{
    account::DeleteAccountRequest,
    passkeys::{RegisterPasskeyRequest, RemovePasskeyRequest, RenamePasskeyRequest},
    proofs::PasskeyAssertion,
    ErrorCode,
};
use serde_json::{json, Value};
use std::time::Duration;

const LOG_IN_FINISH: &str = "/api/login/passkey/finish";

/// A server whose passkey log-in budget tests do not exhaust (one test checks it).
async fn server(engine: Engine) -> TestServer {
    TestServer::start_with(engine, |settings| {
        settings.insert("KEYHOLD_PUBLIC_URL", SITE.into());
        settings.insert("KEYHOLD_RATE_PASSKEY", "100000/1s".into());
    })
    .await
}

/// Asserts `answer` is `status` with error code `error` (and `field`, if given).
fn refused<T>(answer: Answer<T>, status: u16, error: ErrorCode, field: Option<&str>) {
    assert_eq!(answer.status(), status);
    let body = answer.error();
    assert_eq!(body.error, error, "{}", answer.text());
    if let Some(field) = field {
        assert_eq!(body.field.as_deref(), Some(field), "{}", answer.text());
    }
}

/// A registration of `credential` named `name` in the ceremony `ceremony`.
fn registration(ceremony: &str, name: &str, credential: Value) -> RegisterPasskeyRequest {
    RegisterPasskeyRequest {
        ceremony: ceremony.into(),
        name: name.into(),
        credential,
    }
}

/// Removing the passkey `id`, confirmed with the password alone.
fn removal(id: i64) -> RemovePasskeyRequest {
    RemovePasskeyRequest {
        id,
        current_password: PASSWORD.into(),
        second_factor: Default::default(),
    }
}

/// A passkey's answer `credential` to the ceremony `ceremony`.
fn assertion(ceremony: &str, credential: Value) -> PasskeyAssertion {
    PasskeyAssertion {
        ceremony: ceremony.into(),
        credential,
    }
}

on_both_databases!(
    ceremonies_are_single_use_timed_and_bound,
    |engine: Engine| async move {
        let server = server(engine).await;
        let api = server.api();
        let ada = api.bearer(&server.signed_up("ada").await);
        let bob = api.bearer(&server.signed_up("bob").await);
        let device = Authenticator::new(SITE);

        let (ceremony, options) = begun(ada.start_passkey_registration(&confirmed(PASSWORD)).await);
        let (credential, answer) = device.create(&options);
        let finish = registration(&ceremony, "Key", answer);
        // Another account cannot finish it (and that spends it).
        let stolen = bob.finish_passkey_registration(&finish).await;
        refused(stolen, 400, ErrorCode::InvalidCeremony, Some("ceremony"));
        let spent = ada.finish_passkey_registration(&finish).await;
        refused(spent, 400, ErrorCode::InvalidCeremony, Some("ceremony"));

        let (ceremony, options) = begun(ada.start_passkey_registration(&confirmed(PASSWORD)).await);
        let finish = registration(&ceremony, "Key", device.attest(&credential, &options));
        let added = ada.finish_passkey_registration(&finish).await;
        assert_eq!(added.status(), 201);
        // Replayed: the ceremony is gone.
        let replayed = ada.finish_passkey_registration(&finish).await;
        refused(replayed, 400, ErrorCode::InvalidCeremony, Some("ceremony"));

        // A registration ceremony does not finish a log-in, and the reverse.
        let mut credential = credential;
        let (register_ceremony, register_options) =
            start_registration(&ada, &device, Some(&mut credential)).await;
        let (log_in_ceremony, log_in_options) = begun(api.start_passkey_log_in().await);
        let wrong = assertion(
            &register_ceremony,
            device.get(&mut credential, &log_in_options),
        );
        let answer = api.finish_passkey_log_in(&wrong).await;
        refused(answer, 400, ErrorCode::InvalidCeremony, None);
        let wrong = registration(&log_in_ceremony, "Key", device.create(&register_options).1);
        let answer = ada.finish_passkey_registration(&wrong).await;
        refused(answer, 400, ErrorCode::InvalidCeremony, None);

        // Expired after five minutes.
        let (ceremony, options) = begun(api.start_passkey_log_in().await);
        let late = assertion(&ceremony, device.get(&mut credential, &options));
        server.clock.advance(Duration::from_secs(301));
        let answer = api.finish_passkey_log_in(&late).await;
        assert_eq!(answer.status(), 400);
        assert!(answer.error().message.contains("expired"));

        // Ids that were never handed out.
        for ceremony in ["", "x", &"A".repeat(43), &"é".repeat(43), &"A".repeat(5000)] {
            let (_, options) = begun(api.start_passkey_log_in().await);
            let made_up = assertion(ceremony, device.get(&mut credential, &options));
            let answer = api.finish_passkey_log_in(&made_up).await;
            assert!([400, 413].contains(&answer.status()), "{ceremony}");
        }
    }
);

on_both_databases!(garbage_is_a_client_error, |engine: Engine| async move {
    let server = server(engine).await;
    let api = server.api();
    let ada = api.bearer(&server.signed_up("ada").await);
    for credential in [
        json!("text"),
        json!(null),
        json!({}),
        json!({"id": "x", "rawId": "!!", "type": "public-key", "response": {}}),
        json!({"id": "x", "rawId": "AAAA", "type": "public-key",
               "response": {"clientDataJSON": "AAAA", "attestationObject": "AAAA"}}),
    ] {
        let (ceremony, _) = begun(ada.start_passkey_registration(&confirmed(PASSWORD)).await);
        let body = registration(&ceremony, "Key", credential);
        let answer = ada.finish_passkey_registration(&body).await;
        refused(answer, 422, ErrorCode::ValidationFailed, Some("credential"));
    }
    for credential in [json!([1, 2]), json!({"id": 1})] {
        let (ceremony, _) = begun(api.start_passkey_log_in().await);
        let answer = api
            .finish_passkey_log_in(&assertion(&ceremony, credential))
            .await;
        refused(answer, 422, ErrorCode::ValidationFailed, Some("credential"));
    }
    let (ceremony, _) = begun(api.start_passkey_log_in().await);
    let unknown = assertion(
        &ceremony,
        json!({
        "id": "x", "rawId": "AAAA", "type": "public-key",
        "response": {"clientDataJSON": "AAAA", "authenticatorData": "AAAA",
                     "signature": "AAAA", "userHandle": "AAAA"}}),
    );
    let answer = api.finish_passkey_log_in(&unknown).await;
    refused(answer, 401, ErrorCode::InvalidCredentials, None);

    // Bodies no request type can express: a field missing, JSON cut short.
    let path = "/api/users/me/passkeys/register/finish";
    let missing = ada.post_value(path, &json!({"ceremony": "x"})).await;
    assert_eq!(missing.status(), 422);
    let not_json = api
        .raw_post(LOG_IN_FINISH, "application/json", "{\"ceremony\": ")
        .await;
    assert_eq!(not_json.status(), 400);
    let names = ["", "   ", &"n".repeat(65), "bad\u{0}name"];
    for name in names {
        let (ceremony, _) = begun(ada.start_passkey_registration(&confirmed(PASSWORD)).await);
        let body = registration(&ceremony, name, json!({}));
        let answer = ada.finish_passkey_registration(&body).await;
        refused(answer, 422, ErrorCode::ValidationFailed, Some("name"));
    }
    // No bearer token, no passkeys.
    let start = api.start_passkey_registration(&confirmed(PASSWORD)).await;
    assert_eq!(start.status(), 401);
    assert_eq!(api.remove_passkey(&removal(1)).await.status(), 401);
    assert_eq!(api.passkeys().await.status(), 401);
});

on_both_databases!(
    the_authenticator_must_verify_the_person_at_this_origin,
    |engine: Engine| async move {
        let server = server(engine).await;
        let api = server.api();
        let token = server.signed_up("ada").await;
        let ada = api.bearer(&token);
        let mut elsewhere = Authenticator::new("https://evil.test");
        let mut unverified = Authenticator::new(SITE);
        unverified.verifies_user = false;
        for authenticator in [&elsewhere, &unverified] {
            let (ceremony, options) =
                begun(ada.start_passkey_registration(&confirmed(PASSWORD)).await);
            let answer = authenticator.create(&options).1;
            let body = registration(&ceremony, "Key", answer);
            let answer = ada.finish_passkey_registration(&body).await;
            refused(answer, 422, ErrorCode::ValidationFailed, Some("credential"));
        }

        let device = Authenticator::new(SITE);
        let (mut credential, _) = register(&server, &token, &device, "Key", None).await;
        elsewhere.origin = "https://keyhold.test.evil.test".into();
        for (authenticator, why) in [
            (&elsewhere, "origin"),
            (&unverified, "no user verification"),
        ] {
            let answer = log_in(&api, authenticator, &mut credential).await;
            assert_eq!(answer.status(), 401, "{why}");
        }
        // Signed by another key under the passkey's id.
        let mut forged = credential.clone();
        forged.key = p256::ecdsa::SigningKey::random(&mut rand::rngs::OsRng);
        assert_eq!(log_in(&api, &device, &mut forged).await.status(), 401);
        assert!(activity(&server, &token)
            .await
            .contains(&"passkey_login_failed"));
        assert_eq!(log_in(&api, &device, &mut credential).await.status(), 200);
    }
);

on_both_databases!(
    someone_elses_passkey_is_not_yours,
    |engine: Engine| async move {
        let server = server(engine).await;
        let api = server.api();
        let ada = server.signed_up("ada").await;
        let bob_token = server.signed_up("bob").await;
        let bob = api.bearer(&bob_token);
        let device = Authenticator::new(SITE);
        let (mut ada_key, added) = register(&server, &ada, &device, "Ada's key", None).await;
        let (mut bob_key, _) = register(&server, &bob_token, &device, "Bob's key", None).await;

        // Bob cannot register, rename or remove Ada's passkey.
        let (ceremony, options) = start_registration(&bob, &device, Some(&mut bob_key)).await;
        let body = registration(&ceremony, "Mine", device.attest(&ada_key, &options));
        let answer = bob.finish_passkey_registration(&body).await;
        refused(answer, 409, ErrorCode::Conflict, Some("credential"));
        let rename = RenamePasskeyRequest {
            id: added.id,
            name: "Mine".into(),
        };
        let answer = bob.rename_passkey(&rename).await;
        refused(answer, 404, ErrorCode::NotFound, Some("id"));
        let answer = bob.remove_passkey(&removal(added.id)).await;
        refused(answer, 404, ErrorCode::NotFound, Some("id"));
        assert_eq!(passkeys(&server, &ada).await[0].name, "Ada's key");

        // Ada's passkey presented as Bob's account (his handle) signs nobody in.
        let mut posing = ada_key.clone();
        posing.user_handle = bob_key.user_handle.clone();
        assert_eq!(log_in(&api, &device, &mut posing).await.status(), 401);
        let (ceremony, options) = begun(api.start_passkey_log_in().await);
        let mut answer = device.get(&mut ada_key, &options);
        answer["response"]["userHandle"] = Value::String(encode(b"not a handle"));
        let answer = api
            .finish_passkey_log_in(&assertion(&ceremony, answer))
            .await;
        assert_eq!(answer.status(), 401);
    }
);

on_both_databases!(a_cloned_passkey_is_refused, |engine: Engine| async move {
    let server = server(engine).await;
    let api = server.api();
    let ada = server.signed_up("ada").await;
    let device = Authenticator::new(SITE);
    let (mut credential, _) = register(&server, &ada, &device, "Key", None).await;
    let clone = credential.clone();
    assert_eq!(log_in(&api, &device, &mut credential).await.status(), 200);
    assert_eq!(log_in(&api, &device, &mut credential).await.status(), 200);
    // The copy still presents the counter the original used first.
    let (ceremony, options) = begun(api.start_passkey_log_in().await);
    let copied = assertion(&ceremony, device.assert(&clone, &options));
    let answer = api.finish_passkey_log_in(&copied).await;
    refused(answer, 401, ErrorCode::InvalidCredentials, None);
    assert_eq!(activity(&server, &ada).await[0], "passkey_clone_suspected");
    // The original goes on.
    assert_eq!(log_in(&api, &device, &mut credential).await.status(), 200);
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
        let api = server.api();
        let token = server.signed_up("ada").await;
        let ada = api.bearer(&token);
        let device = Authenticator::new(SITE);
        let (mut credential, _) = register(&server, &token, &device, "Key", None).await;
        for n in 1..20 {
            let name = format!("Key {n}");
            register(&server, &token, &device, &name, Some(&mut credential)).await;
        }
        let answer = ada.start_passkey_registration(&confirmed(PASSWORD)).await;
        refused(answer, 409, ErrorCode::Conflict, None);

        // A deleted account's passkeys go with it.
        let deletion = DeleteAccountRequest {
            second_factor: passkey_proof(&ada, &device, &mut credential).await,
            ..deletion(PASSWORD, "ada")
        };
        let deleted = ada.delete_account(&deletion).await;
        assert_eq!(deleted.status(), 200);
        let answer = log_in(&api, &device, &mut credential).await;
        refused(answer, 401, ErrorCode::InvalidCredentials, None);

        // Failed passkey log-ins from one address: 429 once its budget is spent.
        let mut statuses = Vec::new();
        for _ in 0..8 {
            let started = api.start_passkey_log_in().await;
            if started.status() == 429 {
                assert!(started.headers().contains_key("retry-after"));
                statuses.push(429);
                break;
            }
            let challenge = started.value();
            let answer = device.get(&mut credential, &challenge.options);
            let finish = assertion(&challenge.ceremony, answer);
            statuses.push(api.finish_passkey_log_in(&finish).await.status());
        }
        assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
        assert!(
            statuses.iter().all(|s| [401, 429].contains(s)),
            "{statuses:?}"
        );
    }
);
