//! Address squatting (issue 31, finding 9), over real HTTP and a real SMTP server on
//! SQLite and PostgreSQL: someone signs up with another person's address, never
//! confirms it, and adds a passkey or an authenticator app. When the owner takes the
//! account back through the mailbox ("forgot password"), those factors go with the old
//! password: the squatter's passkey no longer signs in, and the owner is not locked out
//! by an app they never set up. An account whose address was confirmed keeps its
//! factors through a reset.

use crate::authenticator::Authenticator;
use crate::client::requests::{forgotten, link, reset};
use crate::helpers::{Engine, TestServer, PASSWORD};
use crate::passkeys::{log_in, passkeys, register, SITE};
use crate::recovery::mailed_server;
use keyhold::api::ErrorCode;
use std::time::Duration;

const NEW_PASSWORD: &str = "the owner's own new passphrase";

/// The owner's "forgot password" through the mailbox of `<name>@example.com`.
async fn take_back(server: &TestServer, maildev: &crate::maildev::Maildev, name: &str) {
    let email = format!("{name}@example.com");
    let asked = server.api().forgot_password(&forgotten(&email)).await;
    assert_eq!(asked.status(), 202);
    let mail = maildev
        .wait_for(&email, "Reset your Keyhold password", 1)
        .await;
    let new_password = reset(&mail.token(), NEW_PASSWORD);
    let answer = server.api().reset_password(&new_password).await;
    assert_eq!(answer.status(), 200);
}

on_both_databases!(
    a_reset_removes_a_squatters_factors,
    |engine: Engine| async move {
        let (server, maildev) = mailed_server(engine, &[("KEYHOLD_PUBLIC_URL", SITE)]).await;

        // A passkey added on an address never confirmed stops signing in.
        let squatter = server.signed_up("owner_one").await;
        let authenticator = Authenticator::new(SITE);
        let (mut credential, _) = register(&server, &squatter, &authenticator, "mine", None).await;
        assert_eq!(
            log_in(&server.api(), &authenticator, &mut credential)
                .await
                .status(),
            200
        );
        take_back(&server, &maildev, "owner_one").await;
        let refused = log_in(&server.api(), &authenticator, &mut credential).await;
        assert_eq!(refused.status(), 401, "the squatter's passkey is gone");
        let api = server.api();
        let owner = api.login("owner_one", NEW_PASSWORD).await;
        assert_eq!(owner.status(), 200);
        let owner = owner.value().access_token;
        assert!(passkeys(&server, &owner).await.is_empty());
        let me = api.bearer(&owner).me().await.value();
        assert!(me.email_verified, "the reset proved the mailbox");

        // An app added on an address never confirmed does not lock the owner out.
        let squatter = server.signed_up("owner_two").await;
        server.turn_on_authenticator(&squatter, PASSWORD).await;
        let before = api.login("owner_two", PASSWORD).await.error();
        assert_eq!(before.error, ErrorCode::MfaRequired);
        server.clock.advance(Duration::from_secs(30));
        take_back(&server, &maildev, "owner_two").await;
        let owner = api.login("owner_two", NEW_PASSWORD).await;
        assert_eq!(owner.status(), 200, "no second step the owner never set up");

        // A confirmed address: the factor was its owner's, and it stays.
        let keeper = server.signed_up("keeper").await;
        let confirm = maildev
            .wait_for("keeper@example.com", "Confirm your e-mail address", 1)
            .await;
        let verified = api.verify_email(&link(&confirm.token())).await;
        assert_eq!(verified.status(), 200);
        server.turn_on_authenticator(&keeper, PASSWORD).await;
        server.clock.advance(Duration::from_secs(30));
        take_back(&server, &maildev, "keeper").await;
        let after = api.login("keeper", NEW_PASSWORD).await.error();
        assert_eq!(after.error, ErrorCode::MfaRequired, "{after:?}");
    }
);
