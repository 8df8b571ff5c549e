//! Sign-up, log-in and the account: the endpoints of `src/api/auth.rs`, `users.rs`,
//! `account.rs` and `images.rs`.

use super::{Answer, Client};
use keyhold::api::{
    account::{AccountExport, DeleteAccountRequest, Deleted, UpdateProfileRequest},
    auth::{LoginMfaRequest, LoginRequest, RegisterRequest},
    users::{ChangePasswordRequest, LoggedOut},
    TokenResponse, UserView,
};
use reqwest::{
    multipart::{Form, Part},
    Method,
};

impl Client {
    /// `POST /api/register`.
    pub async fn register(&self, request: &RegisterRequest) -> Answer<UserView> {
        self.post("/api/register", request).await
    }

    /// `POST /api/login` with the OAuth2 password grant form, as an OAuth2 client sends it.
    pub async fn login(&self, username: &str, password: &str) -> Answer<TokenResponse> {
        let form = LoginRequest {
            grant_type: Some("password".into()),
            ..LoginRequest::new(username.into(), password.into())
        };
        Self::send(self.request(Method::POST, "/api/login").form(&form)).await
    }

    /// `POST /api/login/mfa`: the second step of a log-in.
    pub async fn login_mfa(&self, request: &LoginMfaRequest) -> Answer<TokenResponse> {
        self.post("/api/login/mfa", request).await
    }

    /// `GET /api/users/me`.
    pub async fn me(&self) -> Answer<UserView> {
        self.get("/api/users/me").await
    }

    /// `POST /api/users/me/password`.
    pub async fn change_password(&self, request: &ChangePasswordRequest) -> Answer<TokenResponse> {
        self.post("/api/users/me/password", request).await
    }

    /// `POST /api/users/me/logout-all`.
    pub async fn log_out_everywhere(&self) -> Answer<LoggedOut> {
        self.post_empty("/api/users/me/logout-all").await
    }

    /// `POST /api/users/me/profile`.
    pub async fn update_profile(&self, request: &UpdateProfileRequest) -> Answer<UserView> {
        self.post("/api/users/me/profile", request).await
    }

    /// `POST /api/users/me/delete`.
    pub async fn delete_account(&self, request: &DeleteAccountRequest) -> Answer<Deleted> {
        self.post("/api/users/me/delete", request).await
    }

    /// `GET /api/users/me/export`.
    pub async fn export_data(&self) -> Answer<AccountExport> {
        self.get("/api/users/me/export").await
    }

    /// `POST /api/users/me/image`: `bytes` as the file `file_name` (sent as a PNG).
    pub async fn upload_image(&self, bytes: Vec<u8>, file_name: &str) -> Answer<UserView> {
        let part = Part::bytes(bytes)
            .file_name(file_name.to_owned())
            .mime_str("image/png")
            .expect("a MIME type");
        let form = Form::new().part("image", part);
        Self::send(
            self.request(Method::POST, "/api/users/me/image")
                .multipart(form),
        )
        .await
    }

    /// `DELETE /api/users/me/image`.
    pub async fn remove_image(&self) -> Answer<UserView> {
        Self::send(self.request(Method::DELETE, "/api/users/me/image")).await
    }
}
