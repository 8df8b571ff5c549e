//! Passkeys over real HTTP on SQLite and PostgreSQL, with a software authenticator
//! (`authenticator.rs`): registering, the list, renaming and removing; signing in with a
//! passkey alone, which opens a session like a password log-in; disabled accounts and
//! unconfirmed addresses; a site whose address has no domain. Refusals of hostile input
//! are in `passkey_refusals.rs`.

use crate::admin_cli::keyhold;
use crate::authenticator::{encode, Authenticator, Credential};
use crate::client::{
    requests::{confirmed, newest, passkey},
    Answer, Client,
};
use crate::helpers::{Engine, TestServer, PASSWORD};
use crate::instance::Instance;
use keyhold::api::{
    passkeys::{PasskeyView, RegisterPasskeyRequest, RemovePasskeyRequest, RenamePasskeyRequest},
    proofs::{ConfirmedRequest, PasskeyAssertion, PasskeyChallenge, SecondFactorFields},
    ErrorCode, TokenResponse,
};
use serde_json::Value;
use std::time::{Duration, Instant};

/// The site's public URL in these tests: the origin the "browser" reports.
pub(crate) const SITE: &str = "https://keyhold.test";

pub(crate) async fn passkey_server(engine: Engine) -> TestServer {
    TestServer::start_with(engine, |settings| {
        settings.insert("KEYHOLD_PUBLIC_URL", SITE.into());
    })
    .await
}

/// A ceremony begun (the answer must be 200): its id and options.
pub(crate) fn begun(answer: Answer<PasskeyChallenge>) -> (String, Value) {
    assert_eq!(answer.status(), 200, "{}", answer.text());
    let challenge = answer.value();
    (challenge.ceremony, challenge.options)
}

/// `credential`'s answer to a confirmation ceremony begun by `holder`: the second factor
/// of a sensitive change.
pub(crate) async fn passkey_proof(
    holder: &Client,
    authenticator: &Authenticator,
    credential: &mut Credential,
) -> SecondFactorFields {
    let (ceremony, options) = begun(holder.start_passkey_confirmation().await);
    passkey(&ceremony, authenticator.get(credential, &options))
}

/// The password, and when the account has a passkey already, `existing`'s answer to a
/// confirmation ceremony: what a change of second factors needs.
pub(crate) async fn confirmed_with(
    holder: &Client,
    authenticator: &Authenticator,
    existing: Option<&mut Credential>,
) -> ConfirmedRequest {
    let second_factor = match existing {
        Some(credential) => passkey_proof(holder, authenticator, credential).await,
        None => SecondFactorFields::default(),
    };
    ConfirmedRequest {
        second_factor,
        ..confirmed(PASSWORD)
    }
}

/// Begins a registration for `holder`, confirmed with `existing` if given.
pub(crate) async fn start_registration(
    holder: &Client,
    authenticator: &Authenticator,
    existing: Option<&mut Credential>,
) -> (String, Value) {
    let confirmation = confirmed_with(holder, authenticator, existing).await;
    begun(holder.start_passkey_registration(&confirmation).await)
}

/// Registers a passkey named `name` for the holder of `token` (confirmed with
/// `existing`, a passkey the account has already, if any).
pub(crate) async fn register(
    server: &TestServer,
    token: &str,
    authenticator: &Authenticator,
    name: &str,
    existing: Option<&mut Credential>,
) -> (Credential, PasskeyView) {
    let holder = server.api().bearer(token);
    let (ceremony, options) = start_registration(&holder, authenticator, existing).await;
    let (credential, answer) = authenticator.create(&options);
    let request = RegisterPasskeyRequest {
        ceremony,
        name: name.into(),
        credential: answer,
    };
    let added = holder.finish_passkey_registration(&request).await;
    assert_eq!(added.status(), 201);
    (credential, added.value())
}

/// Signs in through `api` with `credential` alone: the finishing answer.
pub(crate) async fn log_in(
    api: &Client,
    authenticator: &Authenticator,
    credential: &mut Credential,
) -> Answer<TokenResponse> {
    let (ceremony, options) = begun(api.start_passkey_log_in().await);
    let answer = PasskeyAssertion {
        ceremony,
        credential: authenticator.get(credential, &options),
    };
    api.finish_passkey_log_in(&answer).await
}

/// The passkeys the holder of `token` lists (the answer must be 200).
pub(crate) async fn passkeys(server: &TestServer, token: &str) -> Vec<PasskeyView> {
    let answer = server.api().bearer(token).passkeys().await;
    assert_eq!(answer.status(), 200);
    answer.value()
}

/// The kinds in the account's activity, newest first.
pub(crate) async fn activity(server: &TestServer, token: &str) -> Vec<&'static str> {
    let page = server
        .api()
        .bearer(token)
        .activity(&newest(Some(100)))
        .await;
    page.value().entries.iter().map(|e| e.kind.name()).collect()
}

on_both_databases!(
    passkeys_are_registered_listed_renamed_and_removed,
    |engine: Engine| async move {
        let server = passkey_server(engine).await;
        let token = server.signed_up("ada").await;
        let ada = server.api().bearer(&token);
        let device = Authenticator::new(SITE);
        // A change of second factors: the password first.
        let wrong = confirmed("not the password at all, no");
        let refused = ada.start_passkey_registration(&wrong).await;
        assert_eq!(refused.status(), 403);
        let confirmation = confirmed_with(&ada, &device, None).await;
        let challenge = ada.start_passkey_registration(&confirmation).await.value();
        assert_eq!(challenge.ceremony.len(), 43);
        let public_key = &challenge.options["publicKey"];
        assert_eq!(public_key["rp"]["id"], "keyhold.test");
        assert_eq!(public_key["user"]["name"], "ada");
        let selection = &public_key["authenticatorSelection"];
        assert_eq!(selection["userVerification"], "required");
        assert_eq!(selection["residentKey"], "required");

        let (mut laptop, added) = register(&server, &token, &device, "  Laptop ", None).await;
        assert_eq!(added.name, "Laptop");
        assert_eq!(added.last_used_at, None);
        // Now the account has a second factor: the password alone no longer adds one.
        let password_alone = confirmed_with(&ada, &device, None).await;
        let alone = ada.start_passkey_registration(&password_alone).await;
        assert_eq!(alone.status(), 422);
        assert_eq!(alone.error().field.as_deref(), Some("code"));
        let (_, phone) = register(&server, &token, &device, "Phone", Some(&mut laptop)).await;
        let listed = passkeys(&server, &token).await;
        let names: Vec<_> = listed.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["Laptop", "Phone"]);

        // A second registration excludes the passkeys already there.
        let confirmation = confirmed_with(&ada, &device, Some(&mut laptop)).await;
        let started = ada.start_passkey_registration(&confirmation).await;
        let options = started.value().options;
        let excluded = options["publicKey"]["excludeCredentials"]
            .as_array()
            .unwrap();
        assert_eq!(excluded.len(), 2);
        // The same handle every time: an authenticator keeps one passkey per account.
        let handle = encode(&laptop.user_handle);
        assert_eq!(options["publicKey"]["user"]["id"], handle.as_str());

        let rename = RenamePasskeyRequest {
            id: phone.id,
            name: "Work phone".into(),
        };
        let renamed = ada.rename_passkey(&rename).await;
        assert_eq!(renamed.status(), 200);
        assert_eq!(renamed.value().name, "Work phone");

        // Removing needs the password and a second factor: the passkey itself will do.
        let remove = RemovePasskeyRequest {
            id: added.id,
            current_password: PASSWORD.into(),
            second_factor: passkey_proof(&ada, &device, &mut laptop).await,
        };
        let removed = ada.remove_passkey(&remove).await;
        assert!(removed.value().removed);
        let listed = passkeys(&server, &token).await;
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].name, "Work phone");
        // Both additions came from this session: one entry, counting two.
        let kinds = activity(&server, &token).await;
        assert_eq!(kinds[..2], ["passkey_removed", "passkey_added"]);
        assert_eq!(kinds.iter().filter(|k| **k == "passkey_added").count(), 1);
    }
);

on_both_databases!(
    a_passkey_alone_signs_in_like_a_password,
    |engine: Engine| async move {
        let server = passkey_server(engine).await;
        let api = server.api();
        let token = server.signed_up("grace").await;
        let device = Authenticator::new(SITE);
        let (mut credential, added) = register(&server, &token, &device, "Laptop", None).await;

        let answer = log_in(&api, &device, &mut credential).await;
        assert_eq!(answer.status(), 200);
        let cookies: Vec<&str> = answer
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .collect();
        assert!(
            cookies.iter().any(|c| c.contains("keyhold-refresh=")),
            "{cookies:?}"
        );
        assert!(
            cookies.iter().any(|c| c.contains("keyhold-device=")),
            "{cookies:?}"
        );
        assert!(
            cookies.iter().any(|c| c.contains("keyhold-session=")),
            "{cookies:?}"
        );
        let signed_in = answer.value();
        assert_eq!(signed_in.token_type, "bearer");
        let passkey_token = signed_in.access_token;
        let me = api.bearer(&passkey_token).me().await.value();
        assert_eq!(me.username, "grace");

        // A second sign-in moves the counter on and is accepted too.
        let again = log_in(&api, &device, &mut credential).await;
        assert_eq!(again.status(), 200);
        let listed = passkeys(&server, &passkey_token).await;
        assert_eq!(listed[0].id, added.id);
        assert!(listed[0].last_used_at.is_some());
        let kinds = activity(&server, &token).await;
        assert_eq!(
            kinds[..2],
            ["passkey_login_succeeded", "passkey_login_succeeded"]
        );
        let sessions = api.bearer(&token).sessions().await;
        assert_eq!(sessions.value().len(), 3);
    }
);

on_both_databases!(
    a_disabled_account_is_refused_as_with_a_password,
    |engine: Engine| async move {
        let server = passkey_server(engine).await;
        let token = server.signed_up("linus").await;
        let device = Authenticator::new(SITE);
        let (mut credential, _) = register(&server, &token, &device, "Key", None).await;
        let disabled = keyhold(
            server.database(),
            &["admin", "users", "disable", "linus"],
            &[],
        )
        .await;
        assert!(disabled.ok, "{}", disabled.stderr);
        // The server notices the command line's write within a second (SQLite cache).
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let answer = log_in(&server.api(), &device, &mut credential).await;
            if answer.status() == 401 {
                let error = answer.error().error;
                // A log-in that raced the command (its cached row not yet refreshed) is
                // refused when its session cannot open: the account's sessions ended.
                if error != ErrorCode::InvalidToken {
                    assert_eq!(error, ErrorCode::AccountDisabled);
                    break;
                }
            }
            assert!(
                Instant::now() < deadline,
                "a disabled account still signs in"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
);

on_both_databases!(
    an_unconfirmed_address_gets_a_link_instead_of_a_session,
    |engine: Engine| async move {
        let server = passkey_server(engine).await;
        let token = server.signed_up("mary").await;
        let device = Authenticator::new(SITE);
        let (mut credential, _) = register(&server, &token, &device, "Key", None).await;
        // The same database, now served with confirmed addresses required.
        let db = server.database();
        let strict = Instance::spawn_with(
            &db.url,
            &db.data_dir,
            &[
                ("KEYHOLD_PUBLIC_URL", SITE),
                ("KEYHOLD_REQUIRE_VERIFIED_EMAIL", "true"),
            ],
        )
        .ready(&server.client)
        .await;
        let answer = log_in(&strict.api(), &device, &mut credential).await;
        assert_eq!(answer.status(), 401);
        assert_eq!(answer.error().error, ErrorCode::EmailNotVerified);
    }
);

on_both_databases!(
    a_site_without_a_domain_has_no_passkeys,
    |engine: Engine| async move {
        let server = TestServer::start_with(engine, |settings| {
            settings.insert("KEYHOLD_PUBLIC_URL", "http://192.0.2.10:3000".into());
        })
        .await;
        let token = server.signed_up("ipaddr").await;
        let holder = server.api().bearer(&token);
        let registration = holder
            .start_passkey_registration(&confirmed(PASSWORD))
            .await;
        let log_in = server.api().start_passkey_log_in().await;
        for (path, answer) in [
            ("register/start", registration),
            ("login/passkey/start", log_in),
        ] {
            assert_eq!(answer.status(), 404, "{path}");
            assert!(answer.error().message.contains("not available"));
        }
    }
);
