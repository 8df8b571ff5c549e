//! The HTML shell (with the per-request CSP nonce), the routes and the page layout.

use crate::pages::{
    confirm_email, header::SiteHeader, home::HomePage, login::LoginPage, not_found::NotFound,
    recovery, settings, settings::SettingsLayout, signed_in::SignedIn, signup::SignupPage,
};
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, MetaTags, Title};
use leptos_router::{
    components::{ParentRoute, Route, Router, Routes},
    lazy_route, path, Lazy, LazyRoute,
};

/// The document around the app, rendered on the server for every page.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    send_content_security_policy(&options);
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <meta name="description" content="Keyhold: your account, safely kept." />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <AutoReload options=options.clone() />
                <HashedStylesheet options=options.clone() id="leptos" />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// A strict CSP: scripts only with this response's nonce (plus what they load), WASM
/// compilation allowed, nothing inline otherwise, no framing, no plugins.
#[cfg(feature = "ssr")]
fn send_content_security_policy(options: &LeptosOptions) {
    use leptos::nonce::use_nonce;
    let (Some(nonce), Some(response)) =
        (use_nonce(), use_context::<leptos_axum::ResponseOptions>())
    else {
        return;
    };
    // Image previews are local `blob:` URLs (made by our own code from the chosen
    // file; Chromium reports loading them as a connection). `cargo leptos watch`
    // reloads the page over a websocket on the reload port.
    let reload = match options.env {
        Env::DEV => {
            format!(" ws://{}:{}", options.site_addr.ip(), options.reload_port)
        }
        _ => String::new(),
    };
    let policy = format!(
        "default-src 'self'; script-src 'nonce-{nonce}' 'strict-dynamic' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data: blob:; connect-src 'self' blob:{reload}; \
         object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    );
    if let Ok(value) = http::HeaderValue::from_str(&policy) {
        response.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
    }
}

/// Moves keyboard focus into `<main>` (the router would otherwise only scroll to it, and
/// the next Tab would start from the top again). Before hydration the browser does it.
fn skip_to_main(event: leptos::ev::MouseEvent) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        if let Some(main) = document()
            .get_element_by_id("main")
            .and_then(|element| element.dyn_into::<web_sys::HtmlElement>().ok())
        {
            event.prevent_default();
            let _ = main.focus();
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = event;
}

/// Declares a lazy route for a page component: its code (and what only it uses) goes
/// into a WASM module of its own (`cargo leptos build --split`), fetched when the page
/// is first opened (preloaded when it is the page the server renders).
macro_rules! lazy_page {
    ($route:ident, $page:path) => {
        struct $route;

        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                Self
            }

            fn view(_this: Self) -> AnyView {
                $page().into_any()
            }
        }
    };
}

// In the main module: the entry pages (home, log-in, sign-up) and the settings' layout.
// Loaded lazily: the pages mailed links open, and the settings pages as one module (they
// share most of their code, and modules split finer repeat it). docs/benchmarks.md has
// the sizes of the other arrangements measured.
lazy_page!(ForgotPassword, recovery::ForgotPasswordPage);
lazy_page!(ResetPassword, recovery::ResetPasswordPage);
lazy_page!(VerifyEmail, confirm_email::VerifyEmailPage);
lazy_page!(UndoEmailChange, confirm_email::UndoEmailChangePage);
lazy_page!(Settings, settings::SettingsPage);

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    SignedIn::provide();
    view! {
        <Title formatter=|page: String| format!("{page} · Keyhold") />
        <Router>
            <a class="skip-link" href="#main" on:click=skip_to_main>"Skip to content"</a>
            <SiteHeader />
            <main id="main" class="page" tabindex="-1">
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=HomePage />
                    <Route path=path!("/login") view=LoginPage />
                    <Route path=path!("/signup") view=SignupPage />
                    <ParentRoute path=path!("/profile") view=SettingsLayout>
                        <Route path=path!("") view={Lazy::<Settings>::new()} />
                        <Route path=path!("security") view={Lazy::<Settings>::new()} />
                        <Route path=path!("sessions") view={Lazy::<Settings>::new()} />
                        <Route path=path!("data") view={Lazy::<Settings>::new()} />
                        <Route path=path!("delete") view={Lazy::<Settings>::new()} />
                    </ParentRoute>
                    <Route path=path!("/forgot-password") view={Lazy::<ForgotPassword>::new()} />
                    <Route path=path!("/reset-password") view={Lazy::<ResetPassword>::new()} />
                    <Route path=path!("/verify-email") view={Lazy::<VerifyEmail>::new()} />
                    <Route path=path!("/undo-email-change") view={Lazy::<UndoEmailChange>::new()} />
                </Routes>
            </main>
        </Router>
    }
}
