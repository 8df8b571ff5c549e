//! Passkeys over real HTTP on SQLite and PostgreSQL, with a software authenticator
//! (`authenticator.rs`): registering, the list, renaming and removing; signing in with a
//! passkey alone, which opens a session like a password log-in; disabled accounts and
//! unconfirmed addresses; a site whose address has no domain. Refusals of hostile input
//! are in `passkey_refusals.rs`.

use crate::admin_cli::keyhold;
use crate::authenticator::{encode, Authenticator, Credential};
use crate::helpers::{json, Engine, Instance, TestServer, PASSWORD};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// The site's public URL in these tests: the origin the "browser" reports.
pub(crate) const SITE: &str = "https://keyhold.test";
pub(crate) const REGISTER_START: &str = "/api/users/me/passkeys/register/start";

pub(crate) async fn passkey_server(engine: Engine) -> TestServer {
    TestServer::start_with(engine, |settings| {
        settings.insert("KEYHOLD_PUBLIC_URL", SITE.into());
    })
    .await
}

/// `POST` to the server at `base` (a `TestServer`'s or an `Instance`'s), as JSON.
pub(crate) async fn post(
    base: &str,
    token: Option<&str>,
    path: &str,
    body: Value,
) -> reqwest::Response {
    let request = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .json(&body);
    let request = match token {
        Some(token) => request.bearer_auth(token),
        None => request,
    };
    request.send().await.expect("request")
}

/// Starts a ceremony: its id and options. (A registration is confirmed with the password
/// alone: for an account without a second factor yet.)
pub(crate) async fn start(base: &str, token: Option<&str>, path: &str) -> (String, Value) {
    let body = match path {
        REGISTER_START => json!({"current_password": PASSWORD}),
        _ => json!({}),
    };
    let response = post(base, token, path, body).await;
    assert_eq!(response.status(), 200, "{path}");
    let body = json(response).await;
    let ceremony = body["ceremony"].as_str().expect("ceremony").to_owned();
    (ceremony, body["options"].clone())
}

/// The password, and when the account has a passkey already, `existing`'s answer to a
/// confirmation ceremony: what a change of second factors needs.
pub(crate) async fn confirmed(
    base: &str,
    token: &str,
    authenticator: &Authenticator,
    existing: Option<&mut Credential>,
) -> Value {
    let Some(credential) = existing else {
        return json!({"current_password": PASSWORD});
    };
    let (ceremony, options) = start(base, Some(token), "/api/users/me/passkeys/confirm").await;
    let answer = authenticator.get(credential, &options);
    json!({"current_password": PASSWORD, "passkey": {"ceremony": ceremony, "credential": answer}})
}

/// Begins a registration for the holder of `token`, confirmed with `existing` if given.
pub(crate) async fn start_registration(
    base: &str,
    token: &str,
    authenticator: &Authenticator,
    existing: Option<&mut Credential>,
) -> (String, Value) {
    let confirmation = confirmed(base, token, authenticator, existing).await;
    let response = post(base, Some(token), REGISTER_START, confirmation).await;
    assert_eq!(response.status(), 200);
    let challenge = json(response).await;
    let ceremony = challenge["ceremony"].as_str().expect("ceremony").to_owned();
    (ceremony, challenge["options"].clone())
}

/// Registers a passkey named `name` for the holder of `token` (confirmed with
/// `existing`, a passkey the account has already, if any).
pub(crate) async fn register(
    server: &TestServer,
    token: &str,
    authenticator: &Authenticator,
    name: &str,
    existing: Option<&mut Credential>,
) -> (Credential, Value) {
    let base = &server.base;
    let (ceremony, options) = start_registration(base, token, authenticator, existing).await;
    let (credential, answer) = authenticator.create(&options);
    let body = json!({"ceremony": ceremony, "name": name, "credential": answer});
    let response = post(
        base,
        Some(token),
        "/api/users/me/passkeys/register/finish",
        body,
    )
    .await;
    assert_eq!(response.status(), 201);
    (credential, json(response).await)
}

/// Signs in at `base` with `credential` alone: the finishing response.
pub(crate) async fn log_in(
    base: &str,
    authenticator: &Authenticator,
    credential: &mut Credential,
) -> reqwest::Response {
    let (ceremony, options) = start(base, None, "/api/login/passkey/start").await;
    let answer = authenticator.get(credential, &options);
    let body = json!({"ceremony": ceremony, "credential": answer});
    post(base, None, "/api/login/passkey/finish", body).await
}

pub(crate) async fn passkeys(server: &TestServer, token: &str) -> Vec<Value> {
    let response = server
        .client
        .get(server.url("/api/users/me/passkeys"))
        .bearer_auth(token)
        .send()
        .await
        .expect("list");
    assert_eq!(response.status(), 200);
    json(response).await.as_array().expect("array").clone()
}

/// The kinds in the account's activity, newest first.
pub(crate) async fn activity(server: &TestServer, token: &str) -> Vec<String> {
    let response = server
        .client
        .get(server.url("/api/users/me/activity?limit=100"))
        .bearer_auth(token)
        .send()
        .await
        .expect("activity");
    let page = json(response).await;
    page["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|entry| entry["kind"].as_str().expect("kind").to_owned())
        .collect()
}

on_both_databases!(
    passkeys_are_registered_listed_renamed_and_removed,
    |engine: Engine| async move {
        let server = passkey_server(engine).await;
        let base = &server.base;
        let token = server.signed_up("ada").await;
        let device = Authenticator::new(SITE);
        // A change of second factors: the password first.
        let wrong = json!({"current_password": "not the password at all, no"});
        let refused = post(base, Some(&token), REGISTER_START, wrong).await;
        assert_eq!(refused.status(), 403);
        let confirmation = confirmed(base, &token, &device, None).await;
        let response = post(base, Some(&token), REGISTER_START, confirmation).await;
        let challenge = json(response).await;
        assert_eq!(challenge["ceremony"].as_str().unwrap().len(), 43);
        let public_key = &challenge["options"]["publicKey"];
        assert_eq!(public_key["rp"]["id"], "keyhold.test");
        assert_eq!(public_key["user"]["name"], "ada");
        let selection = &public_key["authenticatorSelection"];
        assert_eq!(selection["userVerification"], "required");
        assert_eq!(selection["residentKey"], "required");

        let (mut laptop, added) = register(&server, &token, &device, "  Laptop ", None).await;
        assert_eq!(added["name"], "Laptop");
        assert_eq!(added["last_used_at"], Value::Null);
        // Now the account has a second factor: the password alone no longer adds one.
        let alone = post(
            base,
            Some(&token),
            REGISTER_START,
            confirmed(base, &token, &device, None).await,
        )
        .await;
        assert_eq!(alone.status(), 422);
        assert_eq!(json(alone).await["field"], "code");
        let (_, phone) = register(&server, &token, &device, "Phone", Some(&mut laptop)).await;
        let listed = passkeys(&server, &token).await;
        let names: Vec<_> = listed.iter().map(|p| p["name"].clone()).collect();
        assert_eq!(names, ["Laptop", "Phone"]);

        // A second registration excludes the passkeys already there.
        let confirmation = confirmed(base, &token, &device, Some(&mut laptop)).await;
        let response = post(base, Some(&token), REGISTER_START, confirmation).await;
        let options = json(response).await["options"].clone();
        let excluded = options["publicKey"]["excludeCredentials"]
            .as_array()
            .unwrap();
        assert_eq!(excluded.len(), 2);
        // The same handle every time: an authenticator keeps one passkey per account.
        let handle = encode(&laptop.user_handle);
        assert_eq!(options["publicKey"]["user"]["id"], handle.as_str());

        let rename = json!({"id": phone["id"], "name": "Work phone"});
        let renamed = post(base, Some(&token), "/api/users/me/passkeys/rename", rename).await;
        assert_eq!(renamed.status(), 200);
        assert_eq!(json(renamed).await["name"], "Work phone");

        // Removing needs the password and a second factor: the passkey itself will do.
        let mut remove = confirmed(base, &token, &device, Some(&mut laptop)).await;
        remove["id"] = added["id"].clone();
        let removed = post(base, Some(&token), "/api/users/me/passkeys/remove", remove).await;
        assert_eq!(json(removed).await["removed"], true);
        let listed = passkeys(&server, &token).await;
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0]["name"], "Work phone");
        // Both additions came from this session: one entry, counting two.
        let kinds = activity(&server, &token).await;
        assert_eq!(kinds[..2], ["passkey_removed", "passkey_added"]);
        assert_eq!(kinds.iter().filter(|k| *k == "passkey_added").count(), 1);
    }
);

on_both_databases!(
    a_passkey_alone_signs_in_like_a_password,
    |engine: Engine| async move {
        let server = passkey_server(engine).await;
        let token = server.signed_up("grace").await;
        let device = Authenticator::new(SITE);
        let (mut credential, added) = register(&server, &token, &device, "Laptop", None).await;

        let response = log_in(&server.base, &device, &mut credential).await;
        assert_eq!(response.status(), 200);
        let cookies: Vec<String> = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|value| value.to_str().ok().map(str::to_owned))
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
        let body = json(response).await;
        assert_eq!(body["token_type"], "bearer");
        let passkey_token = body["access_token"].as_str().unwrap();
        let me = json(server.me(passkey_token).await).await;
        assert_eq!(me["username"], "grace");

        // A second sign-in moves the counter on and is accepted too.
        assert_eq!(
            log_in(&server.base, &device, &mut credential)
                .await
                .status(),
            200
        );
        let listed = passkeys(&server, passkey_token).await;
        assert_eq!(listed[0]["id"], added["id"]);
        assert!(listed[0]["last_used_at"].as_i64().is_some());
        let kinds = activity(&server, &token).await;
        assert_eq!(
            kinds[..2],
            ["passkey_login_succeeded", "passkey_login_succeeded"]
        );
        let sessions = server
            .client
            .get(server.url("/api/sessions"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(json(sessions).await.as_array().unwrap().len(), 3);
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
            let response = log_in(&server.base, &device, &mut credential).await;
            if response.status() == 401 {
                let error = json(response).await["error"].clone();
                // A log-in that raced the command (its cached row not yet refreshed) is
                // refused when its session cannot open: the account's sessions ended.
                if error != "invalid_token" {
                    assert_eq!(error, "account_disabled");
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
        let response = log_in(&strict.base, &device, &mut credential).await;
        assert_eq!(response.status(), 401);
        assert_eq!(json(response).await["error"], "email_not_verified");
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
        let password = json!({"current_password": PASSWORD});
        for (path, token, body) in [
            (REGISTER_START, Some(token.as_str()), password),
            ("/api/login/passkey/start", None, json!({})),
        ] {
            let response = post(&server.base, token, path, body).await;
            assert_eq!(response.status(), 404, "{path}");
            assert!(json(response).await["message"]
                .as_str()
                .unwrap()
                .contains("not available"));
        }
    }
);
