//! The HTTP API over real HTTP, against the real router and a fresh database, on
//! SQLite and PostgreSQL.

use crate::helpers::{form, json, Engine, TestServer, PASSWORD};
use futures::future::join_all;

on_both_databases!(
    fastapi_client_flow_works_unchanged,
    |engine: Engine| async move {
        let server = TestServer::start(engine).await;

        // POST /register with JSON, as the FastAPI reference expects.
        let response = server
            .register("alice", "Alice@Example.COM", PASSWORD)
            .await;
        assert_eq!(response.status(), 201);
        assert_eq!(response.headers()["cache-control"], "no-store");
        let body = json(response).await;
        assert_eq!(
            body,
            serde_json::json!({"username": "alice", "email": "Alice@example.com", "image_url": null, "email_verified": false, "pending_email": null})
        );

        // POST /login with the OAuth2 password form.
        let response = server.login("alice", PASSWORD).await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["cache-control"], "no-store");
        let body = json(response).await;
        assert_eq!(body["token_type"], "bearer");
        assert!(body["expires_in"].as_u64().unwrap() > 60);
        let token = body["access_token"].as_str().unwrap();
        assert_eq!(token.split('.').count(), 3, "a JWT");

        // GET /users/me with the bearer token.
        let response = server.me(token).await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["cache-control"], "no-store");
        assert_eq!(
            json(response).await,
            serde_json::json!({"username": "alice", "email": "Alice@example.com", "image_url": null, "email_verified": false, "pending_email": null})
        );

        // The e-mail works as the login name too, in any case.
        let response = server.login("ALICE@example.com", PASSWORD).await;
        assert_eq!(response.status(), 200);
    }
);

on_both_databases!(
    taken_username_or_email_is_409_in_any_case,
    |engine: Engine| async move {
        let server = TestServer::start(engine).await;
        assert_eq!(
            server
                .register("bob", "bob@example.com", PASSWORD)
                .await
                .status(),
            201
        );

        let response = server.register("BOB", "other@example.com", PASSWORD).await;
        assert_eq!(response.status(), 409);
        let body = json(response).await;
        assert_eq!(body["error"], "conflict");
        assert_eq!(body["field"], "username");

        let response = server.register("robert", "Bob@EXAMPLE.com", PASSWORD).await;
        assert_eq!(response.status(), 409);
        assert_eq!(json(response).await["field"], "email");
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
        for (username, email, password, field) in cases {
            let response = server.register(username, email, password).await;
            assert_eq!(response.status(), 422, "{username} {email} {password}");
            let body = json(response).await;
            assert_eq!(body["error"], "validation_failed");
            assert_eq!(body["field"], field, "{body}");
            assert!(!body["message"].as_str().unwrap().is_empty());
        }
        // Nothing was written by the refused attempts.
        assert_eq!(
            server
                .register("carol", "carol@example.com", PASSWORD)
                .await
                .status(),
            201
        );
    }
);

on_both_databases!(
    missing_fields_and_malformed_bodies_are_4xx,
    |engine: Engine| async move {
        let server = TestServer::start(engine).await;
        let post = |path: &'static str, content_type: &'static str, body: Vec<u8>| {
            server
                .client
                .post(server.url(path))
                .header("content-type", content_type)
                .body(body)
                .send()
        };

        let response = post(
            "/api/register",
            "application/json",
            br#"{"username":"dave"}"#.to_vec(),
        )
        .await
        .unwrap();
        assert_eq!(response.status(), 422);
        assert_eq!(json(response).await["field"], "email");

        for body in [&b"{not json"[..], b"", b"[1,2,3]", b"\xff\xfe\x00", b"null"] {
            let response = post("/api/register", "application/json", body.to_vec())
                .await
                .unwrap();
            let status = response.status().as_u16();
            assert!(status == 400 || status == 422, "{status} for {body:?}");
            let body = json(response).await;
            assert!(body["message"].is_string());
        }

        let response = post(
            "/api/login",
            "application/x-www-form-urlencoded",
            b"username=dave".to_vec(),
        )
        .await
        .unwrap();
        let status = response.status();
        let body = json(response).await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(body["field"], "password");

        let response = post(
            "/api/login",
            "application/x-www-form-urlencoded",
            b"%%%=&&=".to_vec(),
        )
        .await
        .unwrap();
        assert!(matches!(response.status().as_u16(), 400 | 422));
    }
);

on_both_databases!(oversized_bodies_are_413, |engine: Engine| async move {
    let server = TestServer::start(engine).await;
    let huge = "x".repeat(64 * 1024);
    let response = server.register(&huge, "e@example.com", PASSWORD).await;
    assert_eq!(response.status(), 413);
    assert_eq!(json(response).await["error"], "payload_too_large");

    let response = server
        .client
        .post(server.url("/api/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[("username", "x"), ("password", &huge)]))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
});

on_both_databases!(
    overlong_password_is_422_not_hashed,
    |engine: Engine| async move {
        let server = TestServer::start(engine).await;
        let long = "p".repeat(2000);
        let response = server.register("erin", "erin@example.com", &long).await;
        assert_eq!(response.status(), 422);
        assert_eq!(json(response).await["field"], "password");
    }
);

on_both_databases!(
    wrong_credentials_are_401_with_one_message,
    |engine: Engine| async move {
        let server = TestServer::start(engine).await;
        server.signed_up("frank").await;
        let wrong_password = server.login("frank", "not the right password at all").await;
        let unknown_user = server.login("nobody", PASSWORD).await;
        for response in [wrong_password, unknown_user] {
            assert_eq!(response.status(), 401);
            assert_eq!(response.headers()["www-authenticate"], "Bearer");
            let body = json(response).await;
            assert_eq!(body["error"], "invalid_credentials");
            assert_eq!(body["message"], "Incorrect username or password.");
        }
    }
);

on_both_databases!(
    users_me_without_a_valid_token_is_401,
    |engine: Engine| async move {
        let server = TestServer::start(engine).await;
        let token = server.signed_up("grace").await;

        let response = server
            .client
            .get(server.url("/api/users/me"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401);
        assert_eq!(response.headers()["www-authenticate"], "Bearer");
        assert_eq!(json(response).await["error"], "missing_token");

        let mut tampered = token.clone();
        tampered.pop();
        tampered.push(if token.ends_with('A') { 'B' } else { 'A' });
        for bad in ["garbage", "a.b.c", tampered.as_str()] {
            let response = server.me(bad).await;
            assert_eq!(response.status(), 401, "{bad}");
            assert_eq!(
                response.headers()["www-authenticate"],
                r#"Bearer error="invalid_token""#
            );
            assert_eq!(json(response).await["error"], "invalid_token");
        }

        // "Basic" or other schemes are not a bearer token.
        let response = server
            .client
            .get(server.url("/api/users/me"))
            .header("authorization", format!("Basic {token}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401);
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
        assert_eq!(server.me(&token).await.status(), 401);
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
        let attempts = (0..50).map(|i| {
            let email = format!("racer{i}@example.com");
            let server = &server;
            async move {
                server
                    .register("racer", &email, PASSWORD)
                    .await
                    .status()
                    .as_u16()
            }
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
        let response = server
            .client
            .get(server.url("/healthz"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(json(response).await["database"], "reachable");
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
