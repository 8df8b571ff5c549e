//! Input rules for accounts (docs/security.md "Passwords" and "Input", NIST SP 800-63B-4):
//! each check returns the normalized value or a message naming the field and the rule.

use super::breached_passwords;
use unicode_normalization::UnicodeNormalization;

pub const USERNAME_MIN: usize = 3;
pub const USERNAME_MAX: usize = 32;
pub const EMAIL_MAX: usize = 254;
/// The service's name: a word people put in the password they choose for it.
pub const SERVICE_NAME: &str = "keyhold";

/// A rule broken by a field, with a message for a person.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct Invalid {
    pub field: &'static str,
    pub message: String,
}

fn invalid(field: &'static str, message: impl Into<String>) -> Invalid {
    Invalid {
        field,
        message: message.into(),
    }
}

/// Length limits for passwords, in Unicode characters after NFKC.
#[derive(Debug, Clone, Copy)]
pub struct PasswordPolicy {
    pub min_chars: usize,
    pub max_chars: usize,
}

/// A registration that passed every rule, normalized for storage.
#[derive(Clone)]
pub struct Registration {
    pub username: String,
    pub email: String,
    pub password: String,
}

debug_without_secrets!(Registration { username, email });

impl Registration {
    pub fn check(
        username: &str,
        email: &str,
        password: &str,
        policy: PasswordPolicy,
    ) -> Result<Self, Invalid> {
        let username = username_rule(username)?;
        let email = email_rule(email)?;
        let password = policy.check(password, &username, &email)?;
        Ok(Self {
            username,
            email,
            password,
        })
    }
}

/// 3–32 characters of `[A-Za-z0-9_.-]`; surrounding spaces are dropped.
pub fn username_rule(raw: &str) -> Result<String, Invalid> {
    let username = raw.trim();
    let length = username.chars().count();
    if !(USERNAME_MIN..=USERNAME_MAX).contains(&length) {
        return Err(invalid(
            "username",
            format!("Username must be {USERNAME_MIN} to {USERNAME_MAX} characters long."),
        ));
    }
    if !username
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
    {
        return Err(invalid(
            "username",
            "Username may only contain letters, digits, '.', '_' and '-'.",
        ));
    }
    Ok(username.to_owned())
}

/// A plausible mailbox `local@domain.tld`, at most 254 characters, domain lower-cased.
pub fn email_rule(raw: &str) -> Result<String, Invalid> {
    let email = raw.trim();
    let not_an_address = || invalid("email", "Enter an e-mail address such as name@example.com.");
    if email.is_empty() {
        return Err(invalid("email", "E-mail is required."));
    }
    if email.chars().count() > EMAIL_MAX {
        return Err(invalid(
            "email",
            format!("E-mail must be at most {EMAIL_MAX} characters."),
        ));
    }
    let (local, domain) = email.rsplit_once('@').ok_or_else(not_an_address)?;
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| !c.is_whitespace() && !c.is_control() && !"@<>()[]\\,;:\"".contains(c));
    let domain_ok = domain.contains('.')
        && domain.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        });
    if !local_ok || !domain_ok {
        return Err(not_an_address());
    }
    Ok(format!("{local}@{}", domain.to_lowercase()))
}

/// The key a username or e-mail is unique under (case-insensitive).
pub fn lookup_key(identifier: &str) -> String {
    identifier.trim().to_lowercase()
}

/// Normalizes a password the same way at sign-up and at log-in (NFKC, no trimming).
pub fn normalize_password(raw: &str) -> String {
    raw.nfkc().collect()
}

impl PasswordPolicy {
    /// The NFKC-normalized password if it keeps every rule.
    pub fn check(&self, raw: &str, username: &str, email: &str) -> Result<String, Invalid> {
        let password = normalize_password(raw);
        let length = password.chars().count();
        if length < self.min_chars {
            return Err(invalid(
                "password",
                format!(
                    "Password must be at least {} characters long.",
                    self.min_chars
                ),
            ));
        }
        if length > self.max_chars {
            return Err(invalid(
                "password",
                format!(
                    "Password must be at most {} characters long.",
                    self.max_chars
                ),
            ));
        }
        let lowered = password.to_lowercase();
        breach_rule(&lowered)?;
        let name = username.to_lowercase();
        let mailbox = email.to_lowercase();
        let local = mailbox.split('@').next().unwrap_or_default();
        let contains = |part: &str| part.chars().count() >= USERNAME_MIN && lowered.contains(part);
        if contains(&name) || contains(&mailbox) || contains(local) {
            return Err(invalid(
                "password",
                "Password must not contain your username or e-mail address.",
            ));
        }
        if lowered.contains(SERVICE_NAME) {
            return Err(invalid(
                "password",
                format!("Password must not contain the name of this site, \"{SERVICE_NAME}\"."),
            ));
        }
        Ok(password)
    }
}

/// Refuses a lower-cased password on the breach list, or one that is a listed password
/// with digits or symbols added at the end (`stairwaytoheaven2024!`): the first thing a
/// guesser tries after the list itself.
fn breach_rule(lowered: &str) -> Result<(), Invalid> {
    if breached_passwords::is_listed(lowered) {
        return Err(invalid(
            "password",
            "This password is on a list of the most common passwords leaked in data breaches; choose another.",
        ));
    }
    let stem = lowered.trim_end_matches(|c: char| !c.is_alphabetic());
    if stem.len() < lowered.len() && breached_passwords::is_listed(stem) {
        return Err(invalid(
            "password",
            "This is a password leaked in data breaches with digits or symbols added at the end; choose another.",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: PasswordPolicy = PasswordPolicy {
        min_chars: 15,
        max_chars: 256,
    };

    #[test]
    fn usernames() {
        assert_eq!(username_rule("  alice_01 ").unwrap(), "alice_01");
        assert_eq!(username_rule("a.b-c").unwrap(), "a.b-c");
        assert!(username_rule("ab").is_err());
        assert!(username_rule(&"a".repeat(33)).is_err());
        assert!(username_rule("al ice").is_err());
        assert!(username_rule("alice@x").is_err());
        assert!(username_rule("<script>").is_err());
        assert!(username_rule("ålice").is_err());
        assert_eq!(username_rule("").unwrap_err().field, "username");
    }

    #[test]
    fn emails() {
        assert_eq!(
            email_rule("Alice@Example.COM").unwrap(),
            "Alice@example.com"
        );
        assert!(email_rule("alice@example").is_err());
        assert!(email_rule("alice").is_err());
        assert!(email_rule("@example.com").is_err());
        assert!(email_rule("a lice@example.com").is_err());
        assert!(email_rule("alice@-example.com").is_err());
        assert!(email_rule("alice@exa mple.com").is_err());
        assert!(email_rule(&format!("{}@example.com", "a".repeat(250))).is_err());
        assert_eq!(email_rule("").unwrap_err().message, "E-mail is required.");
    }

    #[test]
    fn password_length_counts_characters_after_nfkc() {
        assert!(POLICY.check("short", "alice", "a@b.co").is_err());
        // 15 characters, 30 bytes: accepted.
        assert!(POLICY.check("ééééééééééééééé", "alice", "a@b.co").is_ok());
        assert!(POLICY.check(&"x".repeat(257), "alice", "a@b.co").is_err());
        assert!(POLICY.check(&"xy".repeat(128), "alice", "a@b.co").is_ok());
        // The full-width form normalizes to ASCII, so both log in the same.
        assert_eq!(normalize_password("ｐａｓｓ"), "pass");
    }

    #[test]
    fn common_passwords_are_refused_at_the_lowest_minimum() {
        let policy = PasswordPolicy {
            min_chars: 8,
            max_chars: 256,
        };
        let err = policy.check("password1", "alice", "a@b.co").unwrap_err();
        assert!(err.message.contains("most common passwords"));
        assert!(policy.check("Qwertyuiop", "alice", "a@b.co").is_err());
        assert!(policy
            .check("violet harbor tuesday", "alice", "a@b.co")
            .is_ok());
    }

    #[test]
    fn breached_passwords_of_the_policy_length_are_refused() {
        // Beyond the 10 000 most common, each at least 15 characters, in any case or width.
        for breached in [
            "stairwaytoheaven",
            "StairwayToHeaven",
            "WORLDOFWARCRAFT",
            "ＭａｎｃｈｅｓｔｅｒＵｎｉｔｅｄ",
            "1qazxsw23edcvfr4",
        ] {
            let err = POLICY.check(breached, "alice", "a@b.co").unwrap_err();
            assert_eq!(err.field, "password");
            assert!(err.message.contains("data breaches"), "{breached}: {err}");
        }
        let listed = breached_passwords::all().filter(|p| p.chars().count() >= POLICY.min_chars);
        for breached in listed {
            let err = POLICY.check(breached, "alice", "a@b.co").unwrap_err();
            assert!(err.message.contains("data breaches"), "{breached}: {err}");
        }
    }

    #[test]
    fn breached_passwords_with_digits_or_symbols_added_are_refused() {
        for variant in [
            "ManchesterUnited1999!",
            "stairwaytoheaven 2024",
            "passwordpassword!!",
        ] {
            let err = POLICY.check(variant, "alice", "a@b.co").unwrap_err();
            assert!(err.message.contains("added at the end"), "{variant}: {err}");
        }
        // Only at the end, and only a listed stem: words after it or an unlisted stem pass.
        assert!(POLICY
            .check("stairwaytoheaven and a kettle", "alice", "a@b.co")
            .is_ok());
        assert!(POLICY
            .check("violet harbor tuesday 42", "alice", "a@b.co")
            .is_ok());
    }

    #[test]
    fn the_service_name_and_the_username_are_refused() {
        for with_the_name in [
            "keyholdkeyhold15",
            "My Keyhold password!",
            "KEYHOLD-2024-secret",
        ] {
            let err = POLICY.check(with_the_name, "alice", "a@b.co").unwrap_err();
            assert_eq!(err.field, "password");
            assert!(
                err.message.contains("\"keyhold\""),
                "{with_the_name}: {err}"
            );
        }
        let err = POLICY
            .check("Verylongusername1", "verylongusername1", "v@b.co")
            .unwrap_err();
        assert!(err.message.contains("username"));
        let err = POLICY
            .check(
                "mailbox.owner.here",
                "someone",
                "Mailbox.Owner.Here@example.com",
            )
            .unwrap_err();
        assert!(err.message.contains("e-mail"));
    }

    #[test]
    fn a_strong_password_is_accepted() {
        let checked = POLICY
            .check("correct horse battery staple", "alice", "alice@example.com")
            .unwrap();
        assert_eq!(checked, "correct horse battery staple");
        assert!(POLICY
            .check("Ünïcode pässphrase, nicht geleakt", "alice", "a@b.co")
            .is_ok());
    }

    #[test]
    fn passwords_containing_the_identity_are_refused() {
        let err = POLICY
            .check("my name is alice, ok?", "Alice", "x@y.co")
            .unwrap_err();
        assert!(err.message.contains("username"));
        assert!(POLICY
            .check("xx-bob.smith@mail.com-xx", "bobby", "bob.smith@mail.com")
            .is_err());
        assert!(POLICY
            .check("hello bob.smith friends", "bobby", "bob.smith@mail.com")
            .is_err());
    }

    #[test]
    fn a_checked_registration_never_prints_its_password() {
        let password = "a passphrase nobody may log";
        let checked = Registration::check("alice", "alice@example.com", password, POLICY).unwrap();
        let printed = format!("{checked:?} {checked:#?}");
        assert!(printed.contains("alice@example.com"));
        assert!(!printed.contains(password), "{printed}");
    }
}
