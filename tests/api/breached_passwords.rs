//! Passwords leaked in data breaches and the service's name are refused wherever a
//! password is chosen, over HTTP on SQLite and PostgreSQL.

use crate::client::requests::{password_change, registration};
use crate::helpers::{Engine, TestServer, PASSWORD};
use keyhold::api::ErrorCode;

on_both_databases!(
    breached_passwords_of_the_policy_length_are_refused,
    |engine: Engine| async move {
        let server = TestServer::start(engine).await;
        let api = server.api();
        // Each at least 15 characters and beyond the 10 000 most common passwords, so early
        // in a guesser's list; the old blocklist let them through.
        for (password, reason) in [
            ("StairwayToHeaven", "data breaches"),
            ("worldofwarcraft", "data breaches"),
            ("ManchesterUnited1999!", "added at the end"),
            ("my keyhold passphrase", "\"keyhold\""),
        ] {
            let answer = api
                .register(&registration("mallory", "mallory@example.com", password))
                .await;
            assert_eq!(answer.status(), 422, "{password}");
            let error = answer.error();
            assert_eq!(error.error, ErrorCode::ValidationFailed);
            assert_eq!(error.field.as_deref(), Some("password"));
            assert!(
                error.message.contains(reason),
                "{password}: {}",
                error.message
            );
            assert!(!error
                .message
                .to_lowercase()
                .contains(&password.to_lowercase()));
        }
        // Nothing was created: the name is still free, and a strong password takes it.
        let answer = api
            .register(&registration("mallory", "mallory@example.com", PASSWORD))
            .await;
        assert_eq!(answer.status(), 201);

        // A new password keeps the same rules.
        let token = api.login("mallory", PASSWORD).await.value().access_token;
        let answer = api
            .bearer(&token)
            .change_password(&password_change(PASSWORD, "StairwayToHeaven"))
            .await;
        assert_eq!(answer.status(), 422);
        let error = answer.error();
        assert_eq!(error.field.as_deref(), Some("new_password"));
        assert!(error.message.contains("data breaches"));
        assert_eq!(api.login("mallory", PASSWORD).await.status(), 200);
    }
);
