//! The security activity log over real HTTP on SQLite and PostgreSQL: every kind of
//! event an account's owner can cause, folding of repeated failures, paging and its
//! refusals, "This wasn't me", the data export, and another account's entries.

use crate::helpers::{json, Engine, TestServer, PASSWORD};
use serde_json::{json, Value};

const NEW_PASSWORD: &str = "a totally fresh passphrase, long";

async fn sign_in(server: &TestServer, username: &str, password: &str, agent: &str) -> String {
    let response = server
        .client
        .post(server.url("/api/login"))
        .header("user-agent", agent)
        .form(&[("username", username), ("password", password)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    json(response).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn get(server: &TestServer, token: &str, path: &str) -> reqwest::Response {
    server
        .client
        .get(server.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

async fn post(server: &TestServer, token: &str, path: &str, body: Value) -> reqwest::Response {
    server
        .client
        .post(server.url(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// The kinds on the first page (newest first), with their counts.
async fn kinds(server: &TestServer, token: &str) -> Vec<(String, i64)> {
    let page = json(get(server, token, "/api/users/me/activity?limit=100").await).await;
    page["entries"]
        .as_array()
        .unwrap_or_else(|| panic!("{page}"))
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap().to_owned(),
                e["count"].as_i64().unwrap(),
            )
        })
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
            assert_eq!(
                server
                    .login("ada", "wrong password, wrong password")
                    .await
                    .status(),
                401
            );
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
        let sessions = json(get(&server, &laptop, "/api/sessions").await).await;
        let phone_session = sessions
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["device"] == "Browser on iOS")
            .expect("the phone's session")["id"]
            .clone();
        let revoked = post(
            &server,
            &laptop,
            "/api/sessions/revoke",
            json!({"id": phone_session}),
        )
        .await;
        assert_eq!(revoked.status(), 200);
        assert_eq!(server.me(&phone).await.status(), 401);
        assert_eq!(
            post(&server, &laptop, "/api/sessions/revoke-others", json!({}))
                .await
                .status(),
            200
        );
        let renamed = post(
            &server,
            &laptop,
            "/api/users/me/profile",
            json!({"username": "ada2", "email": "ada2@example.com", "current_password": PASSWORD}),
        )
        .await;
        assert_eq!(renamed.status(), 200);
        let changed = post(
            &server,
            &laptop,
            "/api/users/me/password",
            json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD}),
        )
        .await;
        assert_eq!(changed.status(), 200);
        let laptop = json(changed).await["access_token"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(
            post(&server, &laptop, "/api/users/me/logout-all", json!({}))
                .await
                .status(),
            200
        );

        let token = sign_in(&server, "ada2", NEW_PASSWORD, "curl/8.5.0").await;
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
        assert_eq!(kinds(&server, &token).await, expected);

        // Each entry says when, from where and on what; the caller's own session is marked.
        let page = json(get(&server, &token, "/api/users/me/activity?limit=1").await).await;
        let newest = &page["entries"][0];
        assert_eq!(newest["address"], "127.0.0.1");
        assert_eq!(newest["device"], "curl");
        assert_eq!(newest["current_session"], true);
        assert!(newest["at"].as_i64().unwrap() > 1_700_000_000);

        // The data export carries the whole log.
        let export = json(get(&server, &token, "/api/users/me/export").await).await;
        assert_eq!(export["activity"].as_array().unwrap().len(), expected.len());
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
            statuses.push(
                server
                    .login("ada", "wrong password, wrong password")
                    .await
                    .status()
                    .as_u16(),
            );
        }
        assert_eq!(statuses, [401, 401, 401, 401, 401, 429, 429]);
        assert_eq!(
            kinds(&server, &token).await,
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
        let token = server.signed_up("ada").await;
        // 24 more sign-ins (what one session repeats would fold into one entry).
        for _ in 0..24 {
            sign_in(&server, "ada", PASSWORD, "curl/8.5.0").await;
        }
        let mut seen = Vec::new();
        let mut path = "/api/users/me/activity?limit=10".to_owned();
        let mut sizes = Vec::new();
        loop {
            let page = json(get(&server, &token, &path).await).await;
            let entries = page["entries"].as_array().unwrap();
            sizes.push(entries.len());
            seen.extend(entries.iter().map(|e| e["id"].as_i64().unwrap()));
            match page["next_before"].as_i64() {
                Some(next) => path = format!("/api/users/me/activity?limit=10&before={next}"),
                None => break,
            }
        }
        assert_eq!(sizes, [10, 10, 5]);
        let mut sorted = seen.clone();
        sorted.sort_unstable_by(|a, b| b.cmp(a));
        sorted.dedup();
        assert_eq!(seen, sorted, "newest first, each entry once");

        for (query, field) in [
            ("limit=0", "limit"),
            ("limit=101", "limit"),
            ("before=0", "before"),
        ] {
            let response = get(&server, &token, &format!("/api/users/me/activity?{query}")).await;
            assert_eq!(response.status(), 422, "{query}");
            assert_eq!(json(response).await["field"], field, "{query}");
        }
        let response = get(&server, &token, "/api/users/me/activity?limit=lots").await;
        assert_eq!(response.status(), 400);
        let response = server
            .client
            .get(server.url("/api/users/me/activity"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401);
    }
);

on_both_databases!(
    this_was_not_me_ends_every_other_session,
    |engine: Engine| async move {
        let server = TestServer::start(engine).await;
        let mine = server.signed_up("ada").await;
        let thief = sign_in(&server, "ada", PASSWORD, "python-requests/2.32").await;
        let page = json(get(&server, &mine, "/api/users/me/activity").await).await;
        let theirs = page["entries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["current_session"] == false && e["kind"] == "login_succeeded")
            .expect("the other sign-in")["id"]
            .clone();

        let reported = post(
            &server,
            &mine,
            "/api/users/me/activity/not-me",
            json!({"id": theirs}),
        )
        .await;
        assert_eq!(reported.status(), 200);
        assert_eq!(
            json(reported).await,
            json!({"sessions_ended": 1, "change_password": true})
        );
        assert_eq!(
            server.me(&thief).await.status(),
            401,
            "the other session ended at once"
        );
        assert_eq!(
            server.me(&mine).await.status(),
            200,
            "the reporter stays signed in"
        );
        assert_eq!(
            kinds(&server, &mine).await[0],
            ("reported_not_me".to_owned(), 1)
        );

        // Only the account's own entries: another account's, or none, is a 404 on `id`.
        let eve = server.signed_up("eve").await;
        let eve_page = json(get(&server, &eve, "/api/users/me/activity").await).await;
        let eves = eve_page["entries"][0]["id"].clone();
        for id in [eves, json!(9_000_000_000_i64), json!(-1)] {
            let response = post(
                &server,
                &mine,
                "/api/users/me/activity/not-me",
                json!({"id": id}),
            )
            .await;
            assert_eq!(response.status(), 404, "{id}");
            assert_eq!(json(response).await["field"], "id");
        }
        let response = post(
            &server,
            &mine,
            "/api/users/me/activity/not-me",
            json!({"id": "x"}),
        )
        .await;
        assert_eq!(response.status(), 400);
    }
);

on_both_databases!(
    a_deleted_account_takes_its_log_along,
    |engine: Engine| async move {
        let server = TestServer::start(engine).await;
        let token = server.signed_up("ada").await;
        let deleted = post(
            &server,
            &token,
            "/api/users/me/delete",
            json!({"password": PASSWORD, "confirm": "ada"}),
        )
        .await;
        assert_eq!(deleted.status(), 200);
        // A new account with the same name starts with an empty log (only its sign-in).
        let token = server.signed_up("ada").await;
        assert_eq!(
            kinds(&server, &token).await,
            [("login_succeeded".to_owned(), 1)]
        );
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
        let token = server.signed_up("ada").await;
        // An attacker burying the owner's sign-ins: 60 wrong passwords, two addresses.
        for attempt in 0..60 {
            let address = if attempt % 2 == 0 {
                "198.51.100.1"
            } else {
                "203.0.113.9"
            };
            let response = server
                .client
                .post(server.url("/api/login"))
                .header("x-forwarded-for", address)
                .form(&[
                    ("username", "ada"),
                    ("password", "wrong password, wrong password"),
                ])
                .send()
                .await
                .unwrap();
            // Wrong, then (the account's backoff) throttled.
            assert!([401, 429].contains(&response.status().as_u16()));
        }
        let entries = kinds(&server, &token).await;
        assert!(entries.len() <= 3, "{entries:?}");
        let total: i64 = entries.iter().map(|(_, count)| count).sum();
        assert_eq!(total, 61, "{entries:?}");
        assert_eq!(entries.last().unwrap(), &("login_succeeded".to_owned(), 1));
        let page = json(get(&server, &token, "/api/users/me/activity").await).await;
        assert_eq!(
            page["entries"][0]["address"], "203.0.113.9",
            "the latest address"
        );
    }
);
