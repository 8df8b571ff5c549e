//! The profile's "Recent security activity": sign-ins, failures and changes, newest
//! first, with "Show older" and, on each entry, "This wasn't me" (every other session
//! ends, then the password form takes the focus).

use super::form::FormAlert;
use super::profile::AccountChanged;
use super::sessions::{ago, now};
use super::signed_in::use_session;
use crate::api::activity::{list_activity, report_not_me, ActivityEntry, NotMeRequest};
use leptos::prelude::*;

/// Entries per page.
const PAGE: i64 = 10;
/// The password form's "Current password" input (`pages/password.rs`).
const PASSWORD_INPUT: &str = "field-current_password";

#[component]
pub fn ActivitySection() -> impl IntoView {
    let session = use_session();
    let changed = AccountChanged::get();
    let entries = RwSignal::new(Vec::<ActivityEntry>::new());
    let next = RwSignal::new(None::<i64>);
    let loaded = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let notice = RwSignal::new(None::<String>);
    let load = Action::new(|before: &Option<i64>| {
        let before = *before;
        async move { (before.is_none(), list_activity(before, Some(PAGE)).await) }
    });
    Effect::new(move |_| match load.value().get() {
        Some((first, Ok(page))) => {
            error.set(None);
            entries.update(|list| {
                if first {
                    list.clear();
                }
                list.extend(page.entries);
            });
            next.set(page.next_before);
            loaded.set(true);
        }
        Some((_, Err(e))) => error.set(Some(e.message)),
        None => {}
    });
    // The first page, again whenever the token changes (a password change) or a
    // section ended sessions.
    Effect::new(move |_| {
        session.track_token();
        changed.track();
        if session.ready() {
            load.dispatch(None);
        }
    });
    let report = Action::new(|id: &i64| report_not_me(NotMeRequest { id: *id }));
    Effect::new(move |_| match report.value().get() {
        Some(Ok(done)) => {
            error.set(None);
            let ended = match done.sessions_ended {
                1 => "1 other session was".to_owned(),
                n => format!("{n} other sessions were"),
            };
            notice.set(Some(format!(
                "{ended} signed out. Now change your password: whoever did this may know it."
            )));
            focus_password_form();
            changed.notify();
        }
        Some(Err(e)) => error.set(Some(e.message)),
        None => {}
    });
    let row = move |entry: ActivityEntry| {
        let title = match entry.count {
            1 => entry.kind.describe().to_owned(),
            n => format!("{} ({n} times)", entry.kind.describe()),
        };
        let label = format!("This wasn't me: {title}, {}", when(entry.at));
        let id = entry.id;
        view! {
            <li class="sessions__item" data-testid="activity" data-kind=entry.kind.name()>
                <div class="sessions__text">
                    <p class="sessions__device">
                        {title}
                        {entry.current_session.then(|| view! { <span class="badge">"This device"</span> })}
                    </p>
                    <p class="sessions__meta">
                        {when(entry.at)} " · " {entry.device} " · " {entry.address}
                    </p>
                </div>
                // Not on what this very session did: that was the person reading.
                {(!entry.current_session).then(|| view! {
                    <button
                        type="button"
                        class="button button--ghost button--small"
                        aria-label=label
                        disabled=move || report.pending().get()
                        on:click=move |_| { report.dispatch(id); }
                    >"This wasn't me"</button>
                })}
            </li>
        }
    };

    view! {
        <section class="section" aria-labelledby="activity-title">
            <h2 id="activity-title" class="section__title">"Recent security activity"</h2>
            <p class="section__text">
                "Sign-ins, failed attempts and changes to your account. If something was not you, say so: every other session ends at once."
            </p>
            <FormAlert message=error.into() />
            <p class="notice notice--warning" role="status" data-testid="activity-notice">{move || notice.get()}</p>
            {move || if loaded.get() {
                view! {
                    <ul class="sessions" data-testid="activity-list">
                        <For each=move || entries.get() key=|entry| (entry.id, entry.count) children=row />
                    </ul>
                }.into_any()
            } else {
                view! { <p class="loading" role="status">"Loading activity…"</p> }.into_any()
            }}
            <Show when=move || next.get().is_some()>
                <button
                    type="button"
                    class="button button--ghost"
                    disabled=move || load.pending().get()
                    on:click=move |_| { load.dispatch(next.get_untracked()); }
                >
                    {move || if load.pending().get() { "Loading…" } else { "Show older activity" }}
                </button>
            </Show>
        </section>
    }
    .into_any()
}

/// "5 minutes ago" for a time in unix seconds.
fn when(at: i64) -> String {
    ago(now() - at)
}

/// Moves the focus (and the view) to the password form's first field.
fn focus_password_form() {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        if let Some(input) = document()
            .get_element_by_id(PASSWORD_INPUT)
            .and_then(|element| element.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let _ = input.focus();
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = PASSWORD_INPUT;
}
