//! The signed-in user's name, e-mail and picture (or initials), shown on `/profile` and in
//! the header, and the notice the settings' sections share when the account changes.

use crate::api::UserView;
use leptos::prelude::*;

/// Tells the settings' sections that the account's sessions, factors or activity changed
/// (a session signed out in one section shows in the other's list).
#[derive(Debug, Clone, Copy)]
pub struct AccountChanged(RwSignal<u64>);

impl AccountChanged {
    /// Provides a notifier for the settings pages to share (their layout does).
    pub fn provide() {
        provide_context(Self(RwSignal::new(0)));
    }

    /// The settings' notifier (a detached one outside the settings pages).
    pub fn get() -> Self {
        use_context::<Self>().unwrap_or_else(|| Self(RwSignal::new(0)))
    }

    /// Makes the reactive scope calling it run again after `notify`.
    pub fn track(self) {
        self.0.track();
    }

    pub fn notify(self) {
        self.0.update(|n| *n += 1);
    }
}

/// The name, the e-mail address and its status, under the picture.
#[component]
pub fn ProfileDetails(user: UserView) -> impl IntoView {
    view! {
        <div class="profile">
            <Avatar user=user.clone() size="large" />
            <div class="profile__text">
                <h1 id="card-title" class="card__title">{user.username.clone()}</h1>
                <p class="profile__subtitle">"Your Keyhold account"</p>
            </div>
        </div>
        <dl class="details">
            <div class="details__row">
                <dt>"Username"</dt>
                <dd data-testid="profile-username">{user.username.clone()}</dd>
            </div>
            <div class="details__row">
                <dt>"Email"</dt>
                <dd data-testid="profile-email">{user.email.clone()}</dd>
            </div>
            <div class="details__row">
                <dt>"Email status"</dt>
                <dd><EmailStatus user /></dd>
            </div>
        </dl>
    }
}

/// Confirmed or not (or a new address waiting), with "Resend" for the link.
#[component]
fn EmailStatus(user: UserView) -> impl IntoView {
    use crate::api::email::resend_confirmation;

    let resend = Action::new(|_: &()| resend_confirmation());
    let outcome = move || match resend.value().get() {
        Some(Ok(sent)) => Some(format!("We sent a new link to {}.", sent.sent_to)),
        Some(Err(e)) => Some(e.message),
        None => None,
    };
    let (badge, class, text) = match (&user.pending_email, user.email_verified) {
        (Some(pending), _) => (
            "Change waiting",
            "badge badge--warning",
            format!("Follow the link we sent to {pending} to make it your address."),
        ),
        (None, true) => ("Verified", "badge", String::new()),
        (None, false) => (
            "Not verified",
            "badge badge--warning",
            "Follow the link we sent to your address to confirm it.".to_owned(),
        ),
    };
    let can_resend = user.pending_email.is_some() || !user.email_verified;
    view! {
        <span class=class data-testid="email-status">{badge}</span>
        {(!text.is_empty()).then(|| view! { <span class="details__note">" " {text}</span> })}
        {can_resend.then(|| view! {
            <button
                type="button"
                class="button button--ghost button--small"
                disabled=move || resend.pending().get()
                on:click=move |_| { resend.dispatch(()); }
            >"Resend"</button>
        })}
        <span class="details__note" role="status">{outcome}</span>
    }
}

/// The user's picture, or their initials on a colour derived from the name.
#[component]
pub fn Avatar(user: UserView, size: &'static str) -> impl IntoView {
    let class = format!("avatar avatar--{size}");
    match user.image_url {
        Some(url) => {
            // The 64 px picture in the header (crisp at 2x), the 256 px one elsewhere.
            let (src, side) = match size {
                "small" => (crate::api::image_variant(&url, 64), "32"),
                _ => (url, "96"),
            };
            view! {
                <img class=class src=src width=side height=side alt=format!("Profile picture of {}", user.username) />
            }
            .into_any()
        }
        None => {
            let hue = user
                .username
                .bytes()
                .fold(0u32, |acc, b| acc.wrapping_mul(31).wrapping_add(b.into()))
                % 8;
            view! {
                <span class=format!("{class} avatar--hue{hue}") role="img" aria-label=format!("Initials of {}", user.username)>
                    {initials(&user.username)}
                </span>
            }
            .into_any()
        }
    }
}

/// Up to two letters: the first of the name and of its second part (`ada.lovelace` → `AL`).
pub fn initials(username: &str) -> String {
    let mut parts = username
        .split(['.', '_', '-'])
        .filter_map(|part| part.chars().find(|c| c.is_alphanumeric()));
    parts
        .next()
        .into_iter()
        .chain(parts.next())
        .flat_map(char::to_uppercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::initials;

    #[test]
    fn initials_take_two_parts() {
        assert_eq!(initials("ada.lovelace"), "AL");
        assert_eq!(initials("grace"), "G");
        assert_eq!(initials("_x_y_z"), "XY");
        assert_eq!(initials("..."), "");
    }
}
