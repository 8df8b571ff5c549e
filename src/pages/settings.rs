//! `/profile/...`: the signed-in user's settings, one page per subject with a navigation
//! between them. The layout (navigation, sign-in check, loading state) comes with every
//! page; the pages themselves are one lazy route (`app.rs`), their code loaded only when
//! one is first opened, so the log-in and sign-up pages do not carry it.
//!
//! | Route | Page |
//! |---|---|
//! | `/profile` | name, e-mail and its status, picture, editing them |
//! | `/profile/security` | password, two-step verification, passkeys, recent activity |
//! | `/profile/sessions` | where you are signed in, logging out everywhere |
//! | `/profile/data` | downloading everything kept about you |
//! | `/profile/delete` | deleting the account |

use super::account::{DeleteAccount, DownloadData, EditProfile, ImageSection};
use super::activity::ActivitySection;
use super::passkeys::PasskeysSection;
use super::password::AccountSecurity;
use super::profile::{AccountChanged, ProfileDetails};
use super::second_factors::{SecondFactors, TwoStepSection};
use super::sessions::SessionsSection;
use super::signed_in::{use_session, SignedIn};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{
    components::{Outlet, A},
    hooks::{use_location, use_navigate},
    NavigateOptions,
};

/// The frame of every settings page: the section navigation, and the page once the
/// user is known (sent to `/login` without a session).
#[component]
pub fn SettingsLayout() -> impl IntoView {
    let session = use_session();
    AccountChanged::provide();
    SecondFactors::provide();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if session.signed_out() {
            let replace = NavigateOptions {
                replace: true,
                ..Default::default()
            };
            navigate("/login", replace);
        }
    });
    view! {
        <div class="settings">
            <nav class="settings-nav" aria-label="Settings">
                {PAGES.map(|(path, label)| view! { <A href=path exact=true>{label}</A> })}
            </nav>
            <section class="card profile-card" aria-labelledby="card-title" aria-busy=move || session.user().is_none().to_string()>
                {move || match (session.user(), session.load_error()) {
                    (Some(_), _) => ().into_any(),
                    (None, Some(error)) => view! {
                        <h1 id="card-title" class="card__title">"Your account"</h1>
                        <div class="form-alert" role="alert"><p class="form-alert__text">{error.message}</p></div>
                        <button class="button button--primary" on:click=move |_| session.reload_user()>"Try again"</button>
                    }.into_any(),
                    (None, None) => view! {
                        <h1 id="card-title" class="card__title">"Your account"</h1>
                        <p class="loading" role="status">"Loading your account…"</p>
                    }.into_any(),
                }}
                // Outside the closure above, so a refreshed user keeps the forms' state.
                <Show when=move || session.user().is_some()>
                    <Outlet />
                </Show>
            </section>
        </div>
    }
}

/// The settings pages in the navigation's order: address (also a route in `app.rs`) and
/// link text.
const PAGES: [(&str, &str); 5] = [
    ("/profile", "Profile"),
    ("/profile/security", "Security"),
    ("/profile/sessions", "Sessions"),
    ("/profile/data", "Your data"),
    ("/profile/delete", "Delete account"),
];

/// The settings page at the current address. One component for all of them, so that
/// their code is one lazily loaded module.
#[component]
pub fn SettingsPage() -> impl IntoView {
    // What each page of `PAGES` shows, in its order. Not in `PAGES`: the layout (in the
    // main module) reads that, and these must stay in the lazily loaded one.
    let views: [fn() -> AnyView; 5] = [
        || view! { <ProfilePage /> }.into_any(),
        || view! { <SecurityPage /> }.into_any(),
        || view! { <SessionsPage /> }.into_any(),
        || view! { <DataPage /> }.into_any(),
        || view! { <DeletePage /> }.into_any(),
    ];
    // Read once: each address is its own route, so moving to another one builds this anew.
    let path = use_location().pathname.get_untracked();
    let path = path.trim_end_matches('/');
    let index = PAGES.iter().position(|(page, _)| *page == path);
    views[index.unwrap_or(0)]()
}

/// The page's title, in the tab and as its heading.
#[component]
fn PageTitle(text: &'static str) -> impl IntoView {
    view! {
        <Title text=text />
        <h1 id="card-title" class="card__title">{text}</h1>
    }
}

/// The user's name and e-mail, for the forms that show or confirm them.
fn identity(session: SignedIn) -> Signal<(String, String)> {
    Signal::derive(move || {
        session
            .user()
            .map(|u| (u.username, u.email))
            .unwrap_or_default()
    })
}

/// `/profile`: who you are here, and changing it.
#[component]
fn ProfilePage() -> impl IntoView {
    let session = use_session();
    view! {
        <Title text="Your profile" />
        {move || session.user().map(|user| view! { <ProfileDetails user /> })}
        <ImageSection />
        <EditProfile identity=identity(session) />
    }
}

/// `/profile/security`: how you sign in, and what happened lately.
#[component]
fn SecurityPage() -> impl IntoView {
    let session = use_session();
    view! {
        <PageTitle text="Security" />
        <AccountSecurity identity=identity(session) />
        <TwoStepSection />
        <PasskeysSection />
        <ActivitySection />
    }
}

/// `/profile/sessions`: the browsers and programs signed in to the account.
#[component]
fn SessionsPage() -> impl IntoView {
    view! {
        <PageTitle text="Sessions" />
        <SessionsSection />
    }
}

/// `/profile/data`: a copy of everything kept about you.
#[component]
fn DataPage() -> impl IntoView {
    view! {
        <PageTitle text="Your data" />
        <DownloadData />
    }
}

/// `/profile/delete`: closing the account for good.
#[component]
fn DeletePage() -> impl IntoView {
    let session = use_session();
    let username = Signal::derive(move || identity(session).get().0);
    view! {
        <PageTitle text="Delete your account" />
        <DeleteAccount username />
    }
}
