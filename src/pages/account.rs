//! Account self-service on the profile page: the profile image (upload, replace,
//! remove), "Edit profile", "Download my data" and "Delete account"; and the image
//! field of the sign-up form.

use super::form::{input_value, on_result, FormAlert, FormErrors, SubmitButton, TextField};
use super::second_factors::{second_factor_for, SecondFactorField, SecondFactors};
use super::signed_in::use_session;
use crate::api::{
    account::{
        delete_account, export_data, update_profile, DeleteAccountRequest, UpdateProfileRequest,
    },
    images::{remove_image, upload_image},
    ApiError, ErrorCode,
};
use leptos::{ev::SubmitEvent, html::Input, prelude::*};
use leptos_router::{hooks::use_navigate, NavigateOptions};
use web_sys::{File, FormData};

/// Largest upload the server takes (checked here first, so nobody waits for a refusal).
pub const MAX_IMAGE_BYTES: f64 = 5.0 * 1024.0 * 1024.0;
const IMAGE_TYPES: [&str; 4] = ["image/png", "image/jpeg", "image/webp", "image/gif"];
pub const IMAGE_ACCEPT: &str = "image/png,image/jpeg,image/webp,image/gif";

/// The file chosen in a file input, if any.
pub fn chosen_file(input: NodeRef<Input>) -> Option<File> {
    input.get_untracked()?.files()?.get(0)
}

/// Quick checks before uploading: size and declared type (the server sniffs the bytes).
pub fn check_image(file: &File) -> Result<(), ApiError> {
    if file.size() > MAX_IMAGE_BYTES {
        return Err(ApiError::invalid_field(
            "image",
            "The image is larger than 5 MiB; choose a smaller one.",
        ));
    }
    if !IMAGE_TYPES.contains(&file.type_().as_str()) {
        return Err(ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "This is not a supported image: use PNG, JPEG, WebP or GIF.",
        )
        .on_field("image"));
    }
    Ok(())
}

/// Uploads `file` as the signed-in user's profile image.
pub async fn send_image(file: File) -> Result<crate::api::UserView, ApiError> {
    let form = FormData::new().map_err(|_| ApiError::for_status(400))?;
    form.append_with_blob_and_filename("image", &file, &file.name())
        .map_err(|_| ApiError::for_status(400))?;
    upload_image(form.into()).await
}

/// A local preview URL of the chosen file (revoked when replaced).
fn preview_of(file: Option<&File>, previous: Option<String>) -> Option<String> {
    if let Some(url) = previous {
        let _ = web_sys::Url::revoke_object_url(&url);
    }
    file.and_then(|f| web_sys::Url::create_object_url_with_blob(f).ok())
}

/// The optional "Profile image" field with a live preview (sign-up form).
#[component]
pub fn ImageField(
    node_ref: NodeRef<Input>,
    error: Signal<Option<String>>,
    #[prop(default = "Profile image (optional)")] label: &'static str,
) -> impl IntoView {
    let preview = RwSignal::new(None::<String>);
    let on_change = move |_| {
        let file = chosen_file(node_ref);
        preview.set(preview_of(file.as_ref(), preview.get_untracked()));
    };
    view! {
        <div class="field image-field" class:field--invalid=move || error.with(Option::is_some)>
            <label for="field-image">{label}</label>
            <div class="image-field__row">
                <Show when=move || preview.with(Option::is_some)>
                    <img class="avatar avatar--medium" src=move || preview.get().unwrap_or_default() alt="Preview of the chosen image" width="64" height="64" />
                </Show>
                <input
                    id="field-image"
                    name="image"
                    type="file"
                    accept=IMAGE_ACCEPT
                    aria-describedby="image-hint image-error"
                    aria-invalid=move || if error.with(Option::is_some) { "true" } else { "false" }
                    node_ref=node_ref
                    on:change=on_change
                />
            </div>
            <p class="field-hint" id="image-hint">"PNG, JPEG, WebP or GIF, up to 5 MiB. Cropped to a square."</p>
            <p class="field-error" id="image-error" aria-live="polite">{move || error.get()}</p>
        </div>
    }
    .into_any()
}

/// Profile image: upload or replace, and remove.
#[component]
pub fn ImageSection() -> impl IntoView {
    let session = use_session();
    let file = NodeRef::<Input>::new();
    let errors = FormErrors::new(&["image"]);
    let upload = Action::new_local(|file: &File| send_image(file.clone()));
    let remove = Action::new(|_: &()| remove_image());
    let done = move |_| {
        session.reload_user();
        if let Some(input) = file.get_untracked() {
            input.set_value("");
        }
    };
    on_result(upload, errors, done);
    on_result(remove, errors, done);
    let submit = move |event: SubmitEvent| {
        event.prevent_default();
        errors.set(None);
        match chosen_file(file) {
            None => errors.set(Some(ApiError::invalid_field(
                "image",
                "Choose an image file first.",
            ))),
            Some(chosen) => match check_image(&chosen) {
                Ok(()) => {
                    upload.dispatch_local(chosen);
                }
                Err(error) => errors.set(Some(error)),
            },
        }
    };
    let has_image = move || session.user().is_some_and(|u| u.image_url.is_some());
    let notice = session.notice();
    view! {
        <section class="section" aria-labelledby="image-title">
            <h2 id="image-title" class="section__title">"Profile image"</h2>
            <p class="notice notice--warning" role="status">{move || notice.get()}</p>
            <form class="form" method="post" on:submit=submit novalidate=true>
                <ImageField node_ref=file error=errors.for_field("image") label="Choose an image" />
                <FormAlert message=errors.general() />
                <div class="button-row">
                    <SubmitButton
                        label="Upload image"
                        pending_label="Uploading…"
                        pending=upload.pending().into()
                        ready=Signal::derive(move || session.ready())
                        block=false
                    />
                    <Show when=has_image>
                        <button
                            type="button"
                            class="button button--ghost"
                            disabled=move || remove.pending().get()
                            on:click=move |_| {
                                errors.set(None);
                                remove.dispatch(());
                            }
                        >
                            "Remove image"
                        </button>
                    </Show>
                </div>
            </form>
        </section>
    }
    .into_any()
}

/// "Edit profile": username and e-mail (either change needs the current password).
#[component]
pub fn EditProfile(identity: Signal<(String, String)>) -> impl IntoView {
    let session = use_session();
    let (username, email, password, code) = (
        NodeRef::<Input>::new(),
        NodeRef::<Input>::new(),
        NodeRef::<Input>::new(),
        NodeRef::<Input>::new(),
    );
    let errors = FormErrors::with_prefix(
        &[
            "username",
            "email",
            "current_password",
            "code",
            "recovery_code",
        ],
        "edit-",
    );
    let saved = RwSignal::new(None::<String>);
    let passkeys = SecondFactors::passkeys();
    let action = Action::new(move |change: &(String, String, String, String)| {
        let (username, email, password, code) = change.clone();
        // A passkey is asked for only with the password, that is for a confirmed change.
        let passkeys = passkeys.get_untracked() && !password.is_empty();
        async move {
            update_profile(UpdateProfileRequest {
                username: Some(username),
                email: Some(email),
                second_factor: second_factor_for(code, passkeys).await?,
                current_password: Some(password).filter(|p| !p.is_empty()),
            })
            .await
        }
    });
    on_result(action, errors, move |user: crate::api::UserView| {
        saved.set(Some(match user.pending_email {
            Some(pending) => format!(
                "Your profile was saved. Follow the link we sent to {pending} to make it your e-mail address."
            ),
            None => "Your profile was saved.".to_owned(),
        }));
        session.reload_user();
        for input in [password, code] {
            if let Some(input) = input.get_untracked() {
                input.set_value("");
            }
        }
    });
    // Fill in the current values once known (and after a save).
    Effect::new(move |_| {
        let (name, mail) = identity.get();
        if let (Some(u), Some(e)) = (username.get(), email.get()) {
            u.set_value(&name);
            e.set_value(&mail);
        }
    });
    let submit = move |event: SubmitEvent| {
        event.prevent_default();
        errors.set(None);
        saved.set(None);
        action.dispatch((
            input_value(username),
            input_value(email),
            input_value(password),
            input_value(code),
        ));
    };
    view! {
        <section class="section" aria-labelledby="edit-title">
            <h2 id="edit-title" class="section__title">"Edit profile"</h2>
            <form class="form" method="post" on:submit=submit novalidate=true>
                <FormAlert message=errors.general() />
                <TextField label="New username" name="username" id_prefix="edit-" node_ref=username autocomplete="username" error=errors.for_field("username") />
                <TextField label="New email" name="email" id_prefix="edit-" kind="email" node_ref=email autocomplete="email" error=errors.for_field("email") />
                <TextField
                    label="Password (needed to change your username or email)"
                    name="current_password"
                    id_prefix="edit-"
                    kind="password"
                    node_ref=password
                    autocomplete="current-password"
                    required=false
                    error=errors.for_field("current_password")
                />
                <SecondFactorField node_ref=code errors id_prefix="edit-" />
                <p class="notice" role="status">{move || saved.get()}</p>
                <SubmitButton
                    label="Save profile"
                    pending_label="Saving…"
                    pending=action.pending().into()
                    ready=Signal::derive(move || session.ready())
                />
            </form>
        </section>
    }
    .into_any()
}

/// "Download my data": everything stored about the account, as a JSON file.
#[component]
pub fn DownloadData() -> impl IntoView {
    let session = use_session();
    let action = Action::new(|_: &()| export_data());
    let error = RwSignal::new(None::<String>);
    Effect::new(move |_| match action.value().get() {
        Some(Ok(export)) => {
            if let Err(message) = save_json(
                &export,
                &format!("keyhold-{}.json", export.profile.username),
            ) {
                error.set(Some(message));
            }
        }
        Some(Err(e)) => error.set(Some(e.message)),
        None => {}
    });
    view! {
        <section class="section" aria-labelledby="export-title">
            <h2 id="export-title" class="section__title">"Download a copy"</h2>
            <p class="section__text">"A JSON file with everything Keyhold stores about you (never your password)."</p>
            <FormAlert message=error.into() />
            <button
                type="button"
                class="button button--ghost"
                disabled=move || action.pending().get() || !session.ready()
                on:click=move |_| {
                    error.set(None);
                    action.dispatch(());
                }
            >
                "Download my data"
            </button>
        </section>
    }
    .into_any()
}

/// Offers `value` as a downloaded JSON file.
fn save_json(value: &impl serde::Serialize, file_name: &str) -> Result<(), String> {
    use wasm_bindgen::JsCast;
    let failed = |_| "Your browser refused the download.".to_owned();
    let text = serde_json::to_string_pretty(value).map_err(|e| e.to_string())?;
    let parts = js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(&text));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type("application/json");
    let blob =
        web_sys::Blob::new_with_str_sequence_and_options(&parts, &options).map_err(failed)?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(failed)?;
    let anchor = document()
        .create_element("a")
        .map_err(failed)?
        .dyn_into::<web_sys::HtmlAnchorElement>()
        .map_err(|_| "Your browser refused the download.".to_owned())?;
    anchor.set_href(&url);
    anchor.set_download(file_name);
    anchor.click();
    let _ = web_sys::Url::revoke_object_url(&url);
    Ok(())
}

/// "Delete account": the password and the username typed again.
#[component]
pub fn DeleteAccount(username: Signal<String>) -> impl IntoView {
    let session = use_session();
    let navigate = use_navigate();
    let (password, confirm, code) = (
        NodeRef::<Input>::new(),
        NodeRef::<Input>::new(),
        NodeRef::<Input>::new(),
    );
    let errors =
        FormErrors::with_prefix(&["password", "confirm", "code", "recovery_code"], "delete-");
    let passkeys = SecondFactors::passkeys();
    let action = Action::new(
        move |(password, confirm, code): &(String, String, String)| {
            let (password, confirm, code) = (password.clone(), confirm.clone(), code.clone());
            let passkeys = passkeys.get_untracked();
            async move {
                delete_account(DeleteAccountRequest {
                    second_factor: second_factor_for(code, passkeys).await?,
                    password,
                    confirm,
                })
                .await
            }
        },
    );
    on_result(action, errors, move |_| {
        session.sign_out();
        navigate(
            "/login",
            NavigateOptions {
                replace: true,
                ..Default::default()
            },
        );
    });
    let submit = move |event: SubmitEvent| {
        event.prevent_default();
        errors.set(None);
        action.dispatch((
            input_value(password),
            input_value(confirm),
            input_value(code),
        ));
    };
    view! {
        <section class="section section--danger" aria-labelledby="delete-title">
            <h2 id="delete-title" class="section__title">"Delete account"</h2>
            <p class="section__text">
                "This removes your account, your image and everything else stored about you. It cannot be undone."
            </p>
            <form class="form" method="post" on:submit=submit novalidate=true>
                <FormAlert message=errors.general() />
                <TextField label="Your password" name="password" id_prefix="delete-" kind="password" node_ref=password autocomplete="current-password" error=errors.for_field("password") />
                <TextField
                    label="Type your username to confirm"
                    name="confirm"
                    id_prefix="delete-"
                    node_ref=confirm
                    error=errors.for_field("confirm")
                />
                <p class="field-hint">{move || format!("Type \u{201c}{}\u{201d}.", username.get())}</p>
                <SecondFactorField node_ref=code errors id_prefix="delete-" />
                <button
                    type="submit"
                    class="button button--danger button--block"
                    disabled=move || action.pending().get() || !session.ready()
                >
                    {move || if action.pending().get() { "Deleting…" } else { "Delete account" }}
                </button>
            </form>
        </section>
    }
    .into_any()
}
