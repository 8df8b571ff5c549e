//! The profile's "Passkeys": add one (named; the device asks for a fingerprint, face or
//! PIN), the list with when each was added and last used, rename and remove. Adding and
//! removing change the second factors, so both need the password (and the second
//! factor once there is one).

use super::form::{focus_when_shown, input_value, FormAlert, FormErrors, SubmitButton, TextField};
use super::profile::AccountChanged;
use super::second_factors::{second_factor_for, SecondFactorField, SecondFactors};
use super::sessions::{ago, now, OfferToEndOtherSessions};
use super::signed_in::use_session;
use crate::api::passkeys::{
    list_passkeys, remove_passkey, rename_passkey, PasskeyView, RemovePasskeyRequest,
    RenamePasskeyRequest,
};
use crate::api::proofs::ConfirmedRequest;
use crate::api::{ApiError, ErrorCode};
use crate::client::passkeys::add_passkey;
use leptos::{
    ev::SubmitEvent,
    html::{Button, Input},
    prelude::*,
};

/// The id of the section's title, where focus goes when the list changes under it.
const TITLE_ID: &str = "passkeys-title";

/// What an action of the section answers: the sentence to announce.
type Outcome = Result<String, ApiError>;

/// A passkey to remove, with what confirms it: id, name, password, typed code.
type Removal = (i64, String, String, String);

/// "Added 3 days ago · last used just now".
fn describe_use(item: &PasskeyView) -> String {
    let used = match item.last_used_at {
        Some(at) => format!("last used {}", ago(now() - at)),
        None => "not used yet".to_owned(),
    };
    format!("Added {} · {used}", ago(now() - item.created_at))
}

/// Moves keyboard focus to the element `id` (which has `tabindex`).
fn focus_element(id: &str) {
    #[cfg(feature = "hydrate")]
    if let Some(element) = document().get_element_by_id(id) {
        use wasm_bindgen::JsCast;
        if let Ok(element) = element.dyn_into::<web_sys::HtmlElement>() {
            let _ = element.focus();
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = id;
}

/// Clears the inputs (after a success).
fn clear(inputs: &[NodeRef<Input>]) {
    for input in inputs {
        if let Some(input) = input.get_untracked() {
            input.set_value("");
        }
    }
}

#[component]
pub fn PasskeysSection() -> impl IntoView {
    let session = use_session();
    let changed = AccountChanged::get();
    let passkeys = LocalResource::new(move || {
        session.track_token();
        changed.track();
        list_passkeys()
    });
    let has_passkeys = SecondFactors::passkeys();
    let notice = RwSignal::new(None::<String>);
    let fields = &["name", "current_password", "code", "recovery_code"];
    let errors = FormErrors::with_prefix(fields, "passkey-");
    let remove_fields = &["current_password", "code", "recovery_code"];
    let remove_errors = FormErrors::with_prefix(remove_fields, "passkey-remove-");
    let (name, password, code) = (
        NodeRef::<Input>::new(),
        NodeRef::<Input>::new(),
        NodeRef::<Input>::new(),
    );
    let removing = RwSignal::new(None::<i64>);
    let add = Action::new(move |(name, password, code): &(String, String, String)| {
        let (name, password, code) = (name.clone(), password.clone(), code.clone());
        let confirm_with_passkey = has_passkeys.get_untracked();
        async move {
            let second_factor = second_factor_for(code, confirm_with_passkey).await?;
            let confirmed = ConfirmedRequest {
                current_password: password,
                second_factor,
            };
            let added = add_passkey(name, confirmed).await?;
            Ok::<_, ApiError>(format!("Passkey \"{}\" added.", added.name))
        }
    });
    let rename = Action::new(|(id, name): &(i64, String)| {
        let request = RenamePasskeyRequest {
            id: *id,
            name: name.clone(),
        };
        async move {
            let renamed = rename_passkey(request).await?;
            Ok::<_, ApiError>(format!("Passkey renamed to \"{}\".", renamed.name))
        }
    });
    let remove = Action::new(move |(id, name, password, code): &Removal| {
        let (id, name, password, code) = (*id, name.clone(), password.clone(), code.clone());
        let confirm_with_passkey = has_passkeys.get_untracked();
        async move {
            let second_factor = second_factor_for(code, confirm_with_passkey).await?;
            let request = RemovePasskeyRequest {
                id,
                current_password: password,
                second_factor,
            };
            remove_passkey(request).await?;
            Ok::<_, ApiError>(format!("Passkey \"{name}\" removed."))
        }
    });
    // A passkey just added: offer to sign out the other devices (ASVS 5.0 7.4.3).
    let just_added = RwSignal::new(false);
    let done = move |message: String| {
        just_added.set(false);
        errors.set(None);
        remove_errors.set(None);
        notice.set(Some(message));
        changed.notify();
    };
    Effect::new(move |_| match add.value().get() {
        Some(Ok(message)) => {
            clear(&[name, password, code]);
            done(message);
            just_added.set(true);
        }
        Some(Err(error)) => {
            notice.set(None);
            errors.set(Some(error));
            errors.focus_first();
        }
        None => {}
    });
    Effect::new(move |_| match rename.value().get() {
        Some(Ok(message)) => done(message),
        Some(Err(mut error)) => {
            // The add form's fields are the only ones shown: a rename's complaint about
            // its name is for the whole section.
            error.field = None;
            notice.set(None);
            errors.set(Some(error));
        }
        None => {}
    });
    Effect::new(move |_| match remove.value().get() {
        Some(Ok(message)) => {
            removing.set(None);
            done(message);
        }
        Some(Err(error)) => {
            notice.set(None);
            remove_errors.set(Some(error));
            remove_errors.focus_first();
        }
        None => {}
    });
    // After a rename or removal the list is drawn anew: keyboard focus resumes at the
    // section's title rather than falling to the top of the page.
    for action in [rename.value(), remove.value()] {
        Effect::new(move |_| {
            if matches!(action.get(), Some(Ok(_))) {
                focus_element(TITLE_ID);
            }
        });
    }
    let busy = Signal::derive(move || {
        add.pending().get() || rename.pending().get() || remove.pending().get()
    });
    let submit = move |event: SubmitEvent| {
        event.prevent_default();
        errors.set(None);
        notice.set(None);
        add.dispatch((input_value(name), input_value(password), input_value(code)));
    };
    let unavailable = move || {
        matches!(
            passkeys.get(),
            Some(Err(ApiError {
                error: ErrorCode::NotFound,
                ..
            }))
        )
    };
    let row = move |item: PasskeyView| {
        view! { <PasskeyRow item busy rename remove removing errors=remove_errors /> }
    };

    view! {
        <section class="section" aria-labelledby=TITLE_ID data-testid="passkeys-section">
            <h2 id=TITLE_ID class="section__title" tabindex="-1">"Passkeys"</h2>
            <p class="section__text">
                "Sign in with your fingerprint, face or device PIN instead of your password. "
                "A passkey stays on your device and cannot be phished. Once you have one, "
                "signing in with your password also asks for it (or for your other second factor)."
            </p>
            <FormAlert message=errors.general() />
            {move || match passkeys.get() {
                None => view! { <p class="loading" role="status">"Loading passkeys…"</p> }.into_any(),
                Some(Err(e)) => view! { <p class="notice notice--warning" role="status">{e.message}</p> }.into_any(),
                Some(Ok(list)) if list.is_empty() => view! {
                    <p class="section__text" data-testid="no-passkeys">"You have no passkeys yet."</p>
                }.into_any(),
                Some(Ok(list)) => view! {
                    <ul class="sessions" data-testid="passkeys">{list.into_iter().map(row).collect_view()}</ul>
                }.into_any(),
            }}
            <p class="notice" role="status">{move || notice.get()}</p>
            <Show when=move || just_added.get()>
                <OfferToEndOtherSessions />
            </Show>
            <Show when=move || !unavailable()>
                <form class="form" method="post" on:submit=submit novalidate=true>
                    <TextField
                        label="Passkey name"
                        name="name"
                        id_prefix="passkey-"
                        node_ref=name
                        hint="Which device holds it, such as \"Laptop\" or \"Phone\"."
                        error=errors.for_field("name")
                    />
                    <TextField
                        label="Your password"
                        name="current_password"
                        kind="password"
                        id_prefix="passkey-"
                        node_ref=password
                        autocomplete="current-password"
                        error=errors.for_field("current_password")
                    />
                    <SecondFactorField node_ref=code errors id_prefix="passkey-" />
                    <SubmitButton
                        label="Add a passkey"
                        pending_label="Waiting for your device…"
                        pending=add.pending().into()
                        ready=Signal::derive(move || session.ready() && !busy.get())
                        block=false
                    />
                </form>
            </Show>
        </section>
    }
    .into_any()
}

/// One passkey: its name and use, "Rename" (an inline form) and "Remove" (which asks for
/// the password in place).
#[component]
fn PasskeyRow(
    item: PasskeyView,
    busy: Signal<bool>,
    rename: Action<(i64, String), Outcome>,
    remove: Action<Removal, Outcome>,
    removing: RwSignal<Option<i64>>,
    errors: FormErrors,
) -> impl IntoView {
    let editing = RwSignal::new(false);
    let input = NodeRef::<Input>::new();
    let rename_button = NodeRef::<Button>::new();
    let (id, name) = (item.id, item.name.clone());
    let field_id = format!("passkey-rename-{id}");
    // The field takes focus when it opens; closing it gives focus back to "Rename".
    Effect::new(move |was_editing: Option<bool>| {
        let now_editing = editing.get();
        if now_editing {
            if let Some(input) = input.get() {
                let _ = input.focus();
            }
        } else if was_editing == Some(true) {
            if let Some(button) = rename_button.get() {
                let _ = button.focus();
            }
        }
        now_editing
    });
    let save = {
        let name = name.clone();
        move |event: SubmitEvent| {
            event.prevent_default();
            let typed = input_value(input);
            if typed.trim() == name {
                editing.set(false);
                return;
            }
            rename.dispatch((id, typed));
        }
    };
    let on_key = move |event: leptos::ev::KeyboardEvent| {
        if event.key() == "Escape" {
            editing.set(false);
        }
    };
    let (rename_label, remove_label) = (
        format!("Rename passkey {name}"),
        format!("Remove passkey {name}"),
    );
    let meta = describe_use(&item);
    view! {
        <li class="sessions__item sessions__item--wrap" data-testid="passkey">
            <Show
                when=move || editing.get()
                fallback={
                    let (name, meta) = (name.clone(), meta.clone());
                    let (rename_label, remove_label) = (rename_label.clone(), remove_label.clone());
                    move || view! {
                        <div class="sessions__text">
                            <p class="sessions__device" data-testid="passkey-name">{name.clone()}</p>
                            <p class="sessions__meta">{meta.clone()}</p>
                        </div>
                        <div class="button-row">
                            <button
                                type="button"
                                class="button button--ghost button--small"
                                aria-label=rename_label.clone()
                                node_ref=rename_button
                                disabled=busy
                                on:click=move |_| editing.set(true)
                            >"Rename"</button>
                            <button
                                type="button"
                                class="button button--ghost button--small"
                                aria-label=remove_label.clone()
                                aria-expanded=move || (removing.get() == Some(id)).to_string()
                                disabled=busy
                                on:click=move |_| {
                                    errors.set(None);
                                    removing.set(Some(id));
                                }
                            >"Remove"</button>
                        </div>
                    }
                }
            >
                <form class="passkey-rename" on:submit=save.clone() on:keydown=on_key novalidate=true>
                    <div class="field">
                        <label for=field_id.clone()>{format!("New name for {}", item.name)}</label>
                        <input id=field_id.clone() name="name" type="text" value=item.name.clone() autocomplete="off" maxlength="64" node_ref=input />
                    </div>
                    <div class="button-row">
                        <button type="submit" class="button button--primary button--small" disabled=busy>"Save"</button>
                        <button type="button" class="button button--ghost button--small" on:click=move |_| editing.set(false)>"Cancel"</button>
                    </div>
                </form>
            </Show>
            <Show when=move || removing.get() == Some(id)>
                <ConfirmRemoval id name=name.clone() busy remove removing errors />
            </Show>
        </li>
    }
    .into_any()
}

/// "Remove passkey X": the password (and the second factor) in place, then remove.
#[component]
fn ConfirmRemoval(
    id: i64,
    name: String,
    busy: Signal<bool>,
    remove: Action<Removal, Outcome>,
    removing: RwSignal<Option<i64>>,
    errors: FormErrors,
) -> impl IntoView {
    let (password, code) = (NodeRef::<Input>::new(), NodeRef::<Input>::new());
    focus_when_shown(password);
    let submit = {
        let name = name.clone();
        move |event: SubmitEvent| {
            event.prevent_default();
            errors.set(None);
            remove.dispatch((id, name.clone(), input_value(password), input_value(code)));
        }
    };
    let on_key = move |event: leptos::ev::KeyboardEvent| {
        if event.key() == "Escape" {
            removing.set(None);
        }
    };
    view! {
        <form class="passkey-rename" on:submit=submit on:keydown=on_key novalidate=true
            aria-label=format!("Remove passkey {name}")>
            <FormAlert message=errors.general() />
            <TextField
                label="Your password, to remove it"
                name="current_password"
                kind="password"
                id_prefix="passkey-remove-"
                node_ref=password
                autocomplete="current-password"
                error=errors.for_field("current_password")
            />
            <SecondFactorField node_ref=code errors id_prefix="passkey-remove-" />
            <div class="button-row">
                <button type="submit" class="button button--danger button--small" disabled=busy>"Remove"</button>
                <button type="button" class="button button--ghost button--small" on:click=move |_| removing.set(None)>"Cancel"</button>
            </div>
        </form>
    }
}
