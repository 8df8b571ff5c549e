//! The second step of `/login` for an account with a second factor: a code from the
//! authenticator app, or a recovery code.

use super::form::{
    enter_profile, focus_when_shown, input_value, FormAlert, FormErrors, SubmitButton, TextField,
};
use super::signed_in::use_session;
use crate::api::{
    auth::{login_mfa, LoginMfaRequest},
    second_factors::SecondFactorFields,
    ApiError, ErrorCode,
};
use leptos::{ev::SubmitEvent, html::Input, prelude::*};

/// What the password step answered: the token to finish with and the usable methods.
#[derive(Debug, Clone, PartialEq, Eq)]
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
    /// Back to the password, with the reason (if any) to show there.
    on_restart: impl Fn(Option<ApiError>) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let session = use_session();
    let code = NodeRef::<Input>::new();
    let errors = FormErrors::with_prefix(&["code", "recovery_code"], "mfa-");
    let use_recovery = RwSignal::new(false);
    let has_recovery = step.methods.iter().any(|m| m == "recovery_code");
    let token = step.mfa_token.clone();
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
            },
        })
    });
    let signed_in = enter_profile(session);
    Effect::new(move |_| match action.value().get() {
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
    });
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
    view! {
        <form class="form" method="post" on:submit=submit novalidate=true aria-labelledby="mfa-title">
            <h2 class="form__title" id="mfa-title">"Two-step verification"</h2>
            <p class="form__intro" aria-live="polite">
                {move || if use_recovery.get() {
                    "Enter one of the recovery codes you saved when you turned on two-step verification. Each code works once."
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
                ready=Signal::derive(move || session.ready())
            />
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
