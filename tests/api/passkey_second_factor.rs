//! A passkey as the second factor, over real HTTP on SQLite and PostgreSQL: the log-in
//! asks for it after the password (`webauthn` among the methods), `amr` says how the
//! person signed in, a sensitive change takes a passkey where it takes a code, and the
//! ceremonies answer only for the step they were begun for.

use crate::authenticator::{encode, Authenticator, Credential};
use crate::helpers::{json, Engine, TestServer, PASSWORD};
use crate::passkeys::{confirmed, log_in, passkey_server, passkeys, post, register, start, SITE};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use serde_json::{json, Value};

const MFA_OPTIONS: &str = "/api/login/mfa/passkey";

/// The claims of an access token (unverified: the test only reads `amr`).
fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("payload");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64")).expect("json")
}

/// The `mfa_required` answer to the right password.
async fn password_step(server: &TestServer, username: &str) -> Value {
    let response = server.login(username, PASSWORD).await;
    assert_eq!(response.status(), 401);
    let body = json(response).await;
    assert_eq!(body["error"], "mfa_required", "{body}");
    body
}

/// The passkey's answer for the log-in behind `mfa_token`.
async fn passkey_step(
    base: &str,
    mfa_token: &str,
    device: &Authenticator,
    credential: &mut Credential,
) -> Value {
    let response = post(base, None, MFA_OPTIONS, json!({"mfa_token": mfa_token})).await;
    assert_eq!(response.status(), 200);
    let challenge = json(response).await;
    let answer = device.get(credential, &challenge["options"]);
    json!({"ceremony": challenge["ceremony"], "credential": answer})
}

on_both_databases!(the_password_then_the_passkey, |engine: Engine| async move {
    let server = passkey_server(engine).await;
    let base = &server.base;
    let token = server.signed_up("ada").await;
    let device = Authenticator::new(SITE);
    let (mut credential, _) = register(&server, &token, &device, "Laptop", None).await;

    let first = password_step(&server, "ada").await;
    assert_eq!(first["methods"], json!(["webauthn"]));
    let mfa_token = first["mfa_token"].as_str().unwrap();
    // The options name the account's passkey and require user verification.
    let response = post(base, None, MFA_OPTIONS, json!({"mfa_token": mfa_token})).await;
    let options = json(response).await["options"]["publicKey"].clone();
    assert_eq!(options["userVerification"], "required");
    assert_eq!(options["allowCredentials"][0]["id"], encode(&credential.id));

    let passkey = passkey_step(base, mfa_token, &device, &mut credential).await;
    let body = json!({"mfa_token": mfa_token, "passkey": passkey});
    let response = post(base, None, "/api/login/mfa", body).await;
    assert_eq!(response.status(), 200);
    let access = json(response).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(claims(&access)["amr"], json!(["pwd", "hwk", "mfa"]));
    let sessions = server
        .client
        .get(server.url("/api/sessions"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    let sessions = json(sessions).await;
    let current = sessions
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == true)
        .unwrap()
        .clone();
    assert_eq!(current["amr"], json!(["pwd", "hwk", "mfa"]));

    // Passwordless: the key and the person's verification, two factors at once.
    let response = log_in(base, &device, &mut credential).await;
    let access = json(response).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(claims(&access)["amr"], json!(["hwk", "user", "mfa"]));
});

on_both_databases!(
    the_passkey_step_refuses_what_is_not_this_log_in,
    |engine: Engine| async move {
        let server = passkey_server(engine).await;
        let base = &server.base;
        let ada = server.signed_up("ada").await;
        let bob = server.signed_up("bob").await;
        let device = Authenticator::new(SITE);
        let (mut ada_key, _) = register(&server, &ada, &device, "Ada's", None).await;
        let (mut bob_key, _) = register(&server, &bob, &device, "Bob's", None).await;
        // No passkey step without a live mfa_token, nor for an account without passkeys.
        let none = post(
            base,
            None,
            MFA_OPTIONS,
            json!({"mfa_token": "x".repeat(43)}),
        )
        .await;
        assert_eq!(json(none).await["error"], "invalid_mfa_token");

        let ada_token = password_step(&server, "ada").await["mfa_token"].clone();
        let bob_token = password_step(&server, "bob").await["mfa_token"].clone();
        // Bob's passkey, on a ceremony begun for his own log-in, does not finish Ada's.
        let bobs = passkey_step(base, bob_token.as_str().unwrap(), &device, &mut bob_key).await;
        let body = json!({"mfa_token": ada_token, "passkey": bobs});
        let refused = post(base, None, "/api/login/mfa", body).await;
        assert_eq!(refused.status(), 400);
        assert_eq!(json(refused).await["error"], "invalid_ceremony");
        // Ada's ceremony answered by Bob's passkey: the wrong second factor.
        let response = post(base, None, MFA_OPTIONS, json!({"mfa_token": ada_token})).await;
        let challenge = json(response).await;
        let mut forged = device.get(&mut bob_key, &challenge["options"]);
        forged["response"]["userHandle"] = Value::Null;
        let passkey = json!({"ceremony": challenge["ceremony"], "credential": forged});
        let body = json!({"mfa_token": ada_token, "passkey": passkey});
        let refused = post(base, None, "/api/login/mfa", body).await;
        assert_eq!(refused.status(), 401);
        assert_eq!(json(refused).await["field"], "passkey");
        // A ceremony begun to confirm a change is not a log-in's.
        let (ceremony, options) = start(base, Some(&ada), "/api/users/me/passkeys/confirm").await;
        let answer = device.get(&mut ada_key, &options);
        let passkey = json!({"ceremony": ceremony, "credential": answer});
        let body = json!({"mfa_token": ada_token, "passkey": passkey});
        let refused = post(base, None, "/api/login/mfa", body).await;
        assert_eq!(json(refused).await["error"], "invalid_ceremony");
        // The right one still finishes (the wrong answers spent only their ceremonies).
        let passkey = passkey_step(base, ada_token.as_str().unwrap(), &device, &mut ada_key).await;
        let body = json!({"mfa_token": ada_token, "passkey": passkey});
        assert_eq!(post(base, None, "/api/login/mfa", body).await.status(), 200);
    }
);

on_both_databases!(
    a_passkey_confirms_a_sensitive_change,
    |engine: Engine| async move {
        let server = passkey_server(engine).await;
        let base = &server.base;
        let token = server.signed_up("grace").await;
        let device = Authenticator::new(SITE);
        let (mut credential, _) = register(&server, &token, &device, "Laptop", None).await;
        let path = "/api/users/me/password";
        let new = "a brand new passphrase, long";
        // The password alone is not enough once the account has a passkey.
        let alone = json!({"current_password": PASSWORD, "new_password": new});
        let refused = post(base, Some(&token), path, alone).await;
        assert_eq!(refused.status(), 422);
        assert_eq!(json(refused).await["field"], "code");
        // Another account's passkey answer is refused (its ceremony was begun elsewhere).
        let other = server.signed_up("eve").await;
        let (mut eves, _) = register(&server, &other, &device, "Eve's", None).await;
        let mut theirs = confirmed(base, &other, &device, Some(&mut eves)).await;
        theirs["new_password"] = json!(new);
        let refused = post(base, Some(&token), path, theirs).await;
        assert_eq!(json(refused).await["error"], "invalid_ceremony");

        let mut change = confirmed(base, &token, &device, Some(&mut credential)).await;
        change["new_password"] = json!(new);
        let changed = post(base, Some(&token), path, change.clone()).await;
        assert_eq!(changed.status(), 200);
        let fresh = json(changed).await["access_token"]
            .as_str()
            .unwrap()
            .to_owned();
        // The answer was used: sent again, its ceremony is gone.
        change["current_password"] = json!(new);
        let replayed = post(base, Some(&fresh), path, change).await;
        assert_eq!(json(replayed).await["error"], "invalid_ceremony");
        assert_eq!(passkeys(&server, &fresh).await.len(), 1);
    }
);

on_both_databases!(
    the_administrator_removes_passkeys_with_the_second_factors,
    |engine: Engine| async move {
        let server = passkey_server(engine).await;
        let token = server.signed_up("lin").await;
        let device = Authenticator::new(SITE);
        register(&server, &token, &device, "Laptop", None).await;
        password_step(&server, "lin").await;
        let removed = crate::admin_cli::keyhold(
            server.database(),
            &["admin", "users", "remove-second-factors", "lin", "--yes"],
            &[],
        )
        .await;
        assert!(removed.ok, "{}", removed.stderr);
        // The password alone signs in again (the SQLite server drops its cache in a second).
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while server.login("lin", PASSWORD).await.status() != 200 {
            assert!(
                std::time::Instant::now() < deadline,
                "still asks for a passkey"
            );
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
    }
);

on_both_databases!(
    passkeys_turned_off_do_not_turn_the_factor_off,
    |engine: Engine| async move {
        let server = passkey_server(engine).await;
        let token = server.signed_up("ada_off").await;
        let device = Authenticator::new(SITE);
        register(&server, &token, &device, "Laptop", None).await;
        // The same database, served where passkeys cannot work (a bare IP address).
        let db = server.database();
        let no_domain = crate::helpers::Instance::spawn_with(
            &db.url,
            &db.data_dir,
            &[("KEYHOLD_PUBLIC_URL", "http://192.0.2.10:3000")],
        )
        .ready(&server.client)
        .await;
        let response = server
            .client
            .post(no_domain.url("/api/login"))
            .form(&[("username", "ada_off"), ("password", PASSWORD)])
            .send()
            .await
            .unwrap();
        // Fail closed: the password alone does not sign in.
        assert_eq!(response.status(), 503);
        assert!(response.headers().get("set-cookie").is_none());
        let body = json(response).await;
        assert_eq!(body["error"], "unavailable");
        assert!(body.get("access_token").is_none());
        assert!(
            body["message"].as_str().unwrap().contains("passkey"),
            "{body}"
        );
    }
);
