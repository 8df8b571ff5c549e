//! What a signed-in account can make the server keep or send is bounded per account
//! (issue 31, finding 6), attacked over real HTTP on SQLite and PostgreSQL:
//! - actions a session repeats at will fold into one activity entry per session and
//!   kind, whatever they alternate with, and mail their notice once;
//! - passkey ceremonies: a budget per account, and one live ceremony per session;
//! - confirmation links to an address the caller chooses: one a minute, a few a day.

use crate::authenticator::Authenticator;
use crate::helpers::{json, Engine, TestServer, PASSWORD};
use crate::passkeys::{passkey_server, post, register, REGISTER_START, SITE};
use crate::recovery::mailed_server;
use serde_json::json;
use std::time::Duration;

/// The kinds and counts on the first page of the holder of `token`'s activity.
async fn entries(server: &TestServer, token: &str) -> Vec<(String, i64)> {
    let page = server
        .client
        .get(server.url("/api/users/me/activity?limit=100"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    json(page).await["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap().to_owned(),
                e["count"].as_i64().unwrap(),
            )
        })
        .collect()
}

/// `Retry-After` of a 429, in seconds.
fn retry_after(response: &reqwest::Response) -> u64 {
    response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

on_both_databases!(
    a_session_repeating_itself_adds_no_rows,
    |engine: Engine| async move {
        let (server, maildev) = mailed_server(engine, &[]).await;
        let token = server.signed_up("ada").await;
        let first = entries(&server, &token).await;
        assert_eq!(first, [("login_succeeded".to_owned(), 1)]);
        let page = server
            .client
            .get(server.url("/api/users/me/activity"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        let sign_in = json(page).await["entries"][0]["id"].clone();

        // 50 "sign out the others" alternating with 50 "this wasn't me": two entries,
        // not a hundred rows kept 90 days.
        for _ in 0..50 {
            let others = "/api/sessions/revoke-others";
            let answer = server.post_json(Some(&token), others, json!({})).await;
            assert_eq!(answer.status(), 200);
            let not_me = "/api/users/me/activity/not-me";
            let body = json!({"id": sign_in});
            let answer = server.post_json(Some(&token), not_me, body).await;
            assert_eq!(answer.status(), 200);
        }
        let expected = [
            ("reported_not_me".to_owned(), 50),
            ("other_sessions_revoked".to_owned(), 50),
            ("login_succeeded".to_owned(), 1),
        ];
        assert_eq!(entries(&server, &token).await, expected);
        assert_eq!(server.rows("security_events").await, 3);

        // A password changed again and again from one session: one entry, one notice.
        let passwords = ["a second passphrase, long enough", PASSWORD];
        let mut token = token;
        let mut current = PASSWORD;
        for &new in passwords.iter().cycle().take(4) {
            let body = json!({"current_password": current, "new_password": new});
            let changed = server
                .post_json(Some(&token), "/api/users/me/password", body)
                .await;
            assert_eq!(changed.status(), 200);
            token = json(changed).await["access_token"]
                .as_str()
                .unwrap()
                .to_owned();
            current = new;
        }
        assert_eq!(
            entries(&server, &token).await[0],
            ("password_changed".to_owned(), 4)
        );
        let subject = "New password on your Keyhold account";
        maildev.wait_for("ada@example.com", subject, 1).await;
        tokio::time::sleep(Duration::from_secs(2)).await;
        let notices = maildev.messages_to("ada@example.com").await;
        let notices = notices.iter().filter(|m| m.subject.contains(subject));
        assert_eq!(notices.count(), 1);

        // Another session's actions are its own entries, never folded into these.
        let login = server.login("ada", current).await;
        let other = json(login).await["access_token"]
            .as_str()
            .unwrap()
            .to_owned();
        let others = "/api/sessions/revoke-others";
        let answer = server.post_json(Some(&other), others, json!({})).await;
        assert_eq!(answer.status(), 200);
        let kinds = entries(&server, &other).await;
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
        let base = &server.base;
        let ada = server.signed_up("ada").await;

        // 30 registrations begun as fast as they go: 10, then 429 with Retry-After.
        let mut ceremonies = Vec::new();
        for attempt in 0..30 {
            let body = json!({"current_password": PASSWORD});
            let answer = post(base, Some(&ada), REGISTER_START, body).await;
            if attempt < 10 {
                assert_eq!(answer.status(), 200, "start {attempt}");
                ceremonies.push(json(answer).await);
            } else {
                assert_eq!(answer.status(), 429, "start {attempt}");
                assert!((1..=30).contains(&retry_after(&answer)));
                assert_eq!(json(answer).await["error"], "too_many_requests");
            }
        }
        // One live ceremony per session: each start replaced the one before it.
        assert_eq!(server.rows("webauthn_ceremonies").await, 1);
        let device = Authenticator::new(SITE);
        let finish = |ceremony: &serde_json::Value| {
            let (_, answer) = device.create(&ceremony["options"]);
            json!({"ceremony": ceremony["ceremony"], "name": "Key", "credential": answer})
        };
        let path = "/api/users/me/passkeys/register/finish";
        let replaced = post(base, Some(&ada), path, finish(&ceremonies[0])).await;
        assert_eq!(replaced.status(), 400);
        let latest = post(base, Some(&ada), path, finish(&ceremonies[9])).await;
        assert_eq!(latest.status(), 201);
        assert_eq!(server.rows("webauthn_ceremonies").await, 0);

        // Confirming changes with a passkey spends the same budget, on every account
        // alone: bob's is whole.
        let bob = server.signed_up("bob").await;
        register(&server, &bob, &device, "Key", None).await;
        let mut statuses = Vec::new();
        for _ in 0..30 {
            let confirm = "/api/users/me/passkeys/confirm";
            let answer = post(base, Some(&bob), confirm, json!({})).await;
            statuses.push(answer.status().as_u16());
        }
        assert_eq!(statuses[..9], [200; 9], "{statuses:?}");
        assert_eq!(statuses[9..], [429; 21], "{statuses:?}");
        assert_eq!(server.rows("webauthn_ceremonies").await, 1);

        // The budget comes back with time: one more every 30 seconds.
        server.clock.advance(Duration::from_secs(31));
        let confirm = "/api/users/me/passkeys/confirm";
        let again = post(base, Some(&bob), confirm, json!({})).await;
        assert_eq!(again.status(), 200);
        let more = post(base, Some(&bob), confirm, json!({})).await;
        assert_eq!(more.status(), 429);
    }
);

on_both_databases!(
    address_changes_mail_one_link_a_minute_and_a_few_a_day,
    |engine: Engine| async move {
        let (server, maildev) = mailed_server(engine, &[]).await;
        let token = server.signed_up("ada").await;
        let targets = ["one@victim.example", "two@victim.example"];
        // Someone with the password mailing two strangers by alternating the address,
        // five tries a minute for twelve minutes.
        let mut accepted = Vec::new();
        for attempt in 0..60 {
            let to = targets[attempt % 2];
            let body = json!({"email": to, "current_password": PASSWORD});
            let answer = server
                .post_json(Some(&token), "/api/users/me/profile", body)
                .await;
            let (minute, status) = (attempt / 5, answer.status().as_u16());
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
                let body = json(answer).await;
                assert_eq!(body["field"], "email", "{body}");
            }
            if attempt % 5 == 4 {
                server.clock.advance(Duration::from_secs(61));
            }
        }
        assert_eq!(accepted.len(), 10);
        // "Resend" spends the same budget.
        let resend = "/api/email/verify/resend";
        let resent = server.post_json(Some(&token), resend, json!({})).await;
        assert_eq!(resent.status(), 429);
        assert_eq!(json(resent).await["field"], "email");

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
        let body = json!({"token": latest.token()});
        let confirmed = server.post_json(None, "/api/email/verify", body).await;
        assert_eq!(json(confirmed).await["email"], accepted[9]);
    }
);
