//! The site header: brand, and either the signed-in user with "Log out" or the links in.

use super::{profile::Avatar, signed_in::use_session};
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

#[component]
pub fn SiteHeader() -> impl IntoView {
    let session = use_session();
    let navigate = use_navigate();
    // A form, so "Log out" works before the WASM too (`server/edge/page_forms.rs`).
    let log_out = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        session.sign_out();
        navigate("/login", Default::default());
    };
    view! {
        <header class="site-header">
            <a class="brand" href="/">
                <span class="brand__mark" aria-hidden="true">"K"</span>
                "Keyhold"
            </a>
            <nav class="site-nav" aria-label="Account">
                {move || match session.user() {
                    Some(user) => view! {
                        <a class="site-nav__user" href="/profile">
                            <Avatar user=user.clone() size="small" />
                            <span class="site-nav__name">"Signed in as " <strong data-testid="header-username">{user.username}</strong></span>
                        </a>
                        <form class="site-nav__form" method="post" action="/logout" on:submit=log_out.clone()>
                            <button type="submit" class="button button--ghost">"Log out"</button>
                        </form>
                    }.into_any(),
                    None if session.signed_out() || !session.ready() => view! {
                        <a class="site-nav__link" href="/login">"Log in"</a>
                        <a class="button button--primary" href="/signup">"Sign up"</a>
                    }.into_any(),
                    None => ().into_any(),
                }}
            </nav>
        </header>
    }
}
