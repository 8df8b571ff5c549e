//! Passwords leaked in data breaches and the service's name are refused wherever a
//! password is chosen, over HTTP on SQLite and PostgreSQL.

use crate::helpers::{json, Engine, TestServer, PASSWORD};
use serde_json::json;

on_both_databases!(
    breached_passwords_of_the_policy_length_are_refused,
    |engine: Engine| async move {
        let server = TestServer::start(engine).await;
        // Each at least 15 characters and beyond the 10 000 most common passwords, so early
        // in a guesser's list; the old blocklist let them through.
        for (password, reason) in [
            ("StairwayToHeaven", "data breaches"),
            ("worldofwarcraft", "data breaches"),
            ("ManchesterUnited1999!", "added at the end"),
            ("my keyhold passphrase", "\"keyhold\""),
        ] {
            let response = server
                .register("mallory", "mallory@example.com", password)
                .await;
            assert_eq!(response.status(), 422, "{password}");
            let body = json(response).await;
            assert_eq!(body["error"], "validation_failed");
            assert_eq!(body["field"], "password");
            let message = body["message"].as_str().unwrap();
            assert!(message.contains(reason), "{password}: {message}");
            assert!(!message.to_lowercase().contains(&password.to_lowercase()));
        }
        // Nothing was created: the name is still free, and a strong password takes it.
        let response = server
            .register("mallory", "mallory@example.com", PASSWORD)
            .await;
        assert_eq!(response.status(), 201);

        // A new password keeps the same rules.
        let response = server.login("mallory", PASSWORD).await;
        let token = json(response).await["access_token"]
            .as_str()
            .unwrap()
            .to_owned();
        let response = server
            .post_json(
                Some(&token),
                "/api/users/me/password",
                json!({"current_password": PASSWORD, "new_password": "StairwayToHeaven"}),
            )
            .await;
        assert_eq!(response.status(), 422);
        let body = json(response).await;
        assert_eq!(body["field"], "new_password");
        assert!(body["message"].as_str().unwrap().contains("data breaches"));
        assert_eq!(server.login("mallory", PASSWORD).await.status(), 200);
    }
);
