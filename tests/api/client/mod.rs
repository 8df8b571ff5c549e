//! A typed client of Keyhold's HTTP API for the tests: one method per endpoint, named for
//! it, taking and answering the crate's own `keyhold::api` types (a change on the wire
//! breaks the test build); `requests` builds the request bodies; `raw_get`, `raw_post`
//! and `post_value` send what no request type can say (malformed or hostile input). The
//! endpoint methods are grouped as `src/api/` groups the endpoints.

mod accounts;
mod answer;
mod mail_links;
mod passkeys;
pub mod requests;
mod second_factors;
mod sessions;

pub use answer::Answer;

use reqwest::{
    header::{HeaderMap, HeaderName, HeaderValue},
    Method, RequestBuilder,
};
use serde::Serialize;
use serde_json::Value;

/// The refresh cookie, read by `/api/refresh` and `/api/logout`.
pub const REFRESH_COOKIE: &str = "__Host-keyhold-refresh";
/// The browser session cookie the pages are rendered for.
pub const SESSION_COOKIE: &str = "__Host-keyhold-session";
/// The device cookie: a browser that signed in before has its own log-in budget.
pub const DEVICE_COOKIE: &str = "__Host-keyhold-device";

/// A client of one Keyhold server (a `TestServer` or an `Instance`): every request goes
/// to `base` with the bearer token and the headers this client was given.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
    bearer: Option<String>,
    headers: HeaderMap,
}

impl Client {
    /// A client of the server at `base` (`http://127.0.0.1:<port>`), over the
    /// connections of `http`.
    pub fn over(http: reqwest::Client, base: &str) -> Self {
        Self {
            http,
            base: base.to_owned(),
            bearer: None,
            headers: HeaderMap::new(),
        }
    }

    /// This client as the holder of `token` (`Authorization: Bearer`).
    pub fn bearer(&self, token: &str) -> Self {
        Self {
            bearer: Some(token.to_owned()),
            ..self.clone()
        }
    }

    /// This client, sending `name: value` with every request (`X-Forwarded-For`,
    /// `User-Agent`, another site's `Origin`...).
    pub fn header(&self, name: &'static str, value: &str) -> Self {
        let mut client = self.clone();
        let value = HeaderValue::from_str(value).expect("a header value");
        client.headers.insert(HeaderName::from_static(name), value);
        client
    }

    /// This client as the site's own pages: `Origin` is the server's, as the endpoints
    /// that read a cookie require.
    pub fn same_origin(&self) -> Self {
        self.header("origin", &self.base.clone())
    }

    /// A request to `path` with this client's token and headers.
    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .headers(self.headers.clone());
        match &self.bearer {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    /// `POST path` with `body` sent as `content_type`, exactly as given.
    pub async fn raw_post(
        &self,
        path: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> Answer {
        let request = self.request(Method::POST, path);
        Self::send(request.header("content-type", content_type).body(body)).await
    }

    /// `GET /healthz`: whether the server and its database answer (`{"database": ...}`).
    pub async fn health(&self) -> Answer {
        self.get("/healthz").await
    }

    /// `GET path` (with its query) exactly as given.
    pub async fn raw_get(&self, path: &str) -> Answer {
        self.get(path).await
    }

    /// `POST path` with any JSON: for bodies the request types cannot express.
    pub async fn post_value(&self, path: &str, body: &Value) -> Answer {
        self.post(path, body).await
    }

    /// Sends `request`: its whole answer.
    async fn send<T>(request: RequestBuilder) -> Answer<T> {
        Answer::read(request.send().await.expect("the server answers")).await
    }

    async fn get<T>(&self, path: &str) -> Answer<T> {
        Self::send(self.request(Method::GET, path)).await
    }

    /// `POST path` with `body` as JSON.
    async fn post<T>(&self, path: &str, body: &impl Serialize) -> Answer<T> {
        Self::send(self.request(Method::POST, path).json(body)).await
    }

    /// `POST path` without a body (the endpoints that take no fields).
    async fn post_empty<T>(&self, path: &str) -> Answer<T> {
        Self::send(self.request(Method::POST, path)).await
    }
}
