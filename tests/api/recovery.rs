//! Account recovery and e-mail verification over real HTTP and a real SMTP server
//! (maildev), on SQLite and PostgreSQL: the reset flow end to end, an unknown address
//! indistinguishable from a known one, link reuse, expiry, tampering and voiding,
//! sessions ended, one mail a minute, the mail server down then up (and a restart in
//! between), confirming addresses, address changes and their undo, and the optional
//! refusal of unconfirmed addresses at log-in.

use crate::helpers::{free_port, json, Engine, Instance, TestDatabase, TestServer, PASSWORD};
use crate::maildev::Maildev;
use serde_json::{json, Value};
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

async fn post(server: &TestServer, path: &str, body: Value) -> reqwest::Response {
    server
        .client
        .post(server.url(path))
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn post_as(server: &TestServer, token: &str, path: &str, body: Value) -> reqwest::Response {
    let request = server.client.post(server.url(path)).bearer_auth(token);
    request.json(&body).send().await.unwrap()
}

async fn forgot(server: &TestServer, email: &str) -> reqwest::Response {
    post(server, "/api/password/forgot", json!({"email": email})).await
}

async fn reset(server: &TestServer, token: &str, password: &str) -> reqwest::Response {
    post(
        server,
        "/api/password/reset",
        json!({"token": token, "password": password}),
    )
    .await
}

async fn me(server: &TestServer, token: &str) -> Value {
    let response = server.me(token).await;
    assert_eq!(response.status(), 200);
    json(response).await
}

/// A 400 `invalid_link` on field `token`; its message.
async fn refused_link(response: reqwest::Response) -> String {
    assert_eq!(response.status(), 400);
    let body = json(response).await;
    assert_eq!(body["error"], "invalid_link");
    assert_eq!(body["field"], "token");
    body["message"].as_str().unwrap().to_owned()
}

on_both_databases!(
    a_forgotten_password_is_reset_by_mail,
    |engine: Engine| async move {
        let (server, maildev) = mailed_server(engine, &[]).await;
        let old = server.signed_up("ada").await;
        let answer = forgot(&server, "ADA@example.com").await;
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
        let weak = reset(&server, &token, "short").await;
        assert_eq!(weak.status(), 422);
        assert_eq!(json(weak).await["field"], "password");
        let done = reset(&server, &token, NEW_PASSWORD).await;
        assert_eq!(done.status(), 200);
        assert!(
            done.headers().get("set-cookie").is_none(),
            "nobody is signed in"
        );
        assert_eq!(json(done).await, json!({"reset": true}));

        assert_eq!(server.me(&old).await.status(), 401, "every session ended");
        assert_eq!(server.login("ada", PASSWORD).await.status(), 401);
        assert_eq!(server.login("ada", NEW_PASSWORD).await.status(), 200);
        let notice = maildev
            .wait_for("ada@example.com", "password was changed", 1)
            .await;
        assert!(notice.text.contains("If this was not you"));
        // Single use.
        let again = refused_link(reset(&server, &token, "yet another long passphrase").await).await;
        assert!(again.contains("not valid"), "{again}");
    }
);

on_both_databases!(
    unknown_addresses_get_the_same_answer,
    |engine: Engine| async move {
        let (server, maildev) = mailed_server(engine, &[]).await;
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
                let response = forgot(&server, email).await;
                times.push(started.elapsed());
                assert_eq!(response.status(), 202);
                let body = json(response).await;
                assert!(body["message"]
                    .as_str()
                    .unwrap()
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
        assert_eq!(forgot(&server, "ada@example.com").await.status(), 202);
        maildev.wait_for("ada@example.com", RESET, 2).await;
        // A username is not an address; a non-address is a 422 either way.
        assert_eq!(forgot(&server, "not an address").await.status(), 422);
    }
);

on_both_databases!(
    links_expire_and_refuse_tampering,
    |engine: Engine| async move {
        let (server, maildev) = mailed_server(engine, &[]).await;
        server.signed_up("ada").await;
        forgot(&server, "ada@example.com").await;
        let first = maildev.wait_for("ada@example.com", RESET, 1).await.token();
        server.clock.advance(Duration::from_secs(31 * 60));
        let expired = refused_link(reset(&server, &first, NEW_PASSWORD).await).await;
        assert!(expired.contains("expired"), "{expired}");

        forgot(&server, "ada@example.com").await;
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
            refused_link(reset(&server, bad, NEW_PASSWORD).await).await;
        }
        // A password change after the mail voids the link.
        let session = json(server.login("ada", PASSWORD).await).await["access_token"]
            .as_str()
            .unwrap()
            .to_owned();
        let changed = post_as(
            &server,
            &session,
            "/api/users/me/password",
            json!({"current_password": PASSWORD, "new_password": "changed in the meantime, twice"}),
        )
        .await;
        assert_eq!(changed.status(), 200);
        refused_link(reset(&server, &second, NEW_PASSWORD).await).await;
        assert_eq!(server.login("ada", NEW_PASSWORD).await.status(), 401);
    }
);

on_both_databases!(
    addresses_are_confirmed_and_changes_can_be_undone,
    |engine: Engine| async move {
        let (server, maildev) = mailed_server(engine, &[]).await;
        let token = server.signed_up("ada").await;
        assert_eq!(me(&server, &token).await["email_verified"], false);
        let confirm = maildev.wait_for("ada@example.com", CONFIRM, 1).await;
        assert!(confirm
            .link()
            .starts_with("https://id.example/verify-email?token="));
        let verified = post(
            &server,
            "/api/email/verify",
            json!({"token": confirm.token()}),
        )
        .await;
        assert_eq!(verified.status(), 200);
        assert_eq!(
            json(verified).await,
            json!({"email": "ada@example.com", "verified": true})
        );
        assert_eq!(me(&server, &token).await["email_verified"], true);
        refused_link(
            post(
                &server,
                "/api/email/verify",
                json!({"token": confirm.token()}),
            )
            .await,
        )
        .await;
        let nothing = post_as(&server, &token, "/api/email/verify/resend", json!({})).await;
        assert_eq!(nothing.status(), 422);

        // A new address waits for its link; the old one keeps working meanwhile.
        let change = json!({"email": "ada@new.example", "current_password": PASSWORD});
        let pending = json(post_as(&server, &token, "/api/users/me/profile", change).await).await;
        assert_eq!(pending["email"], "ada@example.com");
        assert_eq!(pending["pending_email"], "ada@new.example");
        // "Resend": at most one a minute.
        let resent = post_as(&server, &token, "/api/email/verify/resend", json!({})).await;
        assert_eq!(resent.status(), 429);
        server.clock.advance(Duration::from_secs(61));
        let resent = post_as(&server, &token, "/api/email/verify/resend", json!({})).await;
        assert_eq!(resent.status(), 202);
        assert_eq!(json(resent).await["sent_to"], "ada@new.example");
        let link = maildev.wait_for("ada@new.example", CONFIRM, 2).await;
        let earlier = maildev.wait_for("ada@new.example", CONFIRM, 1).await;
        refused_link(
            post(
                &server,
                "/api/email/verify",
                json!({"token": earlier.token()}),
            )
            .await,
        )
        .await;
        let moved = post(&server, "/api/email/verify", json!({"token": link.token()})).await;
        assert_eq!(json(moved).await["email"], "ada@new.example");
        let now = me(&server, &token).await;
        assert_eq!(
            (now["email"].clone(), now["pending_email"].clone()),
            (json!("ada@new.example"), Value::Null)
        );

        // The old address is told, and can undo it: every session ends, the old address is back.
        let notice = maildev
            .wait_for("ada@example.com", "address was changed", 1)
            .await;
        assert!(notice.text.contains("a***@new.example"), "{}", notice.text);
        assert!(notice
            .link()
            .starts_with("https://id.example/undo-email-change?token="));
        let undone = post(
            &server,
            "/api/email/undo-change",
            json!({"token": notice.token()}),
        )
        .await;
        assert_eq!(
            json(undone).await,
            json!({"email": "ada@example.com", "verified": true})
        );
        assert_eq!(server.me(&token).await.status(), 401);
        assert_eq!(
            server.login("ada@example.com", PASSWORD).await.status(),
            200
        );
        refused_link(
            post(
                &server,
                "/api/email/undo-change",
                json!({"token": notice.token()}),
            )
            .await,
        )
        .await;
    }
);

on_both_databases!(
    unconfirmed_addresses_can_be_required,
    |engine: Engine| async move {
        let (server, maildev) =
            mailed_server(engine, &[("KEYHOLD_REQUIRE_VERIFIED_EMAIL", "true")]).await;
        assert_eq!(
            server
                .register("ada", "ada@example.com", PASSWORD)
                .await
                .status(),
            201
        );
        let refused = server.login("ada", PASSWORD).await;
        assert_eq!(refused.status(), 401);
        assert_eq!(json(refused).await["error"], "email_not_verified");
        // A wrong password learns nothing about the address.
        let wrong = server.login("ada", "not the password, not at all").await;
        assert_eq!(json(wrong).await["error"], "invalid_credentials");
        let link = maildev.wait_for("ada@example.com", CONFIRM, 1).await;
        assert_eq!(
            post(&server, "/api/email/verify", json!({"token": link.token()}))
                .await
                .status(),
            200
        );
        assert_eq!(server.login("ada", PASSWORD).await.status(), 200);
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
        assert_eq!(forgot(&server, "ada@example.com").await.status(), 202);
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
        let body = json!({"username": "ada", "email": "ada@example.com", "password": PASSWORD});
        let registered = client
            .post(first.url("/api/register"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(registered.status(), 201);
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
        let token = server.signed_up("ada").await;
        assert_eq!(forgot(&server, "ada@example.com").await.status(), 202);
        let old_mailbox = maildev.wait_for("ada@example.com", RESET, 1).await;

        // The owner moves to a new address and confirms it.
        let change = json!({"email": "ada@new.example", "current_password": PASSWORD});
        let changed = post_as(&server, &token, "/api/users/me/profile", change).await;
        assert_eq!(changed.status(), 200);
        let confirm = maildev.wait_for("ada@new.example", CONFIRM, 1).await;
        let moved = post(
            &server,
            "/api/email/verify",
            json!({"token": confirm.token()}),
        )
        .await;
        assert_eq!(json(moved).await["email"], "ada@new.example");

        // Whoever still reads the old mailbox cannot set the password with its link.
        refused_link(reset(&server, &old_mailbox.token(), NEW_PASSWORD).await).await;
        assert_eq!(server.login("ada", PASSWORD).await.status(), 200);
        assert_eq!(server.login("ada", NEW_PASSWORD).await.status(), 401);
    }
);
