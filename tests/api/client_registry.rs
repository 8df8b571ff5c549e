//! `keyhold admin clients` end to end: the real binary registers, shows, lists, rotates
//! and removes applications (OpenID Connect clients) in a fresh database on SQLite and
//! PostgreSQL. The secret is printed once and never again; the row holds only its hash,
//! checked through the store as the token endpoint will check it.

use crate::admin_cli::{keyhold, Run};
use crate::helpers::{Engine, TestDatabase};
use keyhold::server::{
    building_blocks::oauth_clients::client_secret::verify_secret,
    store::{DatabaseOptions, OAuthClientStore, SqlStore},
};
use serde_json::Value;
use sqlx::{AnyConnection, Connection, Row};
use std::time::Duration;

async fn clients(db: &TestDatabase, args: &[&str]) -> Run {
    let mut full = vec!["admin", "clients"];
    full.extend_from_slice(args);
    keyhold(db, &full, &[]).await
}

async fn clients_json(db: &TestDatabase, args: &[&str]) -> Value {
    let run = clients(db, args).await;
    assert!(run.ok, "{args:?}: {}", run.stderr);
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{args:?}: {e}: {}", run.stdout))
}

async fn refused(db: &TestDatabase, args: &[&str], says: &str) {
    let run = clients(db, args).await;
    assert!(!run.ok, "{args:?} was accepted: {}", run.stdout);
    assert!(run.stderr.contains(says), "{args:?}: {}", run.stderr);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}

/// The store the token endpoint will use, in this process.
async fn store(db: &TestDatabase) -> SqlStore {
    SqlStore::connect(&DatabaseOptions {
        url: db.url.clone(),
        pool_size: 1,
        acquire_timeout: Duration::from_secs(5),
        statement_timeout: Duration::from_secs(5),
    })
    .await
    .unwrap()
}

/// Whether `secret` is the one stored for `client_id`.
async fn verifies(db: &TestDatabase, client_id: &str, secret: &str) -> bool {
    let client = store(db).await.client(client_id).await.unwrap().unwrap();
    verify_secret(client.secret_hash.as_deref(), secret)
}

async fn registered(db: &TestDatabase, client_id: &str) -> bool {
    store(db).await.client(client_id).await.unwrap().is_some()
}

/// Every text column of every client row, as someone reading the database sees them.
async fn stored_text(db: &TestDatabase) -> String {
    sqlx::any::install_default_drivers();
    let mut conn = AnyConnection::connect(&db.url).await.unwrap();
    let rows = sqlx::query(
        "SELECT client_id, name, COALESCE(secret_hash, '') AS secret_hash, redirect_uris, \
         post_logout_redirect_uris, scopes, id_token_alg FROM oauth_clients",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    let mut text = String::new();
    for row in &rows {
        for column in 0..row.len() {
            text.push_str(&row.try_get::<String, _>(column).unwrap());
            text.push('\n');
        }
    }
    text
}

on_both_databases!(
    clients_are_registered_shown_rotated_and_removed,
    |engine: Engine| async move {
        let db = TestDatabase::create(engine).await;
        let added = clients_json(
            &db,
            &[
                "add",
                "Team wiki",
                "--redirect-uri",
                "https://wiki.example.com/cb",
                "--redirect-uri",
                "http://127.0.0.1:8080/cb",
                "--scope",
                "openid",
                "--scope",
                "email offline_access",
                "--post-logout-redirect-uri",
                "https://wiki.example.com/bye",
                "--id-token-alg",
                "EdDSA",
                "--first-party",
                "--json",
            ],
        )
        .await;
        let id = added["client_id"].as_str().unwrap().to_owned();
        let secret = added["client_secret"].as_str().unwrap().to_owned();
        assert_eq!(id.len(), 22);
        assert_eq!(secret.len(), 43, "256 bits in base64url");
        assert_eq!(added.as_object().unwrap().len(), 2);

        let public = clients_json(
            &db,
            &[
                "add",
                "Phone app",
                "--redirect-uri",
                "com.example.app:/cb",
                "--public",
                "--json",
            ],
        )
        .await;
        let public_id = public["client_id"].as_str().unwrap().to_owned();
        assert_ne!(public_id, id);
        assert_eq!(public.get("client_secret"), None);

        let shown = clients_json(&db, &["show", &id, "--json"]).await;
        assert_eq!(shown["name"], "Team wiki");
        assert_eq!(shown["type"], "confidential");
        assert_eq!(shown["first_party"], true);
        assert_eq!(
            shown["scopes"],
            serde_json::json!(["openid", "email", "offline_access"])
        );
        assert_eq!(shown["id_token_alg"], "EdDSA");
        assert_eq!(
            shown["redirect_uris"],
            serde_json::json!(["https://wiki.example.com/cb", "http://127.0.0.1:8080/cb"])
        );
        assert_eq!(
            shown["post_logout_redirect_uris"],
            serde_json::json!(["https://wiki.example.com/bye"])
        );
        let public_shown = clients_json(&db, &["show", &public_id, "--json"]).await;
        assert_eq!(public_shown["type"], "public");
        assert_eq!(
            public_shown["scopes"],
            serde_json::json!(["openid", "profile", "email"])
        );
        assert_eq!(public_shown["id_token_alg"], "RS256");
        let list = clients_json(&db, &["list", "--json"]).await;
        let ids: Vec<&str> = list
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["client_id"].as_str().unwrap())
            .collect();
        assert_eq!(ids.len(), 2);
        assert!(ids.contains(&id.as_str()) && ids.contains(&public_id.as_str()));

        // The secret is printed once: not by show or list, in either form, nor stored.
        for args in [
            vec!["show", id.as_str()],
            vec!["show", id.as_str(), "--json"],
            vec!["list"],
            vec!["list", "--json"],
        ] {
            let run = clients(&db, &args).await;
            assert!(run.ok, "{args:?}: {}", run.stderr);
            assert!(run.stdout.contains(&id), "{args:?}: {}", run.stdout);
            assert!(!run.stdout.contains(&secret), "{args:?} printed the secret");
        }
        let stored = stored_text(&db).await;
        assert!(stored.contains(&id));
        assert!(!stored.contains(&secret), "the row holds the secret");
        assert!(verifies(&db, &id, &secret).await);
        assert!(!verifies(&db, &id, "a guess").await);
        assert!(
            !verifies(&db, &public_id, "").await,
            "a public client has no secret"
        );

        // A new secret: the old one stops verifying at once.
        let rotated = clients_json(&db, &["rotate-secret", &id, "--json"]).await;
        let new_secret = rotated["client_secret"].as_str().unwrap().to_owned();
        assert_eq!(rotated["client_id"], id.as_str());
        assert_ne!(new_secret, secret);
        assert!(
            !verifies(&db, &id, &secret).await,
            "the old secret still verifies"
        );
        assert!(verifies(&db, &id, &new_secret).await);
        assert!(!stored_text(&db).await.contains(&new_secret));
        refused(&db, &["rotate-secret", &public_id], "public client").await;
        refused(&db, &["rotate-secret", "no-such-client"], "no-such-client").await;

        // Removal needs --yes; then the client is gone.
        refused(&db, &["remove", &id], "--yes").await;
        assert!(registered(&db, &id).await);
        let removed = clients(&db, &["remove", &id, "--yes"]).await;
        assert!(removed.ok, "{}", removed.stderr);
        refused(&db, &["show", &id], "no client has the id").await;
        refused(&db, &["remove", &id, "--yes"], "no client has the id").await;
        assert!(!registered(&db, &id).await);
        let list = clients_json(&db, &["list", "--json"]).await;
        assert_eq!(list.as_array().unwrap().len(), 1);
    }
);

on_both_databases!(
    unsafe_registrations_are_refused,
    |engine: Engine| async move {
        let db = TestDatabase::create(engine).await;
        let add = |uri: &'static str| ["add", "Evil", "--redirect-uri", uri];
        for (args, says) in [
            (add("http://client.example.com/cb").to_vec(), "loopback"),
            (add("http://localhost:8080/cb").to_vec(), "RFC 8252"),
            (add("javascript:alert(1)").to_vec(), "scheme"),
            (add("data:text/html,hi").to_vec(), "scheme"),
            (add("https://client.example.com/cb#x").to_vec(), "fragment"),
            (
                add("https://client.example@evil.example/").to_vec(),
                "user name",
            ),
            (add("/cb").to_vec(), "absolute"),
            (vec!["add", "No redirect"], "--redirect-uri"),
            (
                vec!["add", "  ", "--redirect-uri", "https://a.example/cb"],
                "name",
            ),
            (
                vec![
                    "add",
                    "S",
                    "--redirect-uri",
                    "https://a.example/cb",
                    "--scope",
                    "admin",
                ],
                "unknown scope",
            ),
            (
                vec![
                    "add",
                    "A",
                    "--redirect-uri",
                    "https://a.example/cb",
                    "--id-token-alg",
                    "none",
                ],
                "algorithm",
            ),
            (
                vec![
                    "add",
                    "A",
                    "--redirect-uri",
                    "https://a.example/cb",
                    "--id-token-alg",
                    "HS256",
                ],
                "algorithm",
            ),
            (
                vec![
                    "add",
                    "L",
                    "--redirect-uri",
                    "https://a.example/cb",
                    "--post-logout-redirect-uri",
                    "http://evil.example/",
                ],
                "loopback",
            ),
        ] {
            refused(&db, &args, says).await;
        }
        let list = clients_json(&db, &["list", "--json"]).await;
        assert_eq!(list, serde_json::json!([]), "nothing refused was stored");
    }
);
