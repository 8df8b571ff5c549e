//! Mail notices of changes to how an account signs in (issue 31, gap; ASVS 5.0 6.3.7),
//! over real HTTP and a real SMTP server on SQLite and PostgreSQL: a password changed
//! from the profile, a recovery code used, the authenticator app turned off and a
//! passkey added each mail the account's address, so an intruder cannot change them
//! silently.

use crate::authenticator::Authenticator;
use crate::helpers::{json, Engine, PASSWORD};
use crate::passkeys::{register, SITE};
use crate::recovery::mailed_server;
use keyhold::server::building_blocks::second_factors::totp::code_at;
use serde_json::json;
use std::time::Duration;

const NEW_PASSWORD: &str = "another long passphrase of mine";

on_both_databases!(
    changes_to_signing_in_are_mailed,
    |engine: Engine| async move {
        let (server, maildev) = mailed_server(engine, &[("KEYHOLD_PUBLIC_URL", SITE)]).await;
        let to = "noticed@example.com";
        let token = server.signed_up("noticed").await;

        // The password, changed from the profile.
        let body = json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD});
        let changed = server
            .post_json(Some(&token), "/api/users/me/password", body)
            .await;
        assert_eq!(changed.status(), 200);
        let token = json(changed).await["access_token"]
            .as_str()
            .unwrap()
            .to_owned();
        let mail = maildev
            .wait_for(to, "New password on your Keyhold account", 1)
            .await;
        assert!(
            mail.text.contains(&format!("{SITE}/profile/security")),
            "{}",
            mail.text
        );
        assert!(mail.text.contains("If this was not you"));

        // A recovery code used at log-in.
        let (secret, codes) = server.turn_on_authenticator(&token, NEW_PASSWORD).await;
        let step = json(server.login("noticed", NEW_PASSWORD).await).await;
        let body = json!({"mfa_token": step["mfa_token"], "recovery_code": codes[0]});
        let signed_in = server.post_json(None, "/api/login/mfa", body).await;
        assert_eq!(signed_in.status(), 200);
        maildev
            .wait_for(to, "recovery code of your Keyhold account was used", 1)
            .await;

        // The app turned off.
        server.clock.advance(Duration::from_secs(30));
        let code = code_at(&secret, server.clock.now()).unwrap();
        let body = json!({"current_password": NEW_PASSWORD, "code": code});
        let removed = server
            .post_json(Some(&token), "/api/users/me/authenticator/remove", body)
            .await;
        assert_eq!(removed.status(), 200);
        maildev
            .wait_for(to, "Two-step verification was turned off", 1)
            .await;

        // A passkey added (the account has no other factor now: the password confirms it).
        let other = server.signed_up("passkey_owner").await;
        let device = Authenticator::new(SITE);
        register(&server, &other, &device, "Laptop", None).await;
        let mail = maildev
            .wait_for("passkey_owner@example.com", "A passkey was added", 1)
            .await;
        assert!(mail.html.contains("/profile/security"));
    }
);
