//! A passkey as the second factor, over real HTTP on SQLite and PostgreSQL: the log-in
//! asks for it after the password (`webauthn` among the methods), `amr` says how the
//! person signed in, a sensitive change takes a passkey where it takes a code, and the
//! ceremonies answer only for the step they were begun for.

use crate::authenticator::{encode, Authenticator, Credential};
use crate::client::{
    requests::{passkey, password_change, second_step},
    Client,
};
use crate::devices::claims;
use crate::helpers::{Engine, TestServer, PASSWORD};
use crate::instance::Instance;
use crate::passkeys::{log_in, passkey_proof, passkey_server, passkeys, register, SITE};
use keyhold::api::{
    proofs::SecondFactorFields, users::ChangePasswordRequest, ErrorCode, MfaRequired,
};
use serde_json::{json, Value};

/// The `mfa_required` answer to the right password: how to finish.
async fn password_step(server: &TestServer, username: &str) -> MfaRequired {
    let answer = server.api().login(username, PASSWORD).await;
    assert_eq!(answer.status(), 401);
    let error = answer.error();
    assert_eq!(error.error, ErrorCode::MfaRequired, "{}", answer.text());
    *error.mfa.expect("how to finish")
}

/// The passkey's answer for the log-in behind `mfa_token`.
async fn passkey_step(
    api: &Client,
    mfa_token: &str,
    device: &Authenticator,
    credential: &mut Credential,
) -> SecondFactorFields {
    let answer = api.start_passkey_second_factor(mfa_token).await;
    assert_eq!(answer.status(), 200);
    let challenge = answer.value();
    passkey(
        &challenge.ceremony,
        device.get(credential, &challenge.options),
    )
}

on_both_databases!(the_password_then_the_passkey, |engine: Engine| async move {
    let server = passkey_server(engine).await;
    let api = server.api();
    let token = server.signed_up("ada").await;
    let device = Authenticator::new(SITE);
    let (mut credential, _) = register(&server, &token, &device, "Laptop", None).await;

    let first = password_step(&server, "ada").await;
    assert_eq!(first.methods, ["webauthn"]);
    let mfa_token = &first.mfa_token;
    // The options name the account's passkey and require user verification.
    let challenge = api.start_passkey_second_factor(mfa_token).await.value();
    let options = &challenge.options["publicKey"];
    assert_eq!(options["userVerification"], "required");
    assert_eq!(options["allowCredentials"][0]["id"], encode(&credential.id));

    let proof = passkey_step(&api, mfa_token, &device, &mut credential).await;
    let answer = api.login_mfa(&second_step(mfa_token, proof)).await;
    assert_eq!(answer.status(), 200);
    let access = answer.value().access_token;
    assert_eq!(claims(&access)["amr"], json!(["pwd", "hwk", "mfa"]));
    let sessions = api.bearer(&access).sessions().await.value();
    let current = sessions.iter().find(|s| s.current).unwrap();
    assert_eq!(current.amr, ["pwd", "hwk", "mfa"]);

    // Passwordless: the key and the person's verification, two factors at once.
    let answer = log_in(&api, &device, &mut credential).await;
    let access = answer.value().access_token;
    assert_eq!(claims(&access)["amr"], json!(["hwk", "user", "mfa"]));
});

on_both_databases!(
    the_passkey_step_refuses_what_is_not_this_log_in,
    |engine: Engine| async move {
        let server = passkey_server(engine).await;
        let api = server.api();
        let ada = server.signed_up("ada").await;
        let bob = server.signed_up("bob").await;
        let device = Authenticator::new(SITE);
        let (mut ada_key, _) = register(&server, &ada, &device, "Ada's", None).await;
        let (mut bob_key, _) = register(&server, &bob, &device, "Bob's", None).await;
        // No passkey step without a live mfa_token, nor for an account without passkeys.
        let none = api.start_passkey_second_factor(&"x".repeat(43)).await;
        assert_eq!(none.error().error, ErrorCode::InvalidMfaToken);

        let ada_token = password_step(&server, "ada").await.mfa_token;
        let bob_token = password_step(&server, "bob").await.mfa_token;
        // Bob's passkey, on a ceremony begun for his own log-in, does not finish Ada's.
        let bobs = passkey_step(&api, &bob_token, &device, &mut bob_key).await;
        let refused = api.login_mfa(&second_step(&ada_token, bobs)).await;
        assert_eq!(refused.status(), 400);
        assert_eq!(refused.error().error, ErrorCode::InvalidCeremony);
        // Ada's ceremony answered by Bob's passkey: the wrong second factor.
        let challenge = api.start_passkey_second_factor(&ada_token).await.value();
        let mut forged = device.get(&mut bob_key, &challenge.options);
        forged["response"]["userHandle"] = Value::Null;
        let forged = passkey(&challenge.ceremony, forged);
        let refused = api.login_mfa(&second_step(&ada_token, forged)).await;
        assert_eq!(refused.status(), 401);
        assert_eq!(refused.error().field.as_deref(), Some("passkey"));
        // A ceremony begun to confirm a change is not a log-in's.
        let confirming = passkey_proof(&api.bearer(&ada), &device, &mut ada_key).await;
        let refused = api.login_mfa(&second_step(&ada_token, confirming)).await;
        assert_eq!(refused.error().error, ErrorCode::InvalidCeremony);
        // The right one still finishes (the wrong answers spent only their ceremonies).
        let proof = passkey_step(&api, &ada_token, &device, &mut ada_key).await;
        let answer = api.login_mfa(&second_step(&ada_token, proof)).await;
        assert_eq!(answer.status(), 200);
    }
);

on_both_databases!(
    a_passkey_confirms_a_sensitive_change,
    |engine: Engine| async move {
        let server = passkey_server(engine).await;
        let api = server.api();
        let token = server.signed_up("grace").await;
        let grace = api.bearer(&token);
        let device = Authenticator::new(SITE);
        let (mut credential, _) = register(&server, &token, &device, "Laptop", None).await;
        let new = "a brand new passphrase, long";
        // The password alone is not enough once the account has a passkey.
        let refused = grace.change_password(&password_change(PASSWORD, new)).await;
        assert_eq!(refused.status(), 422);
        assert_eq!(refused.error().field.as_deref(), Some("code"));
        // Another account's passkey answer is refused (its ceremony was begun elsewhere).
        let other = server.signed_up("eve").await;
        let (mut eves, _) = register(&server, &other, &device, "Eve's", None).await;
        let theirs = ChangePasswordRequest {
            second_factor: passkey_proof(&api.bearer(&other), &device, &mut eves).await,
            ..password_change(PASSWORD, new)
        };
        let refused = grace.change_password(&theirs).await;
        assert_eq!(refused.error().error, ErrorCode::InvalidCeremony);

        let change = ChangePasswordRequest {
            second_factor: passkey_proof(&grace, &device, &mut credential).await,
            ..password_change(PASSWORD, new)
        };
        let changed = grace.change_password(&change).await;
        assert_eq!(changed.status(), 200);
        let fresh = changed.value().access_token;
        // The answer was used: sent again, its ceremony is gone.
        let replay = ChangePasswordRequest {
            current_password: new.into(),
            ..change
        };
        let replayed = api.bearer(&fresh).change_password(&replay).await;
        assert_eq!(replayed.error().error, ErrorCode::InvalidCeremony);
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
        while server.api().login("lin", PASSWORD).await.status() != 200 {
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
        let no_domain = Instance::spawn_with(
            &db.url,
            &db.data_dir,
            &[("KEYHOLD_PUBLIC_URL", "http://192.0.2.10:3000")],
        )
        .ready(&server.client)
        .await;
        let answer = no_domain.api().login("ada_off", PASSWORD).await;
        // Fail closed: the password alone does not sign in.
        assert_eq!(answer.status(), 503);
        assert!(answer.headers().get("set-cookie").is_none());
        let error = answer.error();
        assert_eq!(error.error, ErrorCode::Unavailable);
        assert!(answer.json().get("access_token").is_none());
        assert!(error.message.contains("passkey"), "{error:?}");
    }
);
