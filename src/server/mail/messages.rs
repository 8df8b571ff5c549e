//! What Keyhold writes: each message in plain text and simple HTML, with the product's
//! name, what happened, the link, how long it works and what to do if it was not you.

use crate::api::security_events::ActivityKind;

/// A message's subject and bodies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Composed {
    pub subject: String,
    pub text: String,
    pub html: String,
}

const PRODUCT: &str = "Keyhold";

pub fn password_reset(link: &str, minutes: i64) -> Composed {
    compose(
        "Reset your Keyhold password",
        &["Somebody (we hope you) asked to reset the password of your Keyhold account."],
        Some(("Choose a new password", link)),
        &[
            &format!("The link works once, for {minutes} minutes."),
            "If you did not ask for this, ignore this message: your password stays as it is. \
             If it keeps happening, somebody knows your e-mail address; nothing more.",
        ],
    )
}

pub fn password_changed(login_url: &str) -> Composed {
    compose(
        "Your Keyhold password was changed",
        &[
            "The password of your Keyhold account was just reset with a link sent to this \
           address. Every device that was signed in has been signed out.",
        ],
        Some(("Log in", login_url)),
        &[
            "If this was not you, reset your password again right away from the log-in page \
           (\"Forgot password?\"), and check that nobody else can read your e-mail.",
        ],
    )
}

pub fn authenticator_locked(login_url: &str, wrong_codes: i64) -> Composed {
    compose(
        "Your Keyhold authenticator app was locked",
        &[&format!(
            "Somebody entered {wrong_codes} wrong codes in a row for the authenticator app of \
             your Keyhold account, after the right password. To keep them from guessing, \
             the app's codes are no longer accepted."
        )],
        Some(("Log in", login_url)),
        &[
            "To sign in, use one of your recovery codes or a passkey: that unlocks the app. \
             If this was not you, somebody knows your password: change it right away.",
        ],
    )
}

/// The mail telling the owner of a change to how their account signs in (ASVS 5.0
/// 6.3.7: an intruder must not remove a factor silently); `None` for other events.
pub fn security_notice(kind: ActivityKind, security_url: &str) -> Option<Composed> {
    let (subject, what) = match kind {
        ActivityKind::PasswordChanged => (
            "New password on your Keyhold account",
            "The password of your Keyhold account was changed from its profile. Every other \
             device that was signed in has been signed out.",
        ),
        ActivityKind::AuthenticatorAppRemoved => (
            "Two-step verification was turned off on your Keyhold account",
            "The authenticator app and its recovery codes were removed from your Keyhold \
             account: signing in no longer asks for its code.",
        ),
        ActivityKind::PasskeyAdded => (
            "A passkey was added to your Keyhold account",
            "A new passkey can now be used to sign in to your Keyhold account.",
        ),
        ActivityKind::RecoveryCodeUsed => (
            "A recovery code of your Keyhold account was used",
            "One of your recovery codes was just used in place of the authenticator app's \
             code. Each code works once.",
        ),
        _ => return None,
    };
    Some(compose(
        subject,
        &[what],
        Some(("Review your security settings", security_url)),
        &[
            "If this was not you, somebody else can sign in to your account: reset your \
           password from the log-in page (\"Forgot password?\") and review the devices \
           signed in and your second factors.",
        ],
    ))
}

pub fn verify_email(link: &str, hours: i64, change: bool) -> Composed {
    let what = if change {
        "You asked to use this address for your Keyhold account. It takes effect when you \
         confirm it."
    } else {
        "Welcome to Keyhold! Please confirm that this address is yours."
    };
    compose(
        "Confirm your e-mail address for Keyhold",
        &[what],
        Some(("Confirm this address", link)),
        &[
            &format!("The link works once, for {hours} hours."),
            "If you did not sign up or ask for this, ignore this message: nothing changes.",
        ],
    )
}

pub fn email_changed(new_address: &str, undo_link: &str, days: i64) -> Composed {
    compose(
        "Your Keyhold e-mail address was changed",
        &[&format!(
            "The e-mail address of your Keyhold account was changed to {new_address}. \
             Messages about the account now go there."
        )],
        Some(("This wasn't me: undo the change", undo_link)),
        &[&format!(
            "If this was you, there is nothing to do. If not, follow the link within \
             {days} days: it puts this address back and signs every device out; then \
             reset your password."
        )],
    )
}

/// `name@example.com` → `n***@example.com`: enough to recognise, not to read out.
pub fn masked(address: &str) -> String {
    match address.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".into(),
    }
}

fn compose(
    subject: &str,
    intro: &[&str],
    action: Option<(&str, &str)>,
    outro: &[&str],
) -> Composed {
    let mut text = String::new();
    let mut html = String::from(
        "<!doctype html>\n<html><body style=\"font-family: sans-serif; line-height: 1.5\">\n",
    );
    for line in intro {
        text.push_str(&format!("{line}\n\n"));
        html.push_str(&format!("<p>{}</p>\n", escape(line)));
    }
    if let Some((label, url)) = action {
        text.push_str(&format!("{label}:\n{url}\n\n"));
        html.push_str(&format!(
            "<p><a href=\"{}\">{}</a></p>\n<p style=\"font-size: 0.9em\">{}</p>\n",
            escape(url),
            escape(label),
            escape(url)
        ));
    }
    for line in outro {
        text.push_str(&format!("{line}\n\n"));
        html.push_str(&format!("<p>{}</p>\n", escape(line)));
    }
    text.push_str(&format!("-- \n{PRODUCT}\n"));
    html.push_str(&format!("<p>&mdash; {PRODUCT}</p></body></html>"));
    Composed {
        subject: subject.to_owned(),
        text,
        html,
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_carry_the_link_its_lifetime_and_what_to_do() {
        let link = "https://id.example/reset-password?token=abc";
        let mail = password_reset(link, 30);
        assert!(mail.text.contains(link));
        assert!(mail.text.contains("30 minutes"));
        assert!(mail.text.contains("If you did not ask for this"));
        assert!(mail
            .html
            .contains("href=\"https://id.example/reset-password?token=abc\""));
        assert_eq!(masked("ada@example.com"), "a***@example.com");
        assert!(escape("<a href=\"x\">&").eq("&lt;a href=&quot;x&quot;&gt;&amp;"));
    }
}
