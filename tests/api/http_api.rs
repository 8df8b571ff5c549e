//! The HTTP API over real HTTP, against the real router and a fresh database, on
//! SQLite and PostgreSQL.

use crate::client::requests::registration;
use crate::devices::me_status;
use crate::helpers::{json, Engine, TestServer, PASSWORD};
use futures::future::join_all;
use keyhold::api::ErrorCode;
use serde_json::json;

on_both_databases!(
    fastapi_client_flow_works_unchanged,
    |engine: Engine| async move {
        let server = TestServer::start(engine).await;
        let api = server.api();
        // Exactly these fields, as the FastAPI reference answers them.
        let alice = json!({"username": "alice", "email": "Alice@example.com", "image_url": null, "email_verified": false, "pending_email": null});

        // POST /register with JSON, as the FastAPI reference expects.
        let request = registration("alice", "Alice@Example.COM", PASSWORD);
        let answer = api.register(&request).await;
        assert_eq!(answer.status(), 201);
        assert_eq!(answer.headers()["cache-control"], "no-store");
        assert_eq!(answer.json(), alice);

        // POST /login with the OAuth2 password form.
        let answer = api.login("alice", PASSWORD).await;
        assert_eq!(answer.status(), 200);
        assert_eq!(answer.headers()["cache-control"], "no-store");
        let token = answer.value();
        assert_eq!(token.token_type, "bearer");
        assert!(token.expires_in > 60);
        let token = token.access_token;
        assert_eq!(token.split('.').count(), 3, "a JWT");

        // GET /users/me with the bearer token.
        let answer = api.bearer(&token).me().await;
        assert_eq!(answer.status(), 200);
        assert_eq!(answer.headers()["cache-control"], "no-store");
        assert_eq!(answer.json(), alice);

        // The e-mail works as the login name too, in any case.
        let answer = api.login("ALICE@example.com", PASSWORD).await;
        assert_eq!(answer.status(), 200);
    }
);

on_both_databases!(
    taken_username_or_email_is_409_in_any_case,
    |engine: Engine| async move {
        let server = TestServer::start(engine).await;
        let api = server.api();
        let bob = registration("bob", "bob@example.com", PASSWORD);
        assert_eq!(api.register(&bob).await.status(), 201);

        let same_name = registration("BOB", "other@example.com", PASSWORD);
        let answer = api.register(&same_name).await;
        assert_eq!(answer.status(), 409);
        let error = answer.error();
        assert_eq!(error.error, ErrorCode::Conflict);
        assert_eq!(error.field.as_deref(), Some("username"));

        let same_email = registration("robert", "Bob@EXAMPLE.com", PASSWORD);
        let answer = api.register(&same_email).await;
        assert_eq!(answer.status(), 409);
        assert_eq!(answer.error().field.as_deref(), Some("email"));
    }
);

on_both_databases!(
    invalid_input_is_422_naming_the_field,
    |engine: Engine| async move {
        let server = TestServer::start(engine).await;
        let cases = [
            ("ab", "a@example.com", PASSWORD, "username"),
            ("has space", "a@example.com", PASSWORD, "username"),
            ("<script>", "a@example.com", PASSWORD, "username"),
            ("carol", "not-an-email", PASSWORD, "email"),
            ("carol", "carol@example.com", "short", "password"),
            ("carol", "carol@example.com", "PolniyPizdec0211", "password"),
            (
                "carol",
                "carol@example.com",
                "carol-is-my-password",
                "password",
            ),
        ];
        let api = server.api();
        for (username, email, password, field) in cases {
            let answer = api.register(&registration(username, email, password)).await;
            assert_eq!(answer.status(), 422, "{username} {email} {password}");
            let error = answer.error();
            assert_eq!(error.error, ErrorCode::ValidationFailed);
            assert_eq!(error.field.as_deref(), Some(field), "{error:?}");
            assert!(!error.message.is_empty());
        }
        // Nothing was written by the refused attempts.
        let carol = registration("carol", "carol@example.com", PASSWORD);
        assert_eq!(api.register(&carol).await.status(), 201);
    }
);

on_both_databases!(
    missing_fields_and_malformed_bodies_are_4xx,
    |engine: Engine| async move {
        let server = TestServer::start(engine).await;
        let api = server.api();
        let (json_body, form_body) = ("application/json", "application/x-www-form-urlencoded");

        let answer = api
            .raw_post("/api/register", json_body, r#"{"username":"dave"}"#)
            .await;
        assert_eq!(answer.status(), 422);
        assert_eq!(answer.json()["field"], "email");

        for body in [&b"{not json"[..], b"", b"[1,2,3]", b"\xff\xfe\x00", b"null"] {
            let answer = api
                .raw_post("/api/register", json_body, body.to_vec())
                .await;
            let status = answer.status();
            assert!(status == 400 || status == 422, "{status} for {body:?}");
            assert!(answer.json()["message"].is_string());
        }

        let answer = api.raw_post("/api/login", form_body, "username=dave").await;
        let body = answer.json();
        assert_eq!(answer.status(), 422, "{body}");
        assert_eq!(body["field"], "password");

        let answer = api.raw_post("/api/login", form_body, "%%%=&&=").await;
        assert!(matches!(answer.status(), 400 | 422));
    }
);

on_both_databases!(oversized_bodies_are_413, |engine: Engine| async move {
    let server = TestServer::start(engine).await;
    let api = server.api();
    let huge = "x".repeat(64 * 1024);
    let request = registration(&huge, "e@example.com", PASSWORD);
    let answer = api.register(&request).await;
    assert_eq!(answer.status(), 413);
    assert_eq!(answer.error().error, ErrorCode::PayloadTooLarge);

    assert_eq!(api.login("x", &huge).await.status(), 413);
});

on_both_databases!(
    overlong_password_is_422_not_hashed,
    |engine: Engine| async move {
        let server = TestServer::start(engine).await;
        let long = "p".repeat(2000);
        let request = registration("erin", "erin@example.com", &long);
        let answer = server.api().register(&request).await;
        assert_eq!(answer.status(), 422);
        assert_eq!(answer.error().field.as_deref(), Some("password"));
    }
);

on_both_databases!(
    wrong_credentials_are_401_with_one_message,
    |engine: Engine| async move {
        let server = TestServer::start(engine).await;
        server.signed_up("frank").await;
        let api = server.api();
        let wrong_password = api.login("frank", "not the right password at all").await;
        let unknown_user = api.login("nobody", PASSWORD).await;
        for answer in [wrong_password, unknown_user] {
            assert_eq!(answer.status(), 401);
            assert_eq!(answer.headers()["www-authenticate"], "Bearer");
            let error = answer.error();
            assert_eq!(error.error, ErrorCode::InvalidCredentials);
            assert_eq!(error.message, "Incorrect username or password.");
        }
    }
);

on_both_databases!(
    users_me_without_a_valid_token_is_401,
    |engine: Engine| async move {
        let server = TestServer::start(engine).await;
        let token = server.signed_up("grace").await;
        let api = server.api();

        let answer = api.me().await;
        assert_eq!(answer.status(), 401);
        assert_eq!(answer.headers()["www-authenticate"], "Bearer");
        assert_eq!(answer.error().error, ErrorCode::MissingToken);

        let mut tampered = token.clone();
        tampered.pop();
        tampered.push(if token.ends_with('A') { 'B' } else { 'A' });
        for bad in ["garbage", "a.b.c", tampered.as_str()] {
            let answer = api.bearer(bad).me().await;
            assert_eq!(answer.status(), 401, "{bad}");
            assert_eq!(
                answer.headers()["www-authenticate"],
                r#"Bearer error="invalid_token""#
            );
            assert_eq!(answer.error().error, ErrorCode::InvalidToken);
        }

        // "Basic" or other schemes are not a bearer token.
        let basic = format!("Basic {token}");
        let answer = api.header("authorization", &basic).me().await;
        assert_eq!(answer.status(), 401);
    }
);

on_both_databases!(
    a_token_from_another_server_secret_is_refused,
    |engine: Engine| async move {
        let server = TestServer::start(engine).await;
        let other = TestServer::start_with(engine, |settings| {
            settings.insert(
                "KEYHOLD_JWT_SECRET",
                "a-completely-different-secret-for-another-deployment".into(),
            );
        })
        .await;
        let token = other.signed_up("heidi").await;
        server.signed_up("heidi").await;
        assert_eq!(me_status(&server, &token).await, 401);
    }
);

on_both_databases!(
    wrong_method_is_405_and_unknown_path_404,
    |engine: Engine| async move {
        let server = TestServer::start(engine).await;
        let response = server
            .client
            .get(server.url("/api/register"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 405);
        assert_eq!(response.headers()["cache-control"], "no-store");
        assert_eq!(json(response).await["error"], "method_not_allowed");

        let response = server
            .client
            .post(server.url("/api/users/me"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 405);

        let response = server
            .client
            .get(server.url("/api/nothing-here"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404);
        assert_eq!(json(response).await["error"], "not_found");
    }
);

on_both_databases!(
    concurrent_registrations_make_exactly_one_account,
    |engine: Engine| async move {
        let server = TestServer::start(engine).await;
        let api = server.api();
        let attempts = (0..50).map(|i| {
            let request = registration("racer", &format!("racer{i}@example.com"), PASSWORD);
            let api = &api;
            async move { api.register(&request).await.status() }
        });
        let statuses = join_all(attempts).await;
        assert_eq!(
            statuses.iter().filter(|s| **s == 201).count(),
            1,
            "{statuses:?}"
        );
        assert_eq!(
            statuses.iter().filter(|s| **s == 409).count(),
            49,
            "{statuses:?}"
        );
    }
);

on_both_databases!(
    health_check_reports_the_database,
    |engine: Engine| async move {
        let server = TestServer::start(engine).await;
        let answer = server.api().health().await;
        assert_eq!(answer.status(), 200);
        assert_eq!(answer.json()["database"], "reachable");
    }
);

on_both_databases!(
    pages_are_compressed_and_never_stored,
    |engine: Engine| async move {
        let server = TestServer::start(engine).await;
        for encoding in ["br", "gzip"] {
            let response = server
                .client
                .get(server.url("/login"))
                .header("accept-encoding", encoding)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200);
            assert_eq!(response.headers()["content-encoding"], encoding);
            assert_eq!(response.headers()["cache-control"], "no-store");
        }
    }
);

on_both_databases!(
    pages_render_on_the_server_with_security_headers,
    |engine: Engine| async move {
        let server = TestServer::start(engine).await;
        for (path, status, text) in [
            ("/signup", 200, "Sign up"),
            ("/login", 200, "Log in"),
            ("/profile", 200, "Profile"),
            ("/no-such-page", 404, "not found"),
        ] {
            let response = server.client.get(server.url(path)).send().await.unwrap();
            assert_eq!(response.status(), status, "{path}");
            let headers = response.headers().clone();
            let csp = headers["content-security-policy"]
                .to_str()
                .unwrap()
                .to_owned();
            assert!(csp.contains("script-src 'nonce-"), "{csp}");
            assert!(!csp.contains("unsafe-inline') "), "{csp}");
            assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
            assert_eq!(headers["x-content-type-options"], "nosniff");
            assert_eq!(headers["referrer-policy"], "no-referrer");
            let html = response.text().await.unwrap();
            assert!(
                html.to_lowercase().contains(&text.to_lowercase()),
                "{path}: {html}"
            );
            let nonce = csp
                .split("'nonce-")
                .nth(1)
                .unwrap()
                .split('\'')
                .next()
                .unwrap();
            assert!(
                html.contains(&format!("nonce=\"{nonce}\"")),
                "{path} scripts carry the nonce"
            );
        }
    }
);
