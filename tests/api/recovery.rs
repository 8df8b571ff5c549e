//! Account recovery and e-mail verification over real HTTP and a real SMTP server
//! (maildev), on SQLite and PostgreSQL: the reset flow end to end, an unknown address
//! indistinguishable from a known one, link reuse, expiry, tampering and voiding,
//! sessions ended, one mail a minute, the mail server down then up (and a restart in
//! between), confirming addresses, address changes and their undo, and the optional
//! refusal of unconfirmed addresses at log-in.

use crate::client::{
    requests::{forgotten, link, new_email, password_change, registration, reset},
    Answer,
};
use crate::helpers::{free_port, Engine, TestDatabase, TestServer, PASSWORD};
use crate::instance::Instance;
use crate::maildev::Maildev;
use keyhold::api::{email::EmailConfirmed, recovery::PasswordReset, ErrorCode, UserView};
use std::time::{Duration, Instant};

const NEW_PASSWORD: &str = "a completely new passphrase";
const RESET: &str = "Reset your Keyhold password";
const CONFIRM: &str = "Confirm your e-mail address";

/// A server that mails through a fresh maildev (`extra` settings on top).
pub(crate) async fn mailed_server(
    engine: Engine,
    extra: &[(&'static str, &str)],
) -> (TestServer, Maildev) {
    let maildev = Maildev::start().await;
    let smtp = maildev.smtp_url();
    let extra: Vec<(&'static str, String)> =
        extra.iter().map(|(k, v)| (*k, v.to_string())).collect();
    let server = TestServer::start_with(engine, move |settings| {
        settings.insert("KEYHOLD_SMTP_URL", smtp);
        settings.insert("KEYHOLD_PUBLIC_URL", "https://id.example".into());
        settings.insert("KEYHOLD_MAIL_RETRY", "1".into());
        settings.extend(extra);
    })
    .await;
    (server, maildev)
}

/// What the holder of `token` sees of the account (`GET /api/users/me` answers 200).
async fn account(server: &TestServer, token: &str) -> UserView {
    let answer = server.api().bearer(token).me().await;
    assert_eq!(answer.status(), 200);
    answer.value()
}

/// A 400 `invalid_link` on field `token`; its message.
fn refused_link<T>(answer: Answer<T>) -> String {
    assert_eq!(answer.status(), 400);
    let error = answer.error();
    assert_eq!(error.error, ErrorCode::InvalidLink);
    assert_eq!(error.field.as_deref(), Some("token"));
    error.message
}

on_both_databases!(
    a_forgotten_password_is_reset_by_mail,
    |engine: Engine| async move {
        let (server, maildev) = mailed_server(engine, &[]).await;
        let api = server.api();
        let old = server.signed_up("ada").await;
        let answer = api.forgot_password(&forgotten("ADA@example.com")).await;
        assert_eq!(answer.status(), 202);
        let mail = maildev.wait_for("ada@example.com", RESET, 1).await;
        assert!(
            mail.link()
                .starts_with("https://id.example/reset-password?token="),
            "{}",
            mail.text
        );
        assert!(mail.text.contains("30 minutes") && mail.text.contains("If you did not ask"));
        assert!(mail
            .html
            .contains("href=\"https://id.example/reset-password?token="));
        let token = mail.token();

        // The password rules apply, and a refused password leaves the link usable.
        let weak = api.reset_password(&reset(&token, "short")).await;
        assert_eq!(weak.status(), 422);
        assert_eq!(weak.error().field.as_deref(), Some("password"));
        let done = api.reset_password(&reset(&token, NEW_PASSWORD)).await;
        assert_eq!(done.status(), 200);
        assert!(
            done.headers().get("set-cookie").is_none(),
            "nobody is signed in"
        );
        assert_eq!(done.value(), PasswordReset { reset: true });

        let old = api.bearer(&old).me().await;
        assert_eq!(old.status(), 401, "every session ended");
        assert_eq!(api.login("ada", PASSWORD).await.status(), 401);
        assert_eq!(api.login("ada", NEW_PASSWORD).await.status(), 200);
        let notice = maildev
            .wait_for("ada@example.com", "password was changed", 1)
            .await;
        assert!(notice.text.contains("If this was not you"));
        // Single use.
        let again = reset(&token, "yet another long passphrase");
        let again = refused_link(api.reset_password(&again).await);
        assert!(again.contains("not valid"), "{again}");
    }
);

on_both_databases!(
    unknown_addresses_get_the_same_answer,
    |engine: Engine| async move {
        let (server, maildev) = mailed_server(engine, &[]).await;
        let api = server.api();
        server.signed_up("ada").await;
        maildev.wait_for("ada@example.com", CONFIRM, 1).await;
        let mut known = Vec::new();
        let mut unknown = Vec::new();
        for (email, times) in [
            ("ada@example.com", &mut known),
            ("nobody@example.com", &mut unknown),
        ] {
            for _ in 0..4 {
                let started = Instant::now();
                let answer = api.forgot_password(&forgotten(email)).await;
                times.push(started.elapsed());
                assert_eq!(answer.status(), 202);
                assert!(answer
                    .value()
                    .message
                    .starts_with("If an account uses that address"));
            }
        }
        known.sort();
        unknown.sort();
        let (a, b) = (known[2], unknown[2]);
        assert!(
            a.abs_diff(b) < Duration::from_millis(50),
            "medians {a:?} vs {b:?}"
        );
        // One mail a minute per account: four requests, one mail; none for nobody.
        maildev.wait_for("ada@example.com", RESET, 1).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(maildev.messages_to("ada@example.com").await.len(), 2);
        assert!(maildev.messages_to("nobody@example.com").await.is_empty());
        server.clock.advance(Duration::from_secs(61));
        let again = api.forgot_password(&forgotten("ada@example.com")).await;
        assert_eq!(again.status(), 202);
        maildev.wait_for("ada@example.com", RESET, 2).await;
        // A username is not an address; a non-address is a 422 either way.
        let username = api.forgot_password(&forgotten("not an address")).await;
        assert_eq!(username.status(), 422);
    }
);

on_both_databases!(
    links_expire_and_refuse_tampering,
    |engine: Engine| async move {
        let (server, maildev) = mailed_server(engine, &[]).await;
        let api = server.api();
        server.signed_up("ada").await;
        api.forgot_password(&forgotten("ada@example.com")).await;
        let first = maildev.wait_for("ada@example.com", RESET, 1).await.token();
        server.clock.advance(Duration::from_secs(31 * 60));
        let expired = refused_link(api.reset_password(&reset(&first, NEW_PASSWORD)).await);
        assert!(expired.contains("expired"), "{expired}");

        api.forgot_password(&forgotten("ada@example.com")).await;
        let second = maildev.wait_for("ada@example.com", RESET, 2).await.token();
        let mut tampered = second.clone().into_bytes();
        tampered[10] = if tampered[10] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).unwrap();
        for bad in [
            tampered.as_str(),
            "short",
            "",
            &"x".repeat(5000),
            "../../etc/passwd",
        ] {
            refused_link(api.reset_password(&reset(bad, NEW_PASSWORD)).await);
        }
        // A password change after the mail voids the link.
        let session = api.login("ada", PASSWORD).await.value().access_token;
        let change = password_change(PASSWORD, "changed in the meantime, twice");
        let changed = api.bearer(&session).change_password(&change).await;
        assert_eq!(changed.status(), 200);
        refused_link(api.reset_password(&reset(&second, NEW_PASSWORD)).await);
        assert_eq!(api.login("ada", NEW_PASSWORD).await.status(), 401);
    }
);

on_both_databases!(
    addresses_are_confirmed_and_changes_can_be_undone,
    |engine: Engine| async move {
        let (server, maildev) = mailed_server(engine, &[]).await;
        let api = server.api();
        let token = server.signed_up("ada").await;
        let ada = api.bearer(&token);
        assert!(!account(&server, &token).await.email_verified);
        let confirm = maildev.wait_for("ada@example.com", CONFIRM, 1).await;
        assert!(confirm
            .link()
            .starts_with("https://id.example/verify-email?token="));
        let verified = api.verify_email(&link(&confirm.token())).await;
        assert_eq!(verified.status(), 200);
        let confirmed = EmailConfirmed {
            email: "ada@example.com".into(),
            verified: true,
        };
        assert_eq!(verified.value(), confirmed);
        assert!(account(&server, &token).await.email_verified);
        refused_link(api.verify_email(&link(&confirm.token())).await);
        let nothing = ada.resend_confirmation().await;
        assert_eq!(nothing.status(), 422);

        // A new address waits for its link; the old one keeps working meanwhile.
        let change = new_email("ada@new.example", Some(PASSWORD));
        let pending = ada.update_profile(&change).await.value();
        assert_eq!(pending.email, "ada@example.com");
        assert_eq!(pending.pending_email.as_deref(), Some("ada@new.example"));
        // "Resend": at most one a minute.
        let resent = ada.resend_confirmation().await;
        assert_eq!(resent.status(), 429);
        server.clock.advance(Duration::from_secs(61));
        let resent = ada.resend_confirmation().await;
        assert_eq!(resent.status(), 202);
        assert_eq!(resent.value().sent_to, "ada@new.example");
        let latest = maildev.wait_for("ada@new.example", CONFIRM, 2).await;
        let earlier = maildev.wait_for("ada@new.example", CONFIRM, 1).await;
        refused_link(api.verify_email(&link(&earlier.token())).await);
        let moved = api.verify_email(&link(&latest.token())).await;
        assert_eq!(moved.value().email, "ada@new.example");
        let now = account(&server, &token).await;
        assert_eq!(
            (now.email.as_str(), now.pending_email),
            ("ada@new.example", None)
        );

        // The old address is told, and can undo it: every session ends, the old address is back.
        let notice = maildev
            .wait_for("ada@example.com", "address was changed", 1)
            .await;
        assert!(notice.text.contains("a***@new.example"), "{}", notice.text);
        assert!(notice
            .link()
            .starts_with("https://id.example/undo-email-change?token="));
        let undone = api.undo_email_change(&link(&notice.token())).await;
        assert_eq!(undone.value(), confirmed);
        assert_eq!(ada.me().await.status(), 401);
        assert_eq!(api.login("ada@example.com", PASSWORD).await.status(), 200);
        refused_link(api.undo_email_change(&link(&notice.token())).await);
    }
);

on_both_databases!(
    unconfirmed_addresses_can_be_required,
    |engine: Engine| async move {
        let (server, maildev) =
            mailed_server(engine, &[("KEYHOLD_REQUIRE_VERIFIED_EMAIL", "true")]).await;
        let api = server.api();
        let request = registration("ada", "ada@example.com", PASSWORD);
        assert_eq!(api.register(&request).await.status(), 201);
        let refused = api.login("ada", PASSWORD).await;
        assert_eq!(refused.status(), 401);
        assert_eq!(refused.error().error, ErrorCode::EmailNotVerified);
        // A wrong password learns nothing about the address.
        let wrong = api.login("ada", "not the password, not at all").await;
        assert_eq!(wrong.error().error, ErrorCode::InvalidCredentials);
        let mail = maildev.wait_for("ada@example.com", CONFIRM, 1).await;
        let verified = api.verify_email(&link(&mail.token())).await;
        assert_eq!(verified.status(), 200);
        assert_eq!(api.login("ada", PASSWORD).await.status(), 200);
    }
);

on_both_databases!(
    mail_waits_for_a_mail_server_that_is_down,
    |engine: Engine| async move {
        // Down while the server runs, then up: the message arrives.
        let port = free_port();
        let server = TestServer::start_with(engine, move |settings| {
            settings.insert("KEYHOLD_SMTP_URL", format!("smtp://127.0.0.1:{port}"));
            settings.insert("KEYHOLD_MAIL_RETRY", "1".into());
        })
        .await;
        server.signed_up("ada").await;
        let asked = server
            .api()
            .forgot_password(&forgotten("ada@example.com"))
            .await;
        assert_eq!(asked.status(), 202);
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let maildev = Maildev::start_on(port).await;
        maildev.wait_for("ada@example.com", CONFIRM, 1).await;
        maildev.wait_for("ada@example.com", RESET, 1).await;
    }
);

on_both_databases!(
    a_restart_sends_what_was_pending,
    |engine: Engine| async move {
        let db = TestDatabase::create(engine).await;
        let client = reqwest::Client::new();
        let port = free_port();
        let smtp = format!("smtp://127.0.0.1:{port}");
        let settings = [
            ("KEYHOLD_SMTP_URL", smtp.as_str()),
            ("KEYHOLD_MAIL_RETRY", "1"),
        ];
        let first = Instance::spawn_with(&db.url, &db.data_dir, &settings)
            .ready(&client)
            .await;
        let request = registration("ada", "ada@example.com", PASSWORD);
        assert_eq!(first.api().register(&request).await.status(), 201);
        tokio::time::sleep(Duration::from_millis(1500)).await;
        drop(first);
        let maildev = Maildev::start_on(port).await;
        let _second = Instance::spawn_with(&db.url, &db.data_dir, &settings)
            .ready(&client)
            .await;
        maildev.wait_for("ada@example.com", CONFIRM, 1).await;
    }
);

on_both_databases!(
    a_reset_link_dies_with_the_address_it_was_sent_to,
    |engine: Engine| async move {
        let (server, maildev) = mailed_server(engine, &[]).await;
        let api = server.api();
        let token = server.signed_up("ada").await;
        let asked = api.forgot_password(&forgotten("ada@example.com")).await;
        assert_eq!(asked.status(), 202);
        let old_mailbox = maildev.wait_for("ada@example.com", RESET, 1).await;

        // The owner moves to a new address and confirms it.
        let change = new_email("ada@new.example", Some(PASSWORD));
        let changed = api.bearer(&token).update_profile(&change).await;
        assert_eq!(changed.status(), 200);
        let confirm = maildev.wait_for("ada@new.example", CONFIRM, 1).await;
        let moved = api.verify_email(&link(&confirm.token())).await;
        assert_eq!(moved.value().email, "ada@new.example");

        // Whoever still reads the old mailbox cannot set the password with its link.
        let old_link = reset(&old_mailbox.token(), NEW_PASSWORD);
        refused_link(api.reset_password(&old_link).await);
        assert_eq!(api.login("ada", PASSWORD).await.status(), 200);
        assert_eq!(api.login("ada", NEW_PASSWORD).await.status(), 401);
    }
);
