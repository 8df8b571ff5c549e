//! Request bodies: each endpoint's size limit, and its alternative encoding (JSON for a
//! form endpoint and the reverse) converted to the one its server function decodes;
//! 415 naming the accepted types for anything else.

use super::endpoint_rules::{BodyRule, Encoding, EndpointRules};
use super::error_body::error_response;
use crate::api::{ApiError, ErrorCode};
use axum::{
    body::Body,
    extract::Request,
    http::{
        header::{CONTENT_LENGTH, CONTENT_TYPE},
        HeaderValue,
    },
    response::Response,
};
use std::sync::Arc;

/// The request body of every endpoint: capped (see [`BodyLimits`]), and converted from
/// the endpoint's alternative encoding (JSON for a form endpoint and the reverse) to the
/// one its server function decodes; 415 naming the accepted types for anything else.
///
/// A tower service rather than `from_fn`, so a request without a body to negotiate (a
/// GET) costs no clone of the inner service and no extra boxing.
#[derive(Clone)]
pub struct RequestBodyLayer {
    limits: BodyLimits,
    rules: Arc<EndpointRules>,
}

impl RequestBodyLayer {
    pub fn new(limits: BodyLimits, rules: EndpointRules) -> Self {
        Self {
            limits,
            rules: Arc::new(rules),
        }
    }
}

impl<S> tower::Layer<S> for RequestBodyLayer {
    type Service = RequestBody<S>;

    fn layer(&self, inner: S) -> RequestBody<S> {
        RequestBody {
            inner,
            limits: self.limits,
            rules: Arc::clone(&self.rules),
        }
    }
}

#[derive(Clone)]
pub struct RequestBody<S> {
    inner: S,
    limits: BodyLimits,
    rules: Arc<EndpointRules>,
}

impl<S, R> tower::Service<http::Request<R>> for RequestBody<S>
where
    S: tower::Service<Request, Response = Response, Error = std::convert::Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    R: axum::body::HttpBody<Data = axum::body::Bytes> + Send + 'static,
    R::Error: Into<axum::BoxError>,
{
    type Response = Response;
    type Error = std::convert::Infallible;
    type Future = futures::future::BoxFuture<'static, Result<Response, Self::Error>>;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<R>) -> Self::Future {
        // One look-up of the endpoint serves both the limit and the negotiation.
        let body = self.rules.body(request.uri().path(), request.method());
        let request = match limit_body(self.limits.of(body), request) {
            Ok(request) => request,
            Err(refused) => return Box::pin(std::future::ready(Ok(error_response(refused)))),
        };
        let Some(body) = body else {
            return Box::pin(self.inner.call(request));
        };
        // The service that was polled ready goes with the request; a clone stays.
        let ready = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, ready);
        let limit = self.limits.default;
        Box::pin(async move { Ok(negotiate(body, limit, request, inner).await) })
    }
}

async fn negotiate<S>(body: BodyRule, limit: usize, request: Request, mut next: S) -> Response
where
    S: tower::Service<Request, Response = Response, Error = std::convert::Infallible>,
{
    let essence = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .map(|mime| mime.trim().to_ascii_lowercase());
    let sent = match essence.as_deref() {
        None if body.optional => return forward(&mut next, request).await,
        None => None,
        Some(mime) => body.accepts().iter().copied().find(|e| e.mime() == mime),
    };
    let Some(sent) = sent else {
        let accepted: Vec<_> = body.accepts().iter().map(|e| e.mime()).collect();
        return error_response(ApiError::new(
            ErrorCode::UnsupportedMediaType,
            format!(
                "Send the body as {} (Content-Type header).",
                accepted.join(" or ")
            ),
        ));
    };
    if sent == Encoding::Multipart && !has_boundary(request.headers()) {
        return error_response(ApiError::new(
            ErrorCode::BadRequest,
            "A multipart/form-data body needs a boundary parameter in its Content-Type.",
        ));
    }
    if sent == body.native && sent != Encoding::Json {
        return forward(&mut next, request).await;
    }
    let (mut parts, incoming) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(incoming, limit).await else {
        return error_response(ApiError::for_status(413));
    };
    if sent == body.native {
        // JSON straight through, but only an object of fields: serde would also take
        // an array as a struct, which no client means. The first byte tells; the server
        // function parses the body once, and reports any syntax error itself.
        if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return error_response(ApiError::new(
                ErrorCode::BadRequest,
                "The JSON body must be an object of fields.",
            ));
        }
        return forward(&mut next, Request::from_parts(parts, Body::from(bytes))).await;
    }
    let converted = match transcode(&bytes, sent) {
        Ok(converted) => converted,
        Err(error) => return error_response(error),
    };
    parts
        .headers
        .insert(CONTENT_TYPE, HeaderValue::from_static(body.native.mime()));
    parts.headers.remove(CONTENT_LENGTH);
    forward(&mut next, Request::from_parts(parts, Body::from(converted))).await
}

async fn forward<S>(next: &mut S, request: Request) -> Response
where
    S: tower::Service<Request, Response = Response, Error = std::convert::Infallible>,
{
    match next.call(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

/// Whether a multipart Content-Type names its boundary (the decoder insists on one).
fn has_boundary(headers: &http::HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| {
            value.split(';').skip(1).any(|param| {
                param.split_once('=').is_some_and(|(name, boundary)| {
                    name.trim().eq_ignore_ascii_case("boundary")
                        && !boundary.trim().trim_matches('"').is_empty()
                })
            })
        })
}

/// The fields of a JSON object body (400 for anything else).
fn json_object(bytes: &[u8]) -> Result<serde_json::Map<String, serde_json::Value>, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| {
        ApiError::new(
            ErrorCode::BadRequest,
            if e.is_syntax() || e.is_eof() {
                format!("The body is not valid JSON: {e}")
            } else {
                "The JSON body must be an object of fields.".to_owned()
            },
        )
    })
}

/// Converts a flat JSON object to a form, or a form to a JSON object of strings.
fn transcode(bytes: &[u8], from: Encoding) -> Result<Vec<u8>, ApiError> {
    match from {
        // Never the alternative of another encoding (no endpoint lists it so).
        Encoding::Multipart => Err(ApiError::for_status(415)),
        Encoding::Form => {
            let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(bytes)
                .map_err(|_| ApiError::new(ErrorCode::BadRequest, "The form body is malformed."))?;
            let mut object = serde_json::Map::new();
            for (key, value) in pairs {
                object
                    .entry(key)
                    .or_insert(serde_json::Value::String(value));
            }
            serde_json::to_vec(&object).map_err(|_| ApiError::for_status(400))
        }
        Encoding::Json => {
            if bytes.iter().all(u8::is_ascii_whitespace) {
                return Ok(Vec::new());
            }
            let object = json_object(bytes)?;
            let mut pairs = Vec::with_capacity(object.len());
            for (key, value) in object {
                let text = match value {
                    serde_json::Value::String(text) => text,
                    serde_json::Value::Null => continue,
                    serde_json::Value::Number(n) => n.to_string(),
                    serde_json::Value::Bool(b) => b.to_string(),
                    _ => {
                        return Err(ApiError::invalid_field(
                            &key,
                            format!("The field \"{key}\" must be a string."),
                        ))
                    }
                };
                pairs.push((key, text));
            }
            serde_urlencoded::to_string(pairs)
                .map(String::into_bytes)
                .map_err(|_| ApiError::for_status(400))
        }
    }
}

/// Body size limits: small for JSON and forms, larger for uploads. The declared length
/// is checked up front and the body itself is capped, so a lying or chunked client
/// cannot send more either.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimits {
    pub default: usize,
    pub upload: usize,
}

impl BodyLimits {
    /// The limit for an endpoint with this request body (uploads get the larger one).
    fn of(self, body: Option<BodyRule>) -> usize {
        if body.is_some_and(|body| body.native == Encoding::Multipart) {
            self.upload
        } else {
            self.default
        }
    }
}

fn limit_body<R>(limit: usize, request: http::Request<R>) -> Result<Request, ApiError>
where
    R: axum::body::HttpBody<Data = axum::body::Bytes> + Send + 'static,
    R::Error: Into<axum::BoxError>,
{
    let declared = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(ApiError::for_status(413));
    }
    let (parts, body) = request.into_parts();
    let capped = Body::new(http_body_util::Limited::new(body, limit));
    Ok(Request::from_parts(parts, capped))
}
