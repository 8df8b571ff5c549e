//! Revoking every token at once, over real HTTP on SQLite and PostgreSQL: a password
//! change (after its refusals: wrong password, weak new one, no token) and log out
//! everywhere end every earlier token of the account, and no one else's.

use crate::client::requests::password_change;
use crate::devices::me_status;
use crate::helpers::{Engine, TestServer, PASSWORD};
use crate::jwt_attacks::assert_refused;

on_both_databases!(
    password_change_revokes_earlier_tokens,
    |engine: Engine| async move {
        let server = TestServer::start(engine).await;
        let api = server.api();
        let old = server.signed_up("mallory").await;
        let other_device = api.login("mallory", PASSWORD).await.value().access_token;
        let mallory = api.bearer(&old);

        let wrong = password_change("not the current password!", "a brand new passphrase here");
        let answer = mallory.change_password(&wrong).await;
        assert_eq!(answer.status(), 403);
        assert_eq!(answer.error().field.as_deref(), Some("current_password"));

        let answer = mallory
            .change_password(&password_change(PASSWORD, "short"))
            .await;
        assert_eq!(answer.status(), 422);
        assert_eq!(answer.error().field.as_deref(), Some("new_password"));

        let named = password_change(PASSWORD, "mallory-has-a-new-password");
        let answer = mallory.change_password(&named).await;
        assert_eq!(answer.status(), 422, "containing the username");

        let new_password = "a brand new passphrase here";
        let answer = mallory
            .change_password(&password_change(PASSWORD, new_password))
            .await;
        assert_eq!(answer.status(), 200);
        let fresh = answer.value().access_token;

        assert_refused(&server, &old, "token from before the password change").await;
        assert_refused(&server, &other_device, "other device's token").await;
        assert_eq!(me_status(&server, &fresh).await, 200);
        assert_eq!(api.login("mallory", PASSWORD).await.status(), 401);
        assert_eq!(api.login("mallory", new_password).await.status(), 200);

        // Without a token there is nothing to change.
        let back = password_change(new_password, PASSWORD);
        assert_eq!(api.change_password(&back).await.status(), 401);
    }
);

on_both_databases!(
    log_out_everywhere_revokes_every_token,
    |engine: Engine| async move {
        let server = TestServer::start(engine).await;
        let api = server.api();
        let first = server.signed_up("nina").await;
        let second = api.login("nina", PASSWORD).await.value().access_token;
        let bystander = server.signed_up("oscar").await;
        let answer = api.bearer(&second).log_out_everywhere().await;
        assert_eq!(answer.status(), 200, "{}", answer.text());
        assert_refused(&server, &first, "first token after log out everywhere").await;
        assert_refused(
            &server,
            &second,
            "the caller's token after log out everywhere",
        )
        .await;
        assert_eq!(
            me_status(&server, &bystander).await,
            200,
            "other users keep theirs"
        );
        // Logging in again works and gives a valid token.
        let again = api.login("nina", PASSWORD).await.value().access_token;
        assert_eq!(me_status(&server, &again).await, 200);
    }
);
