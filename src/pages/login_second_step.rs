//! The second step of `/login` for an account with a second factor: a code from the
//! authenticator app, a recovery code, or a passkey.

use super::form::{
    enter_profile, focus_when_shown, input_value, FormAlert, FormErrors, SubmitButton, TextField,
};
use super::signed_in::use_session;
use crate::api::{
    auth::{login_mfa, LoginMfaRequest},
    proofs::SecondFactorFields,
    ApiError, ErrorCode, TokenResponse,
};
use crate::client::passkeys::passkey_second_factor;
use leptos::{ev::SubmitEvent, html::Input, prelude::*};

/// What the password step answered: the token to finish with and the usable methods.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SecondStep {
    pub mfa_token: String,
    pub methods: Vec<String>,
}

impl SecondStep {
    pub fn from_error(error: &ApiError) -> Option<Self> {
        let mfa = error.mfa.as_deref()?;
        Some(Self {
            mfa_token: mfa.mfa_token.clone(),
            methods: mfa.methods.clone(),
        })
    }
}

#[component]
pub fn SecondStepForm(
    step: SecondStep,
    /// Why the last code was refused (the server's answer to a form posted without
    /// the WASM).
    error: Option<ApiError>,
    /// Back to the password, with the reason (if any) to show there.
    on_restart: impl Fn(Option<ApiError>) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let session = use_session();
    let code = NodeRef::<Input>::new();
    let errors = FormErrors::with_prefix(&["code", "recovery_code"], "mfa-");
    errors.set(error);
    let use_recovery = RwSignal::new(false);
    let has_recovery = step.methods.iter().any(|m| m == "recovery_code");
    let has_code = step.methods.iter().any(|m| m == "totp");
    let has_passkey = step.methods.iter().any(|m| m == "webauthn");
    let token = step.mfa_token.clone();
    let passkey = Action::new({
        let token = token.clone();
        move |_: &()| {
            let mfa_token = token.clone();
            async move {
                let assertion = passkey_second_factor(mfa_token.clone()).await?;
                login_mfa(LoginMfaRequest {
                    mfa_token,
                    second_factor: SecondFactorFields {
                        passkey: Some(assertion),
                        ..SecondFactorFields::default()
                    },
                })
                .await
            }
        }
    });
    let passkey_result = Signal::derive(move || passkey.value().get());
    let action = Action::new(move |(typed, recovery): &(String, bool)| {
        let (code, recovery_code) = if *recovery {
            (None, Some(typed.clone()))
        } else {
            (Some(typed.clone()), None)
        };
        login_mfa(LoginMfaRequest {
            mfa_token: token.clone(),
            second_factor: SecondFactorFields {
                code,
                recovery_code,
                passkey: None,
            },
        })
    });
    let answered = move |result: Option<Result<TokenResponse, ApiError>>,
                         signed_in: &dyn Fn(TokenResponse)| match result {
        Some(Ok(token)) => signed_in(token),
        Some(Err(error)) if error.error == ErrorCode::InvalidMfaToken => on_restart(Some(error)),
        Some(Err(error)) => {
            errors.set(Some(error));
            if let Some(input) = code.get_untracked() {
                input.set_value("");
                let _ = input.focus();
            }
        }
        None => {}
    };
    let (with_code, with_passkey) = (enter_profile(session), enter_profile(session));
    Effect::new(move |_| answered(action.value().get(), &with_code));
    Effect::new(move |_| answered(passkey_result.get(), &with_passkey));
    focus_when_shown(code);
    let submit = move |event: SubmitEvent| {
        event.prevent_default();
        errors.set(None);
        action.dispatch((input_value(code), use_recovery.get_untracked()));
    };
    let switch = move |_| {
        use_recovery.update(|r| *r = !*r);
        errors.set(None);
        if let Some(input) = code.get_untracked() {
            input.set_value("");
            let _ = input.focus();
        }
    };
    let field_error = Signal::derive(move || {
        errors
            .for_field("code")
            .get()
            .or_else(|| errors.for_field("recovery_code").get())
    });
    let passkey_button = move |primary: bool| {
        view! {
            <button
                type="button"
                class=if primary { "button button--primary button--block" } else { "button button--ghost button--block" }
                disabled=move || passkey.pending().get() || action.pending().get() || !session.ready()
                aria-busy=move || passkey.pending().get().to_string()
                on:click=move |_| {
                    errors.set(None);
                    passkey.dispatch(());
                }
            >
                {move || if passkey.pending().get() { "Waiting for your passkey…" } else { "Use your passkey" }}
            </button>
        }
    };
    let code_part = move || {
        view! {
            <p class="form__intro" aria-live="polite">
                {move || if use_recovery.get() {
                    "Enter one of the recovery codes you saved when you turned on two-step verification. Each code works once."
                } else if has_passkey {
                    "Enter the 6-digit code your authenticator app shows for Keyhold, or use your passkey."
                } else {
                    "Open your authenticator app and enter the 6-digit code it shows for Keyhold."
                }}
            </p>
            <FormAlert message=errors.general() />
            {move || {
                let recovery = use_recovery.get();
                view! {
                    <TextField
                        label=if recovery { "Recovery code" } else { "Code" }
                        name="code"
                        id_prefix="mfa-"
                        node_ref=code
                        autocomplete=if recovery { "off" } else { "one-time-code" }
                        inputmode=if recovery { "text" } else { "numeric" }
                        error=field_error
                    />
                }
            }}
            <SubmitButton
                label="Verify"
                pending_label="Verifying…"
                pending=action.pending().into()
                ready=Signal::derive(move || !passkey.pending().get())
            />
            {has_passkey.then(|| passkey_button(false))}
        }
    };
    let passkey_part = move || {
        view! {
            <p class="form__intro">"Use your passkey to finish signing in: your device asks for your fingerprint, face or PIN."</p>
            <FormAlert message=errors.general() />
            {passkey_button(true)}
        }
    };
    view! {
        <form class="form" method="post" on:submit=submit novalidate=true aria-labelledby="mfa-title">
            <h2 class="form__title" id="mfa-title">"Two-step verification"</h2>
            // For the server, when the browser posts the form itself (no WASM yet).
            <input type="hidden" name="mfa_token" value=step.mfa_token.clone() />
            <input type="hidden" name="methods" value=step.methods.join(",") />
            {if has_code { code_part().into_any() } else { passkey_part().into_any() }}
            <p class="form__aside">
                {has_recovery.then(|| view! {
                    <button type="button" class="link-button" on:click=switch>
                        {move || if use_recovery.get() {
                            "Use the code from your app instead"
                        } else {
                            "Use a recovery code instead"
                        }}
                    </button>
                    " · "
                })}
                <button type="button" class="link-button" on:click=move |_| on_restart(None)>
                    "Start over"
                </button>
            </p>
        </form>
    }
}
