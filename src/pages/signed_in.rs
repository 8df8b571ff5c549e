//! Who is signed in, shared by every page: the token (mirrored in localStorage) and the
//! user it belongs to. The server knows the person from the browser session cookie
//! (`server/edge/pages.rs`) and renders the page signed in; hydration starts from the
//! same person, so nothing flashes signed out while the browser catches up.

use crate::api::{users::current_user, ApiError, UserView};
use crate::client::{clear_token, store_token, stored_token, TOKEN_KEY};
use leptos::prelude::*;

#[derive(Clone, Copy)]
pub struct SignedIn {
    token: RwSignal<Option<String>>,
    /// True once the browser's storage has been read (never during server rendering).
    loaded: RwSignal<bool>,
    user: LocalResource<Result<Option<UserView>, ApiError>>,
    /// What [`SignedIn::user`] answers.
    current: Memo<Option<UserView>>,
    /// Whom the server rendered the page for (its browser session cookie); kept until
    /// the browser has its own answer.
    rendered_for: RwSignal<Option<UserView>>,
    /// A token is being fetched with the refresh cookie (signed in on the server, but
    /// this browser's storage has no token).
    renewing: RwSignal<bool>,
    /// A message for the next page (e.g. an image refused right after sign-up).
    notice: RwSignal<Option<String>>,
}

impl SignedIn {
    /// Creates the session for the app and provides it as context.
    pub fn provide() -> Self {
        let token = RwSignal::new(None::<String>);
        let loaded = RwSignal::new(false);
        // Serialized into the page on the server, read back (not recomputed) when the
        // browser hydrates it.
        let rendered_for = RwSignal::new(SharedValue::new(viewer).into_inner());
        let renewing = RwSignal::new(false);
        let user = LocalResource::new(move || {
            let (has_token, ready) = (token.with(Option::is_some), loaded.get());
            async move {
                if !ready || !has_token {
                    return Ok(None);
                }
                match current_user().await {
                    Ok(user) => Ok(Some(user)),
                    // Expired or revoked: forget the token; pages send the user to /login.
                    Err(e) if e.is_auth_failure() => {
                        clear_token();
                        token.set(None);
                        Ok(None)
                    }
                    Err(e) => Err(e),
                }
            }
        });
        let signed_out = move || loaded.get() && !renewing.get() && token.with(Option::is_none);
        let current = Memo::new(move |_| {
            if signed_out() {
                return None;
            }
            match user.get() {
                Some(Ok(Some(user))) if token.with(Option::is_some) => Some(user),
                Some(Err(_)) => None,
                // Not answered yet (or answered before this browser had its token).
                _ => rendered_for.get(),
            }
        });
        let session = Self {
            token,
            loaded,
            user,
            current,
            rendered_for,
            renewing,
            notice: RwSignal::new(None),
        };
        // Effects run only in the browser. Read storage once the whole page is hydrated
        // (a lazily loaded route hydrates later than the shell; see client::hydration).
        Effect::new(move |_| {
            if !crate::client::hydration::finished() {
                return;
            }
            #[cfg(feature = "hydrate")]
            crate::client::renewal::on_change(move |new| token.set(new));
            let stored = stored_token();
            if stored.is_none() && rendered_for.with_untracked(Option::is_some) {
                // Signed in on the server (e.g. a log-in without the WASM): get this
                // browser a token with the refresh cookie.
                renewing.set(true);
                #[cfg(feature = "hydrate")]
                leptos::task::spawn_local(async move {
                    crate::client::renewal::renew().await;
                    renewing.set(false);
                });
            }
            token.set(stored);
            loaded.set(true);
            crate::client::hydration::mark_interactive();
            // Another tab signed in or out.
            let handle = window_event_listener(leptos::ev::storage, move |event| {
                if event.key().is_none_or(|key| key == TOKEN_KEY) {
                    token.set(stored_token());
                }
            });
            on_cleanup(move || handle.remove());
        });
        schedule_renewal(token);
        provide_context(session);
        session
    }

    pub fn sign_in(&self, access_token: &str) {
        self.rendered_for.set(None);
        store_token(access_token);
        self.token.set(Some(access_token.to_owned()));
    }

    /// Signs out here (and, through storage, in every tab) and ends the session on the
    /// server: the refresh cookie identifies it, so this works with an expired token.
    pub fn sign_out(&self) {
        self.rendered_for.set(None);
        clear_token();
        self.token.set(None);
        leptos::task::spawn_local(async {
            if let Err(e) = crate::api::refresh::log_out().await {
                leptos::logging::warn!("the server did not end the session: {e}");
            }
        });
    }

    /// True when storage has been read and holds no token (nor is one being fetched):
    /// the visitor is signed out.
    pub fn signed_out(&self) -> bool {
        self.loaded.get() && !self.renewing.get() && self.token.with(Option::is_none)
    }

    /// True once the browser is in control (after hydration).
    pub fn ready(&self) -> bool {
        self.loaded.get()
    }

    /// The signed-in user, once known: the browser's own answer, or until it has one,
    /// whom the server rendered the page for. Views depending on it are redrawn only
    /// when it really changes (the browser's answer equal to the server's redraws
    /// nothing, so nothing typed meanwhile is lost).
    pub fn user(&self) -> Option<UserView> {
        self.current.get()
    }

    /// A failure to load the user other than an invalid token (e.g. server down).
    pub fn load_error(&self) -> Option<ApiError> {
        self.user.get().and_then(Result::err)
    }

    /// The message left for the next page, if any.
    pub fn notice(&self) -> RwSignal<Option<String>> {
        self.notice
    }

    /// Makes the calling effect or resource rerun when the token changes.
    pub fn track_token(&self) {
        self.token.track();
    }

    pub fn reload_user(&self) {
        self.user.refetch();
    }
}

/// Renews the access token shortly before it expires (a little jitter keeps tabs from
/// all renewing at the same moment); re-armed whenever the token changes.
fn schedule_renewal(token: RwSignal<Option<String>>) {
    #[cfg(feature = "hydrate")]
    Effect::new(move |previous: Option<Option<TimeoutHandle>>| {
        if let Some(Some(handle)) = previous {
            handle.clear();
        }
        let seconds = token.with(|t| {
            t.as_deref()
                .and_then(|t| crate::client::renew_in(t, crate::client::server_now()))
        })?;
        // Never twice within 10 s, whatever the clocks say.
        let floor = if crate::client::renewal::renewed_within(10.0) {
            10.0
        } else {
            0.0
        };
        let delay = (seconds.max(floor) + js_sys::Math::random() * 5.0) * 1000.0;
        set_timeout_with_handle(
            || {
                leptos::task::spawn_local(async {
                    crate::client::renewal::renew().await;
                })
            },
            std::time::Duration::from_millis(delay as u64),
        )
        .ok()
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = token;
}

/// Whom the server renders the page for (none in the browser: hydration reads the
/// server's answer instead).
fn viewer() -> Option<UserView> {
    #[cfg(feature = "ssr")]
    {
        use_context::<crate::server::edge::Viewer>().and_then(|viewer| viewer.0)
    }
    #[cfg(not(feature = "ssr"))]
    None
}

pub fn use_session() -> SignedIn {
    expect_context::<SignedIn>()
}
