//! The security activity log over real HTTP on SQLite and PostgreSQL: every kind of
//! event an account's owner can cause, folding of repeated failures, paging and its
//! refusals, "This wasn't me", the data export, and another account's entries.

use crate::client::{
    requests::{deletion, new_username, newest, password_change},
    Client,
};
use crate::helpers::{Engine, TestServer, PASSWORD};
use keyhold::api::{
    account::UpdateProfileRequest,
    activity::{ListActivity, NotMeResponse},
};
use serde_json::json;

const NEW_PASSWORD: &str = "a totally fresh passphrase, long";

/// Logs `username` in with `agent` as its browser (which must answer 200): the client
/// of that session.
async fn sign_in(server: &TestServer, username: &str, password: &str, agent: &str) -> Client {
    let answer = server
        .api()
        .header("user-agent", agent)
        .login(username, password)
        .await;
    assert_eq!(answer.status(), 200);
    server.api().bearer(&answer.value().access_token)
}

/// The kinds on the first page (newest first), with their counts.
async fn kinds(holder: &Client) -> Vec<(String, i64)> {
    let page = holder.activity(&newest(Some(100))).await;
    let entries = page.value().entries;
    entries
        .iter()
        .map(|e| (e.kind.name().to_owned(), e.count))
        .collect()
}

on_both_databases!(
    every_event_is_recorded_newest_first,
    |engine: Engine| async move {
        let server = TestServer::start_with(engine, |settings| {
            settings.insert("KEYHOLD_RATE_LOGIN", "1000/1s".into());
        })
        .await;
        server.signed_up("ada").await;
        for _ in 0..3 {
            let answer = server
                .api()
                .login("ada", "wrong password, wrong password")
                .await;
            assert_eq!(answer.status(), 401);
        }
        let phone = sign_in(
            &server,
            "ada",
            PASSWORD,
            "Mozilla/5.0 (iPhone) Mobile Safari",
        )
        .await;
        let laptop = sign_in(
            &server,
            "ada",
            PASSWORD,
            "Mozilla/5.0 (X11; Linux) Firefox/140.0",
        )
        .await;
        let sessions = laptop.sessions().await.value();
        let phone_session = &sessions
            .iter()
            .find(|s| s.device == "Browser on iOS")
            .expect("the phone's session")
            .id;
        let revoked = laptop.revoke_session(phone_session).await;
        assert_eq!(revoked.status(), 200);
        assert_eq!(phone.me().await.status(), 401);
        assert_eq!(laptop.revoke_other_sessions().await.status(), 200);
        let rename = UpdateProfileRequest {
            email: Some("ada2@example.com".into()),
            ..new_username("ada2", Some(PASSWORD))
        };
        let renamed = laptop.update_profile(&rename).await;
        assert_eq!(renamed.status(), 200);
        let change = password_change(PASSWORD, NEW_PASSWORD);
        let changed = laptop.change_password(&change).await;
        assert_eq!(changed.status(), 200);
        let laptop = server.api().bearer(&changed.value().access_token);
        assert_eq!(laptop.log_out_everywhere().await.status(), 200);

        let ada = sign_in(&server, "ada2", NEW_PASSWORD, "curl/8.5.0").await;
        let expected = [
            ("login_succeeded", 1),
            ("logged_out_everywhere", 1),
            ("password_changed", 1),
            ("email_change_requested", 1),
            ("username_changed", 1),
            ("other_sessions_revoked", 1),
            ("session_revoked", 1),
            ("login_succeeded", 1),
            ("login_succeeded", 1),
            ("login_failed", 3),
            ("login_succeeded", 1),
        ];
        let expected: Vec<(String, i64)> =
            expected.iter().map(|(k, n)| (k.to_string(), *n)).collect();
        assert_eq!(kinds(&ada).await, expected);

        // Each entry says when, from where and on what; the caller's own session is marked.
        let page = ada.activity(&newest(Some(1))).await.value();
        let latest = &page.entries[0];
        assert_eq!(latest.address, "127.0.0.1");
        assert_eq!(latest.device, "curl");
        assert!(latest.current_session);
        assert!(latest.at > 1_700_000_000);

        // The data export carries the whole log.
        let export = ada.export_data().await.value();
        assert_eq!(export.activity.len(), expected.len());
    }
);

on_both_databases!(
    throttled_log_ins_are_recorded_too,
    |engine: Engine| async move {
        // The shipped budget: 5 attempts per account and address at once.
        let server = TestServer::start(engine).await;
        let token = server.signed_up("ada").await;
        let mut statuses = Vec::new();
        for _ in 0..7 {
            let answer = server
                .api()
                .login("ada", "wrong password, wrong password")
                .await;
            statuses.push(answer.status());
        }
        assert_eq!(statuses, [401, 401, 401, 401, 401, 429, 429]);
        assert_eq!(
            kinds(&server.api().bearer(&token)).await,
            [
                ("login_throttled".to_owned(), 2),
                ("login_failed".to_owned(), 5),
                ("login_succeeded".to_owned(), 1),
            ]
        );
    }
);

on_both_databases!(
    pages_do_not_overlap_and_bad_pages_are_refused,
    |engine: Engine| async move {
        let server = TestServer::start(engine).await;
        let ada = server.api().bearer(&server.signed_up("ada").await);
        // 24 more sign-ins (what one session repeats would fold into one entry).
        for _ in 0..24 {
            sign_in(&server, "ada", PASSWORD, "curl/8.5.0").await;
        }
        let mut seen = Vec::new();
        let mut query = newest(Some(10));
        let mut sizes = Vec::new();
        loop {
            let page = ada.activity(&query).await.value();
            sizes.push(page.entries.len());
            seen.extend(page.entries.iter().map(|e| e.id));
            match page.next_before {
                Some(next) => {
                    query = ListActivity {
                        before: Some(next),
                        limit: Some(10),
                    }
                }
                None => break,
            }
        }
        assert_eq!(sizes, [10, 10, 5]);
        let mut sorted = seen.clone();
        sorted.sort_unstable_by(|a, b| b.cmp(a));
        sorted.dedup();
        assert_eq!(seen, sorted, "newest first, each entry once");

        for (query, field) in [
            (newest(Some(0)), "limit"),
            (newest(Some(101)), "limit"),
            (
                ListActivity {
                    before: Some(0),
                    limit: None,
                },
                "before",
            ),
        ] {
            let answer = ada.activity(&query).await;
            assert_eq!(answer.status(), 422, "{query:?}");
            assert_eq!(answer.error().field.as_deref(), Some(field), "{query:?}");
        }
        // A page size that is no number (a raw query: the type cannot say it).
        let lots = ada.raw_get("/api/users/me/activity?limit=lots").await;
        assert_eq!(lots.status(), 400);
        let anonymous = server.api().activity(&newest(None)).await;
        assert_eq!(anonymous.status(), 401);
    }
);

on_both_databases!(
    this_was_not_me_ends_every_other_session,
    |engine: Engine| async move {
        let server = TestServer::start(engine).await;
        let mine = server.api().bearer(&server.signed_up("ada").await);
        let thief = sign_in(&server, "ada", PASSWORD, "python-requests/2.32").await;
        let page = mine.activity(&newest(None)).await.value();
        let theirs = page
            .entries
            .iter()
            .find(|e| !e.current_session && e.kind.name() == "login_succeeded")
            .expect("the other sign-in")
            .id;

        let reported = mine.report_not_me(theirs).await;
        assert_eq!(reported.status(), 200);
        assert_eq!(
            reported.value(),
            NotMeResponse {
                sessions_ended: 1,
                change_password: true
            }
        );
        assert_eq!(
            thief.me().await.status(),
            401,
            "the other session ended at once"
        );
        assert_eq!(
            mine.me().await.status(),
            200,
            "the reporter stays signed in"
        );
        assert_eq!(kinds(&mine).await[0], ("reported_not_me".to_owned(), 1));

        // Only the account's own entries: another account's, or none, is a 404 on `id`.
        let eve = server.api().bearer(&server.signed_up("eve").await);
        let eves = eve.activity(&newest(None)).await.value().entries[0].id;
        for id in [eves, 9_000_000_000_i64, -1] {
            let answer = mine.report_not_me(id).await;
            assert_eq!(answer.status(), 404, "{id}");
            assert_eq!(answer.error().field.as_deref(), Some("id"));
        }
        let path = "/api/users/me/activity/not-me";
        let not_a_number = mine.post_value(path, &json!({"id": "x"})).await;
        assert_eq!(not_a_number.status(), 400);
    }
);

on_both_databases!(
    a_deleted_account_takes_its_log_along,
    |engine: Engine| async move {
        let server = TestServer::start(engine).await;
        let ada = server.api().bearer(&server.signed_up("ada").await);
        let deleted = ada.delete_account(&deletion(PASSWORD, "ada")).await;
        assert_eq!(deleted.status(), 200);
        // A new account with the same name starts with an empty log (only its sign-in).
        let ada = server.api().bearer(&server.signed_up("ada").await);
        assert_eq!(kinds(&ada).await, [("login_succeeded".to_owned(), 1)]);
    }
);

on_both_databases!(
    failed_log_ins_from_alternating_addresses_fold_into_one_entry,
    |engine: Engine| async move {
        let server = TestServer::start_with(engine, |settings| {
            settings.insert("KEYHOLD_RATE_LOGIN", "1000/1s".into());
            settings.insert("KEYHOLD_CLIENT_IP_HEADER", "x-forwarded-for".into());
        })
        .await;
        let ada = server.api().bearer(&server.signed_up("ada").await);
        // An attacker burying the owner's sign-ins: 60 wrong passwords, two addresses.
        for attempt in 0..60 {
            let address = if attempt % 2 == 0 {
                "198.51.100.1"
            } else {
                "203.0.113.9"
            };
            let attacker = server.api().header("x-forwarded-for", address);
            let answer = attacker
                .login("ada", "wrong password, wrong password")
                .await;
            // Wrong, then (the account's backoff) throttled.
            assert!([401, 429].contains(&answer.status()));
        }
        let entries = kinds(&ada).await;
        assert!(entries.len() <= 3, "{entries:?}");
        let total: i64 = entries.iter().map(|(_, count)| count).sum();
        assert_eq!(total, 61, "{entries:?}");
        assert_eq!(entries.last().unwrap(), &("login_succeeded".to_owned(), 1));
        let page = ada.activity(&newest(None)).await.value();
        assert_eq!(page.entries[0].address, "203.0.113.9", "the latest address");
    }
);
