//! The browser side of authentication: the token in localStorage and the server-function
//! client that sends it as `Authorization: Bearer`.
//!
//! On the server these compile to no-ops: server functions never run this client there.

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

/// Keeps the token for later visits and other tabs.
pub fn store_token(token: &str) {
    #[cfg(feature = "hydrate")]
    {
        use gloo_storage::Storage;
        if gloo_storage::LocalStorage::set(TOKEN_KEY, token).is_err() {
            leptos::logging::warn!("could not write the token to localStorage");
        }
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
    }
}

/// The server-function client: the browser's `fetch` plus the bearer token.
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
        if let Some(token) = stored_token() {
            req.headers()
                .set("Authorization", &format!("Bearer {token}"));
        }
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
