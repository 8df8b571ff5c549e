//! Account self-service over real HTTP on SQLite and PostgreSQL: edit the profile,
//! delete the account, download my data.

use crate::client::requests::{deletion, link, new_email, new_username, registration};
use crate::devices::me_status;
use crate::helpers::{Engine, TestServer, PASSWORD};
use keyhold::api::{account::Deleted, ErrorCode};
use serde_json::Value;

on_both_databases!(
    rename_keeps_tokens_and_frees_the_old_name,
    |engine: Engine| async move {
        let server = TestServer::start(engine).await;
        let api = server.api();
        let token = server.signed_up("oldname").await;
        server.signed_up("taken").await;
        let holder = api.bearer(&token);

        let answer = holder
            .update_profile(&new_username("TAKEN", Some(PASSWORD)))
            .await;
        assert_eq!(answer.status(), 409);
        assert_eq!(answer.error().field.as_deref(), Some("username"));
        let answer = holder
            .update_profile(&new_username("no spaces", None))
            .await;
        assert_eq!(answer.status(), 422);

        // A stolen token alone cannot rename the account: the password is asked for.
        let answer = holder.update_profile(&new_username("NewName", None)).await;
        assert_eq!(answer.status(), 422);
        assert_eq!(answer.error().field.as_deref(), Some("current_password"));
        let wrong = new_username("NewName", Some("not the password at all"));
        assert_eq!(holder.update_profile(&wrong).await.status(), 403);

        let answer = holder
            .update_profile(&new_username("NewName", Some(PASSWORD)))
            .await;
        assert_eq!(answer.status(), 200);
        assert_eq!(answer.value().username, "NewName");
        // The same token still works: it carries the stable id, not the name.
        assert_eq!(holder.me().await.value().username, "NewName");
        assert_eq!(api.login("newname", PASSWORD).await.status(), 200);
        assert_eq!(api.login("oldname", PASSWORD).await.status(), 401);
        // The old name is free again.
        let again = registration("oldname", "someone@example.com", PASSWORD);
        assert_eq!(api.register(&again).await.status(), 201);
    }
);

on_both_databases!(
    email_change_needs_the_password,
    |engine: Engine| async move {
        let server = TestServer::start(engine).await;
        let api = server.api();
        let token = server.signed_up("mailer").await;
        server.signed_up("other").await;
        let holder = api.bearer(&token);

        let answer = holder
            .update_profile(&new_email("new@example.com", None))
            .await;
        assert_eq!(answer.status(), 422);
        assert_eq!(answer.error().field.as_deref(), Some("current_password"));

        let wrong = new_email("new@example.com", Some("not the password at all"));
        let answer = holder.update_profile(&wrong).await;
        assert_eq!(answer.status(), 403);
        assert_eq!(answer.error().field.as_deref(), Some("current_password"));

        let taken = new_email("OTHER@example.com", Some(PASSWORD));
        let answer = holder.update_profile(&taken).await;
        assert_eq!(answer.status(), 409);
        assert_eq!(answer.error().field.as_deref(), Some("email"));

        let answer = holder
            .update_profile(&new_email("New@Example.COM", Some(PASSWORD)))
            .await;
        assert_eq!(answer.status(), 200);
        // The new address takes effect once the link mailed to it is followed.
        let pending = answer.value();
        assert_eq!(pending.email, "mailer@example.com");
        assert_eq!(pending.pending_email.as_deref(), Some("New@example.com"));
        assert_eq!(api.login("new@example.com", PASSWORD).await.status(), 401);
        let token =
            crate::maildev::outbox_token(server.data_dir(), "New@example.com", "verify-email")
                .await;
        let confirmed = api.verify_email(&link(&token)).await;
        assert_eq!(confirmed.value().email, "New@example.com");
        assert_eq!(api.login("new@example.com", PASSWORD).await.status(), 200);
        // Changing only the case of the e-mail's domain needs no password.
        let answer = holder
            .update_profile(&new_email("New@EXAMPLE.com", None))
            .await;
        assert_eq!(answer.status(), 200);
    }
);

on_both_databases!(
    deleting_the_account_ends_everything,
    |engine: Engine| async move {
        let server = TestServer::start(engine).await;
        let api = server.api();
        let token = server.signed_up("leaver").await;
        let second = api.login("leaver", PASSWORD).await.value().access_token;
        let bystander = server.signed_up("stayer").await;
        let holder = api.bearer(&token);

        let answer = holder.delete_account(&deletion(PASSWORD, "someone")).await;
        assert_eq!(answer.status(), 422);
        assert_eq!(answer.error().field.as_deref(), Some("confirm"));
        let wrong = deletion("wrong password entirely", "leaver");
        let answer = holder.delete_account(&wrong).await;
        assert_eq!(answer.status(), 403);
        assert_eq!(answer.error().field.as_deref(), Some("password"));
        assert_eq!(me_status(&server, &token).await, 200, "nothing deleted yet");

        let answer = holder.delete_account(&deletion(PASSWORD, "Leaver")).await;
        assert_eq!(answer.status(), 200);
        assert_eq!(answer.value(), Deleted { deleted: true });

        // Every token of the deleted user is refused; log-in fails with the usual answer.
        for token in [&token, &second] {
            let answer = api.bearer(token).me().await;
            assert_eq!(answer.status(), 401);
            assert_eq!(answer.error().error, ErrorCode::InvalidToken);
        }
        let answer = api.login("leaver", PASSWORD).await;
        assert_eq!(answer.status(), 401);
        assert_eq!(answer.error().message, "Incorrect username or password.");
        assert_eq!(me_status(&server, &bystander).await, 200);
        // Name and e-mail are free again.
        let again = registration("leaver", "leaver@example.com", PASSWORD);
        assert_eq!(api.register(&again).await.status(), 201);
    }
);

on_both_databases!(
    export_contains_the_profile_and_never_the_hash,
    |engine: Engine| async move {
        let server = TestServer::start(engine).await;
        let token = server.signed_up("exporter").await;
        let answer = server.api().bearer(&token).export_data().await;
        assert_eq!(answer.status(), 200);
        assert_eq!(answer.headers()["cache-control"], "no-store");
        let text = answer.text();
        assert!(!text.contains("$argon2"), "no hash in {text}");
        let export = answer.value();
        assert_eq!(export.profile.username, "exporter");
        // The session of this token, as stored, without its refresh hash.
        assert_eq!(export.sessions.len(), 1);
        assert_eq!(export.sessions[0].address, "127.0.0.1");
        let raw: Value = answer.json();
        assert!(raw["sessions"][0].get("refresh_hash").is_none());
        assert_eq!(export.profile.email, "exporter@example.com");
        assert!(export.profile.image_url.is_none());
        assert!(export.profile.created_at > 1_700_000_000);
        assert!(export.exported_at >= export.profile.created_at);
        assert_eq!(export.security.token_revocations, 0);

        let anonymous = server.api().export_data().await;
        assert_eq!(anonymous.status(), 401);
    }
);
