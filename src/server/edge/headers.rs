//! What every answer carries: a request id, the security headers, a cache policy, and
//! (under `/api/`) one error body format.
//!
//! These run as [`AroundLayer`]s rather than `axum::middleware::from_fn`: a `from_fn`
//! layer clones and boxes the whole inner service stack on every request, and with a
//! dozen such layers that cost more than checking the token and the session (see
//! docs/benchmarks.md). Here each layer costs one boxed future per request. They take
//! any request body, and `RequestIds` any response body, so they can wrap the router
//! from outside (`router.rs`) next to tower-http's layers.

use super::error_body::normalize_api_response;
use axum::body::Body;
use futures::future::BoxFuture;
use http::{
    header::{self, CACHE_CONTROL, VARY},
    HeaderName, HeaderValue,
};
use http::{Request, Response};
use std::{
    convert::Infallible,
    task::{Context, Poll},
};
use tower::{Layer, Service};

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Set on every answer unless the handler chose its own (pages set a nonce-based CSP).
const SECURITY_HEADERS: [(HeaderName, &str); 7] = [
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::REFERRER_POLICY, "no-referrer"),
    (header::X_FRAME_OPTIONS, "DENY"),
    (
        HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    ),
    (
        HeaderName::from_static("cross-origin-resource-policy"),
        "same-origin",
    ),
    (
        HeaderName::from_static("permissions-policy"),
        "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    ),
    (
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; frame-ancestors 'none'; base-uri 'none'",
    ),
];

/// HSTS: only sent (and only honoured) when served over TLS.
const HSTS: &str = "max-age=63072000; includeSubDomains";

/// Work done around the inner service: [`Around::before`] sees the request on its way
/// in, [`Around::after`] the answer (with a body of type `B`) on its way out.
pub trait Around<B>: Clone + Send + Sync + 'static {
    /// What `before` hands to `after`.
    type Carry: Send + 'static;

    fn before<R>(&self, request: &mut Request<R>) -> Self::Carry;

    fn after(
        carry: Self::Carry,
        response: Response<B>,
    ) -> impl std::future::Future<Output = Response<B>> + Send;
}

/// A layer running an [`Around`] hook: one boxed future per request, no clone of the
/// inner service.
#[derive(Clone, Copy)]
pub struct AroundLayer<H>(pub H);

impl<S, H: Clone> Layer<S> for AroundLayer<H> {
    type Service = AroundService<S, H>;

    fn layer(&self, inner: S) -> AroundService<S, H> {
        AroundService {
            inner,
            hook: self.0.clone(),
        }
    }
}

#[derive(Clone)]
pub struct AroundService<S, H> {
    inner: S,
    hook: H,
}

impl<S, H, R, B> Service<Request<R>> for AroundService<S, H>
where
    S: Service<Request<R>, Response = Response<B>, Error = Infallible>,
    S::Future: Send + 'static,
    H: Around<B>,
    B: Send + 'static,
{
    type Response = Response<B>;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response<B>, Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<R>) -> Self::Future {
        let carry = self.hook.before(&mut request);
        let answer = self.inner.call(request);
        Box::pin(async move {
            let response = answer.await?;
            Ok(H::after(carry, response).await)
        })
    }
}

/// Gives each request an id (the client's own if it is a short token of safe
/// characters, else 16 random hex digits) and echoes it on the answer. Outermost, so
/// the log line and even a panic's 500 carry it.
#[derive(Clone, Copy, Default)]
pub struct RequestIds;

impl<B: Send + 'static> Around<B> for RequestIds {
    type Carry = HeaderValue;

    fn before<R>(&self, request: &mut Request<R>) -> HeaderValue {
        let id = match request.headers().get(REQUEST_ID) {
            Some(sent) if is_safe_id(sent.as_bytes()) => sent.clone(),
            _ => fresh_id(),
        };
        request.headers_mut().insert(REQUEST_ID, id.clone());
        id
    }

    async fn after(id: HeaderValue, mut response: Response<B>) -> Response<B> {
        response.headers_mut().entry(REQUEST_ID).or_insert(id);
        response
    }
}

/// A client (or proxy) may send its own id to correlate, but anything other than a
/// short token could forge log lines.
fn is_safe_id(bytes: &[u8]) -> bool {
    (1..=64).contains(&bytes.len())
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

fn fresh_id() -> HeaderValue {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut value = rand::random::<u64>();
    let mut digits = [0u8; 16];
    for digit in digits.iter_mut().rev() {
        *digit = HEX[(value & 0xf) as usize];
        value >>= 4;
    }
    HeaderValue::from_bytes(&digits).expect("hex digits are a valid header value")
}

/// Security headers, HSTS when configured, the cache policy, and under `/api/` the
/// one error body format with its status and `WWW-Authenticate` / `Retry-After`.
#[derive(Clone, Copy)]
pub struct ResponseHeaders {
    pub hsts: bool,
}

impl Around<Body> for ResponseHeaders {
    type Carry = (CachePolicy, bool);

    fn before<R>(&self, request: &mut Request<R>) -> (CachePolicy, bool) {
        (CachePolicy::of(request.uri().path()), self.hsts)
    }

    async fn after(
        (policy, hsts): (CachePolicy, bool),
        mut response: Response<Body>,
    ) -> Response<Body> {
        if policy == CachePolicy::Api {
            response = normalize_api_response(response).await;
        } else {
            policy.apply(response.headers_mut());
        }
        let headers = response.headers_mut();
        for (name, value) in SECURITY_HEADERS {
            headers
                .entry(name)
                .or_insert(HeaderValue::from_static(value));
        }
        if hsts {
            headers
                .entry(header::STRICT_TRANSPORT_SECURITY)
                .or_insert(HeaderValue::from_static(HSTS));
        }
        response
    }
}

/// How long a browser or proxy may keep an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CachePolicy {
    /// API answers: never stored (`no-store`, set by the API's own normalization).
    Api,
    /// `/pkg` files with a content hash in their name: cached for a year, never
    /// revalidated; precompressed variants are chosen by `Accept-Encoding`.
    Immutable,
    /// Unhashed `/pkg` files (a build without hashes): kept but revalidated on use.
    PkgRevalidate,
    /// The favicon: kept but revalidated (304 when unchanged).
    Revalidate,
    /// Pages: never stored, each carries its own CSP nonce.
    NoStore,
    /// Media and the published keys set their own policy.
    Handler,
}

impl CachePolicy {
    fn of(path: &str) -> Self {
        if path.starts_with("/api/") {
            Self::Api
        } else if let Some(file) = path.strip_prefix("/pkg/") {
            if super::assets::is_hashed(file) {
                Self::Immutable
            } else {
                Self::PkgRevalidate
            }
        } else if path == "/favicon.svg" {
            Self::Revalidate
        } else if path.starts_with("/media/") || path.starts_with("/.well-known/") {
            Self::Handler
        } else {
            Self::NoStore
        }
    }

    fn apply(self, headers: &mut http::HeaderMap) {
        let value = match self {
            Self::Api | Self::Handler => return,
            Self::Immutable => "public, max-age=31536000, immutable",
            Self::PkgRevalidate | Self::Revalidate => "public, no-cache",
            Self::NoStore => "no-store",
        };
        headers
            .entry(CACHE_CONTROL)
            .or_insert(HeaderValue::from_static(value));
        if matches!(self, Self::Immutable | Self::PkgRevalidate) {
            headers
                .entry(VARY)
                .or_insert(HeaderValue::from_static("accept-encoding"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_short_safe_tokens() {
        assert!(is_safe_id(b"abc-123_X.y"));
        assert!(!is_safe_id(b""));
        assert!(!is_safe_id(&[b'a'; 65]));
        assert!(!is_safe_id(b"evil\r\nx-forged: 1"));
        assert!(!is_safe_id(b"with space"));
        let id = fresh_id();
        assert_eq!(id.len(), 16);
        assert!(id.as_bytes().iter().all(u8::is_ascii_hexdigit));
        assert_ne!(fresh_id(), fresh_id());
    }

    #[test]
    fn cache_policy_by_path() {
        assert_eq!(CachePolicy::of("/api/users/me"), CachePolicy::Api);
        assert_eq!(CachePolicy::of("/media/avatars/x/y"), CachePolicy::Handler);
        assert_eq!(CachePolicy::of("/favicon.svg"), CachePolicy::Revalidate);
        assert_eq!(CachePolicy::of("/login"), CachePolicy::NoStore);
        assert_eq!(
            CachePolicy::of("/pkg/keyhold.wasm"),
            CachePolicy::PkgRevalidate
        );

        let mut headers = http::HeaderMap::new();
        CachePolicy::PkgRevalidate.apply(&mut headers);
        assert_eq!(headers[CACHE_CONTROL], "public, no-cache");
        assert_eq!(headers[VARY], "accept-encoding");

        let mut own = http::HeaderMap::new();
        own.insert(CACHE_CONTROL, HeaderValue::from_static("private"));
        CachePolicy::NoStore.apply(&mut own);
        assert_eq!(own[CACHE_CONTROL], "private");
        assert!(!own.contains_key(VARY));
    }
}
