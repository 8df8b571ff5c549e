//! `keyhold admin`, `migrate` and `check-config` end to end: the real binary run as a
//! command beside a running server (the real binary too) on SQLite and PostgreSQL. A
//! disabled account cannot log in (its owner is told why), refresh or use a live token;
//! the server sees the command's changes within seconds even when it caches rows.

use crate::client::requests::{newest, registration, reset};
use crate::helpers::{Engine, TestDatabase, PASSWORD};
use crate::instance::Instance;
use keyhold::api::ErrorCode;
use serde_json::Value;
use std::{
    process::Command,
    time::{Duration, Instant},
};

/// What a run of `keyhold <args>` printed, and whether it succeeded.
pub(crate) struct Run {
    pub ok: bool,
    pub stdout: String,
    pub stderr: String,
}

pub(crate) async fn keyhold(db: &TestDatabase, args: &[&str], extra: &[(&str, &str)]) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_keyhold"));
    command
        .args(args)
        .env("DATABASE_URL", &db.url)
        .env("KEYHOLD_DATA_DIR", &db.data_dir)
        .env("RUST_LOG", "warn")
        .envs(crate::helpers::key_encryption_key_for(&db.url))
        .envs(extra.iter().copied());
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .expect("run the keyhold binary");
    Run {
        ok: output.status.success(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

async fn admin_json(db: &TestDatabase, args: &[&str]) -> Value {
    let run = keyhold(db, args, &[]).await;
    assert!(run.ok, "{args:?}: {}", run.stderr);
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{args:?}: {e}: {}", run.stdout))
}

/// Waits (up to 5 s) until `token` is refused: a SQLite server learns of the command's
/// change within a second.
async fn until_refused(at: &Instance, token: &str) {
    let holder = at.api().bearer(token);
    let deadline = Instant::now() + Duration::from_secs(5);
    while holder.me().await.status() == 200 {
        assert!(Instant::now() < deadline, "the token still works");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(holder.me().await.status(), 401);
}

on_both_databases!(
    admin_commands_act_on_a_running_server,
    |engine: Engine| async move {
        let db = TestDatabase::create(engine).await;
        let client = reqwest::Client::new();
        let server = Instance::spawn(&db.url, &db.data_dir).ready(&client).await;
        let api = server.api();
        for name in ["ada", "bob"] {
            let email = format!("{name}@example.com");
            let answer = api.register(&registration(name, &email, PASSWORD)).await;
            assert_eq!(answer.status(), 201);
        }
        let token = api.login("ada", PASSWORD).await.value().access_token;

        let users = admin_json(&db, &["admin", "users", "list", "--json"]).await;
        let names: Vec<&str> = users
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["username"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["ada", "bob"]);
        let shown = admin_json(
            &db,
            &["admin", "users", "show", "ADA@example.com", "--json"],
        )
        .await;
        assert_eq!(shown["username"], "ada");
        assert_eq!(shown["sessions"], 1);
        assert_eq!(shown["disabled_at"], Value::Null);
        let sessions = admin_json(
            &db,
            &["admin", "sessions", "list", "--user", "ada", "--json"],
        )
        .await;
        assert_eq!(sessions.as_array().unwrap().len(), 1);

        // Disabled: the live token dies, the owner's log-in says why, a wrong password
        // still gets the usual answer.
        let json_log = [("KEYHOLD_LOG_FORMAT", "json"), ("RUST_LOG", "info")];
        let disabled = keyhold(&db, &["admin", "users", "disable", "ada"], &json_log).await;
        assert!(disabled.ok, "{}", disabled.stderr);
        // KEYHOLD_LOG_FORMAT=json: every log line is a JSON object; the event is one.
        let lines: Vec<Value> = disabled
            .stderr
            .lines()
            .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
            .collect();
        let event = lines
            .iter()
            .find(|line| line["target"] == "keyhold::audit")
            .expect("the security event is logged");
        assert_eq!(event["event"], "account_disabled");
        assert_eq!(event["level"], "INFO");
        assert!(event["user_id"].as_i64().is_some());
        until_refused(&server, &token).await;
        let refused = api.login("ada", PASSWORD).await;
        assert_eq!(refused.status(), 401);
        assert_eq!(refused.error().error, ErrorCode::AccountDisabled);
        let wrong = api.login("ada", "not the password, not at all").await;
        assert_eq!(wrong.error().error, ErrorCode::InvalidCredentials);
        let shown = admin_json(&db, &["admin", "users", "show", "ada", "--json"]).await;
        assert!(shown["disabled_at"].as_i64().is_some());
        assert_eq!(shown["sessions"], 0);

        // Enabled again: log-in works; then every session revoked from the command line.
        assert!(
            keyhold(&db, &["admin", "users", "enable", "ada"], &[])
                .await
                .ok
        );
        let deadline = Instant::now() + Duration::from_secs(5);
        let token = loop {
            let answer = api.login("ada", PASSWORD).await;
            if answer.status() == 200 {
                break answer.value().access_token;
            }
            assert!(Instant::now() < deadline, "still refused after enable");
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        assert!(
            keyhold(&db, &["admin", "sessions", "revoke", "--user", "ada"], &[])
                .await
                .ok
        );
        until_refused(&server, &token).await;

        // The account's log shows what the administrator did.
        let token = api.login("ada", PASSWORD).await.value().access_token;
        let page = api.bearer(&token).activity(&newest(None)).await.value();
        let kinds: Vec<&str> = page.entries.iter().map(|e| e.kind.name()).collect();
        for kind in [
            "sessions_revoked_by_admin",
            "account_enabled",
            "login_refused_disabled",
            "account_disabled",
        ] {
            assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
        }

        // Deleting needs --yes; unknown accounts are named in the error.
        let unconfirmed = keyhold(&db, &["admin", "users", "delete", "bob"], &[]).await;
        assert!(!unconfirmed.ok);
        assert!(
            unconfirmed.stderr.contains("--yes"),
            "{}",
            unconfirmed.stderr
        );
        assert!(
            keyhold(&db, &["admin", "users", "delete", "bob", "--yes"], &[])
                .await
                .ok
        );
        let users = admin_json(&db, &["admin", "users", "list", "--json"]).await;
        assert_eq!(users.as_array().unwrap().len(), 1);
        let missing = keyhold(&db, &["admin", "users", "show", "bob"], &[]).await;
        assert!(!missing.ok);
        assert!(missing.stderr.contains("\"bob\""), "{}", missing.stderr);
        // A reset link made on the command line works once, through the API.
        let link = keyhold(&db, &["admin", "password-reset-link", "--user", "ada"], &[]).await;
        assert!(link.ok, "{}", link.stderr);
        let token = link
            .stdout
            .trim()
            .split("token=")
            .nth(1)
            .expect("a link with a token");
        let new_password = "set through an administrator's link";
        let answer = api.reset_password(&reset(token, new_password)).await;
        assert_eq!(answer.status(), 200);
        assert_eq!(api.login("ada", new_password).await.status(), 200);
        assert_eq!(api.login("bob", PASSWORD).await.status(), 401);
    }
);

on_both_databases!(migrate_and_check_config, |engine: Engine| async move {
    let db = TestDatabase::create(engine).await;
    let migrated = keyhold(&db, &["migrate"], &[]).await;
    assert!(migrated.ok, "{}", migrated.stderr);
    let secret = "check-config-secret-0123456789abcdef-0123456789";
    let checked = keyhold(&db, &["check-config"], &[("KEYHOLD_JWT_SECRET", secret)]).await;
    assert!(checked.ok, "{}", checked.stderr);
    assert!(checked.stdout.contains("audit_retention"));
    assert!(
        !checked.stdout.contains(secret),
        "secrets are never printed"
    );
    for (name, value) in [
        ("KEYHOLD_AUDIT_RETENTION", "1h"),
        ("KEYHOLD_LOG_FORMAT", "xml"),
        (
            "KEYHOLD_JWT_SECRET",
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        ),
    ] {
        let refused = keyhold(&db, &["check-config"], &[(name, value)]).await;
        assert!(!refused.ok, "{name}={value}");
        assert!(refused.stderr.contains(name), "{name}: {}", refused.stderr);
    }
    let unreachable = keyhold(
        &db,
        &["check-config"],
        &[
            ("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none"),
            ("KEYHOLD_DB_CONNECT_TIMEOUT", "2"),
            (
                "KEYHOLD_KEY_ENCRYPTION_KEY",
                crate::helpers::POSTGRES_KEY_ENCRYPTION_KEY,
            ),
        ],
    )
    .await;
    assert!(!unreachable.ok);
    assert!(
        unreachable.stderr.contains("database"),
        "{}",
        unreachable.stderr
    );
});
