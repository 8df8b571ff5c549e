//! The API as a developer meets it: the OpenAPI document matches the server functions,
//! each endpoint takes the encodings it documents, request ids, and the curl examples
//! in docs/api.md run as written against a live server.

use crate::devices::me_status;
use crate::helpers::{json, Engine, TestServer, PASSWORD};
use serde_json::json;
use std::collections::BTreeSet;

on_both_databases!(
    openapi_document_matches_the_server_functions,
    |engine: Engine| async move {
        let server = TestServer::start(engine).await;
        let response = server
            .client
            .get(server.url("/api/openapi.json"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let doc = json(response).await;
        assert_eq!(doc["openapi"], "3.1.0");
        let documented: BTreeSet<(String, String)> = doc["paths"]
            .as_object()
            .unwrap()
            .iter()
            .flat_map(|(path, item)| {
                item.as_object()
                    .unwrap()
                    .keys()
                    .map(move |method| (path.clone(), method.to_uppercase()))
            })
            .collect();
        let served: BTreeSet<(String, String)> = leptos::server_fn::axum::server_fn_paths()
            .filter(|(path, _)| path.starts_with("/api/"))
            .map(|(path, method)| (path.to_owned(), method.to_string()))
            .collect();
        assert!(!served.is_empty());
        assert_eq!(
            documented, served,
            "OpenAPI paths vs registered server functions"
        );
        // Every operation documents its error body.
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                let responses = operation["responses"].as_object().unwrap();
                assert!(responses.contains_key("405"), "{method} {path}");
                for (status, response) in responses {
                    if status.starts_with('4') || status.starts_with('5') {
                        assert_eq!(
                            response["content"]["application/json"]["schema"]["$ref"],
                            "#/components/schemas/ApiError",
                            "{method} {path} {status}"
                        );
                    }
                }
            }
        }
    }
);

on_both_databases!(
    endpoints_take_json_and_form_alike,
    |engine: Engine| async move {
        let server = TestServer::start(engine).await;
        // Register with a form, log in with JSON.
        let response = server
            .client
            .post(server.url("/api/register"))
            .form(&[
                ("username", "formuser"),
                ("email", "form@example.com"),
                ("password", PASSWORD),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        let response = server
            .client
            .post(server.url("/api/login"))
            .json(&json!({"username": "formuser", "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let token = json(response).await["access_token"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(me_status(&server, &token).await, 200);

        // A JSON field that is not a string is named.
        let response = server
            .client
            .post(server.url("/api/login"))
            .json(&json!({"username": ["a"], "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 422);
        assert_eq!(json(response).await["field"], "username");

        // Other content types: 415 naming the accepted ones.
        for content_type in [
            "text/plain",
            "multipart/form-data; boundary=x",
            "application/xml",
        ] {
            let response = server
                .client
                .post(server.url("/api/register"))
                .header("content-type", content_type)
                .body("username=x")
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 415, "{content_type}");
            let body = json(response).await;
            assert_eq!(body["error"], "unsupported_media_type");
            let message = body["message"].as_str().unwrap();
            assert!(
                message.contains("application/json")
                    && message.contains("application/x-www-form-urlencoded"),
                "{message}"
            );
        }
        let response = server
            .client
            .post(server.url("/api/login"))
            .body("username=x&password=y")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 415, "no content type");
    }
);

on_both_databases!(
    every_response_has_a_request_id,
    |engine: Engine| async move {
        let server = TestServer::start(engine).await;
        let mut seen = BTreeSet::new();
        for path in ["/api/users/me", "/login", "/healthz", "/api/nothing"] {
            let response = server.client.get(server.url(path)).send().await.unwrap();
            let id = response.headers()["x-request-id"]
                .to_str()
                .unwrap()
                .to_owned();
            assert_eq!(id.len(), 16, "{path}: {id}");
            assert!(seen.insert(id), "ids are unique");
        }
        let echoed = server
            .client
            .get(server.url("/healthz"))
            .header("x-request-id", "client-trace-42")
            .send()
            .await
            .unwrap();
        assert_eq!(echoed.headers()["x-request-id"], "client-trace-42");
        let replaced = server
            .client
            .get(server.url("/healthz"))
            .header("x-request-id", "evil\" injected=1")
            .send()
            .await
            .unwrap();
        assert_ne!(replaced.headers()["x-request-id"], "evil\" injected=1");
    }
);

/// The fenced blocks of one language in docs/api.md, in order.
fn doc_blocks(language: &str) -> Vec<String> {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/api.md")).unwrap();
    let opening = format!("```{language}");
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in doc.lines() {
        let trimmed = line.trim_start();
        match &mut current {
            None if trimmed == opening => current = Some(String::new()),
            Some(block) if trimmed == "```" => {
                blocks.push(std::mem::take(block));
                current = None;
            }
            Some(block) => {
                block.push_str(line);
                block.push('\n');
            }
            None => {}
        }
    }
    blocks
}

async fn run(program: &str, args: &[&str], script: &str) -> String {
    let mut command = tokio::process::Command::new(program);
    command.args(args).arg(script);
    let output = command
        .output()
        .await
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{program} example failed:\n{stdout}\n{stderr}\n--- script ---\n{script}"
    );
    stdout
}

/// Every `sh` example of docs/api.md, in order, then the Python and JavaScript ones,
/// run as written against a live server.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn examples_in_the_api_docs_run_as_written() {
    let _machine = crate::helpers::shared().await;
    let server = TestServer::start(Engine::Sqlite).await;
    let outbox = server.data_dir().join("outbox");
    let live = |text: String| {
        text.replace("http://127.0.0.1:3000", &server.base)
            .replace("./data/outbox", &outbox.display().to_string())
    };

    let shell = doc_blocks("sh");
    assert!(shell.len() >= 11, "found {} sh blocks", shell.len());
    let script = live(format!("set -euo pipefail\n{}", shell.join("\n")));
    let stdout = run("bash", &["-c"], &script).await;
    for expected in [
        "HTTP/1.1 201",
        "HTTP/1.1 200",
        "\"token_type\":\"bearer\"",
        "\"username\":\"ada\"",
        "\"revoked\":true",
        "set-cookie: __Host-keyhold-refresh=",
        "\"current\":true",
        "\"revoked\":1",
        "refresh after revoke: 401",
        "\"revoked\":0",
        "\"signed_out\":true",
        "token after logout: 401",
        "/api/users/me/password",
        "\"username\":\"grace\"",
        "countess@example.com",
        "\"token_revocations\":1",
        "\"deleted\":true",
        "/media/avatars/",
        "content-type: image/webp",
        "\"image_url\":null",
        "cache-control: public, max-age=600",
        "{\"keys\":[]}",
        "jwks_uri http://",
        "If an account uses that address",
        "\"reset\":true",
        "{\"email\":\"lin@example.com\",\"verified\":true}",
        "\"recovery_codes\":[",
        "ceremony 43 rp localhost",
        "passkey login localhost required []",
        "stale ceremony: 400",
    ] {
        assert!(
            stdout.contains(expected),
            "missing {expected} in:\n{stdout}"
        );
    }

    let python = doc_blocks("python");
    assert_eq!(python.len(), 1);
    let stdout = run("python3", &["-c"], &live(python[0].clone())).await;
    assert!(stdout.contains("'username': 'hopper'"), "{stdout}");

    let js = doc_blocks("js");
    assert_eq!(js.len(), 1);
    let stdout = run("node", &["--input-type=module", "-e"], &live(js[0].clone())).await;
    assert!(stdout.contains("username: 'lovelace'"), "{stdout}");
}
