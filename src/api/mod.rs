//! The public HTTP API: server functions under `/api` and the types they exchange.

mod error;
#[cfg(feature = "ssr")]
pub mod error_responses;
pub mod proofs;
pub mod security_events;

/// The modules of endpoints, each ending with its `Endpoints` list: a module named here
/// is compiled and its endpoints are in the OpenAPI document (`endpoint_documents`), so a
/// new module is added in this one place.
macro_rules! endpoint_modules {
    ($($module:ident),+ $(,)?) => {
        $(pub mod $module;)+

        /// Every endpoint module's part of the OpenAPI document, in the order listed.
        #[cfg(feature = "ssr")]
        pub fn endpoint_documents() -> Vec<utoipa::openapi::OpenApi> {
            use utoipa::OpenApi as _;
            vec![$($module::Endpoints::openapi()),+]
        }
    };
}

endpoint_modules!(
    auth,
    users,
    account,
    images,
    refresh,
    sessions,
    activity,
    recovery,
    email,
    passkeys,
    passkey_log_in,
    second_factors,
);

pub use error::{ApiError, ErrorCode, MfaRequired};
use serde::{Deserialize, Serialize};

/// What the API tells about a user: never the id, the hash or anything internal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UserView {
    pub username: String,
    pub email: String,
    pub image_url: Option<String>,
    /// Whether the person followed a confirmation link sent to `email`.
    #[serde(default)]
    pub email_verified: bool,
    /// A new address waiting for its confirmation link to be followed (the change
    /// takes effect then).
    #[serde(default)]
    pub pending_email: Option<String>,
}

/// The OAuth2 token response (RFC 6749 section 5.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: String,
    /// Lifetime of the token in seconds.
    pub expires_in: u64,
}

impl TokenResponse {
    /// A bearer token valid for `expires_in` seconds.
    pub fn bearer(access_token: String, expires_in: u64) -> Self {
        Self {
            access_token,
            token_type: "bearer".into(),
            expires_in,
        }
    }
}

/// Where the profile image with this content hash is served, `size` 256 or 64 pixels.
pub fn image_url(hash: &str, size: u32) -> String {
    format!("/media/avatars/{hash}/{size}.webp")
}

/// The same image at another size (the header shows the small one).
pub fn image_variant(url: &str, size: u32) -> String {
    match url.rsplit_once('/') {
        Some((base, _)) => format!("{base}/{size}.webp"),
        None => url.to_owned(),
    }
}
