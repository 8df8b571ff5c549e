//! What the server answered: the status, the headers and the whole body, read at once;
//! the body as the endpoint's own answer type (`value`) or as the API's error (`error`).

use keyhold::api::ApiError;
use reqwest::header::HeaderMap;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::marker::PhantomData;

/// One answer of an endpoint whose success body is a `T`.
pub struct Answer<T = Value> {
    status: u16,
    headers: HeaderMap,
    body: String,
    answer: PhantomData<fn() -> T>,
}

impl<T> Answer<T> {
    pub(super) async fn read(response: reqwest::Response) -> Self {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.text().await.expect("the answer's body");
        Self {
            status,
            headers,
            body,
            answer: PhantomData,
        }
    }

    pub fn status(&self) -> u16 {
        self.status
    }

    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    pub fn text(&self) -> &str {
        &self.body
    }

    /// The body as any JSON (for what the types do not say: absent fields, raw shapes).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}), {}: {}", self.status, self.body))
    }

    /// The body as the API's error.
    pub fn error(&self) -> ApiError {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not an error ({e}), {}: {}", self.status, self.body))
    }

    /// The value and the whole `Set-Cookie` line the answer sets for cookie `name`
    /// (`None` when it sets none; an empty value clears it).
    pub fn set_cookie(&self, name: &str) -> Option<(String, String)> {
        let prefix = format!("{name}=");
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|line| line.to_str().ok())
            .find(|line| line.starts_with(&prefix))
            .map(|line| {
                let value = line[prefix.len()..].split(';').next().unwrap_or("");
                (value.to_owned(), line.to_owned())
            })
    }
}

impl<T: DeserializeOwned> Answer<T> {
    /// The body as the endpoint's answer.
    pub fn value(&self) -> T {
        serde_json::from_str(&self.body).unwrap_or_else(|e| {
            panic!(
                "not the endpoint's answer ({e}), {}: {}",
                self.status, self.body
            )
        })
    }
}
