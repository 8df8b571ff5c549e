//! The rules of an authorization request (`/oauth2/authorize`, OpenID Connect Core §3.1.2,
//! RFC 6749 §4.1.1, RFC 7636, RFC 9700): which are refused on a Keyhold page, which go
//! back to the application with an error, and what an accepted one holds. Free of the
//! store: the endpoint looks the client up and hands over its registration.
//!
//! Until the client and its redirect URI are known, nothing is redirected (an unchecked
//! `redirect_uri` would make Keyhold an open redirector, RFC 9700 §4.11). `redirect_uri`
//! is always required, even for a client with a single registered URI: RFC 6749 §3.1.2.3
//! would let it default, but OpenID Connect Core §3.1.2.1 requires it and every request
//! here is an OpenID request (`openid` is required), so the code is always bound to the
//! URI the application actually named.

use super::{redirect_uri, SCOPES};
use std::collections::HashMap;

/// The longest `state`, `nonce` and `login_hint`, in bytes: what is kept until the
/// answer is bounded whatever the request holds.
pub const MAX_PARAMETER_LEN: usize = 512;

/// The parameters these rules read; any other is ignored (RFC 6749 §3.1).
const PARAMETERS: [&str; 15] = [
    "client_id",
    "redirect_uri",
    "response_type",
    "response_mode",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "prompt",
    "max_age",
    "login_hint",
    "request",
    "request_uri",
    "registration",
];

/// The request's parameters (query or form), each at most once.
#[derive(Debug, Default)]
pub struct AuthorizationParams {
    values: HashMap<&'static str, String>,
    /// The known parameters given more than once (RFC 6749 §3.1 forbids it).
    duplicated: Vec<&'static str>,
}

impl AuthorizationParams {
    /// From decoded name/value pairs, e.g. `url::form_urlencoded::parse`. A parameter
    /// without a value counts as absent (RFC 6749 §3.1).
    pub fn from_pairs<K: AsRef<str>, V: AsRef<str>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        let mut params = Self::default();
        for (name, value) in pairs {
            let (name, value) = (name.as_ref(), value.as_ref());
            let Some(&known) = PARAMETERS.iter().find(|known| **known == name) else {
                continue;
            };
            if value.is_empty() {
                continue;
            }
            if params.values.insert(known, value.to_owned()).is_some()
                && !params.duplicated.contains(&known)
            {
                params.duplicated.push(known);
            }
        }
        params
    }

    /// The `client_id` to look up; none when it is missing or given twice.
    pub fn client_id(&self) -> Option<&str> {
        self.single("client_id")
    }

    /// A parameter given once; none when absent or duplicated.
    fn single(&self, name: &str) -> Option<&str> {
        if self.is_duplicated(name) {
            return None;
        }
        self.values.get(name).map(String::as_str)
    }

    fn is_duplicated(&self, name: &str) -> bool {
        self.duplicated.contains(&name)
    }
}

/// What the rules need of a registered client (from its stored record).
#[derive(Debug, Clone, Copy)]
pub struct RegisteredClient<'a> {
    pub client_id: &'a str,
    pub redirect_uris: &'a [String],
    /// The scopes it may ask for.
    pub scopes: &'a [String],
}

/// What `prompt` asks (OpenID Connect Core §3.1.2.1); `none` with another value is
/// refused, so it cannot be stated here.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Prompt {
    /// No `prompt`: sign in and ask for consent only when needed.
    #[default]
    Unspecified,
    /// `none`: show nothing; fail with `login_required` or `consent_required` instead.
    None,
    /// `login` and/or `consent`: ask again even if not needed.
    Ask { login: bool, consent: bool },
}

/// An accepted authorization request: what the log-in and consent steps, and the code,
/// are bound to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationRequest {
    pub client_id: String,
    /// The URI as presented (it matched a registered one): the answer goes there and the
    /// token request must present the same.
    pub redirect_uri: String,
    /// Each once, in the order of `SCOPES`; `openid` always among them.
    pub scopes: Vec<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    /// The S256 challenge: 43 base64url characters.
    pub code_challenge: String,
    pub prompt: Prompt,
    /// Seconds since the person last signed in, at most.
    pub max_age: Option<u64>,
    pub login_hint: Option<String>,
}

/// Why a request was refused on Keyhold's own page, never sent to any URI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PageError {
    #[error("the request names no application (client_id)")]
    MissingClientId,
    #[error("the request names an application Keyhold does not know")]
    UnknownClient,
    #[error("the request does not say where to return (redirect_uri)")]
    MissingRedirectUri,
    #[error("the return address (redirect_uri) is not one the application registered")]
    UnregisteredRedirectUri,
    #[error("the parameter {0} is given more than once")]
    Duplicated(&'static str),
}

/// The error codes sent back to the application (RFC 6749 §4.1.2.1, OpenID Connect
/// Core §3.1.2.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    InvalidRequest,
    UnsupportedResponseType,
    InvalidScope,
    RequestNotSupported,
    RequestUriNotSupported,
    RegistrationNotSupported,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::UnsupportedResponseType => "unsupported_response_type",
            Self::InvalidScope => "invalid_scope",
            Self::RequestNotSupported => "request_not_supported",
            Self::RequestUriNotSupported => "request_uri_not_supported",
            Self::RegistrationNotSupported => "registration_not_supported",
        }
    }
}

/// An error to send back to the application's checked redirect URI. The description is
/// always Keyhold's own text: nothing of the request is reflected but `state`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorRedirect {
    pub redirect_uri: String,
    pub error: ErrorCode,
    pub description: &'static str,
    /// Echoed exactly; none when absent, duplicated or too long.
    pub state: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizationError {
    ShowOnPage(PageError),
    RedirectBack(ErrorRedirect),
}

/// Checks `params` against the client found for their `client_id` (`None`: none is
/// registered under it). Page errors first, then the first redirectable one.
pub fn authorization_request(
    params: &AuthorizationParams,
    client: Option<RegisteredClient<'_>>,
) -> Result<AuthorizationRequest, AuthorizationError> {
    let page = AuthorizationError::ShowOnPage;
    for name in ["client_id", "redirect_uri"] {
        if params.is_duplicated(name) {
            return Err(page(PageError::Duplicated(name)));
        }
    }
    let client_id = params.client_id().ok_or(page(PageError::MissingClientId))?;
    let client = client
        .filter(|client| client.client_id == client_id)
        .ok_or(page(PageError::UnknownClient))?;
    let presented = params
        .single("redirect_uri")
        .ok_or(page(PageError::MissingRedirectUri))?;
    if !redirect_uri::is_registered(client.redirect_uris, presented) {
        return Err(page(PageError::UnregisteredRedirectUri));
    }
    let state = params
        .single("state")
        .filter(|state| state.len() <= MAX_PARAMETER_LEN);
    let back = |error: ErrorCode, description: &'static str| {
        AuthorizationError::RedirectBack(ErrorRedirect {
            redirect_uri: presented.to_owned(),
            error,
            description,
            state: state.map(str::to_owned),
        })
    };
    redirectable_rules(params).map_err(|(error, description)| back(error, description))?;
    Ok(AuthorizationRequest {
        client_id: client_id.to_owned(),
        redirect_uri: presented.to_owned(),
        scopes: scopes(params.single("scope"), client)
            .map_err(|d| back(ErrorCode::InvalidScope, d))?,
        state: state.map(str::to_owned),
        nonce: params.single("nonce").map(str::to_owned),
        code_challenge: params
            .single("code_challenge")
            .unwrap_or_default()
            .to_owned(),
        prompt: prompt(params.single("prompt")).map_err(|d| back(ErrorCode::InvalidRequest, d))?,
        max_age: max_age(params.single("max_age"))
            .map_err(|d| back(ErrorCode::InvalidRequest, d))?,
        login_hint: params.single("login_hint").map(str::to_owned),
    })
}

type Refusal = (ErrorCode, &'static str);

/// The rules that only refuse; those that also produce a value are in their own
/// functions.
fn redirectable_rules(params: &AuthorizationParams) -> Result<(), Refusal> {
    use ErrorCode::*;
    if !params.duplicated.is_empty() {
        return Err((InvalidRequest, "a parameter is given more than once"));
    }
    if params.values.contains_key("request") {
        return Err((RequestNotSupported, "request objects are not supported"));
    }
    if params.values.contains_key("request_uri") {
        return Err((RequestUriNotSupported, "request_uri is not supported"));
    }
    if params.values.contains_key("registration") {
        return Err((RegistrationNotSupported, "registration is not supported"));
    }
    match params.single("response_type") {
        None => return Err((InvalidRequest, "response_type is required")),
        Some("code") => {}
        Some(_) => {
            return Err((
                UnsupportedResponseType,
                "only response_type=code is supported",
            ))
        }
    }
    if params
        .single("response_mode")
        .is_some_and(|mode| mode != "query")
    {
        return Err((InvalidRequest, "only response_mode=query is supported"));
    }
    let Some(challenge) = params.single("code_challenge") else {
        return Err((
            InvalidRequest,
            "PKCE is required: send code_challenge with code_challenge_method=S256",
        ));
    };
    if params.single("code_challenge_method") != Some("S256") {
        return Err((
            InvalidRequest,
            "code_challenge_method must be S256 (plain is not accepted)",
        ));
    }
    if !is_s256_challenge(challenge) {
        return Err((
            InvalidRequest,
            "code_challenge must be 43 base64url characters (an S256 challenge)",
        ));
    }
    for name in ["state", "nonce", "login_hint"] {
        if params
            .single(name)
            .is_some_and(|value| value.len() > MAX_PARAMETER_LEN)
        {
            return Err((
                InvalidRequest,
                "state, nonce and login_hint may be at most 512 bytes",
            ));
        }
    }
    Ok(())
}

/// BASE64URL(SHA-256(verifier)) without padding is always 43 characters of
/// `A-Z a-z 0-9 - _` (RFC 7636 §4.2): anything else could never match a verifier, so it
/// is refused now rather than at the token request.
fn is_s256_challenge(challenge: &str) -> bool {
    challenge.len() == 43
        && challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The requested scopes, each once, in the order of `SCOPES`: every one registered for
/// the client (no escalation), `openid` among them (this is an OpenID provider).
fn scopes(
    requested: Option<&str>,
    client: RegisteredClient<'_>,
) -> Result<Vec<String>, &'static str> {
    let words: Vec<&str> = requested
        .unwrap_or_default()
        .split(' ')
        .filter(|w| !w.is_empty())
        .collect();
    if words
        .iter()
        .any(|word| !client.scopes.iter().any(|allowed| allowed == word))
    {
        return Err("a requested scope is not registered for this application");
    }
    if !words.contains(&"openid") {
        return Err("the scope must include openid");
    }
    Ok(SCOPES
        .iter()
        .filter(|scope| words.contains(scope))
        .map(|scope| (*scope).to_owned())
        .collect())
}

/// `prompt`: space-separated `none`, `login`, `consent`; `none` alone (OpenID Connect
/// Core §3.1.2.1). `select_account` is refused: Keyhold has one person per session.
fn prompt(value: Option<&str>) -> Result<Prompt, &'static str> {
    let Some(value) = value else {
        return Ok(Prompt::Unspecified);
    };
    let (mut none, mut login, mut consent) = (false, false, false);
    for word in value.split(' ').filter(|w| !w.is_empty()) {
        match word {
            "none" => none = true,
            "login" => login = true,
            "consent" => consent = true,
            _ => return Err("prompt may be none, login or consent"),
        }
    }
    match (none, login || consent) {
        (true, true) => Err("prompt=none cannot be combined with another value"),
        (true, false) => Ok(Prompt::None),
        (false, true) => Ok(Prompt::Ask { login, consent }),
        (false, false) => Ok(Prompt::Unspecified),
    }
}

/// `max_age`: a whole number of seconds, digits only, at most ten of them.
fn max_age(value: Option<&str>) -> Result<Option<u64>, &'static str> {
    let Some(value) = value else {
        return Ok(None);
    };
    if value.len() > 10 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err("max_age must be a whole number of seconds");
    }
    value
        .parse()
        .map(Some)
        .map_err(|_| "max_age must be a whole number of seconds")
}

#[cfg(test)]
pub(super) mod tests;
