//! The HTTP edge: the one mapping from account errors to status + JSON body, the API's
//! response headers, and reading the bearer token from the request.

use super::accounts::AccountError;
use super::images::ImageError;
use super::store::{StoreError, Taken};
use crate::api::{ApiError, ErrorCode};
use axum::{
    body::Body,
    extract::Request,
    http::{
        header::{CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE},
        HeaderValue, StatusCode,
    },
    response::{IntoResponse, Response},
};
use leptos::prelude::use_context;
use leptos_axum::ResponseOptions;

/// Largest error body read back when normalizing an error response.
const ERROR_BODY_LIMIT: usize = 64 * 1024;
/// Seconds a client is asked to wait after a 503.
const RETRY_AFTER_SECS: &str = "2";

impl From<AccountError> for ApiError {
    fn from(e: AccountError) -> Self {
        match e {
            AccountError::Invalid(invalid) => {
                ApiError::invalid_field(invalid.field, invalid.message)
            }
            AccountError::Taken(Taken::Username) => {
                ApiError::new(ErrorCode::Conflict, "That username is already taken.")
                    .on_field("username")
            }
            AccountError::Taken(Taken::Email) => ApiError::new(
                ErrorCode::Conflict,
                "An account with that e-mail already exists.",
            )
            .on_field("email"),
            AccountError::InvalidCredentials => ApiError::new(
                ErrorCode::InvalidCredentials,
                "Incorrect username or password.",
            ),
            AccountError::MissingToken => ApiError::new(
                ErrorCode::MissingToken,
                "Sign in first: send the header Authorization: Bearer <token>.",
            ),
            AccountError::InvalidToken(reason) => {
                tracing::info!(%reason, "token refused");
                invalid_token()
            }
            AccountError::UnknownUser | AccountError::SessionEnded => invalid_token(),
            AccountError::NoSuchSession => ApiError::new(
                ErrorCode::NotFound,
                "You have no session with that id (it may have ended already).",
            )
            .on_field("id"),
            AccountError::WrongPassword(field) => ApiError::new(
                ErrorCode::Forbidden,
                if field == "current_password" {
                    "Your current password is not correct."
                } else {
                    "That password is not correct."
                },
            )
            .on_field(field),
            AccountError::Throttled(wait) => {
                let seconds = wait.seconds();
                if let Some(options) = use_context::<ResponseOptions>() {
                    options.insert_header(RETRY_AFTER, HeaderValue::from(seconds));
                }
                ApiError::new(
                    ErrorCode::TooManyRequests,
                    format!(
                        "Too many failed attempts. Wait {} and try again.",
                        human_wait(seconds)
                    ),
                )
            }
            AccountError::Image(ImageError::Unsupported) => ApiError::new(
                ErrorCode::UnsupportedMediaType,
                ImageError::Unsupported.to_string(),
            )
            .on_field("image"),
            AccountError::Image(ImageError::Internal(reason)) => {
                tracing::error!(%reason, "image processing failed");
                ApiError::for_status(500)
            }
            AccountError::Image(refused) => ApiError::invalid_field("image", refused.to_string()),
            AccountError::Busy => ApiError::new(
                ErrorCode::Unavailable,
                "The server is busy right now; try again in a moment.",
            ),
            AccountError::Store(StoreError::Unavailable(reason)) => {
                tracing::error!(%reason, "database unavailable");
                ApiError::for_status(503)
            }
            other => {
                tracing::error!(error = %other, "request failed");
                ApiError::for_status(500)
            }
        }
    }
}

fn invalid_token() -> ApiError {
    ApiError::new(
        ErrorCode::InvalidToken,
        "Your session has expired or is no longer valid; sign in again.",
    )
}

fn human_wait(seconds: u64) -> String {
    match seconds {
        0..=1 => "a second".into(),
        2..=59 => format!("{seconds} seconds"),
        60..=119 => "a minute".into(),
        _ => format!("{} minutes", seconds.div_ceil(60)),
    }
}

/// The client's address: from the configured proxy header when set (its first entry),
/// else the peer of the connection.
pub fn client_addr(header: Option<&http::HeaderName>) -> std::net::IpAddr {
    let unspecified = std::net::IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED);
    let Some(parts) = use_context::<http::request::Parts>() else {
        return unspecified;
    };
    let from_header = header
        .and_then(|name| parts.headers.get(name))
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(',').next())
        .and_then(|first| first.trim().parse().ok());
    from_header
        .or_else(|| {
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|info| info.0.ip())
        })
        .unwrap_or(unspecified)
}

/// Sets the status of a successful server-function response (e.g. 201).
pub fn set_status(status: StatusCode) {
    if let Some(options) = use_context::<ResponseOptions>() {
        options.set_status(status);
    }
}

/// Adds a `Set-Cookie` header to the server function's response.
pub fn set_cookie(value: HeaderValue) {
    if let Some(options) = use_context::<ResponseOptions>() {
        options.append_header(http::header::SET_COOKIE, value);
    }
}

/// The headers of the request being served.
pub fn request_headers() -> Result<http::HeaderMap, ApiError> {
    use_context::<http::request::Parts>()
        .map(|parts| parts.headers)
        .ok_or_else(|| ApiError::for_status(500))
}

/// The token of an `Authorization: Bearer <token>` header, if the request has one.
pub fn bearer_token() -> Result<Option<String>, ApiError> {
    let parts = use_context::<http::request::Parts>().ok_or_else(|| ApiError::for_status(500))?;
    Ok(parts
        .headers
        .get(http::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim().to_owned())
        .filter(|token| !token.is_empty()))
}

/// Every answer under `/api/`: `Cache-Control: no-store`, and one error body
/// (`{"error","message","field"}`) with the status its code implies, whether the error
/// came from a server function, the body limit or the router.
pub async fn normalize_api_response(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if response.status().is_client_error() || response.status().is_server_error() {
        return normalize_error(response).await;
    }
    response
}

async fn normalize_error(response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, ERROR_BODY_LIMIT)
        .await
        .unwrap_or_default();
    let error = serde_json::from_slice::<ApiError>(&bytes)
        .unwrap_or_else(|_| ApiError::for_status(parts.status.as_u16()));
    parts.status =
        StatusCode::from_u16(error.error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = &mut parts.headers;
    headers.remove(CONTENT_LENGTH);
    headers.remove("serverfnerror");
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    match error.error {
        ErrorCode::InvalidToken => {
            headers.insert(
                WWW_AUTHENTICATE,
                HeaderValue::from_static(r#"Bearer error="invalid_token""#),
            );
        }
        ErrorCode::MissingToken | ErrorCode::InvalidCredentials => {
            headers.insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        ErrorCode::Unavailable | ErrorCode::TooManyRequests
            if !headers.contains_key(RETRY_AFTER) =>
        {
            headers.insert(RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER_SECS));
        }
        _ => {}
    }
    let body = serde_json::to_vec(&error).unwrap_or_default();
    Response::from_parts(parts, Body::from(body))
}

/// `/api/...` paths that name no endpoint.
pub async fn api_not_found() -> Response {
    let error = ApiError::for_status(404);
    (StatusCode::NOT_FOUND, axum::Json(error)).into_response()
}

/// An error answer built at the edge (outside any server function).
pub fn error_response(error: ApiError) -> Response {
    let status =
        StatusCode::from_u16(error.error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, axum::Json(error)).into_response()
}

/// The request body of every endpoint: capped (see [`BodyLimits`]), and converted from
/// the endpoint's alternative encoding (JSON for a form endpoint and the reverse) to the
/// one its server function decodes; 415 naming the accepted types for anything else.
///
/// A tower service rather than `from_fn`, so a request without a body to negotiate (a
/// GET) costs no clone of the inner service and no extra boxing.
#[derive(Clone, Copy)]
pub struct RequestBodyLayer(pub BodyLimits);

impl<S> tower::Layer<S> for RequestBodyLayer {
    type Service = RequestBody<S>;

    fn layer(&self, inner: S) -> RequestBody<S> {
        RequestBody {
            inner,
            limits: self.0,
        }
    }
}

#[derive(Clone)]
pub struct RequestBody<S> {
    inner: S,
    limits: BodyLimits,
}

impl<S> tower::Service<Request> for RequestBody<S>
where
    S: tower::Service<Request, Response = Response, Error = std::convert::Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
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

    fn call(&mut self, request: Request) -> Self::Future {
        // One look-up of the endpoint serves both the limit and the negotiation.
        let body =
            super::openapi::endpoint(request.uri().path(), request.method()).and_then(|e| e.body);
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

async fn negotiate<S>(
    body: super::openapi::Body,
    limit: usize,
    request: Request,
    mut next: S,
) -> Response
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
        Some(mime) => body.accepts.iter().copied().find(|e| e.mime() == mime),
    };
    let Some(sent) = sent else {
        let accepted: Vec<_> = body.accepts.iter().map(|e| e.mime()).collect();
        return error_response(ApiError::new(
            ErrorCode::UnsupportedMediaType,
            format!(
                "Send the body as {} (Content-Type header).",
                accepted.join(" or ")
            ),
        ));
    };
    if sent == super::openapi::Encoding::Multipart && !has_boundary(request.headers()) {
        return error_response(ApiError::new(
            ErrorCode::BadRequest,
            "A multipart/form-data body needs a boundary parameter in its Content-Type.",
        ));
    }
    if sent == body.native && sent != super::openapi::Encoding::Json {
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
fn transcode(bytes: &[u8], from: super::openapi::Encoding) -> Result<Vec<u8>, ApiError> {
    use super::openapi::Encoding;
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
    fn of(self, body: Option<super::openapi::Body>) -> usize {
        if body.is_some_and(|body| body.native == super::openapi::Encoding::Multipart) {
            self.upload
        } else {
            self.default
        }
    }
}

fn limit_body(limit: usize, request: Request) -> Result<Request, ApiError> {
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

/// The answer when a handler panicked: logged, and a plain 500 with the error body.
pub fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let detail = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    tracing::error!(%detail, "a request handler panicked");
    error_response(ApiError::for_status(500))
}
