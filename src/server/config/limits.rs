//! The throttling settings: every budget of `throttle::Limits`, each `KEYHOLD_RATE_*` an
//! `<attempts>/<period>` (`10/10m`: a burst of 10, then one more every minute).

use super::{duration, parse, parse_duration, ConfigError};
use crate::server::throttle::{Limits, Rule};
use std::time::Duration;

/// The throttling budgets: `KEYHOLD_RATE_*` are `<attempts>/<period>` (`10/10m`: a
/// burst of 10, then one more every minute).
pub(super) fn limits(get: &impl Fn(&str) -> Option<String>) -> Result<Limits, ConfigError> {
    let defaults = Limits::default();
    let Rule::Backoff { base, quiet, .. } = defaults.login_per_account else {
        unreachable!("the per-account log-in limit is a backoff")
    };
    Ok(Limits {
        login_from_address: rate(
            get,
            "KEYHOLD_RATE_LOGIN_ADDRESS",
            defaults.login_from_address,
        )?,
        login_per_address: rate(get, "KEYHOLD_RATE_LOGIN", defaults.login_per_address)?,
        login_per_device: rate(get, "KEYHOLD_RATE_LOGIN_DEVICE", defaults.login_per_device)?,
        login_per_account: Rule::Backoff {
            free: parse(get, "KEYHOLD_LOGIN_FREE_FAILURES", 10)?,
            base,
            cap: duration(get, "KEYHOLD_LOGIN_MAX_DELAY", Duration::from_secs(300))?,
            quiet,
        },
        confirm: rate(get, "KEYHOLD_RATE_CONFIRM", defaults.confirm)?,
        registration_per_address: rate(
            get,
            "KEYHOLD_RATE_REGISTRATION",
            defaults.registration_per_address,
        )?,
        profile_per_address: rate(get, "KEYHOLD_RATE_PROFILE", defaults.profile_per_address)?,
        upload_per_account: rate(get, "KEYHOLD_RATE_UPLOAD", defaults.upload_per_account)?,
        upload_per_address: rate(
            get,
            "KEYHOLD_RATE_UPLOAD_ADDRESS",
            defaults.upload_per_address,
        )?,
        recovery_per_address: rate(get, "KEYHOLD_RATE_RECOVERY", defaults.recovery_per_address)?,
        passkey_per_address: rate(get, "KEYHOLD_RATE_PASSKEY", defaults.passkey_per_address)?,
        max_keys: Some(parse(get, "KEYHOLD_THROTTLE_MAX_KEYS", defaults.max_keys)?)
            .filter(|keys| *keys > 0)
            .ok_or_else(|| ConfigError::Invalid {
                name: "KEYHOLD_THROTTLE_MAX_KEYS",
                reason: "keep at least 1 state".into(),
            })?,
        passkey_ceremony_per_account: rate(
            get,
            "KEYHOLD_RATE_PASSKEY_CEREMONY",
            defaults.passkey_ceremony_per_account,
        )?,
        address_mail_per_account: rate(
            get,
            "KEYHOLD_RATE_ADDRESS_MAIL",
            defaults.address_mail_per_account,
        )?,
    })
}

/// A `<attempts>/<period>` setting, `default` when unset.
fn rate(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    default: Rule,
) -> Result<Rule, ConfigError> {
    let Some(text) = get(name) else {
        return Ok(default);
    };
    let parsed = text.trim().split_once('/').and_then(|(count, period)| {
        let burst: u32 = count.trim().parse().ok().filter(|n| *n > 0)?;
        let period = parse_duration(period).filter(|p| !p.is_zero())?;
        Some(Rule::Bucket {
            burst,
            interval: period / burst,
        })
    });
    parsed.ok_or_else(|| ConfigError::Invalid {
        name,
        reason: format!("{text:?} is not <attempts>/<period> such as 10/10m"),
    })
}
