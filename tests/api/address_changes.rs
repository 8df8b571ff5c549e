//! The address-change safety net (issue 31, finding 3), over real HTTP and a real SMTP
//! server on SQLite and PostgreSQL. Someone with the password moves the account to their
//! own address; the old address gets a link that undoes it for 7 days:
//! - a second change cannot move the account out of that link's reach (or delete it):
//!   the address is frozen while the link lives, and the owner's undo still works;
//! - a change still waiting for its link dies when the owner shuts the intruder out
//!   (password changed, log-out everywhere, "This wasn't me", a reset): its link no
//!   longer confirms anything.

use crate::helpers::{json, Engine, TestServer, PASSWORD};
use crate::maildev::Maildev;
use crate::recovery::mailed_server;
use serde_json::{json, Value};
use std::time::Duration;

const CONFIRM: &str = "Confirm your e-mail address";

/// Asks to move the holder of `token` to `email`.
async fn change_to(server: &TestServer, token: &str, email: &str) -> reqwest::Response {
    let body = json!({"email": email, "current_password": PASSWORD});
    server
        .post_json(Some(token), "/api/users/me/profile", body)
        .await
}

/// Follows the `nth` confirmation link mailed to `email`.
async fn confirm(server: &TestServer, maildev: &Maildev, email: &str, nth: usize) -> u16 {
    let mail = maildev.wait_for(email, CONFIRM, nth).await;
    let body = json!({"token": mail.token()});
    let answer = server.post_json(None, "/api/email/verify", body).await;
    answer.status().as_u16()
}

on_both_databases!(
    a_second_change_cannot_escape_the_undo,
    |engine: Engine| async move {
        let (server, maildev) = mailed_server(engine, &[]).await;
        let token = server.signed_up("ada").await;
        assert_eq!(
            change_to(&server, &token, "ada@intruder.example")
                .await
                .status(),
            200
        );
        assert_eq!(
            confirm(&server, &maildev, "ada@intruder.example", 1).await,
            200
        );
        let notice = maildev
            .wait_for("ada@example.com", "address was changed", 1)
            .await;

        // Moving on to a third address would strand (and delete) the owner's undo link.
        let again = change_to(&server, &token, "ada@elsewhere.example").await;
        assert_eq!(again.status(), 409);
        let body = json(again).await;
        assert_eq!(body["field"], "email");
        assert!(
            body["message"].as_str().unwrap().contains("7 days"),
            "{body}"
        );

        // The owner's undo still works, and after it the address may change again.
        let body = json!({"token": notice.token()});
        let undone = server.post_json(None, "/api/email/undo-change", body).await;
        assert_eq!(
            json(undone).await,
            json!({"email": "ada@example.com", "verified": true})
        );
        let fresh = json(server.login("ada", PASSWORD).await).await["access_token"].clone();
        let fresh = fresh.as_str().unwrap();
        // (At most one confirmation link a minute per account.)
        server.clock.advance(Duration::from_secs(61));
        assert_eq!(
            change_to(&server, fresh, "ada@next.example").await.status(),
            200
        );
    }
);

on_both_databases!(
    shutting_the_intruder_out_ends_their_change,
    |engine: Engine| async move {
        let (server, maildev) = mailed_server(engine, &[]).await;
        let new_password = "the owner's fresh passphrase";
        let ways: [(&str, &str, Value); 3] = [
            (
                "by_password",
                "/api/users/me/password",
                json!({"current_password": PASSWORD, "new_password": new_password}),
            ),
            ("by_logout_all", "/api/users/me/logout-all", json!({})),
            ("by_not_me", "/api/users/me/activity/not-me", Value::Null),
        ];
        for (name, path, body) in ways {
            let token = server.signed_up(name).await;
            let intruder = json(server.login(name, PASSWORD).await).await["access_token"].clone();
            let intruder = intruder.as_str().unwrap();
            let theirs = format!("{name}@intruder.example");
            assert_eq!(change_to(&server, intruder, &theirs).await.status(), 200);
            let body = if body.is_null() {
                // The intruder's sign-in, reported from the owner's session.
                let path = "/api/users/me/activity";
                let page = server.client.get(server.url(path)).bearer_auth(&token);
                let page = json(page.send().await.unwrap()).await;
                let entry = page["entries"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|e| e["current_session"] == false && e["kind"] == "login_succeeded")
                    .expect("the intruder's sign-in")["id"]
                    .clone();
                json!({"id": entry})
            } else {
                body
            };
            let shut = server.post_json(Some(&token), path, body).await;
            assert_eq!(shut.status(), 200, "{name}");
            assert_eq!(
                confirm(&server, &maildev, &theirs, 1).await,
                400,
                "{name}: the link is dead"
            );
            let password = if name == "by_password" {
                new_password
            } else {
                PASSWORD
            };
            let owner = json(server.login(name, password).await).await["access_token"].clone();
            let me = json(server.me(owner.as_str().unwrap()).await).await;
            assert_eq!(me["email"], format!("{name}@example.com"), "{name}");
            assert_eq!(me["pending_email"], Value::Null, "{name}");
        }

        // A reset through the mailbox ends it too.
        let token = server.signed_up("by_reset").await;
        assert_eq!(
            change_to(&server, &token, "by_reset@intruder.example")
                .await
                .status(),
            200
        );
        let body = json!({"email": "by_reset@example.com"});
        server.post_json(None, "/api/password/forgot", body).await;
        let mail = maildev
            .wait_for("by_reset@example.com", "Reset your Keyhold password", 1)
            .await;
        let body = json!({"token": mail.token(), "password": new_password});
        assert_eq!(
            server
                .post_json(None, "/api/password/reset", body)
                .await
                .status(),
            200
        );
        assert_eq!(
            confirm(&server, &maildev, "by_reset@intruder.example", 1).await,
            400
        );
    }
);
