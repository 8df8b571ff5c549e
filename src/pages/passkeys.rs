//! The profile's "Passkeys": add one (named; the device asks for a fingerprint, face or
//! PIN), the list with when each was added and last used, rename and remove.

use super::form::{input_value, FormAlert, FormErrors, SubmitButton, TextField};
use super::profile::AccountChanged;
use super::sessions::{ago, now};
use super::signed_in::use_session;
use crate::api::passkeys::{
    list_passkeys, remove_passkey, rename_passkey, PasskeyView, RemovePasskeyRequest,
    RenamePasskeyRequest,
};
use crate::api::{ApiError, ErrorCode};
use crate::client::passkeys::add_passkey;
use leptos::{
    ev::SubmitEvent,
    html::{Button, Input},
    prelude::*,
};

/// The id of the section's title, where focus goes when the list changes under it.
const TITLE_ID: &str = "passkeys-title";

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

#[component]
pub fn PasskeysSection() -> impl IntoView {
    let session = use_session();
    let changed = AccountChanged::get();
    let passkeys = LocalResource::new(move || {
        session.track_token();
        changed.track();
        list_passkeys()
    });
    let notice = RwSignal::new(None::<String>);
    let errors = FormErrors::with_prefix(&["name"], "passkey-");
    let name = NodeRef::<Input>::new();
    let add = Action::new(|name: &String| {
        let name = name.clone();
        async move {
            add_passkey(name)
                .await
                .map(|added| format!("Passkey \"{}\" added.", added.name))
        }
    });
    let rename = Action::new(|(id, name): &(i64, String)| {
        let request = RenamePasskeyRequest {
            id: *id,
            name: name.clone(),
        };
        async move {
            rename_passkey(request)
                .await
                .map(|renamed| format!("Passkey renamed to \"{}\".", renamed.name))
        }
    });
    let remove = Action::new(|(id, name): &(i64, String)| {
        let (request, name) = (RemovePasskeyRequest { id: *id }, name.clone());
        async move {
            remove_passkey(request)
                .await
                .map(|_| format!("Passkey \"{name}\" removed."))
        }
    });
    for (action, own_field) in [
        (add.value(), true),
        (rename.value(), false),
        (remove.value(), false),
    ] {
        Effect::new(move |_| match action.get() {
            Some(Ok(message)) => {
                errors.set(None);
                notice.set(Some(message));
                if let Some(input) = name.get_untracked() {
                    input.set_value("");
                }
                changed.notify();
            }
            Some(Err(mut error)) => {
                notice.set(None);
                // The add form's field is the only one the errors can point at: a
                // rename's complaint about its name is shown for the whole section.
                if !own_field {
                    error.field = None;
                }
                errors.set(Some(error));
                errors.focus_first();
            }
            None => {}
        });
    }
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
        add.dispatch(input_value(name));
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
    let row = move |item: PasskeyView| view! { <PasskeyRow item busy rename remove /> };

    view! {
        <section class="section" aria-labelledby=TITLE_ID data-testid="passkeys-section">
            <h2 id=TITLE_ID class="section__title" tabindex="-1">"Passkeys"</h2>
            <p class="section__text">
                "Sign in with your fingerprint, face or device PIN instead of your password. "
                "A passkey stays on your device and cannot be phished."
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

/// One passkey: its name and use, "Rename" (an inline form) and "Remove".
#[component]
fn PasskeyRow(
    item: PasskeyView,
    busy: Signal<bool>,
    rename: Action<(i64, String), Result<String, ApiError>>,
    remove: Action<(i64, String), Result<String, ApiError>>,
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
    let target = (id, name.clone());
    view! {
        <li class="sessions__item" data-testid="passkey">
            <Show
                when=move || editing.get()
                fallback={
                    let (name, meta) = (name.clone(), describe_use(&item));
                    let (rename_label, remove_label, target) = (rename_label.clone(), remove_label.clone(), target.clone());
                    move || {
                        let target = target.clone();
                        view! {
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
                                    disabled=busy
                                    on:click=move |_| { remove.dispatch(target.clone()); }
                                >"Remove"</button>
                            </div>
                        }
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
        </li>
    }
    .into_any()
}
