//! `/login`: username (or e-mail) and password, then, for an account with a second
//! factor, its code (`login_second_step.rs`); or a passkey alone.

use super::form::{
    enter_profile, input_value, AuthCard, FormAlert, FormErrors, SubmitButton, TextField,
};
use super::login_second_step::{SecondStep, SecondStepForm};
use super::posted_form::use_posted_form;
use super::signed_in::use_session;
use crate::api::{
    auth::{login, LoginRequest},
    ErrorCode,
};
use crate::client::passkeys::sign_in_with_passkey;
use leptos::{ev::SubmitEvent, html::Input, prelude::*};
use leptos_meta::Title;

/// The query parameter naming the page to open after logging in (`/login?next=/profile`).
pub const LOGIN_NEXT: &str = "next";

/// Where a completed log-in goes: `next` when it is a path on this site, else the
/// profile. Anything that could leave the site is refused: another origin
/// (`https://evil.example`), a scheme-relative URL (`//evil.example`), a backslash
/// that browsers read as a slash (`/\evil.example`), control characters or spaces.
pub fn after_log_in(next: Option<&str>) -> &str {
    next.filter(|next| is_local_path(next))
        .unwrap_or("/profile")
}

fn is_local_path(path: &str) -> bool {
    let mut bytes = path.bytes();
    bytes.next() == Some(b'/')
        && !matches!(bytes.next(), Some(b'/'))
        && path.len() <= 2048
        && !path
            .bytes()
            .any(|b| b == b'\\' || b.is_ascii_control() || b == b' ')
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let session = use_session();
    let (username, password) = (NodeRef::<Input>::new(), NodeRef::<Input>::new());
    let errors = FormErrors::new(&["username", "password"]);
    // The form works before the WASM: the server may have answered it already.
    let posted = use_posted_form();
    let typed_username = RwSignal::new(posted.kept("username"));
    let second_step = RwSignal::new(posted.second_step.clone());
    let second_step_error = posted.second_step.is_some().then(|| posted.error.clone());
    if second_step_error.is_none() {
        errors.set(posted.error);
    }
    let action = Action::new(|(username, password): &(String, String)| {
        login(LoginRequest::new(username.clone(), password.clone()))
    });
    let passkey = Action::new(|_: &()| sign_in_with_passkey());
    let pending = Signal::derive(move || action.pending().get() || passkey.pending().get());
    let signed_in = enter_profile(session);
    Effect::new(move |_| match passkey.value().get() {
        Some(Ok(token)) => signed_in(token),
        Some(Err(error)) => {
            errors.set(Some(error));
            errors.focus_first();
        }
        None => {}
    });
    let signed_in = enter_profile(session);
    Effect::new(move |_| match action.value().get() {
        Some(Ok(token)) => signed_in(token),
        Some(Err(error)) if error.error == ErrorCode::MfaRequired => {
            second_step.set(SecondStep::from_error(&error));
        }
        Some(Err(error)) => {
            errors.set(Some(error));
            errors.focus_first();
        }
        None => {}
    });
    // Back to the password (the second step expired or was given up).
    let restart = move |reason: Option<crate::api::ApiError>| {
        second_step.set(None);
        errors.set(reason);
        if let Some(input) = password.get_untracked() {
            input.set_value("");
            // After the password form is shown again (a hidden input takes no focus).
            request_animation_frame(move || {
                let _ = input.focus();
            });
        }
    };
    let submit = move |event: SubmitEvent| {
        event.prevent_default();
        errors.set(None);
        action.dispatch((input_value(username), input_value(password)));
    };
    view! {
        <Title text="Log in" />
        <AuthCard title="Log in" subtitle="Welcome back. Sign in to see your profile.">
            <form
                class="form"
                method="post"
                on:submit=submit
                novalidate=true
                hidden=move || second_step.with(Option::is_some)
            >
                <FormAlert message=errors.general() />
                <TextField
                    label="Username"
                    name="username"
                    node_ref=username
                    autocomplete="username"
                    hint="Your username or e-mail address."
                    value=typed_username
                    error=errors.for_field("username")
                />
                <TextField
                    label="Password"
                    name="password"
                    kind="password"
                    node_ref=password
                    autocomplete="current-password"
                    error=errors.for_field("password")
                />
                <p class="form__aside"><a href="/forgot-password">"Forgot password?"</a></p>
                <SubmitButton
                    label="Log in"
                    pending_label="Logging in…"
                    pending=action.pending().into()
                    ready=Signal::derive(move || !passkey.pending().get())
                />
            </form>
            <div hidden=move || second_step.with(Option::is_some)>
                <p class="divider" aria-hidden="true">"or"</p>
                <button
                    type="button"
                    class="button button--ghost button--block"
                    disabled=move || pending.get() || !session.ready()
                    aria-busy=move || if passkey.pending().get() { "true" } else { "false" }
                    on:click=move |_| {
                        errors.set(None);
                        passkey.dispatch(());
                    }
                >
                    {move || if passkey.pending().get() { "Waiting for your passkey…" } else { "Sign in with a passkey" }}
                </button>
            </div>
            {move || second_step.get().map(|step| view! {
                <SecondStepForm step=step error=second_step_error.clone().flatten() on_restart=restart />
            })}
            <p class="card__footer">"New here? " <a href="/signup">"Create an account"</a></p>
        </AuthCard>
    }
}

#[cfg(test)]
mod tests {
    use super::after_log_in;

    #[test]
    fn next_is_followed_only_to_a_local_path() {
        assert_eq!(after_log_in(Some("/profile/security")), "/profile/security");
        assert_eq!(after_log_in(Some("/profile?a=b")), "/profile?a=b");
        assert_eq!(after_log_in(Some("/")), "/");
        for foreign in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "/\\/evil.example",
            "evil.example",
            "javascript:alert(1)",
            "/\tevil",
            "/ //evil.example",
            "",
        ] {
            assert_eq!(after_log_in(Some(foreign)), "/profile", "{foreign:?}");
        }
        assert_eq!(after_log_in(None), "/profile");
    }
}
