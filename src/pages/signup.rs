//! `/signup`: username, e-mail and password; signs in and opens the profile on success.

use super::account::{check_image, chosen_file, send_image, ImageField};
use super::form::{
    enter_profile, input_value, on_result, AuthCard, FormAlert, FormErrors, SubmitButton, TextField,
};
use super::password::PasswordRules;
use super::posted_form::use_posted_form;
use super::signed_in::{use_session, SignedIn};
use crate::api::{
    auth::{login, register, LoginRequest, RegisterRequest},
    ApiError, TokenResponse,
};
use leptos::{ev::SubmitEvent, html::Input, prelude::*};
use leptos_meta::Title;

#[derive(Clone)]
struct SignUp {
    username: String,
    email: String,
    password: String,
    image: Option<web_sys::File>,
}

/// Register, log in, then upload the image if one was chosen. The account never
/// depends on the image: if the server refuses it, the user is signed in anyway and
/// the profile page says why.
async fn sign_up(input: SignUp, session: SignedIn) -> Result<TokenResponse, ApiError> {
    if let Some(image) = &input.image {
        check_image(image)?;
    }
    let user = register(RegisterRequest {
        username: input.username,
        email: input.email,
        password: input.password.clone(),
    })
    .await?;
    let token = login(LoginRequest::new(user.username, input.password)).await?;
    if let Some(image) = input.image {
        session.sign_in(&token.access_token);
        if let Err(error) = send_image(image).await {
            session.notice().set(Some(format!(
                "Your account is ready, but the image was not accepted: {}",
                error.message
            )));
        }
    }
    Ok(token)
}

#[component]
pub fn SignupPage() -> impl IntoView {
    let session = use_session();
    let (username, email, password) = (
        NodeRef::<Input>::new(),
        NodeRef::<Input>::new(),
        NodeRef::<Input>::new(),
    );
    let errors = FormErrors::new(&["username", "email", "password", "image"]);
    let image = NodeRef::<Input>::new();
    // The form works before the WASM: the server may have answered it already.
    let posted = use_posted_form();
    errors.set(posted.error.clone());
    let typed = (
        RwSignal::new(posted.kept("username")),
        RwSignal::new(posted.kept("email")),
        RwSignal::new(String::new()),
    );
    let identity = Signal::derive(move || (typed.0.get(), typed.1.get()));
    let action = Action::new_local(move |input: &SignUp| sign_up(input.clone(), session));
    on_result(action, errors, enter_profile(session));
    let submit = move |event: SubmitEvent| {
        event.prevent_default();
        errors.set(None);
        action.dispatch_local(SignUp {
            username: input_value(username),
            email: input_value(email),
            password: input_value(password),
            image: chosen_file(image),
        });
    };
    view! {
        <Title text="Sign up" />
        <AuthCard title="Create your account" subtitle="It takes less than a minute.">
            <form class="form" method="post" enctype="multipart/form-data" on:submit=submit novalidate=true>
                <FormAlert message=errors.general() />
                <TextField
                    label="Username"
                    name="username"
                    node_ref=username
                    autocomplete="username"
                    hint="3–32 characters: letters, digits, '.', '_' or '-'."
                    value=typed.0
                    error=errors.for_field("username")
                />
                <TextField
                    label="Email"
                    name="email"
                    kind="email"
                    node_ref=email
                    autocomplete="email"
                    value=typed.1
                    error=errors.for_field("email")
                />
                <TextField
                    label="Password"
                    name="password"
                    kind="password"
                    node_ref=password
                    autocomplete="new-password"
                    hint="A few unrelated words make a strong, memorable password."
                    value=typed.2
                    error=errors.for_field("password")
                />
                <PasswordRules password=typed.2 identity />
                <ImageField node_ref=image error=errors.for_field("image") />
                <SubmitButton
                    label="Sign up"
                    pending_label="Creating your account…"
                    pending=action.pending().into()
                />
            </form>
            <p class="card__footer">"Already have an account? " <a href="/login">"Log in"</a></p>
        </AuthCard>
    }
}
