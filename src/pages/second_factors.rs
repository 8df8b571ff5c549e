//! The profile's "Two-step verification": turning the authenticator app on (QR code,
//! first code, recovery codes shown once) and off, new recovery codes; and the code
//! field the sensitive forms show once the account has a second factor.

use super::form::{
    focus_when_shown, input_value, on_result, FormAlert, FormErrors, SubmitButton, TextField,
};
use super::profile::AccountChanged;
use super::sessions::OfferToEndOtherSessions;
use super::signed_in::use_session;
use crate::api::proofs::{ConfirmedRequest, SecondFactorFields, SecondFactorsView};
use crate::api::second_factors::{
    authenticator_activate, authenticator_remove, authenticator_setup, recovery_codes_regenerate,
    second_factors, ActivateRequest, AuthenticatorSetupView,
};
use crate::api::ApiError;
use crate::client::passkeys::confirm_with_passkey;
use leptos::{ev::SubmitEvent, html::Input, prelude::*};

/// The account's second factors, loaded once for the profile's forms.
#[derive(Clone, Copy)]
pub struct SecondFactors(LocalResource<Result<SecondFactorsView, ApiError>>);

impl SecondFactors {
    /// Loads them (again when the token changes or a section reports a change).
    pub fn provide() {
        let session = use_session();
        let changed = AccountChanged::get();
        provide_context(Self(LocalResource::new(move || {
            session.track_token();
            changed.track();
            second_factors()
        })));
    }

    fn view(self) -> Option<SecondFactorsView> {
        self.0.get().and_then(Result::ok)
    }

    /// Whether sensitive changes need a code (false until known).
    pub fn enabled() -> Signal<bool> {
        Self::has(SecondFactorsView::any)
    }

    /// Whether the account has an authenticator app (its codes can be typed).
    pub fn app() -> Signal<bool> {
        Self::has(|view| view.authenticator_app)
    }

    /// Whether the account has passkeys (one can confirm a change).
    pub fn passkeys() -> Signal<bool> {
        Self::has(|view| view.passkeys > 0)
    }

    fn has(test: fn(&SecondFactorsView) -> bool) -> Signal<bool> {
        let this = use_context::<Self>();
        Signal::derive(move || this.and_then(Self::view).is_some_and(|view| test(&view)))
    }
}

/// What a person typed in a code field: 6 digits are the app's code, anything else a
/// recovery code.
fn typed_second_factor(typed: &str) -> SecondFactorFields {
    let typed = typed.trim();
    let digits = typed.len() == 6 && typed.bytes().all(|b| b.is_ascii_digit());
    match typed {
        "" => SecondFactorFields::default(),
        code if digits => SecondFactorFields {
            code: Some(code.to_owned()),
            ..SecondFactorFields::default()
        },
        recovery => SecondFactorFields {
            code: None,
            recovery_code: Some(recovery.to_owned()),
            passkey: None,
        },
    }
}

/// The second factor of a sensitive change: what was typed in the code field, or, when
/// nothing was typed on an account with `passkeys`, a passkey (the browser asks for it).
pub async fn second_factor_for(
    typed: String,
    passkeys: bool,
) -> Result<SecondFactorFields, ApiError> {
    let fields = typed_second_factor(&typed);
    if fields.code.is_some() || fields.recovery_code.is_some() || !passkeys {
        return Ok(fields);
    }
    Ok(SecondFactorFields {
        passkey: Some(confirm_with_passkey().await?),
        ..fields
    })
}

/// The code field of a sensitive form, shown when the account has a second factor.
/// The form's `FormErrors` must list `code` and `recovery_code`.
#[component]
pub fn SecondFactorField(
    node_ref: NodeRef<Input>,
    errors: FormErrors,
    #[prop(default = "field-")] id_prefix: &'static str,
) -> impl IntoView {
    let (app, passkeys) = (SecondFactors::app(), SecondFactors::passkeys());
    let error = Signal::derive(move || {
        errors
            .for_field("code")
            .get()
            .or_else(|| errors.for_field("recovery_code").get())
    });
    move || {
        match (app.get(), passkeys.get()) {
        (true, with_passkeys) => view! {
            <TextField
                label="Two-step code"
                name="code"
                id_prefix=id_prefix
                node_ref=node_ref
                autocomplete="one-time-code"
                hint=if with_passkeys {
                    "The 6-digit code from your authenticator app or one of your recovery codes; or leave it empty to confirm with a passkey."
                } else {
                    "The 6-digit code from your authenticator app, or one of your recovery codes."
                }
                error=error
            />
        }
        .into_any(),
        (false, true) => view! {
            <p class="field-hint">"Your browser will ask for one of your passkeys to confirm."</p>
        }
        .into_any(),
        (false, false) => ().into_any(),
    }
    }
}

/// "Two-step verification" on the profile page.
#[component]
pub fn TwoStepSection() -> impl IntoView {
    let factors = use_context::<SecondFactors>();
    // Loading (None), off (Some(None)) or on with its status. A memo: loading them again
    // with the same answer (after a token renewal, or another section's change) must not
    // rebuild the forms and lose what was typed.
    let state = Memo::new(move |_| {
        factors
            .and_then(SecondFactors::view)
            .map(|view| view.authenticator_app.then_some(view))
    });
    // The recovery codes just made, shown until the person says they saved them.
    let shown_codes = RwSignal::new(None::<Vec<String>>);
    view! {
        <section class="section" aria-labelledby="two-step-title">
            <h2 id="two-step-title" class="section__title">"Two-step verification"</h2>
            {move || match (shown_codes.get(), state.get()) {
                (Some(codes), _) => view! { <RecoveryCodes codes shown_codes /> }.into_any(),
                (None, Some(Some(status))) => {
                    view! { <ManageAuthenticator status shown_codes /> }.into_any()
                }
                (None, Some(None)) => view! { <SetUpAuthenticator shown_codes /> }.into_any(),
                (None, None) => view! { <p class="loading" role="status">"Loading…"</p> }.into_any(),
            }}
        </section>
    }
}

/// Off: the password, then the QR code and the first code.
#[component]
fn SetUpAuthenticator(shown_codes: RwSignal<Option<Vec<String>>>) -> impl IntoView {
    let session = use_session();
    let password = NodeRef::<Input>::new();
    let errors = FormErrors::with_prefix(&["current_password", "code", "recovery_code"], "totp-");
    let passkeys = SecondFactors::passkeys();
    let setup = Action::new(move |password: &String| {
        let (password, passkeys) = (password.clone(), passkeys.get_untracked());
        async move {
            authenticator_setup(ConfirmedRequest {
                current_password: password,
                second_factor: second_factor_for(String::new(), passkeys).await?,
            })
            .await
        }
    });
    let pending = RwSignal::new(None::<AuthenticatorSetupView>);
    on_result(setup, errors, move |view| pending.set(Some(view)));
    let submit = move |event: SubmitEvent| {
        event.prevent_default();
        errors.set(None);
        setup.dispatch(input_value(password));
    };
    move || {
        match pending.get() {
        Some(view) => view! { <ActivateAuthenticator setup=view shown_codes /> }.into_any(),
        None => view! {
            <p class="section__text">
                "Off. Turn it on so that signing in also needs a code from an authenticator app on your phone: a stolen password alone is then not enough."
            </p>
            <form class="form" method="post" on:submit=submit novalidate=true>
                <FormAlert message=errors.general() />
                <TextField
                    label="Current password"
                    name="current_password"
                    kind="password"
                    id_prefix="totp-"
                    node_ref=password
                    autocomplete="current-password"
                    error=errors.for_field("current_password")
                />
                <SubmitButton
                    label="Set up an authenticator app"
                    pending_label="Preparing…"
                    pending=setup.pending().into()
                    ready=Signal::derive(move || session.ready())
                />
            </form>
        }
        .into_any(),
    }
    }
}

/// The QR code (and the secret as text), then the first code turns it on.
#[component]
fn ActivateAuthenticator(
    setup: AuthenticatorSetupView,
    shown_codes: RwSignal<Option<Vec<String>>>,
) -> impl IntoView {
    let session = use_session();
    let code = NodeRef::<Input>::new();
    let errors = FormErrors::with_prefix(&["code"], "totp-");
    let activate =
        Action::new(|code: &String| authenticator_activate(ActivateRequest { code: code.clone() }));
    on_result(activate, errors, move |answer| {
        shown_codes.set(Some(answer.recovery_codes))
    });
    focus_when_shown(code);
    let submit = move |event: SubmitEvent| {
        event.prevent_default();
        errors.set(None);
        activate.dispatch(input_value(code));
    };
    view! {
        <p class="section__text">
            "Scan this QR code with your authenticator app (such as Aegis, Google Authenticator or 1Password), or type the key below into it. Then enter the 6-digit code it shows."
        </p>
        <div class="qr-code" inner_html=setup.qr_svg></div>
        <p class="secret-text" data-testid="totp-secret" aria-label="Key for manual entry">{setup.secret}</p>
        <form class="form" method="post" on:submit=submit novalidate=true>
            <FormAlert message=errors.general() />
            <TextField
                label="Code from the app"
                name="code"
                id_prefix="totp-"
                node_ref=code
                autocomplete="one-time-code"
                inputmode="numeric"
                error=errors.for_field("code")
            />
            <SubmitButton
                label="Turn on"
                pending_label="Checking…"
                pending=activate.pending().into()
                ready=Signal::derive(move || session.ready())
            />
        </form>
    }
}

/// The recovery codes, shown once.
#[component]
fn RecoveryCodes(codes: Vec<String>, shown_codes: RwSignal<Option<Vec<String>>>) -> impl IntoView {
    let changed = AccountChanged::get();
    let done = move |_| {
        shown_codes.set(None);
        changed.notify();
    };
    view! {
        <p class="notice" role="status">"Two-step verification is on."</p>
        <p class="section__text">
            "Save these recovery codes somewhere safe, such as a password manager. If you lose your phone, each one lets you sign in once. They are shown only now."
        </p>
        <ul class="recovery-codes" aria-label="Recovery codes" data-testid="recovery-codes">
            {codes.into_iter().map(|code| view! { <li>{code}</li> }).collect_view()}
        </ul>
        <OfferToEndOtherSessions />
        <button type="button" class="button button--primary" on:click=done>"I saved them"</button>
    }
}

/// On: new recovery codes, or turning it off; both need the password and a code.
#[component]
fn ManageAuthenticator(
    status: SecondFactorsView,
    shown_codes: RwSignal<Option<Vec<String>>>,
) -> impl IntoView {
    let session = use_session();
    let changed = AccountChanged::get();
    let (password, code) = (NodeRef::<Input>::new(), NodeRef::<Input>::new());
    let errors = FormErrors::with_prefix(&["current_password", "code", "recovery_code"], "totp-");
    let request = move || (input_value(password), input_value(code));
    let passkeys = SecondFactors::passkeys();
    let confirmed = move |(password, typed): (String, String)| {
        let passkeys = passkeys.get_untracked();
        async move {
            Ok::<_, ApiError>(ConfirmedRequest {
                current_password: password,
                second_factor: second_factor_for(typed, passkeys).await?,
            })
        }
    };
    let regenerate = Action::new(move |typed: &(String, String)| {
        let request = confirmed(typed.clone());
        async move { recovery_codes_regenerate(request.await?).await }
    });
    let remove = Action::new(move |typed: &(String, String)| {
        let request = confirmed(typed.clone());
        async move { authenticator_remove(request.await?).await }
    });
    on_result(regenerate, errors, move |answer| {
        shown_codes.set(Some(answer.recovery_codes))
    });
    on_result(remove, errors, move |_| changed.notify());
    let busy = Signal::derive(move || regenerate.pending().get() || remove.pending().get());
    let left = status.recovery_codes_left;
    view! {
        <p class="section__text">
            <span class="badge">"On"</span>
            " Signing in needs a code from your authenticator app. "
            {format!("{left} recovery code{} left.", if left == 1 { "" } else { "s" })}
        </p>
        <form class="form" method="post" on:submit=|e: SubmitEvent| e.prevent_default() novalidate=true>
            <FormAlert message=errors.general() />
            <TextField
                label="Current password"
                name="current_password"
                kind="password"
                id_prefix="totp-"
                node_ref=password
                autocomplete="current-password"
                error=errors.for_field("current_password")
            />
            <TextField
                label="Two-step code"
                name="code"
                id_prefix="totp-"
                node_ref=code
                autocomplete="one-time-code"
                hint="The 6-digit code from your authenticator app, or one of your recovery codes."
                error=Signal::derive(move || {
                    errors.for_field("code").get().or_else(|| errors.for_field("recovery_code").get())
                })
            />
            <div class="button-row">
                <button
                    type="button"
                    class="button button--ghost"
                    disabled=move || busy.get() || !session.ready()
                    on:click=move |_| { errors.set(None); regenerate.dispatch(request()); }
                >"Make new recovery codes"</button>
                <button
                    type="button"
                    class="button button--danger"
                    disabled=move || busy.get() || !session.ready()
                    on:click=move |_| { errors.set(None); remove.dispatch(request()); }
                >"Turn off"</button>
            </div>
        </form>
    }
}
