//! Account self-service over real HTTP on SQLite and PostgreSQL: edit the profile,
//! delete the account, download my data.

use crate::helpers::{json, text_field, Engine, TestServer, PASSWORD};
use serde_json::{json, Value};

async fn post(server: &TestServer, path: &str, token: &str, body: Value) -> reqwest::Response {
    server
        .client
        .post(server.url(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

on_both_databases!(
    rename_keeps_tokens_and_frees_the_old_name,
    |engine: Engine| async move {
        let server = TestServer::start(engine).await;
        let token = server.signed_up("oldname").await;
        server.signed_up("taken").await;

        let response = post(
            &server,
            "/api/users/me/profile",
            &token,
            json!({"username": "TAKEN", "current_password": PASSWORD}),
        )
        .await;
        assert_eq!(response.status(), 409);
        assert_eq!(json(response).await["field"], "username");
        let response = post(
            &server,
            "/api/users/me/profile",
            &token,
            json!({"username": "no spaces"}),
        )
        .await;
        assert_eq!(response.status(), 422);

        // A stolen token alone cannot rename the account: the password is asked for.
        let response = post(
            &server,
            "/api/users/me/profile",
            &token,
            json!({"username": "NewName"}),
        )
        .await;
        assert_eq!(response.status(), 422);
        assert_eq!(json(response).await["field"], "current_password");
        let response = post(
            &server,
            "/api/users/me/profile",
            &token,
            json!({"username": "NewName", "current_password": "not the password at all"}),
        )
        .await;
        assert_eq!(response.status(), 403);

        let response = post(
            &server,
            "/api/users/me/profile",
            &token,
            json!({"username": "NewName", "current_password": PASSWORD}),
        )
        .await;
        assert_eq!(response.status(), 200);
        assert_eq!(json(response).await["username"], "NewName");
        // The same token still works: it carries the stable id, not the name.
        let me = json(server.me(&token).await).await;
        assert_eq!(me["username"], "NewName");
        assert_eq!(server.login("newname", PASSWORD).await.status(), 200);
        assert_eq!(server.login("oldname", PASSWORD).await.status(), 401);
        // The old name is free again.
        assert_eq!(
            server
                .register("oldname", "someone@example.com", PASSWORD)
                .await
                .status(),
            201
        );
    }
);

on_both_databases!(
    email_change_needs_the_password,
    |engine: Engine| async move {
        let server = TestServer::start(engine).await;
        let token = server.signed_up("mailer").await;
        server.signed_up("other").await;

        let response = post(
            &server,
            "/api/users/me/profile",
            &token,
            json!({"email": "new@example.com"}),
        )
        .await;
        assert_eq!(response.status(), 422);
        assert_eq!(json(response).await["field"], "current_password");

        let response = post(
            &server,
            "/api/users/me/profile",
            &token,
            json!({"email": "new@example.com", "current_password": "not the password at all"}),
        )
        .await;
        assert_eq!(response.status(), 403);
        assert_eq!(json(response).await["field"], "current_password");

        let response = post(
            &server,
            "/api/users/me/profile",
            &token,
            json!({"email": "OTHER@example.com", "current_password": PASSWORD}),
        )
        .await;
        assert_eq!(response.status(), 409);
        assert_eq!(json(response).await["field"], "email");

        let response = post(
            &server,
            "/api/users/me/profile",
            &token,
            json!({"email": "New@Example.COM", "current_password": PASSWORD}),
        )
        .await;
        assert_eq!(response.status(), 200);
        // The new address takes effect once the link mailed to it is followed.
        let pending = json(response).await;
        assert_eq!(pending["email"], "mailer@example.com");
        assert_eq!(pending["pending_email"], "New@example.com");
        assert_eq!(
            server.login("new@example.com", PASSWORD).await.status(),
            401
        );
        let link =
            crate::maildev::outbox_token(server.data_dir(), "New@example.com", "verify-email")
                .await;
        let confirmed = server
            .client
            .post(server.url("/api/email/verify"))
            .json(&json!({"token": link}))
            .send()
            .await
            .unwrap();
        assert_eq!(json(confirmed).await["email"], "New@example.com");
        assert_eq!(
            server.login("new@example.com", PASSWORD).await.status(),
            200
        );
        // Changing only the case of the e-mail's domain needs no password.
        let response = post(
            &server,
            "/api/users/me/profile",
            &token,
            json!({"email": "New@EXAMPLE.com"}),
        )
        .await;
        assert_eq!(response.status(), 200);
    }
);

on_both_databases!(
    deleting_the_account_ends_everything,
    |engine: Engine| async move {
        let server = TestServer::start(engine).await;
        let token = server.signed_up("leaver").await;
        let second = text_field(server.login("leaver", PASSWORD).await, "access_token").await;
        let bystander = server.signed_up("stayer").await;

        let response = post(
            &server,
            "/api/users/me/delete",
            &token,
            json!({"password": PASSWORD, "confirm": "someone"}),
        )
        .await;
        assert_eq!(response.status(), 422);
        assert_eq!(json(response).await["field"], "confirm");
        let response = post(
            &server,
            "/api/users/me/delete",
            &token,
            json!({"password": "wrong password entirely", "confirm": "leaver"}),
        )
        .await;
        assert_eq!(response.status(), 403);
        assert_eq!(json(response).await["field"], "password");
        assert_eq!(server.me(&token).await.status(), 200, "nothing deleted yet");

        let response = post(
            &server,
            "/api/users/me/delete",
            &token,
            json!({"password": PASSWORD, "confirm": "Leaver"}),
        )
        .await;
        assert_eq!(response.status(), 200);
        assert_eq!(json(response).await, json!({"deleted": true}));

        // Every token of the deleted user is refused; log-in fails with the usual answer.
        for token in [&token, &second] {
            let response = server.me(token).await;
            assert_eq!(response.status(), 401);
            assert_eq!(json(response).await["error"], "invalid_token");
        }
        let response = server.login("leaver", PASSWORD).await;
        assert_eq!(response.status(), 401);
        assert_eq!(
            json(response).await["message"],
            "Incorrect username or password."
        );
        assert_eq!(server.me(&bystander).await.status(), 200);
        // Name and e-mail are free again.
        assert_eq!(
            server
                .register("leaver", "leaver@example.com", PASSWORD)
                .await
                .status(),
            201
        );
    }
);

on_both_databases!(
    export_contains_the_profile_and_never_the_hash,
    |engine: Engine| async move {
        let server = TestServer::start(engine).await;
        let token = server.signed_up("exporter").await;
        let response = server
            .client
            .get(server.url("/api/users/me/export"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["cache-control"], "no-store");
        let text = response.text().await.unwrap();
        assert!(!text.contains("$argon2"), "no hash in {text}");
        let export: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(export["profile"]["username"], "exporter");
        // The session of this token, as stored, without its refresh hash.
        let sessions = export["sessions"].as_array().unwrap();
        assert_eq!(sessions.len(), 1);
        assert_eq!(sessions[0]["address"], "127.0.0.1");
        assert!(sessions[0].get("refresh_hash").is_none());
        assert_eq!(export["profile"]["email"], "exporter@example.com");
        assert!(export["profile"]["image_url"].is_null());
        assert!(export["profile"]["created_at"].as_i64().unwrap() > 1_700_000_000);
        assert!(
            export["exported_at"].as_i64().unwrap()
                >= export["profile"]["created_at"].as_i64().unwrap()
        );
        assert_eq!(export["security"]["token_revocations"], 0);

        let response = server
            .client
            .get(server.url("/api/users/me/export"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401);
    }
);
