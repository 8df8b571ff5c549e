//! What the edge must know about each endpoint, read from its one declaration: the
//! `utoipa::path` on its server function, gathered into the OpenAPI document. A `POST`
//! documents one canonical body encoding (the one its server function decodes); the
//! edge also accepts the other of JSON and form for it. A `POST` that documents no body
//! takes no fields: an empty body, an empty form or `{}`.

use http::Method;
use std::collections::HashMap;
use utoipa::openapi::{OpenApi, Required};

/// How a request body is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Json,
    Form,
    Multipart,
}

impl Encoding {
    /// Every encoding, in the order error messages list them.
    const ALL: [Encoding; 3] = [Self::Json, Self::Form, Self::Multipart];

    pub fn mime(self) -> &'static str {
        match self {
            Self::Json => "application/json",
            Self::Form => "application/x-www-form-urlencoded",
            Self::Multipart => "multipart/form-data",
        }
    }

    pub fn from_mime(mime: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.mime() == mime)
    }
}

/// The request body of a `POST` endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyRule {
    /// The encoding the server function decodes.
    pub native: Encoding,
    /// Whether an empty body is fine (no required fields).
    pub optional: bool,
}

impl BodyRule {
    /// The encodings a client may send: an upload only as multipart, fields as JSON or
    /// as a form.
    pub fn accepts(self) -> &'static [Encoding] {
        match self.native {
            Encoding::Multipart => &[Encoding::Multipart],
            Encoding::Json | Encoding::Form => &[Encoding::Json, Encoding::Form],
        }
    }
}

/// The body rule of every `POST` endpoint, by path.
#[derive(Debug, Default, Clone)]
pub struct EndpointRules {
    posts: HashMap<String, BodyRule>,
}

impl EndpointRules {
    /// The rules declared in `document`; an error names an operation whose declared
    /// body the edge cannot serve (not exactly one known content type).
    pub fn from_document(document: &OpenApi) -> Result<Self, String> {
        let mut posts = HashMap::new();
        for (path, item) in &document.paths.paths {
            let Some(post) = &item.post else { continue };
            let rule = match &post.request_body {
                None => BodyRule {
                    native: Encoding::Form,
                    optional: true,
                },
                Some(body) => {
                    let mut types = body.content.keys();
                    let (Some(mime), None) = (types.next(), types.next()) else {
                        return Err(format!("POST {path} must document one content type"));
                    };
                    let native = Encoding::from_mime(mime)
                        .ok_or_else(|| format!("POST {path}: unknown content type {mime}"))?;
                    BodyRule {
                        native,
                        optional: !matches!(body.required, Some(Required::True)),
                    }
                }
            };
            posts.insert(path.clone(), rule);
        }
        Ok(Self { posts })
    }

    /// Adds the body rule of a `POST` to `path` that is not an API endpoint (a page's
    /// form).
    pub fn insert(&mut self, path: &str, rule: BodyRule) {
        self.posts.insert(path.to_owned(), rule);
    }

    /// The body rule of the endpoint at `path` for `method`; `None` when the request
    /// takes no body (or names no endpoint).
    pub fn body(&self, path: &str, method: &Method) -> Option<BodyRule> {
        if method != Method::POST {
            return None;
        }
        self.posts.get(path).copied()
    }
}
