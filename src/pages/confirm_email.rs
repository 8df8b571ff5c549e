//! The pages mailed links open: `/verify-email?token=…` confirms an address (at once,
//! on load) and `/undo-email-change?token=…` puts the old address back after the person
//! confirms they want that. Both say clearly when the link is expired or used.

use super::form::FormAlert;
use super::signed_in::use_session;
use crate::api::email::{undo_email_change, verify_email, LinkToken};
use crate::api::ApiError;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

fn link_token() -> impl Fn() -> String + Copy {
    let query = use_query_map();
    move || query.with(|q| q.get("token")).unwrap_or_default()
}

/// The outcome of following a link, or what to do when it failed.
#[component]
fn LinkOutcome(
    result: Signal<Option<Result<String, ApiError>>>,
    pending: Signal<bool>,
) -> impl IntoView {
    let failure = Signal::derive(move || match result.get() {
        Some(Err(e)) => Some(e.message),
        _ => None,
    });
    view! {
        <Show when=move || pending.get()>
            <p class="loading" role="status">"One moment…"</p>
        </Show>
        <FormAlert message=failure />
        {move || match result.get() {
            Some(Ok(message)) => Some(view! {
                <p class="notice" role="status" data-testid="link-done">{message}</p>
            }),
            _ => None,
        }}
    }
}

#[component]
pub fn VerifyEmailPage() -> impl IntoView {
    let token = link_token();
    let session = use_session();
    let action = Action::new(|token: &String| {
        let token = token.clone();
        async move {
            verify_email(LinkToken { token })
                .await
                .map(|done| format!("Thank you: {} is confirmed.", done.email))
        }
    });
    // Once, in the browser: following the link is the confirmation.
    Effect::new(move |ran: Option<()>| {
        if ran.is_none() {
            action.dispatch(token());
        }
    });
    // A signed-in browser shows the new state at once.
    Effect::new(move |_| {
        if let Some(Ok(_)) = action.value().get() {
            session.reload_user();
        }
    });
    view! {
        <Title text="Confirm your e-mail address" />
        <section class="card auth-card" aria-labelledby="card-title">
            <h1 id="card-title" class="card__title">"Confirm your e-mail address"</h1>
            <LinkOutcome result=action.value().into() pending=action.pending().into() />
            <p class="card__footer">
                <a href="/profile">"Go to your profile"</a>
                " (from there, "Resend" sends a new link)"
            </p>
        </section>
    }
}

#[component]
pub fn UndoEmailChangePage() -> impl IntoView {
    let token = link_token();
    let action = Action::new(|token: &String| {
        let token = token.clone();
        async move {
            undo_email_change(LinkToken { token }).await.map(|done| {
                format!(
                    "{} is your account's address again, and every device was signed out. \
                     Log in, then change your password.",
                    done.email
                )
            })
        }
    });
    view! {
        <Title text="Undo the e-mail change" />
        <section class="card auth-card" aria-labelledby="card-title">
            <h1 id="card-title" class="card__title">"Undo the e-mail change"</h1>
            <p class="section__text">
                "If you did not change your account's e-mail address, put the old one back: every device signed in to the account will be signed out."
            </p>
            <LinkOutcome result=action.value().into() pending=action.pending().into() />
            <Show when=move || action.value().with(Option::is_none)>
                <button
                    type="button"
                    class="button button--danger"
                    disabled=move || action.pending().get()
                    on:click=move |_| { action.dispatch(token()); }
                >"Put my old address back"</button>
            </Show>
            <p class="card__footer"><a href="/login">"Log in"</a></p>
        </section>
    }
}
