//! Sign-up and log-in: `POST /api/register` (JSON), `POST /api/login` (OAuth2 password
//! form) and, for accounts with a second factor, `POST /api/login/mfa`.

use super::{proofs::SecondFactorFields, ApiError, TokenResponse, UserView};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};

/// `POST /api/register`.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RegisterRequest {
    /// 3–32 characters of `A-Z a-z 0-9 . _ -`, unique regardless of case.
    #[cfg_attr(
        feature = "ssr",
        schema(min_length = 3, max_length = 32, pattern = "^[A-Za-z0-9_.-]{3,32}$")
    )]
    pub username: String,
    /// A valid address, unique regardless of case.
    #[cfg_attr(feature = "ssr", schema(max_length = 254, format = "email"))]
    pub email: String,
    /// 15–256 characters (after NFKC), not a password leaked in data breaches (nor one
    /// with digits or symbols added at its end), not containing the username, the
    /// e-mail or "keyhold".
    #[cfg_attr(
        feature = "ssr",
        schema(min_length = 1, max_length = 1024, format = "password")
    )]
    pub password: String,
}

debug_without_secrets!(RegisterRequest { username, email });

/// Creates an account. Answers 201 with the new user, 409 when the username or e-mail
/// is taken, 422 naming the field when the input breaks a rule, 429 when this address
/// signed up too often.
#[cfg_attr(feature = "ssr", utoipa::path(
    post, path = "/api/register", operation_id = "register", tag = "accounts",
    summary = "Create an account",
    request_body(content = RegisterRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "The account was created.", body = UserView),
        super::error_responses::Conflict,
        super::error_responses::Throttled,
    ),
))]
#[server(prefix = "/api", endpoint = "register", input = Json)]
pub async fn register(#[server(flatten)] request: RegisterRequest) -> Result<UserView, ApiError> {
    use crate::server::{
        edge::{client_addr, set_status},
        runtime::state::AppState,
    };

    let state = AppState::from_context()?;
    let client = client_addr(&state);
    let user = state
        .accounts
        .register(&request.username, &request.email, &request.password, client)
        .await?;
    set_status(http::StatusCode::CREATED);
    Ok(user.into())
}

/// `POST /api/login`: the OAuth2 password grant form (extra OAuth2 fields are ignored).
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LoginRequest {
    /// Username or e-mail address.
    pub username: String,
    #[cfg_attr(feature = "ssr", schema(format = "password"))]
    pub password: String,
    /// `password` when sent (ignored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_type: Option<String>,
    /// Ignored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// Ignored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// Ignored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
}

debug_without_secrets!(LoginRequest { username });

impl LoginRequest {
    /// The form the browser sends: just the two fields.
    pub fn new(username: String, password: String) -> Self {
        Self {
            username,
            password,
            grant_type: None,
            scope: None,
            client_id: None,
            client_secret: None,
        }
    }
}

/// Exchanges a username (or e-mail) and password for a bearer token, exactly as an
/// OAuth2 password-grant client sends it (`application/x-www-form-urlencoded`).
/// Each log-in opens a session; the answer also sets the session's refresh cookie,
/// which browsers use to renew the short-lived token (`POST /api/refresh`), the browser
/// session cookie pages are rendered for (never accepted by an API call), and a device
/// cookie: a later log-in presenting it is throttled on that browser's own budget, so
/// failed guesses elsewhere never lock it out. 429 with `Retry-After` when
/// the attempts are spent. A request with an `Origin` header must come from the site
/// itself (403 otherwise).
///
/// For an account with a second factor, the right password answers 401 `mfa_required`
/// with an `mfa_token` and the `methods` the account can use, and nothing is signed in
/// yet: finish at `POST /api/login/mfa`.
#[cfg_attr(feature = "ssr", utoipa::path(
    post, path = "/api/login", operation_id = "login", tag = "accounts",
    summary = "Exchange username (or e-mail) and password for a bearer token (OAuth2 password form)",
    request_body(content = LoginRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "A bearer token.", body = TokenResponse),
        super::error_responses::Unauthenticated,
        super::error_responses::CrossSite,
        super::error_responses::Throttled,
    ),
))]
#[server(prefix = "/api", endpoint = "login")]
pub async fn login(#[server(flatten)] request: LoginRequest) -> Result<TokenResponse, ApiError> {
    use crate::server::{
        accounts::{AccountError, LogInStep},
        runtime::state::AppState,
    };

    let state = AppState::from_context()?;
    let caller = log_in_caller(&state)?;
    let device = state.cookies.read_device(&caller.headers);
    let step = state
        .accounts
        .login(
            &request.username,
            &request.password,
            caller.client(),
            device.as_deref(),
            None,
        )
        .await?;
    match step {
        LogInStep::Authenticated(person) => signed_in_answer(&state, &caller, person).await,
        LogInStep::SecondFactorRequired { mfa_token, methods } => {
            Err(AccountError::MfaRequired { mfa_token, methods }.into())
        }
    }
}

/// `POST /api/login/mfa`: the second step of a log-in.
#[derive(Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LoginMfaRequest {
    /// From the `mfa_required` answer of `POST /api/login`.
    #[cfg_attr(feature = "ssr", schema(max_length = 64))]
    pub mfa_token: String,
    #[serde(flatten)]
    pub second_factor: SecondFactorFields,
}

debug_without_secrets!(LoginMfaRequest {});

/// Finishes a log-in that answered `mfa_required`: the `mfa_token` and a code from the
/// authenticator app (`code`), a recovery code (`recovery_code`) or a passkey's answer
/// (`passkey`, to a ceremony begun at `POST /api/login/mfa/passkey`). Answers like
/// `POST /api/login` (token, refresh cookie). 401 `invalid_credentials` on the field
/// when the code is wrong; 401 `invalid_mfa_token` when the token is unknown, used,
/// older than 5 minutes, sent from another address, voided by a password change or
/// spent by 5 wrong codes (log in with the password again); 429 after too many wrong
/// codes for the account.
#[cfg_attr(feature = "ssr", utoipa::path(
    post, path = "/api/login/mfa", operation_id = "login_mfa", tag = "accounts",
    summary = "Finish a log-in with a second factor",
    request_body(content = LoginMfaRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "A bearer token.", body = TokenResponse),
        super::error_responses::Unauthenticated,
        super::error_responses::CrossSite,
        super::error_responses::Throttled,
    ),
))]
#[server(prefix = "/api", endpoint = "login/mfa", input = Json)]
pub async fn login_mfa(
    #[server(flatten)] request: LoginMfaRequest,
) -> Result<TokenResponse, ApiError> {
    use crate::server::runtime::state::AppState;

    let state = AppState::from_context()?;
    let caller = log_in_caller(&state)?;
    let person = state
        .accounts
        .login_second_factor(
            &request.mfa_token,
            request.second_factor.proof(),
            caller.client(),
        )
        .await?;
    signed_in_answer(&state, &caller, person).await
}

/// Who is logging in. A browser on another site must not sign this browser in to an
/// account of its choosing (login CSRF: the answer sets the refresh cookie), so a request
/// with an `Origin` must come from this site; programs send none.
#[cfg(feature = "ssr")]
pub(crate) fn log_in_caller(
    state: &crate::server::runtime::state::AppState,
) -> Result<crate::server::edge::Caller, ApiError> {
    use crate::server::edge::{check_origin, Caller};

    let caller = Caller::current(state)?;
    if caller.headers.contains_key(http::header::ORIGIN) {
        check_origin(state, &caller.headers)?;
    }
    Ok(caller)
}

/// The answer to a log-in that proved who the person is (password, second factor or
/// passkey): the session opened, its refresh cookie, the browser session cookie, a
/// device cookie for a browser that did not prove one, and the bearer token.
#[cfg(feature = "ssr")]
pub(crate) async fn signed_in_answer(
    state: &crate::server::runtime::state::AppState,
    caller: &crate::server::edge::Caller,
    person: crate::server::accounts::Authenticated,
) -> Result<TokenResponse, ApiError> {
    use crate::server::edge::set_cookie;

    let opened = state
        .accounts
        .complete_log_in(person, caller.client())
        .await?;
    let now = state.clock.now();
    let session = state.accounts.session_cookie(opened.session_id());
    set_cookie(state.cookies.set_session(session, opened.expires_at, now));
    let signed_in = state.accounts.issue_first_party(opened)?;
    set_cookie(
        state
            .cookies
            .set(&signed_in.refresh, signed_in.expires_at, now),
    );
    if let Some(device) = signed_in.device {
        set_cookie(state.cookies.set_device(device));
    }
    let access = signed_in.access;
    Ok(TokenResponse::bearer(access.token, access.expires_in))
}

/// The endpoints of this module, for the OpenAPI document.
#[cfg(feature = "ssr")]
#[derive(utoipa::OpenApi)]
#[openapi(paths(register, login, login_mfa))]
pub struct Endpoints;
