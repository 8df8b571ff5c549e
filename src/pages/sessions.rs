//! The profile's "Your sessions": every device signed in to the account, with "Sign out"
//! for each, "Sign out everywhere else" and "Log out everywhere"; and the offer to sign
//! out the other devices after a second factor is added (`OfferToEndOtherSessions`).

use super::form::FormAlert;
use super::profile::AccountChanged;
use super::signed_in::use_session;
use crate::api::sessions::{
    list_sessions, revoke_other_sessions, revoke_session, RevokeSessionRequest, SessionView,
};
use crate::api::{users::log_out_everywhere, ApiError};
use leptos::prelude::*;
use leptos_router::{hooks::use_navigate, NavigateOptions};

/// Ends every session but this one: what to tell the person.
async fn end_other_sessions() -> Result<String, ApiError> {
    revoke_other_sessions().await.map(|r| match r.revoked {
        1 => "Signed out 1 other session.".to_owned(),
        n => format!("Signed out {n} other sessions."),
    })
}

/// After a second factor is added (ASVS 5.0 7.4.3): the offer to sign out every other
/// device at once, in case one of them is not the owner's.
#[component]
pub fn OfferToEndOtherSessions() -> impl IntoView {
    let end = Action::new(|_: &()| end_other_sessions());
    view! {
        <div class="offer" data-testid="end-other-sessions">
            {move || match end.value().get() {
                Some(Ok(message)) => view! { <p class="notice" role="status">{message}</p> }.into_any(),
                Some(Err(e)) => view! { <p class="notice notice--warning" role="alert">{e.message}</p> }.into_any(),
                None => view! {
                    <p class="section__text">
                        "If a device you do not recognise could be signed in to your account, sign it out now."
                    </p>
                    <button
                        type="button"
                        class="button button--ghost"
                        disabled=move || end.pending().get()
                        on:click=move |_| {
                            end.dispatch(());
                        }
                    >
                        "Sign out my other devices"
                    </button>
                }.into_any(),
            }}
        </div>
    }
}

/// "just now", "5 minutes ago", "3 hours ago", "2 days ago".
pub fn ago(seconds: i64) -> String {
    let plural = |n: i64, unit: &str| format!("{n} {unit}{} ago", if n == 1 { "" } else { "s" });
    match seconds {
        s if s < 60 => "just now".into(),
        s if s < 3_600 => plural(s / 60, "minute"),
        s if s < 86_400 => plural(s / 3_600, "hour"),
        s => plural(s / 86_400, "day"),
    }
}

/// The browser's clock in unix seconds (0 while rendering on the server).
pub(super) fn now() -> i64 {
    #[cfg(feature = "hydrate")]
    {
        (js_sys::Date::now() / 1000.0) as i64
    }
    #[cfg(not(feature = "hydrate"))]
    0
}

/// How a session was signed in, from its `amr` values (RFC 8176).
pub fn signed_in_with(amr: &[String]) -> String {
    let words: Vec<&str> = amr
        .iter()
        .filter_map(|method| match method.as_str() {
            "pwd" => Some("password"),
            "otp" => Some("one-time code"),
            "hwk" | "swk" => Some("passkey"),
            _ => None,
        })
        .collect();
    match words.as_slice() {
        [] => "signed in".to_owned(),
        words => format!("signed in with {}", words.join(" + ")),
    }
}

#[component]
pub fn SessionsSection() -> impl IntoView {
    let session = use_session();
    let changed = AccountChanged::get();
    // Reloaded when the token changes (e.g. a password change ended the others) and
    // when another section ended sessions.
    let sessions = LocalResource::new(move || {
        session.track_token();
        changed.track();
        list_sessions()
    });
    let notice = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<String>);
    let revoke = Action::new(|target: &(String, String)| {
        let (id, device) = target.clone();
        async move {
            revoke_session(RevokeSessionRequest { id })
                .await
                .map(|_| format!("Signed out {device}."))
        }
    });
    let others = Action::new(|_: &()| end_other_sessions());
    for action in [revoke.value(), others.value()] {
        Effect::new(move |_| match action.get() {
            Some(Ok(message)) => {
                error.set(None);
                notice.set(Some(message));
                changed.notify();
            }
            Some(Err(e)) => error.set(Some(e.message)),
            None => {}
        });
    }
    let listed = move || match sessions.get() {
        Some(Ok(list)) => Some(list),
        _ => None,
    };
    let other_count = move || listed().map_or(0, |list| list.iter().filter(|s| !s.current).count());
    let busy = move || revoke.pending().get() || others.pending().get();
    let row = move |item: SessionView| {
        let label = format!("Sign out {} ({})", item.device, item.address);
        let target = (item.id.clone(), item.device.clone());
        view! {
            <li class="sessions__item" data-testid="session" data-current=item.current.to_string()>
                <div class="sessions__text">
                    <p class="sessions__device">
                        {item.device.clone()}
                        {item.current.then(|| view! { <span class="badge">"This device"</span> })}
                    </p>
                    <p class="sessions__meta">
                        {item.address.clone()} " · "
                        {signed_in_with(&item.amr)} " · "
                        {if item.current { "active now".to_owned() } else { format!("last active {}", ago(now() - item.last_seen_at)) }}
                    </p>
                </div>
                {(!item.current).then(|| view! {
                    <button
                        type="button"
                        class="button button--ghost button--small"
                        aria-label=label
                        disabled=busy
                        on:click=move |_| { revoke.dispatch(target.clone()); }
                    >"Sign out"</button>
                })}
            </li>
        }
    };
    let navigate = use_navigate();
    let everywhere = Action::new(|_: &()| log_out_everywhere());
    let everywhere_error = RwSignal::new(None::<String>);
    Effect::new(move |_| match everywhere.value().get() {
        Some(Ok(_)) => {
            session.sign_out();
            navigate(
                "/login",
                NavigateOptions {
                    replace: true,
                    ..Default::default()
                },
            );
        }
        Some(Err(ApiError { message, .. })) => everywhere_error.set(Some(message)),
        None => {}
    });

    view! {
        <section class="section" aria-labelledby="sessions-title">
            <h2 id="sessions-title" class="section__title">"Your sessions"</h2>
            <p class="section__text">"Where your account is signed in. Sign out anything you do not recognise."</p>
            <FormAlert message=error.into() />
            {move || match sessions.get() {
                None => view! { <p class="loading" role="status">"Loading sessions…"</p> }.into_any(),
                Some(Err(e)) => view! { <p class="notice notice--warning" role="status">{e.message}</p> }.into_any(),
                Some(Ok(list)) => view! {
                    <ul class="sessions" data-testid="sessions">{list.into_iter().map(row).collect_view()}</ul>
                }.into_any(),
            }}
            <p class="notice" role="status">{move || notice.get()}</p>
            <button
                type="button"
                class="button button--ghost"
                disabled=move || busy() || other_count() == 0
                on:click=move |_| { others.dispatch(()); }
            >
                {move || if others.pending().get() { "Signing out…" } else { "Sign out everywhere else" }}
            </button>
        </section>
        <section class="section" aria-labelledby="everywhere-title">
            <h2 id="everywhere-title" class="section__title">"Log out everywhere"</h2>
            <p class="section__text">
                "End every session of this account, on every device, this one included."
            </p>
            <FormAlert message=everywhere_error.into() />
            <button
                type="button"
                class="button button--danger"
                disabled=move || everywhere.pending().get() || !session.ready()
                on:click=move |_| {
                    everywhere_error.set(None);
                    everywhere.dispatch(());
                }
            >
                {move || if everywhere.pending().get() { "Logging out everywhere…" } else { "Log out everywhere" }}
            </button>
        </section>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::ago;

    #[test]
    fn times_read_naturally() {
        assert_eq!(ago(5), "just now");
        assert_eq!(ago(60), "1 minute ago");
        assert_eq!(ago(7_199), "1 hour ago");
        assert_eq!(ago(3 * 86_400 + 5), "3 days ago");
    }
}
