//! Form pieces shared by the pages: labelled fields with their error, the submit button
//! with its pending state, the form-level alert, and the card around a form.

use crate::api::ApiError;
use leptos::{html::Input, prelude::*};

/// The error of the last submission, split between fields and the whole form.
#[derive(Clone, Copy)]
pub struct FormErrors {
    error: RwSignal<Option<ApiError>>,
    fields: &'static [&'static str],
    /// The forms' inputs have the ids `<prefix><field>`.
    id_prefix: &'static str,
}

impl FormErrors {
    pub fn new(fields: &'static [&'static str]) -> Self {
        Self::with_prefix(fields, "field-")
    }

    /// For a second form on a page whose fields share names with the first.
    pub fn with_prefix(fields: &'static [&'static str], id_prefix: &'static str) -> Self {
        Self {
            error: RwSignal::new(None),
            fields,
            id_prefix,
        }
    }

    pub fn set(&self, error: Option<ApiError>) {
        self.error.set(error);
    }

    /// The message to show under `field`.
    pub fn for_field(&self, field: &'static str) -> Signal<Option<String>> {
        let error = self.error;
        Signal::derive(move || {
            error.with(|e| {
                e.as_ref()
                    .filter(|e| e.field.as_deref() == Some(field))
                    .map(|e| e.message.clone())
            })
        })
    }

    /// The message for the whole form: errors that name none of its fields.
    pub fn general(&self) -> Signal<Option<String>> {
        let (error, fields) = (self.error, self.fields);
        Signal::derive(move || {
            error.with(|e| {
                e.as_ref()
                    .filter(|e| e.field.as_deref().is_none_or(|f| !fields.contains(&f)))
                    .map(|e| e.message.clone())
            })
        })
    }

    /// Moves keyboard focus to the field at fault, so the message is read out and fixable.
    pub fn focus_first(&self) {
        let Some(field) = self
            .error
            .with_untracked(|e| e.as_ref().and_then(|e| e.field.clone()))
        else {
            return;
        };
        let id = format!("{}{field}", self.id_prefix);
        #[cfg(feature = "hydrate")]
        if let Some(input) = document().get_element_by_id(&id) {
            use wasm_bindgen::JsCast;
            if let Ok(input) = input.dyn_into::<web_sys::HtmlElement>() {
                let _ = input.focus();
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = id;
    }
}

/// Moves keyboard focus to `input` as soon as it is on the page (a step that appears
/// in place of another: the person types there next).
pub fn focus_when_shown(input: NodeRef<Input>) {
    Effect::new(move |_| {
        if let Some(input) = input.get() {
            let _ = input.focus();
        }
    });
}

/// The current text of an input.
pub fn input_value(input: NodeRef<Input>) -> String {
    input
        .get_untracked()
        .map(|el| el.value())
        .unwrap_or_default()
}

/// A labelled input with its error message underneath (space reserved: no layout shift).
#[component]
pub fn TextField(
    label: &'static str,
    name: &'static str,
    node_ref: NodeRef<Input>,
    error: Signal<Option<String>>,
    #[prop(default = "text")] kind: &'static str,
    #[prop(default = "off")] autocomplete: &'static str,
    #[prop(optional)] hint: Option<&'static str>,
    /// Mirrors what is typed, for live feedback (e.g. password rules); what it holds
    /// at first is the input's value (a form the server sent back keeps its fields).
    #[prop(optional)]
    value: Option<RwSignal<String>>,
    /// The input's id is `<id_prefix><name>` (another prefix for a second form).
    #[prop(default = "field-")]
    id_prefix: &'static str,
    #[prop(default = true)] required: bool,
    /// The on-screen keyboard to offer (`numeric` for codes).
    #[prop(optional)]
    inputmode: Option<&'static str>,
) -> impl IntoView {
    let id = format!("{id_prefix}{name}");
    let base = if id_prefix == "field-" {
        name.to_owned()
    } else {
        format!("{id_prefix}{name}")
    };
    let error_id = format!("{base}-error");
    let hint_id = format!("{base}-hint");
    let described_by = match hint {
        Some(_) => format!("{hint_id} {error_id}"),
        None => error_id.clone(),
    };
    let is_password = kind == "password";
    let shown = RwSignal::new(false);
    let input_type = move || {
        if is_password && shown.get() {
            "text"
        } else {
            kind
        }
    };
    let toggle = is_password.then(|| {
        let controls = id.clone();
        view! {
            <button
                type="button"
                class="field__toggle"
                aria-controls=controls
                aria-pressed=move || if shown.get() { "true" } else { "false" }
                aria-label=move || if shown.get() { "Hide password" } else { "Show password" }
                on:click=move |_| shown.update(|s| *s = !*s)
            >
                {move || if shown.get() { "Hide" } else { "Show" }}
            </button>
        }
    });
    view! {
        <div class="field" class:field--invalid=move || error.with(Option::is_some)>
            <label for=id.clone()>{label}</label>
            // The toggle sits inside the input's right edge, after it in the tab order.
            <div class="field__control" class:field__control--toggle=is_password>
            <input
                id=id
                name=name
                type=input_type
                autocomplete=autocomplete
                inputmode=inputmode
                required=required
                aria-invalid=move || if error.with(Option::is_some) { "true" } else { "false" }
                aria-describedby=described_by
                value=value.map(|value| value.get_untracked()).filter(|v| !v.is_empty())
                node_ref=node_ref
                on:input=move |event| {
                    if let Some(value) = value {
                        value.set(event_target_value(&event));
                    }
                }
            />
            {toggle}
            </div>
            {hint.map(|text| view! { <p class="field-hint" id=hint_id>{text}</p> })}
            <p class="field-error" id=error_id aria-live="polite">
                {move || error.get()}
            </p>
        </div>
    }
    .into_any()
}

/// The form's submit button, disabled while the request runs (nothing is sent twice).
/// An entry page's form works before the WASM (the server takes the post itself,
/// `server/edge/page_forms.rs`); a form that needs the WASM passes `ready`, and stays
/// disabled until the page is interactive (no click lost to a native submit).
#[component]
pub fn SubmitButton(
    label: &'static str,
    pending_label: &'static str,
    pending: Signal<bool>,
    #[prop(optional)] ready: Option<Signal<bool>>,
    /// Full width (the default) or inline beside other buttons.
    #[prop(default = true)]
    block: bool,
) -> impl IntoView {
    view! {
        <button
            type="submit"
            class=if block { "button button--primary button--block" } else { "button button--primary" }
            disabled=move || pending.get() || ready.is_some_and(|ready| !ready.get())
            aria-busy=move || if pending.get() { "true" } else { "false" }
        >
            {move || if pending.get() { pending_label } else { label }}
        </button>
    }
}

/// The form-level message (for errors that belong to no field: server trouble, too many
/// attempts): a notice pinned to the bottom of the window, so it is seen wherever the
/// form is scrolled, moves nothing on the page and blocks nothing. The live region is
/// always in the document, so screen readers announce each new message; it stays until
/// dismissed or the form is sent again.
#[component]
pub fn FormAlert(message: Signal<Option<String>>) -> impl IntoView {
    let dismissed = RwSignal::new(false);
    // A new message (or the same one again after another try) is shown again.
    Effect::new(move |_| {
        message.track();
        dismissed.set(false);
    });
    let shown = move || message.get().filter(|_| !dismissed.get());
    view! {
        <div class="toast" class:toast--shown=move || shown().is_some()>
            <p class="toast__text" role="alert">{shown}</p>
            <Show when=move || shown().is_some()>
                <button
                    type="button"
                    class="toast__close"
                    aria-label="Dismiss message"
                    on:click=move |_| dismissed.set(true)
                >
                    "×"
                </button>
            </Show>
        </div>
    }
    .into_any()
}

/// The centered card that holds a sign-up or log-in form.
#[component]
pub fn AuthCard(title: &'static str, subtitle: &'static str, children: Children) -> impl IntoView {
    view! {
        <section class="card auth-card" aria-labelledby="card-title">
            <h1 id="card-title" class="card__title">{title}</h1>
            <p class="card__subtitle">{subtitle}</p>
            {children()}
        </section>
    }
}

/// Runs `on_ok` when the action succeeds, or shows its error (and focuses the field).
pub fn on_result<I, O>(
    action: Action<I, Result<O, ApiError>>,
    errors: FormErrors,
    on_ok: impl Fn(O) + 'static,
) where
    I: 'static,
    O: Clone + Send + Sync + 'static,
{
    Effect::new(move |_| match action.value().get() {
        Some(Ok(value)) => on_ok(value),
        Some(Err(error)) => {
            errors.set(Some(error));
            errors.focus_first();
        }
        None => {}
    });
}

/// Signs in with a fresh token and opens the page the log-in was asked for (`?next=`, a
/// local path only), else the profile.
pub fn enter_profile(
    session: super::signed_in::SignedIn,
) -> impl Fn(crate::api::TokenResponse) + 'static {
    let navigate = leptos_router::hooks::use_navigate();
    let query = leptos_router::hooks::use_query_map();
    move |token| {
        session.sign_in(&token.access_token);
        let next = query.with_untracked(|query| query.get(super::login::LOGIN_NEXT));
        navigate(
            super::login::after_log_in(next.as_deref()),
            Default::default(),
        );
    }
}
