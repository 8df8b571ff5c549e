//! Scale-out: two Keyhold processes (the real binary) on one PostgreSQL with one JWT
//! secret behave as one service: accounts, tokens, sessions, images, revocation, one
//! username under a race, and one throttling budget.

use crate::client::requests::{password_change, registration};
use crate::helpers::{Engine, TestDatabase, PASSWORD};
use crate::instance::Instance;

/// Two processes of the real binary on one PostgreSQL database, both answering.
async fn two_instances(db: &TestDatabase, client: &reqwest::Client) -> (Instance, Instance) {
    let a = Instance::spawn(&db.url, &db.data_dir.join("a"))
        .ready(client)
        .await;
    let b = Instance::spawn(&db.url, &db.data_dir.join("b"))
        .ready(client)
        .await;
    (a, b)
}

/// Registers `username` at `email` on `at`: the status.
async fn register(at: &Instance, username: &str, email: &str) -> u16 {
    let request = registration(username, email, PASSWORD);
    at.api().register(&request).await.status()
}

/// Logs `username` in on `at` (which must answer 200): the access token.
async fn login(at: &Instance, username: &str) -> String {
    let answer = at.api().login(username, PASSWORD).await;
    assert_eq!(answer.status(), 200);
    answer.value().access_token
}

/// The status of `GET /api/users/me` on `at` with `token`.
async fn me(at: &Instance, token: &str) -> u16 {
    at.api().bearer(token).me().await.status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_on_one_postgres_act_as_one() {
    let _machine = crate::helpers::shared().await;
    let db = TestDatabase::create(Engine::Postgres).await;
    let client = reqwest::Client::new();
    let (a, b) = two_instances(&db, &client).await;

    // An account made on A logs in on B, and B's token works on A.
    assert_eq!(register(&a, "shared", "shared@example.com").await, 201);
    let token_b = login(&b, "shared").await;
    assert_eq!(me(&a, &token_b).await, 200);
    let token_a = login(&a, "shared").await;
    assert_eq!(me(&b, &token_a).await, 200);

    // A session opened on A is refreshed on B; signing out on B ends it on A at once.
    let answer = a.api().login("shared", PASSWORD).await;
    let (cookie, _) = answer
        .set_cookie(crate::client::REFRESH_COOKIE)
        .expect("refresh cookie");
    let refresh = |at: &Instance| {
        let api = at.api().same_origin();
        let cookie = cookie.clone();
        async move { api.refresh(Some(&cookie)).await }
    };
    let answer = refresh(&b).await;
    assert_eq!(answer.status(), 200);
    let renewed = answer.value().access_token;
    assert_eq!(me(&a, &renewed).await, 200);
    let signed_out = b.api().bearer(&renewed).log_out(None).await;
    assert_eq!(signed_out.status(), 200);
    assert_eq!(me(&a, &renewed).await, 401);
    assert_eq!(refresh(&a).await.status(), 401);

    // An image uploaded through A is served by B.
    let png = {
        let pixels = image::ImageBuffer::from_pixel(40, 40, image::Rgba([200u8, 30, 30, 255]));
        let mut out = Vec::new();
        image::DynamicImage::ImageRgba8(pixels)
            .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
            .unwrap();
        out
    };
    let answer = a.api().bearer(&token_a).upload_image(png, "red.png").await;
    assert_eq!(answer.status(), 200);
    let image_url = answer.value().image_url.expect("an image URL");
    let response = client.get(b.url(&image_url)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "image/webp");

    // A password change on A rejects the old tokens on B at once.
    let change = password_change(PASSWORD, "another long passphrase indeed");
    let answer = a.api().bearer(&token_a).change_password(&change).await;
    assert_eq!(answer.status(), 200);
    let fresh = answer.value().access_token;
    assert_eq!(me(&b, &token_a).await, 401);
    assert_eq!(me(&b, &token_b).await, 401);
    assert_eq!(me(&b, &fresh).await, 200);

    // Log out everywhere on B rejects the fresh token on A at once.
    let answer = b.api().bearer(&fresh).log_out_everywhere().await;
    assert_eq!(answer.status(), 200);
    assert_eq!(me(&a, &fresh).await, 401);

    // 100 concurrent registrations of one username over both: exactly one account.
    let attempts = (0..100).map(|i| {
        let target = if i % 2 == 0 { &a } else { &b };
        async move { register(target, "contested", &format!("c{i}@example.com")).await }
    });
    let statuses = futures::future::join_all(attempts).await;
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        99,
        "{statuses:?}"
    );
}

/// Throttling is shared: failed log-ins alternating between two instances reach 429 at
/// the same count as on one (5 per account and address), and concurrent guesses on
/// both cannot all pass one check.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_share_one_throttling_budget() {
    let _machine = crate::helpers::shared().await;
    let db = TestDatabase::create(Engine::Postgres).await;
    let client = reqwest::Client::new();
    let (a, b) = two_instances(&db, &client).await;
    assert_eq!(register(&a, "split", "split@example.com").await, 201);
    assert_eq!(register(&a, "burst", "burst@example.com").await, 201);
    let guess = |at: &Instance, username: &'static str| {
        let api = at.api();
        async move {
            api.login(username, "wrong password number one")
                .await
                .status()
        }
    };
    let mut statuses = Vec::new();
    for i in 0..6 {
        let at = if i % 2 == 0 { &a } else { &b };
        statuses.push(guess(at, "split").await);
    }
    assert_eq!(statuses, vec![401, 401, 401, 401, 401, 429]);

    let guesses = (0..30).map(|i| guess(if i % 2 == 0 { &a } else { &b }, "burst"));
    let statuses: Vec<u16> = futures::future::join_all(guesses).await;
    let checked = statuses.iter().filter(|s| **s == 401).count();
    assert_eq!(checked, 5, "{statuses:?}");
}
