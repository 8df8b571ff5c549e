//! Signed-in devices for the session tests: a log-in's access token and refresh cookie,
//! a refresh as the site's own tab sends it, whether a token is still accepted, what it
//! claims, and the sessions an account sees.

use crate::client::REFRESH_COOKIE;
use crate::helpers::{TestServer, PASSWORD};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use keyhold::api::sessions::SessionView;

/// One signed-in client: its access token and refresh cookie.
#[derive(Debug, Clone)]
pub struct Device {
    pub access: String,
    pub cookie: String,
}

/// Logs `username` in with `user_agent`: the device.
pub async fn sign_in(server: &TestServer, username: &str, user_agent: &str) -> Device {
    let api = server.api().header("user-agent", user_agent);
    let answer = api.login(username, PASSWORD).await;
    assert_eq!(answer.status(), 200);
    let (cookie, _) = answer
        .set_cookie(REFRESH_COOKIE)
        .expect("login sets the refresh cookie");
    Device {
        access: answer.value().access_token,
        cookie,
    }
}

/// A same-origin refresh: the new access token and the rotated cookie (if rotated), or
/// the status of the refusal (which clears the cookie).
pub async fn refresh(server: &TestServer, cookie: &str) -> Result<(String, Option<String>), u16> {
    let answer = server.api().same_origin().refresh(Some(cookie)).await;
    let rotated = answer.set_cookie(REFRESH_COOKIE).map(|(value, _)| value);
    if answer.status() != 200 {
        assert_eq!(
            rotated.as_deref(),
            Some(""),
            "a refused refresh clears the cookie"
        );
        return Err(answer.status());
    }
    Ok((answer.value().access_token, rotated))
}

/// The status of `GET /api/users/me` with `access`: 200 while it is accepted.
pub async fn me_status(server: &TestServer, access: &str) -> u16 {
    server.api().bearer(access).me().await.status()
}

/// The sessions the holder of `access` sees (`GET /api/sessions` answers 200).
pub async fn sessions(server: &TestServer, access: &str) -> Vec<SessionView> {
    let answer = server.api().bearer(access).sessions().await;
    assert_eq!(answer.status(), 200);
    answer.value()
}

/// The claims of an access token (unverified: the tests read `amr`).
pub fn claims(token: &str) -> serde_json::Value {
    let payload = token.split('.').nth(1).expect("a payload");
    let json = URL_SAFE_NO_PAD.decode(payload).expect("base64url");
    serde_json::from_slice(&json).expect("JSON claims")
}
