//! The one error body of the API, `{"error", "message", "field"}`, shared by server and browser.

use leptos::server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};
use serde::{Deserialize, Serialize};

/// Machine-readable error codes; each maps to exactly one HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum ErrorCode {
    BadRequest,
    InvalidCredentials,
    /// The password was right, but an administrator disabled the account.
    AccountDisabled,
    /// The password was right, but the e-mail address is not confirmed yet (only with
    /// `KEYHOLD_REQUIRE_VERIFIED_EMAIL=true`); a new link was sent.
    EmailNotVerified,
    /// A link sent by mail that is unknown, used, expired or voided (field `token`).
    InvalidLink,
    /// The password was right and the account has a second factor: finish at
    /// `POST /api/login/mfa` with `mfa_token` and one of `methods`.
    MfaRequired,
    /// The `mfa_token` is unknown, used, expired, from another address or spent by
    /// wrong codes: log in with the password again.
    InvalidMfaToken,
    /// A passkey ceremony that is unknown, used or expired (field `ceremony`): start again.
    InvalidCeremony,
    MissingToken,
    InvalidToken,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    Conflict,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
    TooManyRequests,
    Unavailable,
    Internal,
    /// A code this build does not know (a newer server); treated as a server error.
    #[serde(other)]
    Unknown,
}

impl ErrorCode {
    /// The HTTP status this code is sent with.
    pub fn status(self) -> u16 {
        match self {
            Self::BadRequest | Self::InvalidLink | Self::InvalidCeremony => 400,
            Self::InvalidCredentials
            | Self::AccountDisabled
            | Self::EmailNotVerified
            | Self::MfaRequired
            | Self::InvalidMfaToken
            | Self::MissingToken
            | Self::InvalidToken => 401,
            Self::Forbidden => 403,
            Self::NotFound => 404,
            Self::MethodNotAllowed => 405,
            Self::Conflict => 409,
            Self::PayloadTooLarge => 413,
            Self::UnsupportedMediaType => 415,
            Self::ValidationFailed => 422,
            Self::TooManyRequests => 429,
            Self::Unavailable => 503,
            Self::Internal | Self::Unknown => 500,
        }
    }

    /// The code for a status produced outside the server functions (router, limits).
    pub fn from_status(status: u16) -> Self {
        match status {
            400 => Self::BadRequest,
            401 => Self::MissingToken,
            403 => Self::Forbidden,
            404 => Self::NotFound,
            405 => Self::MethodNotAllowed,
            409 => Self::Conflict,
            413 => Self::PayloadTooLarge,
            415 => Self::UnsupportedMediaType,
            422 => Self::ValidationFailed,
            429 => Self::TooManyRequests,
            503 => Self::Unavailable,
            _ => Self::Internal,
        }
    }
}

/// An API error: what went wrong, for whom (the field, if one is to blame) and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ApiError {
    pub error: ErrorCode,
    pub message: String,
    #[serde(default)]
    pub field: Option<String>,
    /// With `mfa_required`: how to finish the log-in (`mfa_token` and `methods` in the
    /// body; documented with the 401 answer of `POST /api/login`).
    #[serde(flatten, default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(ignore))]
    pub mfa: Option<Box<MfaRequired>>,
    /// Seconds to wait before trying again (a 429 or 503). Carried from the server
    /// function to the edge, which sends it as `Retry-After` and leaves it out of the body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(ignore))]
    pub retry_after: Option<u64>,
    /// What went wrong inside the server (never shown to the client): carried to the
    /// edge, which logs it with the request id and leaves it out of the body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(ignore))]
    pub cause: Option<String>,
}

/// What an `mfa_required` answer adds to the error body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MfaRequired {
    /// The token to send to `POST /api/login/mfa` (single use, 5 minutes, only from
    /// the same address).
    pub mfa_token: String,
    /// The second factors the account can use (`totp`, `recovery_code`, …).
    pub methods: Vec<String>,
}

impl ApiError {
    pub fn new(error: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            error,
            message: message.into(),
            field: None,
            mfa: None,
            retry_after: None,
            cause: None,
        }
    }

    /// The same error, with what went wrong inside for the server's log.
    pub fn caused_by(mut self, cause: impl std::fmt::Display) -> Self {
        self.cause = Some(cause.to_string());
        self
    }

    /// The same error, asking the client to wait `seconds` before trying again.
    pub fn retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    /// A 422 naming the field at fault.
    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        Self::new(ErrorCode::ValidationFailed, message).on_field(field)
    }

    pub fn on_field(mut self, field: &str) -> Self {
        self.field = Some(field.to_owned());
        self
    }

    /// The generic body for a status that carries no error of its own.
    pub fn for_status(status: u16) -> Self {
        let code = ErrorCode::from_status(status);
        let message = match code {
            ErrorCode::NotFound => "There is no such endpoint.",
            ErrorCode::MethodNotAllowed => "This endpoint does not accept that HTTP method.",
            ErrorCode::PayloadTooLarge => "The request body is too large.",
            ErrorCode::UnsupportedMediaType => "The request body has an unsupported content type.",
            ErrorCode::TooManyRequests => "Too many requests; try again shortly.",
            ErrorCode::Unavailable => "The service is busy or unavailable; try again shortly.",
            ErrorCode::MissingToken => "Authentication is required.",
            ErrorCode::Forbidden => "You are not allowed to do that.",
            ErrorCode::BadRequest | ErrorCode::ValidationFailed => "The request could not be read.",
            _ => "Something went wrong on our side.",
        };
        Self::new(code, message)
    }

    /// Whether the error means the caller's token is missing or no longer valid.
    pub fn is_auth_failure(&self) -> bool {
        matches!(
            self.error,
            ErrorCode::MissingToken | ErrorCode::InvalidToken
        )
    }
}

/// Turns a failure to read or decode the request body into a client error (server side
/// only): too long → 413, a missing field → 422 naming it, anything else → 400.
fn body_error(message: &str) -> ApiError {
    if message.contains("length limit exceeded") {
        return ApiError::for_status(413);
    }
    if message.contains("UTF-8") || message.contains("utf-8") {
        return ApiError::new(
            ErrorCode::BadRequest,
            "The request body could not be read (it must be UTF-8).",
        );
    }
    argument_error(message)
}

/// Turns serde's complaint about the arguments into a readable error naming the field.
fn argument_error(message: &str) -> ApiError {
    if let Some(rest) = message.split("missing field `").nth(1) {
        let field = rest.split('`').next().unwrap_or_default();
        return ApiError::invalid_field(field, format!("The field \"{field}\" is required."));
    }
    ApiError::new(
        ErrorCode::BadRequest,
        format!("The request body is malformed: {message}"),
    )
}

impl FromServerFnError for ApiError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(err: ServerFnErrorErr) -> Self {
        match err {
            ServerFnErrorErr::Args(message) => argument_error(&message),
            ServerFnErrorErr::MissingArg(field) => {
                ApiError::invalid_field(&field, format!("The field \"{field}\" is required."))
            }
            ServerFnErrorErr::Deserialization(message) if cfg!(feature = "ssr") => {
                body_error(&message)
            }
            ServerFnErrorErr::UnsupportedRequestMethod(_) => ApiError::for_status(405),
            ServerFnErrorErr::Request(_) => ApiError::new(
                ErrorCode::Unavailable,
                "Could not reach the server. Check your connection and try again.",
            ),
            _ => ApiError::for_status(500),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_field_names_the_field() {
        let err = argument_error("missing field `password`");
        assert_eq!(err.error, ErrorCode::ValidationFailed);
        assert_eq!(err.field.as_deref(), Some("password"));
    }

    #[test]
    fn body_serializes_with_null_field() {
        let json = serde_json::to_value(ApiError::for_status(404)).unwrap();
        assert_eq!(json["error"], "not_found");
        assert!(json["field"].is_null());
    }

    #[test]
    fn unknown_codes_decode() {
        let err: ApiError =
            serde_json::from_str(r#"{"error":"brand_new","message":"x","field":null}"#).unwrap();
        assert_eq!(err.error, ErrorCode::Unknown);
        assert_eq!(err.error.status(), 500);
    }
}
