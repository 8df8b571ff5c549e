//! The entry pages' forms posted by the browser itself (before or without the WASM),
//! over real HTTP on SQLite and PostgreSQL: a log-in form signs in with a `303` to a
//! local `next` and the session cookies; a refused one renders the page again with the
//! message, the error's status and the username, never the password; a form posted
//! from another site (or with no `Origin`) signs nobody in or out; the sign-up form
//! takes its picture as multipart and refuses a file that is no picture before the
//! account exists; "Log out" ends the session; and the API keeps answering JSON to a
//! client that accepts HTML.

use crate::client::{requests::registration, REFRESH_COOKIE, SESSION_COOKIE};
use crate::helpers::{json, set_cookie, Engine, TestServer, PASSWORD};
use image::{DynamicImage, ImageBuffer, ImageFormat, Rgba};
use reqwest::multipart::{Form, Part};
use std::io::Cursor;

/// A browser: follows no redirect, sends `Accept: text/html` and its `Origin`.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The form `pairs` posted to `path` from `origin` (none: `None`).
async fn post_form(
    server: &TestServer,
    path: &str,
    origin: Option<&str>,
    pairs: &[(&str, &str)],
) -> reqwest::Response {
    let mut request = browser()
        .post(server.url(path))
        .header("accept", "text/html")
        .form(pairs);
    if let Some(origin) = origin {
        request = request.header("origin", origin);
    }
    request.send().await.unwrap()
}

/// The sign-up form with `picture` (as a file named `me.png`), from this site.
async fn sign_up(
    server: &TestServer,
    username: &str,
    password: &str,
    picture: Option<Vec<u8>>,
) -> reqwest::Response {
    let mut body = Form::new()
        .text("username", username.to_owned())
        .text("email", format!("{username}@example.com"))
        .text("password", password.to_owned());
    body = match picture {
        Some(bytes) => body.part("image", Part::bytes(bytes).file_name("me.png")),
        None => body.part("image", Part::bytes(Vec::new()).file_name("")),
    };
    browser()
        .post(server.url("/signup"))
        .header("accept", "text/html")
        .header("origin", &server.base)
        .multipart(body)
        .send()
        .await
        .unwrap()
}

fn picture() -> Vec<u8> {
    let pixels = ImageBuffer::from_fn(40, 30, |x, y| Rgba([(x * 6) as u8, (y * 8) as u8, 90, 255]));
    let mut out = Vec::new();
    DynamicImage::ImageRgba8(pixels)
        .write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
        .unwrap();
    out
}

/// `ada_lovelace`'s log-in form with `password`, posted to `path` from this site.
async fn ada_logs_in(server: &TestServer, path: &str, password: &str) -> reqwest::Response {
    let credentials = [("username", "ada_lovelace"), ("password", password)];
    post_form(server, path, Some(&server.base), &credentials).await
}

fn signed_in(response: &reqwest::Response) -> bool {
    set_cookie(response, SESSION_COOKIE).is_some_and(|(value, _)| !value.is_empty())
}

on_both_databases!(log_in_form, |engine: Engine| async move {
    let server = TestServer::start(engine).await;
    server.signed_up("ada_lovelace").await;

    // Right: 303 to the local `next`, with the session, refresh and device cookies.
    let response = ada_logs_in(&server, "/login?next=%2Fprofile%2Fsecurity", PASSWORD).await;
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/profile/security");
    assert!(signed_in(&response));
    assert!(set_cookie(&response, REFRESH_COOKIE).is_some());
    let (session, _) = set_cookie(&response, SESSION_COOKIE).unwrap();
    let page = browser()
        .get(server.url("/profile"))
        .header("cookie", format!("{SESSION_COOKIE}={session}"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("ada_lovelace"));

    // A `next` that leaves the site is not followed.
    for foreign in [
        "https%3A%2F%2Fevil.example",
        "%2F%2Fevil.example",
        "%2F%5Cevil.example",
    ] {
        let response = ada_logs_in(&server, &format!("/login?next={foreign}"), PASSWORD).await;
        assert_eq!(response.status(), 303, "{foreign}");
        assert_eq!(response.headers()["location"], "/profile", "{foreign}");
    }

    // Wrong: the page again, 401, the message and the username; never the password.
    let wrong = "a wrong but memorable passphrase";
    let response = ada_logs_in(&server, "/login", wrong).await;
    assert_eq!(response.status(), 401);
    assert!(!signed_in(&response));
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let html = response.text().await.unwrap();
    assert!(html.contains("Incorrect username or password."), "{html}");
    assert!(
        html.contains(r#"value="ada_lovelace""#),
        "the username is kept: {html}"
    );
    assert!(!html.contains(wrong), "the password is never sent back");
});

on_both_databases!(
    another_sites_form_signs_nobody_in,
    |engine: Engine| async move {
        let server = TestServer::start(engine).await;
        server.signed_up("mallory_target").await;
        let credentials = [("username", "mallory_target"), ("password", PASSWORD)];

        // Login CSRF: another site's form, or a post with no Origin at all.
        for origin in [Some("https://evil.example"), Some("null"), None] {
            let response = post_form(&server, "/login", origin, &credentials).await;
            assert_eq!(response.status(), 403, "{origin:?}");
            assert!(!signed_in(&response), "{origin:?}");
            assert!(
                set_cookie(&response, REFRESH_COOKIE).is_none(),
                "{origin:?}"
            );
        }
        // `Origin: null` (the pages' no-referrer policy) counts only with the browser's
        // own word that the post is same-origin.
        for (site, status) in [
            ("cross-site", 403),
            ("same-site", 403),
            ("same-origin", 303),
        ] {
            let response = browser()
                .post(server.url("/login"))
                .header("origin", "null")
                .header("sec-fetch-site", site)
                .form(&credentials)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), status, "{site}");
            assert_eq!(signed_in(&response), status == 303, "{site}");
        }
        let response = browser()
            .post(server.url("/signup"))
            .header("origin", "https://evil.example")
            .multipart(
                Form::new()
                    .text("username", "planted_account")
                    .text("email", "planted@example.com")
                    .text("password", PASSWORD),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 403);
        assert!(!signed_in(&response));
        let planted = registration("planted_account", "planted@example.com", PASSWORD);
        let planted = server.api().register(&planted).await;
        assert_eq!(planted.status(), 201, "no account was created");

        // Nor out: another site's "Log out" leaves the session alone.
        let signed = post_form(&server, "/login", Some(&server.base), &credentials).await;
        let (session, _) = set_cookie(&signed, SESSION_COOKIE).unwrap();
        let (refresh, _) = set_cookie(&signed, REFRESH_COOKIE).unwrap();
        let cookies = format!("{SESSION_COOKIE}={session}; {REFRESH_COOKIE}={refresh}");
        let out = browser()
            .post(server.url("/logout"))
            .header("origin", "https://evil.example")
            .header("cookie", &cookies)
            .send()
            .await
            .unwrap();
        assert_eq!(out.status(), 403);
        let page = browser()
            .get(server.url("/profile"))
            .header("cookie", &cookies)
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 200, "still signed in");

        // This site's "Log out": the session ends, the cookies go, `/login` opens.
        let out = browser()
            .post(server.url("/logout"))
            .header("origin", &server.base)
            .header("cookie", &cookies)
            .send()
            .await
            .unwrap();
        assert_eq!(out.status(), 303);
        assert_eq!(out.headers()["location"], "/login");
        assert_eq!(set_cookie(&out, SESSION_COOKIE).unwrap().0, "");
        assert_eq!(set_cookie(&out, REFRESH_COOKIE).unwrap().0, "");
        let page = browser()
            .get(server.url("/profile"))
            .header("cookie", &cookies)
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 303, "the session ended");
    }
);

on_both_databases!(sign_up_form, |engine: Engine| async move {
    let server = TestServer::start(engine).await;

    // With a picture: 303 to the profile, signed in, the picture set.
    let response = sign_up(&server, "grace_hopper", PASSWORD, Some(picture())).await;
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/profile");
    assert!(signed_in(&response));
    let token = server.api().login("grace_hopper", PASSWORD).await;
    let me = server.api().bearer(&token.value().access_token).me().await;
    assert!(me.value().image_url.is_some(), "{}", me.text());

    // Without one (the browser sends the file field empty).
    let response = sign_up(&server, "alan_turing", PASSWORD, None).await;
    assert_eq!(response.status(), 303);

    // Refused: the page again with the error's status, the fields kept but the password.
    let response = sign_up(&server, "grace_hopper", PASSWORD, None).await;
    assert_eq!(response.status(), 409);
    let html = response.text().await.unwrap();
    assert!(html.contains("That username is already taken."), "{html}");
    assert!(
        html.contains(r#"value="grace_hopper@example.com""#),
        "{html}"
    );
    assert!(!html.contains(PASSWORD));

    // A file that is no picture is refused before the account exists.
    let response = sign_up(
        &server,
        "edsger_d",
        PASSWORD,
        Some(b"%PDF-1.7 not a picture".to_vec()),
    )
    .await;
    assert_eq!(response.status(), 415);
    assert!(!signed_in(&response));
    let later = registration("edsger_d", "edsger_d@example.com", PASSWORD);
    let later = server.api().register(&later).await;
    assert_eq!(later.status(), 201, "no account was created");
});

on_both_databases!(programs_get_json_not_pages, |engine: Engine| async move {
    let server = TestServer::start(engine).await;
    server.signed_up("katherine_j").await;
    // A client that accepts HTML (and names a page it came from) still gets JSON.
    for (password, status) in [(PASSWORD, 200), ("not the password at all", 401)] {
        let response = browser()
            .post(server.url("/api/login"))
            .header("accept", "text/html,application/xhtml+xml,*/*")
            .header("referer", server.url("/login"))
            .form(&[("username", "katherine_j"), ("password", password)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), status);
        assert!(response.headers().get("location").is_none());
        let body = json(response).await;
        assert!(body.get("access_token").is_some() || body.get("error").is_some());
    }
});
