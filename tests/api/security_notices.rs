//! Mail notices of changes to how an account signs in (issue 31, gap; ASVS 5.0 6.3.7),
//! over real HTTP and a real SMTP server on SQLite and PostgreSQL: a password changed
//! from the profile, a recovery code used, the authenticator app turned off and a
//! passkey added each mail the account's address, so an intruder cannot change them
//! silently.

use crate::authenticator::Authenticator;
use crate::client::requests::{code, confirmed, password_change, recovery_code, second_step};
use crate::enrolled_accounts::code_now;
use crate::helpers::{Engine, PASSWORD};
use crate::passkeys::{register, SITE};
use crate::recovery::mailed_server;
use keyhold::api::proofs::ConfirmedRequest;
use std::time::Duration;

const NEW_PASSWORD: &str = "another long passphrase of mine";

on_both_databases!(
    changes_to_signing_in_are_mailed,
    |engine: Engine| async move {
        let (server, maildev) = mailed_server(engine, &[("KEYHOLD_PUBLIC_URL", SITE)]).await;
        let to = "noticed@example.com";
        let token = server.signed_up("noticed").await;
        let api = server.api();

        // The password, changed from the profile.
        let change = password_change(PASSWORD, NEW_PASSWORD);
        let changed = api.bearer(&token).change_password(&change).await;
        assert_eq!(changed.status(), 200);
        let token = changed.value().access_token;
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
        let step = api.login("noticed", NEW_PASSWORD).await.error();
        let step = step.mfa.expect("the second step").mfa_token;
        let with_code = second_step(&step, recovery_code(&codes[0]));
        let signed_in = api.login_mfa(&with_code).await;
        assert_eq!(signed_in.status(), 200);
        maildev
            .wait_for(to, "recovery code of your Keyhold account was used", 1)
            .await;

        // The app turned off.
        server.clock.advance(Duration::from_secs(30));
        let confirmation = ConfirmedRequest {
            second_factor: code(&code_now(&server, &secret)),
            ..confirmed(NEW_PASSWORD)
        };
        let removed = api.bearer(&token).authenticator_remove(&confirmation).await;
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
