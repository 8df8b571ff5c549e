//! The authenticator app over real HTTP on SQLite and PostgreSQL: turning it on (and the
//! refusals on the way), the sensitive changes that need its code once it is on, turning
//! it off with a recovery code, and an administrator removing the factors of someone who
//! lost them. The log-in's second step is in `log_in_second_step.rs`.

use crate::client::requests::{
    code, confirmed, deletion, new_email, newest, password_change, recovery_code,
};
use crate::devices::me_status;
use crate::enrolled_accounts::{code_now, enrolled, from_here, mfa_token, server};
use crate::helpers::PASSWORD;
use keyhold::api::{
    proofs::{ConfirmedRequest, SecondFactorsView},
    users::ChangePasswordRequest,
};
use std::time::Duration;

/// What an account without a second factor has.
const NONE: SecondFactorsView = SecondFactorsView {
    authenticator_app: false,
    recovery_codes_left: 0,
    passkeys: 0,
};

on_both_databases!(turning_the_app_on, |engine| async move {
    let server = server(engine).await;
    let token = server.signed_up("tara").await;
    let tara = from_here(&server).bearer(&token);
    let wrong = tara
        .authenticator_setup(&confirmed("not it at all, sorry"))
        .await;
    assert_eq!(wrong.status(), 403);
    assert_eq!(wrong.error().field.as_deref(), Some("current_password"));
    let setup = tara.authenticator_setup(&confirmed(PASSWORD)).await.value();
    let secret = setup.secret;
    assert_eq!(secret.len(), 32, "160 bits in base32");
    assert_eq!(
        setup.otpauth_uri,
        format!("otpauth://totp/Keyhold:tara?secret={secret}&issuer=Keyhold")
    );
    assert!(setup.qr_svg.starts_with("<svg "));
    // Not active until a code came back: the password alone still signs in.
    assert_eq!(
        from_here(&server).login("tara", PASSWORD).await.status(),
        200
    );
    let factors = server.api().bearer(&token);
    assert_eq!(factors.second_factors().await.value(), NONE);
    for garbage in ["000000", "12345", "abcdef", ""] {
        let refused = tara.authenticator_activate(garbage).await;
        assert_eq!(refused.status(), 403, "{garbage}");
        assert_eq!(refused.error().field.as_deref(), Some("code"));
    }
    let on = tara
        .authenticator_activate(&code_now(&server, &secret))
        .await;
    assert_eq!(on.status(), 200);
    assert_eq!(on.value().recovery_codes.len(), 10);
    assert_eq!(
        factors.second_factors().await.value(),
        SecondFactorsView {
            authenticator_app: true,
            recovery_codes_left: 10,
            passkeys: 0
        }
    );
    // A second app needs the first one removed; activating again finds nothing waiting.
    let with_code = ConfirmedRequest {
        second_factor: code(&code_now(&server, &secret)),
        ..confirmed(PASSWORD)
    };
    assert_eq!(tara.authenticator_setup(&with_code).await.status(), 409);
    let twice = tara
        .authenticator_activate(&code_now(&server, &secret))
        .await;
    assert_eq!(twice.status(), 409);
    // Without a token nothing is set up.
    let anonymous = from_here(&server)
        .authenticator_setup(&confirmed(PASSWORD))
        .await;
    assert_eq!(anonymous.status(), 401);
});

on_both_databases!(sensitive_changes_need_the_code, |engine| async move {
    let server = server(engine).await;
    let (token, secret, codes) = enrolled(&server, "ada").await;
    let ada = from_here(&server).bearer(&token);
    let new = "a brand new passphrase, long";
    let missing = ada.change_password(&password_change(PASSWORD, new)).await;
    assert_eq!(missing.status(), 422);
    assert_eq!(missing.error().field.as_deref(), Some("code"));
    let wrong = ChangePasswordRequest {
        second_factor: code("000000"),
        ..password_change(PASSWORD, new)
    };
    let wrong = ada.change_password(&wrong).await;
    assert_eq!(wrong.status(), 403);
    assert_eq!(wrong.error().field.as_deref(), Some("code"));
    // A stolen token alone changes nothing: the e-mail and deletion ask too.
    let email = new_email("thief@example.com", Some(PASSWORD));
    assert_eq!(ada.update_profile(&email).await.status(), 422);
    let delete = ada.delete_account(&deletion(PASSWORD, "ada")).await;
    assert_eq!(delete.status(), 422);
    let remove = ada.authenticator_remove(&confirmed(PASSWORD)).await;
    assert_eq!(remove.status(), 422);
    let right = ChangePasswordRequest {
        second_factor: code(&code_now(&server, &secret)),
        ..password_change(PASSWORD, new)
    };
    let ok = ada.change_password(&right).await;
    assert_eq!(ok.status(), 200);
    let token = ok.value().access_token;
    let ada = from_here(&server).bearer(&token);
    // Turning it off takes the password and a recovery code; then the password is enough.
    let off = ConfirmedRequest {
        second_factor: recovery_code(&codes[4]),
        ..confirmed(new)
    };
    let off = ada.authenticator_remove(&off).await;
    assert_eq!(off.status(), 200);
    assert_eq!(off.value(), NONE);
    assert_eq!(from_here(&server).login("ada", new).await.status(), 200);
    let page = server
        .api()
        .bearer(&token)
        .activity(&newest(Some(100)))
        .await;
    let kinds: Vec<&str> = page.value().entries.iter().map(|e| e.kind.name()).collect();
    for kind in [
        "authenticator_app_added",
        "authenticator_app_removed",
        "recovery_code_used",
        "password_changed",
    ] {
        assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
    }
    // Deleting the account needs nothing more once the app is gone.
    let delete = ada.delete_account(&deletion(new, "ada")).await;
    assert_eq!(delete.status(), 200);
});

on_both_databases!(an_administrator_removes_lost_factors, |engine| async move {
    let server = server(engine).await;
    let (token, _, _) = enrolled(&server, "bea").await;
    let args = ["admin", "users", "remove-second-factors", "bea"];
    let refused = crate::admin_cli::keyhold(server.database(), &args, &[]).await;
    assert!(
        !refused.ok && refused.stderr.contains("--yes"),
        "{}",
        refused.stderr
    );
    assert_eq!(
        mfa_token(&server, "bea").await.len(),
        43,
        "still on without --yes"
    );
    let removed =
        crate::admin_cli::keyhold(server.database(), &[&args[..], &["--yes"]].concat(), &[]).await;
    assert!(removed.ok, "{}", removed.stderr);
    assert_eq!(
        from_here(&server).login("bea", PASSWORD).await.status(),
        200
    );
    // Every earlier session ended (a SQLite server learns of it within a second).
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while me_status(&server, &token).await == 200 {
        assert!(
            std::time::Instant::now() < deadline,
            "the old token still works"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
});
