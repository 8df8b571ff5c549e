//! The browser side of passkeys: the server's options go through
//! `PublicKeyCredential.parseCreationOptionsFromJSON` / `parseRequestOptionsFromJSON` to
//! `navigator.credentials.create` / `.get`, and the authenticator's answer goes back as
//! `credential.toJSON()`. Nothing but the browser's own WebAuthn API (no script of ours
//! outside the WASM, so the CSP stays as strict as it is).

use crate::api::passkey_log_in::{
    finish_passkey_log_in, start_passkey_log_in, start_passkey_second_factor,
    PasskeySecondFactorRequest,
};
use crate::api::passkeys::{
    finish_passkey_registration, start_passkey_confirmation, start_passkey_registration,
    PasskeyView, RegisterPasskeyRequest,
};
use crate::api::proofs::{ConfirmedRequest, PasskeyAssertion, PasskeyChallenge};
use crate::api::{ApiError, ErrorCode, TokenResponse};

/// Registers a new passkey named `name` for the signed-in user (`confirmed`: the
/// password, and the second factor once there is one).
pub async fn add_passkey(
    name: String,
    confirmed: ConfirmedRequest,
) -> Result<PasskeyView, ApiError> {
    let challenge = start_passkey_registration(confirmed).await?;
    let credential = ask_authenticator(Ceremony::Create, &challenge.options).await?;
    finish_passkey_registration(RegisterPasskeyRequest {
        ceremony: challenge.ceremony,
        name,
        credential,
    })
    .await
}

/// Signs in with a passkey the browser offers (the person picks one).
pub async fn sign_in_with_passkey() -> Result<TokenResponse, ApiError> {
    let challenge = start_passkey_log_in().await?;
    finish_passkey_log_in(assert(challenge).await?).await
}

/// A passkey's answer for the second step of the log-in behind `mfa_token`.
pub async fn passkey_second_factor(mfa_token: String) -> Result<PasskeyAssertion, ApiError> {
    assert(start_passkey_second_factor(PasskeySecondFactorRequest { mfa_token }).await?).await
}

/// A passkey's answer confirming a sensitive change from this session.
pub async fn confirm_with_passkey() -> Result<PasskeyAssertion, ApiError> {
    assert(start_passkey_confirmation().await?).await
}

/// The browser's passkey answer to `challenge`.
async fn assert(challenge: PasskeyChallenge) -> Result<PasskeyAssertion, ApiError> {
    let credential = ask_authenticator(Ceremony::Get, &challenge.options).await?;
    Ok(PasskeyAssertion {
        ceremony: challenge.ceremony,
        credential,
    })
}

/// Which WebAuthn call: make a credential, or use one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ceremony {
    Create,
    Get,
}

#[cfg(feature = "hydrate")]
impl Ceremony {
    /// The `PublicKeyCredential` function reading its options from JSON.
    fn parser(self) -> &'static str {
        match self {
            Self::Create => "parseCreationOptionsFromJSON",
            Self::Get => "parseRequestOptionsFromJSON",
        }
    }

    /// The `navigator.credentials` method.
    fn method(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Get => "get",
        }
    }
}

/// A refusal from the browser, worded for the person.
fn refused(message: &str) -> ApiError {
    ApiError::new(ErrorCode::BadRequest, message)
}

const UNSUPPORTED: &str = "This browser cannot use passkeys. Try an up-to-date browser.";

/// What the browser's error (a `DOMException`'s name) means for the person.
fn explain(name: &str, ceremony: Ceremony) -> ApiError {
    refused(match (name, ceremony) {
        ("InvalidStateError", Ceremony::Create) => {
            "This device already holds a passkey for your account."
        }
        ("SecurityError", _) => {
            "Passkeys work only at this site's own address (https, or localhost while testing)."
        }
        ("NotSupportedError", _) => UNSUPPORTED,
        _ => "No passkey was used: the request was cancelled, timed out or refused by the device.",
    })
}

/// Hands `options` (`{"publicKey": …}`) to the browser's WebAuthn API and returns the
/// authenticator's answer in its JSON form. (The browser is single-threaded: the future
/// is `Send` only in name, as the actions that run it require.)
#[cfg(feature = "hydrate")]
fn ask_authenticator(
    ceremony: Ceremony,
    options: &serde_json::Value,
) -> impl std::future::Future<Output = Result<serde_json::Value, ApiError>> + Send {
    let options = options.clone();
    send_wrapper::SendWrapper::new(async move { ask_browser(ceremony, &options).await })
}

#[cfg(feature = "hydrate")]
async fn ask_browser(
    ceremony: Ceremony,
    options: &serde_json::Value,
) -> Result<serde_json::Value, ApiError> {
    use js_sys::{Function, Object, Reflect, JSON};
    use wasm_bindgen::{JsCast, JsValue};

    let error_name = |error: JsValue| {
        Reflect::get(&error, &"name".into())
            .ok()
            .and_then(|name| name.as_string())
            .unwrap_or_default()
    };
    let public_key = options
        .get("publicKey")
        .ok_or_else(|| refused("The server sent no passkey options."))?;
    let public_key = JSON::parse(&public_key.to_string()).map_err(|_| refused(UNSUPPORTED))?;
    let class = Reflect::get(&js_sys::global(), &"PublicKeyCredential".into())
        .ok()
        .filter(|class| !class.is_undefined())
        .ok_or_else(|| refused(UNSUPPORTED))?;
    let parse: Function = Reflect::get(&class, &ceremony.parser().into())
        .ok()
        .and_then(|parse| parse.dyn_into().ok())
        .ok_or_else(|| refused(UNSUPPORTED))?;
    let parsed = parse
        .call1(&class, &public_key)
        .map_err(|e| explain(&error_name(e), ceremony))?;
    let request = Object::new();
    Reflect::set(&request, &"publicKey".into(), &parsed).map_err(|_| refused(UNSUPPORTED))?;
    // navigator.credentials.create(request) or .get(request).
    let credentials = Reflect::get(&js_sys::global(), &"navigator".into())
        .and_then(|navigator| Reflect::get(&navigator, &"credentials".into()))
        .ok()
        .filter(|credentials| !credentials.is_undefined())
        .ok_or_else(|| refused(UNSUPPORTED))?;
    let call: Function = Reflect::get(&credentials, &ceremony.method().into())
        .ok()
        .and_then(|call| call.dyn_into().ok())
        .ok_or_else(|| refused(UNSUPPORTED))?;
    let promise: js_sys::Promise = call
        .call1(&credentials, &request)
        .and_then(|promise| promise.dyn_into())
        .map_err(|e| explain(&error_name(e), ceremony))?;
    let credential = wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .map_err(|e| explain(&error_name(e), ceremony))?;
    if credential.is_null() || credential.is_undefined() {
        return Err(explain("NotAllowedError", ceremony));
    }
    let to_json: Function = Reflect::get(&credential, &"toJSON".into())
        .ok()
        .and_then(|to_json| to_json.dyn_into().ok())
        .ok_or_else(|| refused(UNSUPPORTED))?;
    let answer = to_json
        .call0(&credential)
        .and_then(|json| JSON::stringify(&json))
        .ok()
        .and_then(|text| text.as_string())
        .ok_or_else(|| refused(UNSUPPORTED))?;
    serde_json::from_str(&answer).map_err(|_| refused(UNSUPPORTED))
}

/// Only a browser holds passkeys.
#[cfg(not(feature = "hydrate"))]
async fn ask_authenticator(
    ceremony: Ceremony,
    _options: &serde_json::Value,
) -> Result<serde_json::Value, ApiError> {
    Err(explain("NotSupportedError", ceremony))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browser_errors_read_as_sentences() {
        let known = explain("InvalidStateError", Ceremony::Create);
        assert!(known.message.contains("already holds"));
        let cancelled = explain("NotAllowedError", Ceremony::Get);
        assert!(cancelled.message.contains("cancelled"));
        assert_eq!(cancelled.error.status(), 400);
    }
}
