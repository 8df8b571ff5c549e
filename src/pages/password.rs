//! Password rules shown while typing (sign-up and change password), and the profile's
//! "Change password" section.

use super::form::{input_value, on_result, FormAlert, FormErrors, SubmitButton, TextField};
use super::second_factors::{second_factor_for, SecondFactorField, SecondFactors};
use super::signed_in::use_session;
use crate::api::users::{change_password, ChangePasswordRequest};
use leptos::{ev::SubmitEvent, html::Input, prelude::*};

/// The policy's defaults; the server has the final word and says which rule failed.
pub const MIN_PASSWORD_CHARS: usize = 15;

/// How guessable a password looks (a hint only; the server checks the breach list).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strength {
    Weak,
    Fair,
    Strong,
}

impl Strength {
    pub fn label(self) -> &'static str {
        match self {
            Self::Weak => "Weak",
            Self::Fair => "Fair",
            Self::Strong => "Strong",
        }
    }

    fn class(self) -> &'static str {
        match self {
            Self::Weak => "strength strength--weak",
            Self::Fair => "strength strength--fair",
            Self::Strong => "strength strength--strong",
        }
    }
}

/// A rough estimate: bits from the character classes used, counting only characters
/// that do not repeat or continue a run (`aaaa`, `abcd`, `4321` add almost nothing).
pub fn estimate_strength(password: &str) -> Strength {
    let chars: Vec<char> = password.chars().collect();
    let mut pool = 0u32;
    if chars.iter().any(char::is_ascii_lowercase) {
        pool += 26;
    }
    if chars.iter().any(char::is_ascii_uppercase) {
        pool += 26;
    }
    if chars.iter().any(char::is_ascii_digit) {
        pool += 10;
    }
    if chars.iter().any(|c| c.is_ascii_punctuation() || *c == ' ') {
        pool += 33;
    }
    if chars.iter().any(|c| !c.is_ascii()) {
        pool += 100;
    }
    let effective = chars
        .iter()
        .enumerate()
        .filter(|(i, c)| {
            *i == 0 || {
                let previous = chars[i - 1] as i64;
                (**c as i64 - previous).abs() > 1
            }
        })
        .count();
    let bits = effective as f64 * f64::from(pool.max(1)).log2();
    match bits {
        b if b < 60.0 => Strength::Weak,
        b if b < 80.0 => Strength::Fair,
        _ => Strength::Strong,
    }
}

/// The live checklist under a password field.
#[component]
pub fn PasswordRules(
    password: RwSignal<String>,
    /// Username and e-mail the password must not contain (may be empty).
    identity: Signal<(String, String)>,
) -> impl IntoView {
    let length = move || password.with(|p| p.chars().count());
    let long_enough = move || length() >= MIN_PASSWORD_CHARS;
    let free_of_identity = move || {
        let lowered = password.with(|p| p.to_lowercase());
        identity.with(|(name, email)| {
            let local = email.split('@').next().unwrap_or_default().to_lowercase();
            [name.to_lowercase(), email.to_lowercase(), local]
                .iter()
                .all(|part| part.chars().count() < 3 || !lowered.contains(part.as_str()))
        })
    };
    // Unknown on the reset page (nobody is signed in): the server checks it then.
    let identity_known =
        move || identity.with(|(name, email)| !name.is_empty() || !email.is_empty());
    let strength = move || estimate_strength(&password.get());
    let rule = |met: bool| if met { "rule rule--met" } else { "rule" };
    view! {
        <ul class="rules" aria-label="Password rules">
            <li class=move || rule(long_enough())>
                {move || format!("At least {MIN_PASSWORD_CHARS} characters ({} so far)", length())}
            </li>
            {move || if identity_known() {
                view! {
                    <li class=rule(free_of_identity() && length() > 0)>"Does not contain your username or e-mail"</li>
                }.into_any()
            } else {
                view! {
                    <li class="rule rule--info">"Does not contain your username or e-mail (checked when you submit)"</li>
                }.into_any()
            }}
            <li class="rule rule--info">"Not a password leaked in data breaches, and not containing \"keyhold\" (checked when you submit)"</li>
        </ul>
        <p class="strength-line" aria-live="polite">
            "Strength: "
            <span class=move || if length() == 0 { "strength" } else { strength().class() }>
                {move || if length() == 0 { "—" } else { strength().label() }}
            </span>
        </p>
    }
    .into_any()
}

#[derive(Clone)]
struct PasswordChange {
    current: String,
    new: String,
    code: String,
}

/// "Change password" on the profile page.
#[component]
pub fn AccountSecurity(
    /// The signed-in user's username and e-mail (the new password must not contain them).
    identity: Signal<(String, String)>,
) -> impl IntoView {
    let session = use_session();
    let (current, new, code) = (
        NodeRef::<Input>::new(),
        NodeRef::<Input>::new(),
        NodeRef::<Input>::new(),
    );
    let new_value = RwSignal::new(String::new());
    let errors = FormErrors::new(&["current_password", "new_password", "code", "recovery_code"]);
    let changed = RwSignal::new(false);
    let passkeys = SecondFactors::passkeys();
    let action = Action::new(move |input: &PasswordChange| {
        let (input, passkeys) = (input.clone(), passkeys.get_untracked());
        async move {
            change_password(ChangePasswordRequest {
                second_factor: second_factor_for(input.code, passkeys).await?,
                current_password: input.current,
                new_password: input.new,
            })
            .await
        }
    });
    on_result(action, errors, move |token| {
        session.sign_in(&token.access_token);
        changed.set(true);
        new_value.set(String::new());
        for input in [current, new, code] {
            if let Some(input) = input.get_untracked() {
                input.set_value("");
            }
        }
    });
    let submit = move |event: SubmitEvent| {
        event.prevent_default();
        errors.set(None);
        changed.set(false);
        action.dispatch(PasswordChange {
            current: input_value(current),
            new: input_value(new),
            code: input_value(code),
        });
    };

    view! {
        <section class="section" aria-labelledby="password-title">
            <h2 id="password-title" class="section__title">"Change password"</h2>
            <form class="form" method="post" on:submit=submit novalidate=true>
                <FormAlert message=errors.general() />
                <TextField
                    label="Current password"
                    name="current_password"
                    kind="password"
                    node_ref=current
                    autocomplete="current-password"
                    error=errors.for_field("current_password")
                />
                <TextField
                    label="New password"
                    name="new_password"
                    kind="password"
                    node_ref=new
                    autocomplete="new-password"
                    value=new_value
                    error=errors.for_field("new_password")
                />
                <PasswordRules password=new_value identity />
                <SecondFactorField node_ref=code errors />
                <p class="notice" role="status">
                    {move || changed.get().then_some("Password changed. Every other device has been signed out.")}
                </p>
                <SubmitButton
                    label="Change password"
                    pending_label="Changing password…"
                    pending=action.pending().into()
                    ready=Signal::derive(move || session.ready())
                />
            </form>
        </section>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_and_repeats_are_weak() {
        assert_eq!(estimate_strength("aaaaaaaaaaaaaaaaaaaa"), Strength::Weak);
        assert_eq!(estimate_strength("abcdefghijklmnopqrstu"), Strength::Weak);
        assert_eq!(estimate_strength("123456789012345"), Strength::Weak);
    }

    #[test]
    fn passphrases_are_strong() {
        assert_eq!(
            estimate_strength("correct horse battery staple"),
            Strength::Strong
        );
        assert_eq!(estimate_strength("Tr0ub4dour&3xyzQ"), Strength::Strong);
    }

    #[test]
    fn mid_length_mixed_is_fair() {
        assert_eq!(estimate_strength("sunset river"), Strength::Fair);
    }
}
