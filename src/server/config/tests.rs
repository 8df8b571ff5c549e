//! The settings' defaults and refusals.
use super::*;
use secrecy::ExposeSecret;
use std::collections::HashMap;

fn config(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Config::from_lookup(|name| map.get(name).cloned())
}

#[test]
fn defaults_are_the_safe_values() {
    let c = config(&[]).unwrap();
    assert_eq!(c.argon2, Argon2Cost::default());
    assert_eq!(c.token_ttl, Duration::from_secs(900));
    assert_eq!(c.sessions.idle, Duration::from_secs(7 * 86_400));
    assert!(c.cookie_secure);
    assert_eq!(c.password_min_chars, 15);
    assert_eq!(c.image_uploads.slots, 8);
    assert_eq!(c.image_uploads.queue, 8);
    assert!((1..=2).contains(&c.image_uploads.threads));
    assert!(c
        .database_url
        .expose_secret()
        .starts_with("sqlite://data/keyhold.db"));
}

#[test]
fn hsts_is_on_when_the_public_url_is_https() {
    assert!(!config(&[]).unwrap().hsts, "plain http by default");
    let https = [("KEYHOLD_PUBLIC_URL", "https://id.example")];
    assert!(config(&https).unwrap().hsts);
    let off = [https[0], ("KEYHOLD_HSTS", "false")];
    assert!(!config(&off).unwrap().hsts);
    let plain = [
        ("KEYHOLD_PUBLIC_URL", "http://localhost:3000"),
        ("KEYHOLD_HSTS", "true"),
    ];
    assert!(config(&plain).unwrap().hsts, "asked for");
}

#[test]
fn durations_take_units() {
    assert_eq!(parse_duration("90"), Some(Duration::from_secs(90)));
    assert_eq!(parse_duration("30m"), Some(Duration::from_secs(1800)));
    assert_eq!(parse_duration("2h"), Some(Duration::from_secs(7200)));
    assert_eq!(parse_duration("1w"), None);
    assert_eq!(parse_duration("m"), None);
}

#[test]
fn bad_values_name_the_variable() {
    let err = config(&[("KEYHOLD_TOKEN_TTL", "soon")]).unwrap_err();
    assert!(err.to_string().contains("KEYHOLD_TOKEN_TTL"));
    assert!(config(&[("KEYHOLD_PASSWORD_MIN_LENGTH", "4")]).is_err());
    let err = config(&[("KEYHOLD_IMAGE_SLOTS", "0")]).unwrap_err();
    assert!(err.to_string().contains("KEYHOLD_IMAGE_SLOTS"));
    assert!(config(&[("KEYHOLD_IMAGE_THREADS", "0")]).is_err());
}

#[test]
fn secrets_never_print() {
    let c = config(&[
        (
            "KEYHOLD_JWT_SECRET",
            "jwt-secret-value-0123456789abcdef-0123",
        ),
        (
            "KEYHOLD_JWT_PREVIOUS_SECRET",
            "previous-secret-0123456789abcdef-012",
        ),
        (
            "DATABASE_URL",
            "postgres://keyhold:db-password-42@db/keyhold",
        ),
        (
            "KEYHOLD_KEY_ENCRYPTION_KEY",
            "key-encryption-value-0123456789abcdef",
        ),
        (
            "KEYHOLD_JWT_PRIVATE_KEY",
            "-----BEGIN PRIVATE KEY-----private-pem-body",
        ),
    ])
    .unwrap();
    let printed = format!("{c:?} {c:#?}");
    for secret in [
        "jwt-secret-value",
        "previous-secret",
        "db-password-42",
        "key-encryption-value",
        "private-pem-body",
    ] {
        assert!(!printed.contains(secret), "{secret} in {printed}");
    }
    assert_eq!(
        c.jwt_secret.as_ref().map(|s| s.expose_secret().len()),
        Some(38)
    );
}

#[test]
fn postgresql_needs_a_key_encryption_key() {
    let c = config(&[("KEYHOLD_JWT_ALG", "EdDSA")]).unwrap();
    assert!(c.publishes_keys());
    assert_eq!(c.jwt_key_promote_after, Duration::from_secs(1200));
    assert!(!config(&[]).unwrap().publishes_keys());
    let error = config(&[("KEYHOLD_JWT_ALG", "RS256")])
        .unwrap_err()
        .to_string();
    assert!(error.contains("KEYHOLD_JWT_ALG"), "{error}");
    let postgres = ("DATABASE_URL", "postgres://localhost/keyhold");
    let error = config(&[("KEYHOLD_JWT_ALG", "ES256"), postgres])
        .unwrap_err()
        .to_string();
    assert!(error.contains("KEYHOLD_KEY_ENCRYPTION_KEY"), "{error}");
    let kek = (
        "KEYHOLD_KEY_ENCRYPTION_KEY",
        "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZmdoaWo",
    );
    assert!(config(&[("KEYHOLD_JWT_ALG", "ES256"), postgres, kek]).is_ok());
    // It seals the authenticator secrets and queued mail too: HS256 needs it as well.
    let error = config(&[postgres]).unwrap_err().to_string();
    assert!(error.contains("KEYHOLD_KEY_ENCRYPTION_KEY"), "{error}");
    assert!(config(&[postgres, kek]).is_ok());
    assert!(config(&[]).is_ok(), "SQLite generates one");
    let weak = ("KEYHOLD_KEY_ENCRYPTION_KEY", "short");
    assert!(config(&[("KEYHOLD_JWT_ALG", "ES256"), weak]).is_err());
}
