//! `/forgot-password` (ask for a reset link) and `/reset-password?token=…` (choose the
//! new password, with the same live rules as sign-up). A reset signs nobody in: the
//! page then leads to the log-in.

use super::form::{
    input_value, on_result, AuthCard, FormAlert, FormErrors, SubmitButton, TextField,
};
use super::password::PasswordRules;
use super::posted_form::use_posted_form;
use crate::api::recovery::{
    forgot_password, reset_password, ForgotPasswordRequest, ResetPasswordRequest,
};
use leptos::{ev::SubmitEvent, html::Input, prelude::*};
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

#[component]
pub fn ForgotPasswordPage() -> impl IntoView {
    let email = NodeRef::<Input>::new();
    let errors = FormErrors::new(&["email"]);
    // The form works before the WASM: the server may have answered it already.
    let posted = use_posted_form();
    errors.set(posted.error.clone());
    let typed = RwSignal::new(posted.kept("email"));
    let sent = RwSignal::new(posted.done);
    let action = Action::new(|email: &String| {
        forgot_password(ForgotPasswordRequest {
            email: email.clone(),
        })
    });
    on_result(action, errors, move |answer| sent.set(Some(answer.message)));
    let submit = move |event: SubmitEvent| {
        event.prevent_default();
        errors.set(None);
        action.dispatch(input_value(email));
    };
    view! {
        <Title text="Forgot password" />
        <AuthCard title="Forgot your password?" subtitle="We will e-mail you a link to choose a new one.">
            <Show
                when=move || sent.get().is_none()
                fallback=move || view! {
                    <p class="notice" role="status" data-testid="forgot-sent">{sent.get()}</p>
                    <p class="card__footer">"Check your inbox (and the spam folder). " <a href="/login">"Back to log in"</a></p>
                }
            >
                <form class="form" method="post" on:submit=submit novalidate=true>
                    <FormAlert message=errors.general() />
                    <TextField
                        label="Email"
                        name="email"
                        kind="email"
                        node_ref=email
                        autocomplete="email"
                        hint="The address of your account."
                        value=typed
                        error=errors.for_field("email")
                    />
                    <SubmitButton
                        label="Send me a link"
                        pending_label="Sending…"
                        pending=action.pending().into()
                    />
                </form>
                <p class="card__footer">"Remembered it? " <a href="/login">"Log in"</a></p>
            </Show>
        </AuthCard>
    }
}

#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    let query = use_query_map();
    let token = move || query.with(|q| q.get("token")).unwrap_or_default();
    let password = NodeRef::<Input>::new();
    let typed = RwSignal::new(String::new());
    let errors = FormErrors::new(&["password"]);
    // The form works before the WASM: the server may have answered it already.
    let posted = use_posted_form();
    errors.set(posted.error.clone());
    let done = RwSignal::new(posted.done.is_some());
    let action = Action::new(|(token, password): &(String, String)| {
        reset_password(ResetPasswordRequest {
            token: token.clone(),
            password: password.clone(),
        })
    });
    on_result(action, errors, move |_| done.set(true));
    let submit = move |event: SubmitEvent| {
        event.prevent_default();
        errors.set(None);
        action.dispatch((token(), input_value(password)));
    };
    let nobody = Signal::derive(|| (String::new(), String::new()));
    view! {
        <Title text="Choose a new password" />
        <AuthCard title="Choose a new password" subtitle="Every device signed in to your account will be signed out.">
            <Show
                when=move || !done.get()
                fallback=|| view! {
                    <p class="notice" role="status" data-testid="reset-done">
                        "Your password was changed and every device was signed out."
                    </p>
                    <p class="card__footer"><a href="/login">"Log in with your new password"</a></p>
                }
            >
                <Show
                    when=move || !token().is_empty()
                    fallback=|| view! {
                        <div class="form-alert" role="alert">
                            <p class="form-alert__text">"This page needs the link from the e-mail we sent you."</p>
                        </div>
                    }
                >
                    <form class="form" method="post" on:submit=submit novalidate=true>
                        <FormAlert message=errors.general() />
                        <TextField
                            label="New password"
                            name="password"
                            kind="password"
                            node_ref=password
                            autocomplete="new-password"
                            value=typed
                            error=errors.for_field("password")
                        />
                        <PasswordRules password=typed identity=nobody />
                        <SubmitButton
                            label="Set new password"
                            pending_label="Setting password…"
                            pending=action.pending().into()
                        />
                    </form>
                </Show>
                <p class="card__footer">"Link expired or used? " <a href="/forgot-password">"Ask for a new one"</a></p>
            </Show>
        </AuthCard>
    }
}
