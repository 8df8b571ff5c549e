//! The browser session the server sees, over real HTTP on SQLite and PostgreSQL: every
//! browser sign-in sets the session cookie (`__Host-`, `HttpOnly`, `Secure`,
//! `SameSite=Lax`); a page rendered with it already names the person; a settings page
//! without a live session answers 303 to `/login?next=<that page>`; the cookie ends with
//! its session in every way a session ends, is refused when forged, and never
//! authenticates an API call.

use crate::admin_cli::keyhold;
use crate::client::{
    requests::{newest, password_change},
    REFRESH_COOKIE, SESSION_COOKIE,
};
use crate::helpers::{set_cookie, Engine, TestServer, PASSWORD};
use std::time::{Duration, Instant};

/// A browser's sign-in: its access token and cookies.
struct Browser {
    access: String,
    session: String,
    refresh: String,
}

async fn sign_in(server: &TestServer, username: &str) -> Browser {
    let answer = server.api().login(username, PASSWORD).await;
    assert_eq!(answer.status(), 200);
    let (session, _) = answer
        .set_cookie(SESSION_COOKIE)
        .expect("the session cookie is set");
    let (refresh, _) = answer
        .set_cookie(REFRESH_COOKIE)
        .expect("the refresh cookie is set");
    Browser {
        access: answer.value().access_token,
        session,
        refresh,
    }
}

/// `GET path` as a browser would open it (following no redirect), with `cookie` as the
/// session cookie.
async fn open(server: &TestServer, path: &str, cookie: Option<&str>) -> reqwest::Response {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut request = client.get(server.url(path)).header("accept", "text/html");
    if let Some(cookie) = cookie {
        request = request.header("cookie", format!("{SESSION_COOKIE}={cookie}"));
    }
    request.send().await.unwrap()
}

/// Asserts `response` sends the browser to log in first and come back to `next`.
fn sent_to_log_in(response: &reqwest::Response, next: &str) {
    assert_eq!(response.status(), 303);
    assert_eq!(
        response.headers()["location"],
        format!("/login?next={next}")
    );
}

/// Asserts the settings page refuses `cookie` (its session is over) and removes it,
/// within `patience` (a change made by another process is seen within seconds).
async fn ended(server: &TestServer, cookie: &str, how: &str, patience: Duration) {
    let started = Instant::now();
    loop {
        let response = open(server, "/profile", Some(cookie)).await;
        if response.status() == 303 {
            sent_to_log_in(&response, "%2Fprofile");
            let (value, line) =
                set_cookie(&response, SESSION_COOKIE).expect("the cookie is removed");
            assert_eq!(value, "", "{how}: {line}");
            assert!(line.contains("Max-Age=0"), "{how}: {line}");
            return;
        }
        assert_eq!(response.status(), 200, "{how}");
        assert!(
            started.elapsed() < patience,
            "{how}: the cookie still works"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

on_both_databases!(
    a_sign_in_sets_the_session_cookie_and_pages_render_signed_in,
    |engine: Engine| async move {
        let server = TestServer::start(engine).await;
        server.signed_up("grace_hopper").await;
        let answer = server.api().login("grace_hopper", PASSWORD).await;
        let (_, line) = answer
            .set_cookie(SESSION_COOKIE)
            .expect("the session cookie is set");
        for attribute in ["HttpOnly", "SameSite=Lax", "Secure", "Path=/"] {
            assert!(line.contains(attribute), "{attribute} in {line}");
        }
        assert!(!line.contains("Domain"), "{line}");
        let max_age: i64 = line
            .split("Max-Age=")
            .nth(1)
            .and_then(|rest| rest.split(';').next())
            .and_then(|age| age.parse().ok())
            .expect("Max-Age");
        assert!(max_age > 0 && max_age <= 30 * 24 * 3600, "{line}");
        let browser = sign_in(&server, "grace_hopper").await;

        // The first HTML already names the person: on the settings pages and elsewhere.
        for path in ["/profile", "/profile/security", "/"] {
            let page = open(&server, path, Some(&browser.session)).await;
            assert_eq!(page.status(), 200, "{path}");
            let html = page.text().await.unwrap();
            assert!(html.contains("Signed in as"), "{path}: {html}");
            assert!(html.contains("grace_hopper"), "{path}: {html}");
        }

        // Signed out: the settings pages send the browser to log in, then back.
        sent_to_log_in(&open(&server, "/profile", None).await, "%2Fprofile");
        sent_to_log_in(
            &open(&server, "/profile/security?from=mail", None).await,
            "%2Fprofile%2Fsecurity%3Ffrom%3Dmail",
        );
        let home = open(&server, "/", None).await;
        assert_eq!(home.status(), 200);
        assert!(!home.text().await.unwrap().contains("Signed in as"));

        // The cookie is for pages only: an API call needs the bearer token.
        let cookie = format!("{SESSION_COOKIE}={}", browser.session);
        let me = server.api().header("cookie", &cookie).me().await;
        assert_eq!(me.status(), 401);
        let me = server.api().bearer(&browser.access).me().await;
        assert_eq!(me.status(), 200);
    }
);

on_both_databases!(
    a_forged_or_foreign_session_cookie_signs_nobody_in,
    |engine: Engine| async move {
        let server = TestServer::start(engine).await;
        server.signed_up("ada").await;
        let ada = sign_in(&server, "ada").await;
        // The session's id with another MAC, another id with this MAC, junk.
        let (id, mac) = ada.session.split_once('.').unwrap();
        let other_mac = format!("{id}.{}", "A".repeat(mac.len()));
        let flipped = if id.starts_with('A') { 'B' } else { 'A' };
        let other_id = format!("{flipped}{}.{mac}", &id[1..]);
        // The refresh cookie's value is not a session cookie either.
        for forged in [other_mac.as_str(), &other_id, "junk", &ada.refresh, ""] {
            let response = open(&server, "/profile", Some(forged)).await;
            sent_to_log_in(&response, "%2Fprofile");
        }
        assert_eq!(
            open(&server, "/profile", Some(&ada.session)).await.status(),
            200
        );
    }
);

on_both_databases!(
    the_session_cookie_ends_with_its_session,
    |engine: Engine| async move {
        let server = TestServer::start(engine).await;
        let fast = Duration::from_secs(2);
        server.signed_up("ada").await;

        // Log-out: the answer removes the cookie, and the session is over anyway.
        let browser = sign_in(&server, "ada").await;
        let answer = server.api().bearer(&browser.access).log_out(None).await;
        assert_eq!(answer.status(), 200);
        let (value, _) = answer
            .set_cookie(SESSION_COOKIE)
            .expect("log-out removes the cookie");
        assert_eq!(value, "");
        ended(&server, &browser.session, "log-out", fast).await;

        // Revoked from another session.
        let laptop = sign_in(&server, "ada").await;
        let phone = sign_in(&server, "ada").await;
        let (laptop_id, _) = laptop.session.split_once('.').unwrap();
        let on_phone = server.api().bearer(&phone.access);
        let answer = on_phone.revoke_session(laptop_id).await;
        assert_eq!(answer.status(), 200, "{}", answer.text());
        ended(&server, &laptop.session, "revocation", fast).await;

        // Log out everywhere.
        let other = sign_in(&server, "ada").await;
        assert_eq!(on_phone.log_out_everywhere().await.status(), 200);
        ended(&server, &phone.session, "log-out everywhere", fast).await;
        ended(&server, &other.session, "log-out everywhere", fast).await;

        // A password change (on another account: ada keeps her password here).
        server.signed_up("bob").await;
        let before = sign_in(&server, "bob").await;
        let current = sign_in(&server, "bob").await;
        let change = password_change(PASSWORD, "a brand new passphrase, long enough");
        let answer = server
            .api()
            .bearer(&current.access)
            .change_password(&change)
            .await;
        assert_eq!(answer.status(), 200, "{}", answer.text());
        ended(&server, &before.session, "password change", fast).await;

        // A replaced refresh cookie replayed after the grace window (theft detection).
        let stolen = sign_in(&server, "ada").await;
        let site = server.api().same_origin();
        assert_eq!(site.refresh(Some(&stolen.refresh)).await.status(), 200);
        server.clock.advance(Duration::from_secs(11));
        let replayed = site.refresh(Some(&stolen.refresh)).await;
        assert_eq!(replayed.status(), 401);
        let (value, _) = replayed
            .set_cookie(SESSION_COOKIE)
            .expect("the refusal removes it");
        assert_eq!(value, "");
        ended(&server, &stolen.session, "refresh token reuse", fast).await;

        // "This wasn't me" on a sign-in ends every other session.
        let intruder = sign_in(&server, "ada").await;
        let owner = server.api().bearer(&sign_in(&server, "ada").await.access);
        let activity = owner.activity(&newest(None)).await.value();
        let entry = activity
            .entries
            .iter()
            .find(|e| !e.current_session && e.kind.name() == "login_succeeded")
            .unwrap_or_else(|| panic!("another sign-in: {activity:?}"));
        let answer = owner.report_not_me(entry.id).await;
        assert_eq!(answer.status(), 200, "{}", answer.text());
        ended(&server, &intruder.session, "this wasn't me", fast).await;

        // An administrator disables the account (another process: seen within seconds).
        let last = sign_in(&server, "ada").await;
        let run = keyhold(
            server.database(),
            &["admin", "users", "disable", "ada"],
            &[],
        )
        .await;
        assert!(run.ok, "{}", run.stderr);
        ended(
            &server,
            &last.session,
            "disabled account",
            Duration::from_secs(15),
        )
        .await;
    }
);
