//! The address-change safety net (issue 31, finding 3), over real HTTP and a real SMTP
//! server on SQLite and PostgreSQL. Someone with the password moves the account to their
//! own address; the old address gets a link that undoes it for 7 days:
//! - a second change cannot move the account out of that link's reach (or delete it):
//!   the address is frozen while the link lives, and the owner's undo still works;
//! - a change still waiting for its link dies when the owner shuts the intruder out
//!   (password changed, log-out everywhere, "This wasn't me", a reset): its link no
//!   longer confirms anything.

use crate::client::{
    requests::{forgotten, link, new_email, newest, password_change, reset},
    Client,
};
use crate::helpers::{Engine, TestServer, PASSWORD};
use crate::maildev::Maildev;
use crate::recovery::mailed_server;
use keyhold::api::{email::EmailConfirmed, UserView};
use std::time::Duration;

const CONFIRM: &str = "Confirm your e-mail address";

/// Asks to move the holder of `token` to `email`.
async fn change_to(server: &TestServer, token: &str, email: &str) -> u16 {
    let change = new_email(email, Some(PASSWORD));
    let answer = server.api().bearer(token).update_profile(&change).await;
    answer.status()
}

/// Follows the `nth` confirmation link mailed to `email`.
async fn confirm(server: &TestServer, maildev: &Maildev, email: &str, nth: usize) -> u16 {
    let mail = maildev.wait_for(email, CONFIRM, nth).await;
    let answer = server.api().verify_email(&link(&mail.token())).await;
    answer.status()
}

on_both_databases!(
    a_second_change_cannot_escape_the_undo,
    |engine: Engine| async move {
        let (server, maildev) = mailed_server(engine, &[]).await;
        let token = server.signed_up("ada").await;
        assert_eq!(
            change_to(&server, &token, "ada@intruder.example").await,
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
        let change = new_email("ada@elsewhere.example", Some(PASSWORD));
        let again = server.api().bearer(&token).update_profile(&change).await;
        assert_eq!(again.status(), 409);
        let error = again.error();
        assert_eq!(error.field.as_deref(), Some("email"));
        assert!(error.message.contains("7 days"), "{error:?}");

        // The owner's undo still works, and after it the address may change again.
        let undone = server.api().undo_email_change(&link(&notice.token())).await;
        let back = EmailConfirmed {
            email: "ada@example.com".into(),
            verified: true,
        };
        assert_eq!(undone.value(), back);
        let fresh = server.api().login("ada", PASSWORD).await.value();
        assert_eq!(
            // (At most one confirmation link a minute per account.)
            {
                server.clock.advance(Duration::from_secs(61));
                change_to(&server, &fresh.access_token, "ada@next.example").await
            },
            200
        );
    }
);

/// One way the owner shuts an intruder out, from the owner's session.
async fn shut_out(name: &str, owner: &Client, new_password: &str) -> u16 {
    match name {
        "by_password" => {
            let change = password_change(PASSWORD, new_password);
            owner.change_password(&change).await.status()
        }
        "by_logout_all" => owner.log_out_everywhere().await.status(),
        _ => {
            // The intruder's sign-in, reported from the owner's session.
            let page = owner.activity(&newest(None)).await.value();
            let entry = page
                .entries
                .iter()
                .find(|e| !e.current_session && e.kind.name() == "login_succeeded")
                .expect("the intruder's sign-in");
            owner.report_not_me(entry.id).await.status()
        }
    }
}

on_both_databases!(
    shutting_the_intruder_out_ends_their_change,
    |engine: Engine| async move {
        let (server, maildev) = mailed_server(engine, &[]).await;
        let api = server.api();
        let new_password = "the owner's fresh passphrase";
        for name in ["by_password", "by_logout_all", "by_not_me"] {
            let token = server.signed_up(name).await;
            let intruder = api.login(name, PASSWORD).await.value().access_token;
            let theirs = format!("{name}@intruder.example");
            assert_eq!(change_to(&server, &intruder, &theirs).await, 200);
            let owner = api.bearer(&token);
            assert_eq!(shut_out(name, &owner, new_password).await, 200, "{name}");
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
            let owner = api.login(name, password).await.value().access_token;
            let me: UserView = api.bearer(&owner).me().await.value();
            assert_eq!(me.email, format!("{name}@example.com"), "{name}");
            assert_eq!(me.pending_email, None, "{name}");
        }

        // A reset through the mailbox ends it too.
        let token = server.signed_up("by_reset").await;
        assert_eq!(
            change_to(&server, &token, "by_reset@intruder.example").await,
            200
        );
        api.forgot_password(&forgotten("by_reset@example.com"))
            .await;
        let mail = maildev
            .wait_for("by_reset@example.com", "Reset your Keyhold password", 1)
            .await;
        let answer = api
            .reset_password(&reset(&mail.token(), new_password))
            .await;
        assert_eq!(answer.status(), 200);
        assert_eq!(
            confirm(&server, &maildev, "by_reset@intruder.example", 1).await,
            400
        );
    }
);
