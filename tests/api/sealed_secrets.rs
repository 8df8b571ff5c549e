//! Secrets sealed at rest, attacked through the database on SQLite and PostgreSQL: the
//! authenticator secret read straight from its row (waiting for its first code, or
//! active) computes no code; a sealed secret copied onto another account's row verifies
//! nothing there (403 on `code`, never a 5xx; that account's recovery code still signs
//! in and lets the app be set up again); a start-up with another
//! `KEYHOLD_KEY_ENCRYPTION_KEY` stops, naming it; rows an earlier version stored readable
//! are sealed by the next start-up and keep working; a reset mail queued while the mail
//! server is down holds no link, and arrives with a working one once it is up.

use crate::client::{
    requests::{code, confirmed, forgotten, recovery_code, reset, second_step as step},
    Answer,
};
use crate::helpers::{free_port, Engine, TestServer, PASSWORD};
use crate::maildev::Maildev;
use keyhold::api::{proofs::SecondFactorFields, TokenResponse};
use keyhold::server::building_blocks::second_factors::totp::code_at;
use sqlx::{AnyConnection, Connection, Row};
use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

const STEP: Duration = Duration::from_secs(30);
const RESET: &str = "Reset your Keyhold password";
const NEW_PASSWORD: &str = "a completely new passphrase";

/// The server's database, as whoever holds a dump or its credentials reads it.
async fn database(server: &TestServer) -> AnyConnection {
    sqlx::any::install_default_drivers();
    AnyConnection::connect(&server.database().url)
        .await
        .unwrap()
}

async fn user_id(db: &mut AnyConnection, username: &str) -> i64 {
    let row = sqlx::query("SELECT id FROM users WHERE username = $1")
        .bind(username)
        .fetch_one(db)
        .await
        .unwrap();
    row.try_get("id").unwrap()
}

/// The authenticator secret of `username` as its row holds it.
async fn stored_secret(db: &mut AnyConnection, username: &str) -> String {
    let id = user_id(db, username).await;
    let row = sqlx::query("SELECT secret FROM totp_factors WHERE user_id = $1")
        .bind(id)
        .fetch_one(db)
        .await
        .unwrap();
    row.try_get("secret").unwrap()
}

/// The log-in's second step for `username` with `proof` (a code or a recovery code),
/// after the right password.
async fn second_step(
    server: &TestServer,
    username: &str,
    proof: SecondFactorFields,
) -> Answer<TokenResponse> {
    let first = server.api().login(username, PASSWORD).await;
    assert_eq!(first.status(), 401);
    let mfa_token = first.json()["mfa_token"].as_str().unwrap().to_owned();
    server.api().login_mfa(&step(&mfa_token, proof)).await
}

/// Settings of a server whose mail server at `port` is down until a test starts it.
fn mail_server_on(port: u16) -> impl Fn(&mut HashMap<&'static str, String>) {
    move |settings| {
        settings.insert("KEYHOLD_SMTP_URL", format!("smtp://127.0.0.1:{port}"));
        settings.insert("KEYHOLD_MAIL_RETRY", "1".into());
    }
}

on_both_databases!(
    a_stored_authenticator_secret_computes_no_code,
    |engine: Engine| async move {
        let server = TestServer::start(engine).await;
        let mut db = database(&server).await;

        // Waiting for its first code.
        let bob = server.signed_up("bob").await;
        let setup = server
            .api()
            .bearer(&bob)
            .authenticator_setup(&confirmed(PASSWORD))
            .await;
        assert_eq!(setup.status(), 200);
        let pending = setup.value().secret;
        let stored = stored_secret(&mut db, "bob").await;
        assert!(!stored.to_uppercase().contains(&pending), "{stored}");

        // Turned on.
        let ada = server.signed_up("ada").await;
        let (secret, _) = server.turn_on_authenticator(&ada, PASSWORD).await;
        let stored = stored_secret(&mut db, "ada").await;
        assert!(!stored.to_uppercase().contains(&secret), "{stored}");
        server.clock.advance(STEP);
        let now = server.clock.now();
        // Whatever the column gives as a base32 secret, its code is refused.
        for candidate in [stored.clone(), stored.to_uppercase()] {
            if let Some(guess) = code_at(&candidate, now) {
                let refused = second_step(&server, "ada", code(&guess)).await;
                assert_eq!(refused.status(), 401);
            }
        }
        // The app's own code still signs in: the server opens what it sealed.
        let right = code(&code_at(&secret, now).unwrap());
        assert_eq!(second_step(&server, "ada", right).await.status(), 200);
    }
);

on_both_databases!(
    a_secret_moved_to_another_account_verifies_nothing_there,
    |engine: Engine| async move {
        let server = TestServer::start(engine).await;
        let ada = server.signed_up("ada").await;
        let (ada_secret, _) = server.turn_on_authenticator(&ada, PASSWORD).await;
        let bob = server.signed_up("bob").await;
        let (bob_secret, bob_codes) = server.turn_on_authenticator(&bob, PASSWORD).await;

        // Someone who can write to the database copies Ada's sealed secret onto Bob's
        // row, to sign in as Bob with codes they can compute (or to clone a secret).
        let mut db = database(&server).await;
        let ada_sealed = stored_secret(&mut db, "ada").await;
        let bob_id = user_id(&mut db, "bob").await;
        sqlx::query("UPDATE totp_factors SET secret = $1 WHERE user_id = $2")
            .bind(&ada_sealed)
            .bind(bob_id)
            .execute(&mut db)
            .await
            .unwrap();
        server.clock.advance(STEP);
        let now = server.clock.now();
        for secret in [&ada_secret, &bob_secret] {
            let guess = code(&code_at(secret, now).unwrap());
            let refused = second_step(&server, "bob", guess).await;
            assert_eq!(refused.status(), 403);
            let body = refused.json();
            assert_eq!(body["field"], "code", "{body}");
            let message = body["message"].as_str().unwrap();
            assert!(message.contains("cannot be checked"), "{message}");
        }

        // Bob's way in stays open: a recovery code signs in, and the app can be removed
        // with another and set up again.
        let signed_in = second_step(&server, "bob", recovery_code(&bob_codes[0])).await;
        assert_eq!(signed_in.status(), 200);
        let bob = signed_in.value().access_token;
        let remove = keyhold::api::proofs::ConfirmedRequest {
            second_factor: recovery_code(&bob_codes[1]),
            ..confirmed(PASSWORD)
        };
        let removed = server
            .api()
            .bearer(&bob)
            .authenticator_remove(&remove)
            .await;
        assert_eq!(removed.status(), 200);
        let (bob_secret, _) = server.turn_on_authenticator(&bob, PASSWORD).await;
        server.clock.advance(STEP);
        let now = server.clock.now();
        let app_code = code(&code_at(&bob_secret, now).unwrap());
        assert_eq!(second_step(&server, "bob", app_code).await.status(), 200);

        // Ada's app is untouched.
        let app_code = code(&code_at(&ada_secret, now).unwrap());
        assert_eq!(second_step(&server, "ada", app_code).await.status(), 200);
    }
);

on_both_databases!(
    another_key_encryption_key_stops_the_start_up,
    |engine: Engine| async move {
        let server = TestServer::start(engine).await;
        let ada = server.signed_up("ada").await;
        let (secret, _) = server.turn_on_authenticator(&ada, PASSWORD).await;
        if let Err(e) = server.start_up_again(|_| {}).await {
            panic!("the same key was refused: {e}");
        }
        let other = "another-key-encryption-key-0123456789abcdef";
        let refused = match server
            .start_up_again(|settings| {
                settings.insert("KEYHOLD_KEY_ENCRYPTION_KEY", other.into());
            })
            .await
        {
            Ok(_) => panic!("started with another key-encryption key"),
            Err(e) => e.to_string(),
        };
        assert!(refused.contains("KEYHOLD_KEY_ENCRYPTION_KEY"), "{refused}");
        assert!(!refused.contains(other), "{refused}");
        // Nothing was sealed under it: the app still works.
        server.clock.advance(STEP);
        let app_code = code(&code_at(&secret, server.clock.now()).unwrap());
        assert_eq!(second_step(&server, "ada", app_code).await.status(), 200);
    }
);

on_both_databases!(
    what_an_earlier_version_stored_readable_is_sealed_at_start_up,
    |engine: Engine| async move {
        let port = free_port();
        let server = TestServer::start_with(engine, mail_server_on(port)).await;
        let ada = server.signed_up("ada").await;
        let (secret, _) = server.turn_on_authenticator(&ada, PASSWORD).await;

        // The rows as a version before migration 0015 left them: the secret readable,
        // and a message queued with its link in plain text while the mail server is down.
        let mut db = database(&server).await;
        let id = user_id(&mut db, "ada").await;
        sqlx::query("UPDATE totp_factors SET secret = $1, secret_sealed = 0 WHERE user_id = $2")
            .bind(&secret)
            .bind(id)
            .execute(&mut db)
            .await
            .unwrap();
        let link = "https://id.example/reset-password?token=queued-before-the-upgrade";
        sqlx::query(
            "INSERT INTO mail_queue (recipient, subject, text_body, html_body, created_at, \
             next_attempt_at) VALUES ($1, $2, $3, $4, $5, $5)",
        )
        .bind("old@example.com")
        .bind("Queued before the upgrade")
        .bind(format!("Follow {link}\n"))
        .bind(format!("<p><a href=\"{link}\">{link}</a></p>"))
        .bind(server.clock.now())
        .execute(&mut db)
        .await
        .unwrap();

        // A readable secret is never used as it is.
        server.clock.advance(STEP);
        let app_code = code(&code_at(&secret, server.clock.now()).unwrap());
        assert_eq!(second_step(&server, "ada", app_code).await.status(), 403);

        // The next start-up seals both.
        let restarted = match server.start_up_again(mail_server_on(port)).await {
            Ok(state) => state,
            Err(e) => panic!("start-up: {e}"),
        };
        let stored = stored_secret(&mut db, "ada").await;
        assert!(!stored.to_uppercase().contains(&secret), "{stored}");
        let row = sqlx::query("SELECT text_body, html_body FROM mail_queue WHERE recipient = $1")
            .bind("old@example.com")
            .fetch_one(&mut db)
            .await
            .unwrap();
        for column in ["text_body", "html_body"] {
            let body: String = row.try_get(column).unwrap();
            assert!(!body.contains("queued-before-the-upgrade"), "{body}");
        }

        // And both still serve: the code signs in, the message arrives as written.
        server.clock.advance(STEP);
        let app_code = code(&code_at(&secret, server.clock.now()).unwrap());
        assert_eq!(second_step(&server, "ada", app_code).await.status(), 200);
        let maildev = Maildev::start_on(port).await;
        let mail = maildev
            .wait_for("old@example.com", "Queued before the upgrade", 1)
            .await;
        assert!(mail.text.contains(link), "{}", mail.text);
        drop(restarted);
    }
);

on_both_databases!(
    a_reset_mail_queued_while_the_mail_server_is_down_holds_no_link,
    |engine: Engine| async move {
        let port = free_port();
        let server = TestServer::start_with(engine, mail_server_on(port)).await;
        server.signed_up("ada").await;
        let answer = server
            .api()
            .forgot_password(&forgotten("ada@example.com"))
            .await;
        assert_eq!(answer.status(), 202);

        // The message waits in the queue (written after the answer): read its row.
        let mut db = database(&server).await;
        let deadline = Instant::now() + Duration::from_secs(10);
        let row = loop {
            let row = sqlx::query("SELECT text_body, html_body FROM mail_queue WHERE subject = $1")
                .bind(RESET)
                .fetch_optional(&mut db)
                .await
                .unwrap();
            if let Some(row) = row {
                break row;
            }
            assert!(Instant::now() < deadline, "no reset mail queued");
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let bodies: Vec<String> = ["text_body", "html_body"]
            .iter()
            .map(|column| row.try_get(*column).unwrap())
            .collect();
        for body in &bodies {
            assert!(!body.contains("token="), "{body}");
            assert!(!body.contains("reset-password"), "{body}");
        }

        // The mail server comes back: the mail arrives, and its link works.
        let maildev = Maildev::start_on(port).await;
        let mail = maildev.wait_for("ada@example.com", RESET, 1).await;
        let token = mail.token();
        assert!(bodies.iter().all(|body| !body.contains(&token)));
        let answer = server
            .api()
            .reset_password(&reset(&token, NEW_PASSWORD))
            .await;
        assert_eq!(answer.status(), 200);
        let logged_in = server.api().login("ada", NEW_PASSWORD).await;
        assert_eq!(logged_in.status(), 200);
    }
);
