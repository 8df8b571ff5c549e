//! The browser side of authentication: the access token in localStorage, renewing it
//! with the refresh cookie, and the server-function client that sends it as
//! `Authorization: Bearer`.
//!
//! Renewal: shortly before the token expires (and before any request made with an
//! expiring token) the client calls `POST /api/refresh`; a request answered 401 is
//! refreshed once and sent again. Tabs share the token through localStorage, so one
//! tab's refresh serves them all, and one refresh at a time runs per tab.
//!
//! On the server these compile to no-ops: server functions never run this client there.
//! The browser's WebAuthn calls (passkeys) are in `passkeys.rs`.

pub mod hydration;
pub mod passkeys;

use leptos::server_fn::{
    client::{browser::BrowserClient, Client},
    error::FromServerFnError,
    request::browser::BrowserRequest,
    response::browser::BrowserResponse,
    Bytes,
};
use std::future::Future;

/// The localStorage key holding the access token.
pub const TOKEN_KEY: &str = "keyhold.token";
/// How far this browser's clock is ahead of the server's (seconds), measured when a
/// token arrives; shared by the tabs so that renewal follows the server's clock.
#[cfg(feature = "hydrate")]
const SKEW_KEY: &str = "keyhold.clock_skew";

/// The stored access token, if any.
pub fn stored_token() -> Option<String> {
    #[cfg(feature = "hydrate")]
    {
        use gloo_storage::Storage;
        gloo_storage::LocalStorage::get::<String>(TOKEN_KEY).ok()
    }
    #[cfg(not(feature = "hydrate"))]
    None
}

/// Keeps a token just received from the server for later visits and other tabs.
pub fn store_token(token: &str) {
    #[cfg(feature = "hydrate")]
    {
        use gloo_storage::Storage;
        // The token was issued a moment ago: its `iat` tells the clock difference.
        // Written before the token, so tabs woken by the token's storage event see it.
        if let Some((iat, _)) = token_times(token) {
            let _ = gloo_storage::LocalStorage::set(SKEW_KEY, client_now() - iat);
        }
        if gloo_storage::LocalStorage::set(TOKEN_KEY, token).is_err() {
            leptos::logging::warn!("could not write the token to localStorage");
        }
        renewal::announce(Some(token));
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = token;
}

/// Forgets the token (log out).
pub fn clear_token() {
    #[cfg(feature = "hydrate")]
    {
        use gloo_storage::Storage;
        gloo_storage::LocalStorage::delete(TOKEN_KEY);
        renewal::announce(None);
    }
}

#[cfg(feature = "hydrate")]
fn client_now() -> f64 {
    js_sys::Date::now() / 1000.0
}

/// The server's time (unix seconds) as far as this browser can tell.
#[cfg(feature = "hydrate")]
pub fn server_now() -> f64 {
    use gloo_storage::Storage;
    let skew = gloo_storage::LocalStorage::get::<f64>(SKEW_KEY).unwrap_or(0.0);
    client_now() - skew
}

/// Seconds until `token` should be renewed (negative: now), from its `iat` and `exp`:
/// a minute before expiry, or a quarter of its lifetime for short-lived tokens.
pub fn renew_in(token: &str, now: f64) -> Option<f64> {
    let (iat, exp) = token_times(token)?;
    let margin = ((exp - iat) / 4.0).min(60.0);
    Some(exp - margin - now)
}

/// `iat` and `exp` of a JWT (unverified: only to schedule renewal).
fn token_times(token: &str) -> Option<(f64, f64)> {
    let payload = token.split('.').nth(1)?;
    let bytes = decode_base64url(payload)?;
    #[derive(serde::Deserialize)]
    struct Times {
        iat: f64,
        exp: f64,
    }
    let times: Times = serde_json::from_slice(&bytes).ok()?;
    Some((times.iat, times.exp))
}

fn decode_base64url(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for byte in text.bytes() {
        let value = match byte {
            b'A'..=b'Z' => byte - b'A',
            b'a'..=b'z' => byte - b'a' + 26,
            b'0'..=b'9' => byte - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => return None,
        };
        buffer = (buffer << 6) | u32::from(value);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    Some(out)
}

/// The server-function client of the endpoints that take `Authorization: Bearer`
/// (`client = AuthClient` in their `#[server]` declaration; the others use the plain
/// browser client): the browser's `fetch` plus the token, renewed when it is about to
/// expire or was refused.
pub struct AuthClient;

impl<E, IS, OS> Client<E, IS, OS> for AuthClient
where
    E: FromServerFnError,
    IS: FromServerFnError,
    OS: FromServerFnError,
{
    type Request = BrowserRequest;
    type Response = BrowserResponse;

    fn send(req: Self::Request) -> impl Future<Output = Result<Self::Response, E>> + Send {
        #[cfg(feature = "hydrate")]
        {
            send_slow_path::<E, IS, OS>(req)
        }
        #[cfg(not(feature = "hydrate"))]
        <BrowserClient as Client<E, IS, OS>>::send(req)
    }

    fn open_websocket(
        path: &str,
    ) -> impl Future<
        Output = Result<
            (
                impl futures::Stream<Item = Result<Bytes, Bytes>> + Send + 'static,
                impl futures::Sink<Bytes> + Send + 'static,
            ),
            E,
        >,
    > + Send {
        <BrowserClient as Client<E, IS, OS>>::open_websocket(path)
    }

    fn spawn(future: impl Future<Output = ()> + Send + 'static) {
        <BrowserClient as Client<E, IS, OS>>::spawn(future)
    }
}

/// Sends with a fresh token; on 401, renews once and sends the same request again.
#[cfg(feature = "hydrate")]
fn send_slow_path<E, IS, OS>(
    req: BrowserRequest,
) -> impl Future<Output = Result<BrowserResponse, E>> + Send
where
    E: FromServerFnError,
    IS: FromServerFnError,
    OS: FromServerFnError,
{
    use leptos::server_fn::request::ClientReq;

    send_wrapper::SendWrapper::new(async move {
        let url = req.url();
        let path = url
            .find("/api/")
            .map_or(url.as_str(), |at| &url[at..])
            .to_owned();
        renewal::renew_if_expiring().await;
        // Everything needed to send the request again: method, headers, body bytes.
        let method = req.method();
        let headers = req.headers();
        let header = |name: &str| headers.get(name).unwrap_or_default();
        let (content_type, accept) = (header("content-type"), header("accept"));
        let body = if method == "GET" || method == "DELETE" {
            None
        } else {
            Some(Bytes::from(req.binary().await.map_err(|e| {
                E::from_server_fn_error(leptos::server_fn::error::ServerFnErrorErr::Request(
                    e.to_string(),
                ))
            })?))
        };
        let build = || -> Result<BrowserRequest, E> {
            let request = match &body {
                Some(bytes) => <BrowserRequest as ClientReq<E>>::try_new_req_bytes(
                    &path,
                    &content_type,
                    &accept,
                    bytes.clone(),
                    method.clone(),
                ),
                None => {
                    let (route, query) = path.split_once('?').unwrap_or((&path, ""));
                    <BrowserRequest as ClientReq<E>>::try_new_req_query(
                        route,
                        &content_type,
                        &accept,
                        query,
                        method.clone(),
                    )
                }
            }?;
            let token = stored_token();
            if let Some(token) = &token {
                request
                    .headers()
                    .set("Authorization", &format!("Bearer {token}"));
            }
            Ok(request)
        };
        drop(req);
        let had_token = stored_token().is_some();
        let response = <BrowserClient as Client<E, IS, OS>>::send(build()?).await?;
        let refused = leptos::server_fn::response::ClientRes::<E>::status(&response) == 401;
        if refused && had_token && renewal::renew().await {
            return <BrowserClient as Client<E, IS, OS>>::send(build()?).await;
        }
        Ok(response)
    })
}

#[cfg(feature = "hydrate")]
pub mod renewal {
    //! One refresh at a time per tab; the result reaches the session through a hook.

    use super::{clear_token, renew_in, store_token, stored_token};
    use futures::future::{FutureExt, LocalBoxFuture, Shared};
    use std::{cell::RefCell, rc::Rc};

    type Listener = Rc<dyn Fn(Option<String>)>;

    thread_local! {
        static IN_FLIGHT: RefCell<Option<Shared<LocalBoxFuture<'static, bool>>>> =
            const { RefCell::new(None) };
        static LISTENER: RefCell<Option<Listener>> = const { RefCell::new(None) };
    }

    /// Called with the new token (or `None`) whenever this tab stores or clears it.
    pub fn on_change(listener: impl Fn(Option<String>) + 'static) {
        LISTENER.with(|l| *l.borrow_mut() = Some(Rc::new(listener)));
    }

    pub(super) fn announce(token: Option<&str>) {
        let listener = LISTENER.with(|l| l.borrow().clone());
        if let Some(listener) = listener {
            listener(token.map(str::to_owned));
        }
    }

    thread_local! {
        static LAST_RENEWAL: std::cell::Cell<f64> = const { std::cell::Cell::new(f64::MIN) };
    }

    /// Whether this tab renewed in the last `seconds` (a guard against renewing in a
    /// loop whatever the clocks say).
    pub fn renewed_within(seconds: f64) -> bool {
        super::client_now() - LAST_RENEWAL.with(std::cell::Cell::get) < seconds
    }

    /// Renews first when the stored token is about to expire.
    pub async fn renew_if_expiring() {
        let due = stored_token()
            .and_then(|token| renew_in(&token, super::server_now()))
            .is_some_and(|seconds| seconds <= 0.0);
        if due {
            renew().await;
        }
    }

    /// Gets a new access token with the refresh cookie; true when there is one. When
    /// the session is over the token is cleared (the user is signed out).
    pub async fn renew() -> bool {
        let shared = IN_FLIGHT.with(|slot| {
            slot.borrow_mut()
                .get_or_insert_with(|| {
                    async {
                        let renewed = run().await;
                        // Cleared by the renewal itself, so a waiter waking late cannot
                        // drop a newer one.
                        IN_FLIGHT.with(|slot| slot.borrow_mut().take());
                        renewed
                    }
                    .boxed_local()
                    .shared()
                })
                .clone()
        });
        shared.await
    }

    async fn run() -> bool {
        let before = stored_token();
        LAST_RENEWAL.with(|last| last.set(super::client_now()));
        match crate::api::refresh::refresh().await {
            Ok(token) => {
                // Another tab may have stored a newer token meanwhile: both are valid.
                if stored_token() == before {
                    store_token(&token.access_token);
                }
                true
            }
            Err(e) if e.is_auth_failure() => {
                // Another tab may have renewed and rotated the cookie first.
                let newer = stored_token().filter(|t| Some(t) != before.as_ref());
                if newer.is_none() {
                    clear_token();
                }
                newer.is_some()
            }
            Err(e) => {
                leptos::logging::warn!("could not renew the session: {e}");
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renewal_is_scheduled_before_expiry() {
        // {"iat":1000,"exp":1900}
        let token = "x.eyJpYXQiOjEwMDAsImV4cCI6MTkwMH0.y";
        assert_eq!(renew_in(token, 1000.0), Some(840.0));
        // {"iat":1000,"exp":1060}: a quarter of a short lifetime.
        let short = "x.eyJpYXQiOjEwMDAsImV4cCI6MTA2MH0.y";
        assert_eq!(renew_in(short, 1000.0), Some(45.0));
        assert_eq!(renew_in("garbage", 0.0), None);
        assert_eq!(renew_in("a.b!d.c", 0.0), None);
    }
}
