//! The API contract in one table: every `/api` endpoint with its method, body encodings,
//! authentication and answers. The OpenAPI 3.1 document (`GET /api/openapi.json`) is
//! generated from it and from the Rust types (utoipa); the edge uses it to accept each
//! endpoint's alternative encoding and to answer 415 otherwise. A test checks that the
//! table and the registered server functions name exactly the same endpoints.

use crate::api::{
    account::{AccountExport, Deleted, ExportedProfile, ExportedSecurity, ExportedSession},
    sessions::{Revoked, SessionView, SignedOut},
    users::LoggedOut,
    ApiError, ErrorCode, TokenResponse, UserView,
};
use serde::Deserialize;
use utoipa::{
    openapi::{
        path::{HttpMethod, OperationBuilder},
        request_body::RequestBodyBuilder,
        response::{ResponseBuilder, ResponsesBuilder},
        schema::{ComponentsBuilder, Ref},
        security::{
            ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityRequirement, SecurityScheme,
        },
        ContentBuilder, HeaderBuilder, InfoBuilder, ObjectBuilder, OpenApi, OpenApiBuilder,
        PathsBuilder, Type,
    },
    ToSchema,
};

/// How a request body is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Json,
    Form,
    Multipart,
}

impl Encoding {
    pub fn mime(self) -> &'static str {
        match self {
            Self::Json => "application/json",
            Self::Form => "application/x-www-form-urlencoded",
            Self::Multipart => "multipart/form-data",
        }
    }
}

/// A request body: its schema, the encoding the server function decodes natively, and
/// every encoding it accepts (others are converted to the native one at the edge).
#[derive(Debug, Clone, Copy)]
pub struct Body {
    pub schema: &'static str,
    pub native: Encoding,
    pub accepts: &'static [Encoding],
    /// Whether an empty body is fine (no arguments).
    pub optional: bool,
}

#[derive(Debug, Clone)]
pub struct Endpoint {
    pub path: &'static str,
    pub method: http::Method,
    pub operation_id: &'static str,
    pub summary: &'static str,
    pub body: Option<Body>,
    pub bearer: bool,
    pub success: (u16, &'static str, &'static str),
    pub errors: &'static [u16],
}

const BOTH: &[Encoding] = &[Encoding::Json, Encoding::Form];

/// Every `/api` endpoint.
pub const ENDPOINTS: &[Endpoint] = &[
    Endpoint {
        path: "/api/register",
        method: http::Method::POST,
        operation_id: "register",
        summary: "Create an account",
        body: Some(Body {
            schema: "RegisterRequest",
            native: Encoding::Json,
            accepts: BOTH,
            optional: false,
        }),
        bearer: false,
        success: (201, "UserView", "The account was created."),
        errors: &[400, 409, 413, 415, 422, 503],
    },
    Endpoint {
        path: "/api/login",
        method: http::Method::POST,
        operation_id: "login",
        summary:
            "Exchange username (or e-mail) and password for a bearer token (OAuth2 password form)",
        body: Some(Body {
            schema: "LoginRequest",
            native: Encoding::Form,
            accepts: BOTH,
            optional: false,
        }),
        bearer: false,
        success: (200, "TokenResponse", "A bearer token."),
        errors: &[400, 401, 413, 415, 422, 429, 503],
    },
    Endpoint {
        path: "/api/users/me",
        method: http::Method::GET,
        operation_id: "current_user",
        summary: "The signed-in user",
        body: None,
        bearer: true,
        success: (200, "UserView", "The user the token belongs to."),
        errors: &[401, 503],
    },
    Endpoint {
        path: "/api/users/me/password",
        method: http::Method::POST,
        operation_id: "change_password",
        summary: "Change the password; every earlier token stops working",
        body: Some(Body {
            schema: "ChangePasswordRequest",
            native: Encoding::Json,
            accepts: BOTH,
            optional: false,
        }),
        bearer: true,
        success: (200, "TokenResponse", "A fresh token for the caller."),
        errors: &[400, 401, 403, 413, 415, 422, 429, 503],
    },
    Endpoint {
        path: "/api/users/me/logout-all",
        method: http::Method::POST,
        operation_id: "log_out_everywhere",
        summary: "Revoke every token of the account, the caller's included",
        body: Some(Body {
            schema: "Empty",
            native: Encoding::Form,
            accepts: BOTH,
            optional: true,
        }),
        bearer: true,
        success: (200, "LoggedOut", "Every token was revoked."),
        errors: &[400, 401, 413, 415, 422, 503],
    },
    Endpoint {
        path: "/api/users/me/profile",
        method: http::Method::POST,
        operation_id: "update_profile",
        summary: "Change username and/or e-mail (the e-mail needs the current password)",
        body: Some(Body {
            schema: "UpdateProfileRequest",
            native: Encoding::Json,
            accepts: BOTH,
            optional: false,
        }),
        bearer: true,
        success: (200, "UserView", "The updated account."),
        errors: &[400, 401, 403, 409, 413, 415, 422, 429, 503],
    },
    Endpoint {
        path: "/api/users/me/delete",
        method: http::Method::POST,
        operation_id: "delete_account",
        summary: "Delete the account and everything stored about it",
        body: Some(Body {
            schema: "DeleteAccountRequest",
            native: Encoding::Json,
            accepts: BOTH,
            optional: false,
        }),
        bearer: true,
        success: (
            200,
            "Deleted",
            "The account is gone; its tokens no longer work.",
        ),
        errors: &[400, 401, 403, 413, 415, 422, 429, 503],
    },
    Endpoint {
        path: "/api/users/me/export",
        method: http::Method::GET,
        operation_id: "export_data",
        summary: "Everything stored about the account, as JSON (never the password hash)",
        body: None,
        bearer: true,
        success: (200, "AccountExport", "The account's data."),
        errors: &[401, 503],
    },
    Endpoint {
        path: "/api/users/me/image",
        method: http::Method::POST,
        operation_id: "upload_image",
        summary: "Set or replace the profile image (multipart, field `image`)",
        body: Some(Body {
            schema: "ImageUpload",
            native: Encoding::Multipart,
            accepts: &[Encoding::Multipart],
            optional: false,
        }),
        bearer: true,
        success: (200, "UserView", "The user with the new `image_url`."),
        errors: &[400, 401, 413, 415, 422, 503],
    },
    Endpoint {
        path: "/api/users/me/image",
        method: http::Method::DELETE,
        operation_id: "remove_image",
        summary: "Remove the profile image",
        body: None,
        bearer: true,
        success: (200, "UserView", "The user, `image_url` null."),
        errors: &[401, 503],
    },
    Endpoint {
        path: "/api/refresh",
        method: http::Method::POST,
        operation_id: "refresh",
        summary: "A new access token for the refresh cookie's session; rotates the cookie \
                  (same-origin `Origin` required)",
        body: Some(EMPTY),
        bearer: false,
        success: (
            200,
            "TokenResponse",
            "A fresh bearer token (and usually a new cookie).",
        ),
        errors: &[400, 401, 403, 413, 415, 422, 503],
    },
    Endpoint {
        path: "/api/logout",
        method: http::Method::POST,
        operation_id: "log_out",
        summary: "End the caller's session (bearer token, else refresh cookie) and remove \
                  the cookie",
        body: Some(EMPTY),
        bearer: false,
        success: (
            200,
            "SignedOut",
            "Signed out (also when nothing was left to end).",
        ),
        errors: &[400, 403, 413, 415, 422, 503],
    },
    Endpoint {
        path: "/api/sessions",
        method: http::Method::GET,
        operation_id: "list_sessions",
        summary: "The user's live sessions, most recently active first",
        body: None,
        bearer: true,
        success: (
            200,
            "SessionList",
            "The sessions; `current` marks the caller's.",
        ),
        errors: &[401, 503],
    },
    Endpoint {
        path: "/api/sessions/revoke",
        method: http::Method::POST,
        operation_id: "revoke_session",
        summary: "End one of the user's sessions; its tokens stop working at once",
        body: Some(Body {
            schema: "RevokeSessionRequest",
            native: Encoding::Json,
            accepts: BOTH,
            optional: false,
        }),
        bearer: true,
        success: (200, "Revoked", "The session ended."),
        errors: &[400, 401, 404, 413, 415, 422, 503],
    },
    Endpoint {
        path: "/api/sessions/revoke-others",
        method: http::Method::POST,
        operation_id: "revoke_other_sessions",
        summary: "End every session of the user except the caller's",
        body: Some(EMPTY),
        bearer: true,
        success: (200, "Revoked", "How many sessions ended."),
        errors: &[400, 401, 413, 415, 422, 503],
    },
];

/// A body with no fields (an empty body is fine).
const EMPTY: Body = Body {
    schema: "Empty",
    native: Encoding::Form,
    accepts: BOTH,
    optional: true,
};

/// Endpoints that read the refresh cookie (and so check `Origin`).
const COOKIE_ENDPOINTS: &[&str] = &["/api/refresh", "/api/logout"];
/// Endpoints that also work with no credentials at all (signing out twice is fine).
const ANONYMOUS_OK: &[&str] = &["/api/logout"];

/// The endpoint at `path` for `method`, if any.
pub fn endpoint(path: &str, method: &http::Method) -> Option<&'static Endpoint> {
    ENDPOINTS
        .iter()
        .find(|e| e.path == path && e.method == method)
}

/// `POST /api/register`.
#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct RegisterRequest {
    /// 3–32 characters of `A-Z a-z 0-9 . _ -`, unique regardless of case.
    #[schema(min_length = 3, max_length = 32, pattern = "^[A-Za-z0-9_.-]{3,32}$")]
    username: String,
    /// A valid address, unique regardless of case.
    #[schema(max_length = 254, format = "email")]
    email: String,
    /// 15–256 characters (after NFKC), not a common password, not containing the
    /// username or e-mail.
    #[schema(min_length = 1, max_length = 1024, format = "password")]
    password: String,
}

/// `POST /api/login`: the OAuth2 password grant form (extra OAuth2 fields are ignored).
#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct LoginRequest {
    /// Username or e-mail address.
    username: String,
    #[schema(format = "password")]
    password: String,
    /// `password` when sent (ignored).
    grant_type: Option<String>,
    /// Ignored.
    scope: Option<String>,
    /// Ignored.
    client_id: Option<String>,
    /// Ignored.
    client_secret: Option<String>,
}

/// `POST /api/users/me/password`.
#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct ChangePasswordRequest {
    #[schema(format = "password")]
    current_password: String,
    /// The same rules as at sign-up.
    #[schema(format = "password")]
    new_password: String,
}

/// `POST /api/users/me/profile`: omitted fields keep their value.
#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct UpdateProfileRequest {
    #[schema(min_length = 3, max_length = 32, pattern = "^[A-Za-z0-9_.-]{3,32}$")]
    username: Option<String>,
    #[schema(max_length = 254, format = "email")]
    email: Option<String>,
    /// Required when the e-mail changes.
    #[schema(format = "password")]
    current_password: Option<String>,
}

/// `POST /api/users/me/delete`.
#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct DeleteAccountRequest {
    #[schema(format = "password")]
    password: String,
    /// The username, typed again to confirm.
    confirm: String,
}

/// `POST /api/users/me/image`.
#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct ImageUpload {
    /// PNG, JPEG, WebP or GIF; at most 5 MiB and 4096 × 4096 pixels.
    #[schema(value_type = String, format = Binary, content_media_type = "application/octet-stream")]
    image: Vec<u8>,
}

/// No fields.
#[derive(Debug, Deserialize, ToSchema)]
pub struct Empty {}

/// `POST /api/sessions/revoke`.
#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct RevokeSessionRequest {
    /// A session id from `GET /api/sessions`.
    #[schema(max_length = 64)]
    id: String,
}

/// `GET /api/sessions`.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct SessionList(Vec<SessionView>);

fn status_text(status: u16) -> &'static str {
    match status {
        400 => "The body cannot be parsed.",
        401 => "Missing or refused credentials or token (`WWW-Authenticate: Bearer`).",
        403 => {
            "A password confirming the change is wrong (field names which), or a cookie \
                request without a same-origin `Origin` header."
        }
        404 => "No such session (field `id`).",
        409 => "The username or e-mail is taken (field names which).",
        413 => "The body is too large (16 KiB; images 5 MiB).",
        415 => "The body's content type is not accepted; the message lists the accepted ones.",
        422 => "A field is missing or breaks a rule (field names which).",
        429 => "Too many failed attempts; retry after `Retry-After` seconds.",
        503 => "Busy or the database is unavailable; retry after `Retry-After` seconds.",
        _ => "Error.",
    }
}

/// The OpenAPI 3.1 document of the API.
pub fn document() -> OpenApi {
    let mut items = std::collections::BTreeMap::new();
    for endpoint in ENDPOINTS {
        let mut operation = OperationBuilder::new()
            .operation_id(Some(endpoint.operation_id))
            .summary(Some(endpoint.summary))
            .tag("accounts");
        if let Some(body) = endpoint.body {
            let mut request = RequestBodyBuilder::new().required(Some(if body.optional {
                utoipa::openapi::Required::False
            } else {
                utoipa::openapi::Required::True
            }));
            for encoding in body.accepts {
                request = request.content(
                    encoding.mime(),
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name(body.schema)))
                        .build(),
                );
            }
            operation = operation.request_body(Some(request.build()));
        }
        if endpoint.bearer {
            operation =
                operation.security(SecurityRequirement::new("bearer", Vec::<String>::new()));
        }
        if COOKIE_ENDPOINTS.contains(&endpoint.path) {
            if ANONYMOUS_OK.contains(&endpoint.path) {
                operation =
                    operation.security(SecurityRequirement::new("bearer", Vec::<String>::new()));
            }
            operation = operation.security(SecurityRequirement::new(
                "refresh_cookie",
                Vec::<String>::new(),
            ));
        }
        if ANONYMOUS_OK.contains(&endpoint.path) {
            operation = operation.security(SecurityRequirement::default());
        }
        let (status, schema, description) = endpoint.success;
        let mut responses = ResponsesBuilder::new().response(
            status.to_string(),
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name(schema)))
                        .build(),
                )
                .build(),
        );
        for status in endpoint.errors.iter().copied().chain([405]) {
            let mut response = ResponseBuilder::new()
                .description(if status == 405 {
                    "The endpoint does not accept this method."
                } else {
                    status_text(status)
                })
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("ApiError")))
                        .build(),
                );
            let text_header = || {
                HeaderBuilder::new()
                    .schema(ObjectBuilder::new().schema_type(Type::String))
                    .build()
            };
            if status == 401 {
                response = response.header("WWW-Authenticate", text_header());
            }
            if status == 429 || status == 503 {
                response = response.header("Retry-After", text_header());
            }
            responses = responses.response(status.to_string(), response.build());
        }
        let operation = operation.responses(responses.build()).build();
        let method = match endpoint.method {
            http::Method::GET => HttpMethod::Get,
            http::Method::DELETE => HttpMethod::Delete,
            _ => HttpMethod::Post,
        };
        let item = items
            .remove(endpoint.path)
            .unwrap_or_else(utoipa::openapi::path::PathItemBuilder::new);
        items.insert(endpoint.path, item.operation(method, operation));
    }
    let mut paths = PathsBuilder::new();
    for (path, item) in items {
        paths = paths.path(path, item.build());
    }
    let components = ComponentsBuilder::new()
        .schema_from::<UserView>()
        .schema_from::<TokenResponse>()
        .schema_from::<ApiError>()
        .schema_from::<ErrorCode>()
        .schema_from::<LoggedOut>()
        .schema_from::<SessionView>()
        .schema_from::<SessionList>()
        .schema_from::<Revoked>()
        .schema_from::<SignedOut>()
        .schema_from::<RevokeSessionRequest>()
        .schema_from::<RegisterRequest>()
        .schema_from::<LoginRequest>()
        .schema_from::<ChangePasswordRequest>()
        .schema_from::<Empty>()
        .schema_from::<ImageUpload>()
        .schema_from::<UpdateProfileRequest>()
        .schema_from::<DeleteAccountRequest>()
        .schema_from::<Deleted>()
        .schema_from::<AccountExport>()
        .schema_from::<ExportedProfile>()
        .schema_from::<ExportedSecurity>()
        .schema_from::<ExportedSession>()
        .security_scheme(
            "bearer",
            SecurityScheme::Http(
                Http::builder()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        )
        .security_scheme(
            "refresh_cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                "__Host-keyhold-refresh",
                "HttpOnly refresh cookie set by POST /api/login (named keyhold-refresh when \
                 KEYHOLD_COOKIE_SECURE=false).",
            ))),
        )
        .build();
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("Keyhold API")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "User accounts: register, log in (OAuth2 password form), the signed-in user. \
                     Every error is {\"error\", \"message\", \"field\"} with the status its code implies.",
                ))
                .build(),
        )
        .paths(paths.build())
        .components(Some(components))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_endpoint_is_documented_with_its_schemas() {
        let doc = serde_json::to_value(document()).unwrap();
        assert_eq!(doc["openapi"], "3.1.0");
        for endpoint in ENDPOINTS {
            let method = endpoint.method.as_str().to_lowercase();
            let operation = &doc["paths"][endpoint.path][&method];
            assert!(operation.is_object(), "{} {}", method, endpoint.path);
            let (status, schema, _) = endpoint.success;
            assert!(doc["components"]["schemas"][schema].is_object(), "{schema}");
            assert!(operation["responses"][status.to_string()].is_object());
            if let Some(body) = endpoint.body {
                assert!(
                    doc["components"]["schemas"][body.schema].is_object(),
                    "{}",
                    body.schema
                );
            }
        }
    }
}
