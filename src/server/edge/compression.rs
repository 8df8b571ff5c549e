//! Compression (tower-http: brotli or gzip, as the client accepts) for the clients that
//! ask for it, and nothing at all for those that do not.
//!
//! tower-http wraps every answer in its compression body, even one it leaves alone, and
//! that body is about 6 KB (it has room for a brotli encoder's state): each answer was
//! copied several times on its way out, and copying was the largest single cost of a
//! `GET /api/users/me` (docs/benchmarks.md). A request without `Accept-Encoding` gets
//! what tower-http would have sent it, uncompressed: the same answer, with `Vary:
//! Accept-Encoding` where the answer could have been compressed.

use axum::{body::Body, extract::Request, response::Response};
use futures::{
    future::{Either, MapOk},
    TryFutureExt,
};
use http::header::{ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_RANGE, VARY};
use std::{
    convert::Infallible,
    task::{Context, Poll},
};
use tower::{Layer, Service};
use tower_http::compression::{
    Compression, CompressionBody, DefaultPredicate, Predicate, ResponseFuture,
};

/// [`Compress`] around a service.
#[derive(Clone, Copy, Default)]
pub struct CompressLayer;

impl<S> Layer<S> for CompressLayer {
    type Service = Compress<S>;

    fn layer(&self, inner: S) -> Compress<S> {
        Compress(Compression::new(inner))
    }
}

/// tower-http's [`Compression`], skipped for requests without `Accept-Encoding`; a
/// compressed body is boxed at once (see the module's comment).
#[derive(Clone)]
pub struct Compress<S>(Compression<S>);

type Boxed = fn(Response<CompressionBody<Body>>) -> Response<Body>;
type Plain = fn(Response<Body>) -> Response<Body>;

impl<S, R> Service<Request<R>> for Compress<S>
where
    S: Service<Request<R>, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future =
        Either<MapOk<S::Future, Plain>, MapOk<ResponseFuture<S::Future, DefaultPredicate>, Boxed>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, request: Request<R>) -> Self::Future {
        if request.headers().contains_key(ACCEPT_ENCODING) {
            Either::Right(self.0.call(request).map_ok(boxed as Boxed))
        } else {
            Either::Left(self.0.get_mut().call(request).map_ok(plain as Plain))
        }
    }
}

fn boxed(response: Response<CompressionBody<Body>>) -> Response<Body> {
    response.map(Body::new)
}

/// What tower-http answers a client that accepts no encoding.
fn plain(mut response: Response<Body>) -> Response<Body> {
    let headers = response.headers();
    let compressible = !headers.contains_key(CONTENT_ENCODING)
        && !headers.contains_key(CONTENT_RANGE)
        && DefaultPredicate::new().should_compress(&response);
    let varies = response
        .headers()
        .get_all(VARY)
        .iter()
        .any(|value| names(value.as_bytes(), ACCEPT_ENCODING.as_str()));
    if compressible && !varies {
        response.headers_mut().append(
            VARY,
            ACCEPT_ENCODING.as_str().parse().expect("a header value"),
        );
    }
    response
}

/// Whether a `Vary` value mentions `name` (as tower-http checks: a substring, any case).
fn names(value: &[u8], name: &str) -> bool {
    value
        .windows(name.len())
        .any(|window| window.eq_ignore_ascii_case(name.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::header::CONTENT_TYPE;
    use tower::ServiceExt;

    const LONG_PAGE: &str =
        "<p>a page long enough to be compressed, a page long enough to be compressed</p>";

    async fn answer(accept: Option<&str>, body: &'static str, kind: &str) -> Response {
        let kind = kind.to_owned();
        let service = CompressLayer.layer(tower::service_fn(move |_: Request| {
            let kind = kind.clone();
            async move {
                Ok::<_, Infallible>(
                    Response::builder()
                        .header(CONTENT_TYPE, kind)
                        .body(Body::from(body))
                        .unwrap(),
                )
            }
        }));
        let mut request = Request::new(Body::empty());
        if let Some(accept) = accept {
            request
                .headers_mut()
                .insert(ACCEPT_ENCODING, accept.parse().unwrap());
        }
        service.oneshot(request).await.unwrap()
    }

    #[tokio::test]
    async fn without_accept_encoding_the_answer_is_tower_https() {
        let long = "a JSON answer long enough to be worth compressing, really";
        for (accept, body, kind) in [
            (None, long, "application/json"),
            (None, "short", "application/json"),
            (None, long, "image/png"),
            (Some("identity"), long, "application/json"),
            (Some("identity"), "short", "application/json"),
        ] {
            let ours = answer(accept, body, kind).await;
            let theirs = Compression::new(tower::service_fn(move |_: Request| async move {
                Ok::<_, Infallible>(
                    Response::builder()
                        .header(CONTENT_TYPE, kind)
                        .body(Body::from(body))
                        .unwrap(),
                )
            }))
            .oneshot(Request::new(Body::empty()))
            .await
            .unwrap();
            assert_eq!(ours.headers(), theirs.headers(), "{accept:?} {body} {kind}");
            assert_eq!(ours.headers().get(CONTENT_ENCODING), None);
        }
        let compressed = answer(Some("gzip"), LONG_PAGE, "text/html").await;
        assert_eq!(compressed.headers()[CONTENT_ENCODING], "gzip");
    }
}
