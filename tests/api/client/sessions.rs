//! Sessions and their activity: the endpoints of `src/api/refresh.rs`, `sessions.rs` and
//! `activity.rs`.

use super::{Answer, Client, REFRESH_COOKIE};
use keyhold::api::{
    activity::{ActivityPage, ListActivity, NotMeRequest, NotMeResponse},
    refresh::SignedOut,
    sessions::{RevokeSessionRequest, Revoked, SessionView},
    TokenResponse,
};
use reqwest::Method;

impl Client {
    /// `POST /api/refresh` with the refresh cookie `cookie` (none: `None`).
    pub async fn refresh(&self, cookie: Option<&str>) -> Answer<TokenResponse> {
        Self::send(self.with_refresh_cookie(Method::POST, "/api/refresh", cookie)).await
    }

    /// `POST /api/logout` with the refresh cookie `cookie` (none: `None`) and this
    /// client's bearer token, if any.
    pub async fn log_out(&self, cookie: Option<&str>) -> Answer<SignedOut> {
        Self::send(self.with_refresh_cookie(Method::POST, "/api/logout", cookie)).await
    }

    /// `GET /api/sessions`.
    pub async fn sessions(&self) -> Answer<Vec<SessionView>> {
        self.get("/api/sessions").await
    }

    /// `POST /api/sessions/revoke`.
    pub async fn revoke_session(&self, id: &str) -> Answer<Revoked> {
        let request = RevokeSessionRequest { id: id.into() };
        self.post("/api/sessions/revoke", &request).await
    }

    /// `POST /api/sessions/revoke-others`.
    pub async fn revoke_other_sessions(&self) -> Answer<Revoked> {
        self.post_empty("/api/sessions/revoke-others").await
    }

    /// `GET /api/users/me/activity` with `query` (a page: `limit`, `before`).
    pub async fn activity(&self, query: &ListActivity) -> Answer<ActivityPage> {
        let request = self.request(Method::GET, "/api/users/me/activity");
        Self::send(request.query(query)).await
    }

    /// `POST /api/users/me/activity/not-me`: the entry `id` was not the owner.
    pub async fn report_not_me(&self, id: i64) -> Answer<NotMeResponse> {
        let request = NotMeRequest { id };
        self.post("/api/users/me/activity/not-me", &request).await
    }

    fn with_refresh_cookie(
        &self,
        method: Method,
        path: &str,
        cookie: Option<&str>,
    ) -> reqwest::RequestBuilder {
        let request = self.request(method, path);
        match cookie {
            Some(value) => request.header("cookie", format!("{REFRESH_COOKIE}={value}")),
            None => request,
        }
    }
}
