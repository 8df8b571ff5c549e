//! What a signed-in account can make the server keep or send is bounded per account
//! (issue 31, finding 6), attacked over real HTTP on SQLite and PostgreSQL:
//! - actions a session repeats at will fold into one activity entry per session and
//!   kind, whatever they alternate with, and mail their notice once;
//! - passkey ceremonies: a budget per account (spent only once the password is
//!   confirmed), and one live ceremony per session;
//! - confirmation links to an address the caller chooses: one a minute, a few a day.

use crate::authenticator::Authenticator;
use crate::client::{
    requests::{confirmed, link, new_email, newest, password_change},
    Answer, Client,
};
use crate::helpers::{Engine, PASSWORD};
use crate::passkeys::{begun, passkey_server, register, SITE};
use crate::recovery::mailed_server;
use keyhold::api::{passkeys::RegisterPasskeyRequest, ErrorCode};
use std::time::Duration;

/// The kinds and counts on the first page of `holder`'s activity.
async fn entries(holder: &Client) -> Vec<(String, i64)> {
    let page = holder.activity(&newest(Some(100))).await.value();
    page.entries
        .into_iter()
        .map(|e| (e.kind.name().to_owned(), e.count))
        .collect()
}

/// `Retry-After` of a 429, in seconds.
fn retry_after<T>(answer: &Answer<T>) -> u64 {
    answer.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

on_both_databases!(
    a_session_repeating_itself_adds_no_rows,
    |engine: Engine| async move {
        let (server, maildev) = mailed_server(engine, &[]).await;
        let ada = server.api().bearer(&server.signed_up("ada").await);
        let first = entries(&ada).await;
        assert_eq!(first, [("login_succeeded".to_owned(), 1)]);
        let page = ada.activity(&newest(None)).await.value();
        let sign_in = page.entries[0].id;

        // 50 "sign out the others" alternating with 50 "this wasn't me": two entries,
        // not a hundred rows kept 90 days.
        for _ in 0..50 {
            assert_eq!(ada.revoke_other_sessions().await.status(), 200);
            assert_eq!(ada.report_not_me(sign_in).await.status(), 200);
        }
        let expected = [
            ("reported_not_me".to_owned(), 50),
            ("other_sessions_revoked".to_owned(), 50),
            ("login_succeeded".to_owned(), 1),
        ];
        assert_eq!(entries(&ada).await, expected);
        assert_eq!(server.rows("security_events").await, 3);

        // A password changed again and again from one session: one entry, one notice.
        let passwords = ["a second passphrase, long enough", PASSWORD];
        let mut ada = ada;
        let mut current = PASSWORD;
        for &new in passwords.iter().cycle().take(4) {
            let changed = ada.change_password(&password_change(current, new)).await;
            assert_eq!(changed.status(), 200);
            ada = server.api().bearer(&changed.value().access_token);
            current = new;
        }
        assert_eq!(entries(&ada).await[0], ("password_changed".to_owned(), 4));
        let subject = "New password on your Keyhold account";
        maildev.wait_for("ada@example.com", subject, 1).await;
        tokio::time::sleep(Duration::from_secs(2)).await;
        let notices = maildev.messages_to("ada@example.com").await;
        let notices = notices.iter().filter(|m| m.subject.contains(subject));
        assert_eq!(notices.count(), 1);

        // Another session's actions are its own entries, never folded into these.
        let login = server.api().login("ada", current).await;
        let other = server.api().bearer(&login.value().access_token);
        assert_eq!(other.revoke_other_sessions().await.status(), 200);
        let kinds = entries(&other).await;
        assert_eq!(
            kinds[..3],
            [
                ("other_sessions_revoked".to_owned(), 1),
                ("login_succeeded".to_owned(), 1),
                ("password_changed".to_owned(), 4),
            ]
        );
    }
);

on_both_databases!(
    passkey_ceremonies_are_limited_per_account,
    |engine: Engine| async move {
        let server = passkey_server(engine).await;
        let ada_token = server.signed_up("ada").await;
        let ada = server.api().bearer(&ada_token);

        // An access token without the password (stolen) begins nothing and spends
        // none of the owner's budget: the wrong password is refused first.
        for _ in 0..3 {
            let answer = ada
                .start_passkey_registration(&confirmed("not the password of ada"))
                .await;
            assert_eq!(answer.status(), 403);
            assert_eq!(answer.error().field.as_deref(), Some("current_password"));
        }

        // 30 registrations begun as fast as they go: 10, then 429 with Retry-After.
        let mut ceremonies = Vec::new();
        for attempt in 0..30 {
            let answer = ada.start_passkey_registration(&confirmed(PASSWORD)).await;
            if attempt < 10 {
                assert_eq!(answer.status(), 200, "start {attempt}");
                ceremonies.push(begun(answer));
            } else {
                assert_eq!(answer.status(), 429, "start {attempt}");
                assert!((1..=30).contains(&retry_after(&answer)));
                assert_eq!(answer.error().error, ErrorCode::TooManyRequests);
            }
        }
        // One live ceremony per session: each start replaced the one before it.
        assert_eq!(server.rows("webauthn_ceremonies").await, 1);
        let device = Authenticator::new(SITE);
        let finish = |(ceremony, options): &(String, serde_json::Value)| {
            let (_, answer) = device.create(options);
            RegisterPasskeyRequest {
                ceremony: ceremony.clone(),
                name: "Key".into(),
                credential: answer,
            }
        };
        let replaced = ada
            .finish_passkey_registration(&finish(&ceremonies[0]))
            .await;
        assert_eq!(replaced.status(), 400);
        let latest = ada
            .finish_passkey_registration(&finish(&ceremonies[9]))
            .await;
        assert_eq!(latest.status(), 201);
        assert_eq!(server.rows("webauthn_ceremonies").await, 0);

        // Confirming changes with a passkey spends the same budget, on every account
        // alone: bob's is whole.
        let bob_token = server.signed_up("bob").await;
        register(&server, &bob_token, &device, "Key", None).await;
        let bob = server.api().bearer(&bob_token);
        let mut statuses = Vec::new();
        for _ in 0..30 {
            statuses.push(bob.start_passkey_confirmation().await.status());
        }
        assert_eq!(statuses[..9], [200; 9], "{statuses:?}");
        assert_eq!(statuses[9..], [429; 21], "{statuses:?}");
        assert_eq!(server.rows("webauthn_ceremonies").await, 1);

        // The budget comes back with time: one more every 30 seconds.
        server.clock.advance(Duration::from_secs(31));
        assert_eq!(bob.start_passkey_confirmation().await.status(), 200);
        assert_eq!(bob.start_passkey_confirmation().await.status(), 429);
    }
);

on_both_databases!(
    address_changes_mail_one_link_a_minute_and_a_few_a_day,
    |engine: Engine| async move {
        let (server, maildev) = mailed_server(engine, &[]).await;
        let ada = server.api().bearer(&server.signed_up("ada").await);
        let targets = ["one@victim.example", "two@victim.example"];
        // Someone with the password mailing two strangers by alternating the address,
        // five tries a minute for twelve minutes.
        let mut accepted = Vec::new();
        for attempt in 0..60 {
            let to = targets[attempt % 2];
            let answer = ada.update_profile(&new_email(to, Some(PASSWORD))).await;
            let (minute, status) = (attempt / 5, answer.status());
            if attempt % 5 == 0 && minute < 10 {
                assert_eq!(status, 200, "attempt {attempt}");
                accepted.push(to);
            } else {
                assert_eq!(status, 429, "attempt {attempt}");
                let wait = retry_after(&answer);
                if minute < 10 {
                    assert!((1..=60).contains(&wait), "{wait}");
                } else {
                    assert!(wait > 3600, "the day's budget is spent: {wait}");
                }
                let error = answer.error();
                assert_eq!(error.field.as_deref(), Some("email"), "{error:?}");
            }
            if attempt % 5 == 4 {
                server.clock.advance(Duration::from_secs(61));
            }
        }
        assert_eq!(accepted.len(), 10);
        // "Resend" spends the same budget.
        let resent = ada.resend_confirmation().await;
        assert_eq!(resent.status(), 429);
        assert_eq!(resent.error().field.as_deref(), Some("email"));

        // Ten links went out, five to each; nothing else.
        let subject = "Confirm your e-mail address";
        for to in targets {
            maildev.wait_for(to, subject, 5).await;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
        for to in targets {
            assert_eq!(maildev.messages_to(to).await.len(), 5, "{to}");
        }
        // The latest change still goes through.
        let latest = maildev.wait_for(accepted[9], subject, 5).await;
        let confirmed = server.api().verify_email(&link(&latest.token())).await;
        assert_eq!(confirmed.value().email, accepted[9]);
    }
);
