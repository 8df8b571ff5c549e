//! Who is signed in, shared by every page: the token (mirrored in localStorage) and the
//! user it belongs to.

use crate::api::{users::current_user, ApiError, UserView};
use crate::client::{clear_token, store_token, stored_token, TOKEN_KEY};
use leptos::prelude::*;

#[derive(Clone, Copy)]
pub struct SignedIn {
    token: RwSignal<Option<String>>,
    /// True once the browser's storage has been read (never during server rendering).
    loaded: RwSignal<bool>,
    user: LocalResource<Result<Option<UserView>, ApiError>>,
    /// A message for the next page (e.g. an image refused right after sign-up).
    notice: RwSignal<Option<String>>,
}

impl SignedIn {
    /// Creates the session for the app and provides it as context.
    pub fn provide() -> Self {
        let token = RwSignal::new(None::<String>);
        let loaded = RwSignal::new(false);
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
        let session = Self {
            token,
            loaded,
            user,
            notice: RwSignal::new(None),
        };
        // Effects run only in the browser. Read storage once the whole page is hydrated
        // (a lazily loaded route hydrates later than the shell; see client::hydration).
        Effect::new(move |_| {
            if !crate::client::hydration::finished() {
                return;
            }
            token.set(stored_token());
            loaded.set(true);
            #[cfg(feature = "hydrate")]
            crate::client::renewal::on_change(move |new| token.set(new));
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
        store_token(access_token);
        self.token.set(Some(access_token.to_owned()));
    }

    /// Signs out here (and, through storage, in every tab) and ends the session on the
    /// server: the refresh cookie identifies it, so this works with an expired token.
    pub fn sign_out(&self) {
        clear_token();
        self.token.set(None);
        leptos::task::spawn_local(async {
            if let Err(e) = crate::api::refresh::log_out().await {
                leptos::logging::warn!("the server did not end the session: {e}");
            }
        });
    }

    /// True when storage has been read and holds no token: the visitor is signed out.
    pub fn signed_out(&self) -> bool {
        self.loaded.get() && self.token.with(Option::is_none)
    }

    /// True once the browser is in control (after hydration).
    pub fn ready(&self) -> bool {
        self.loaded.get()
    }

    /// The signed-in user, once known.
    pub fn user(&self) -> Option<UserView> {
        match self.user.get() {
            Some(Ok(user)) if self.token.with(Option::is_some) => user,
            _ => None,
        }
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

pub fn use_session() -> SignedIn {
    expect_context::<SignedIn>()
}
