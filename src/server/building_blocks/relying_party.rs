//! The WebAuthn relying party: its id and origin come from `KEYHOLD_PUBLIC_URL` (never
//! from a request), built once at start-up.

use std::{net::IpAddr, time::Duration};
use webauthn_rs::prelude::{Url, Webauthn, WebauthnBuilder};

/// How long a ceremony may take: the browser's timeout, and the server-side state's life.
pub const CEREMONY_TTL: Duration = Duration::from_secs(300);

/// The site as WebAuthn sees it. Passkeys are bound to `id` (the public URL's host), and
/// browsers sign which origin asked: only the public URL's is accepted.
#[derive(Debug, Clone)]
pub struct RelyingParty {
    pub webauthn: Webauthn,
    pub id: String,
}

/// Why passkeys are off on this site.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unavailable {
    #[error("KEYHOLD_PUBLIC_URL ({0}) names an IP address; WebAuthn needs a domain name")]
    NotADomain(String),
    #[error("KEYHOLD_PUBLIC_URL ({0}) cannot serve as a WebAuthn origin")]
    Invalid(String),
}

impl RelyingParty {
    /// The relying party of the site at `public_url`. A loopback address stands for
    /// `localhost` (what a developer's browser opens); any other IP address has no
    /// domain to bind passkeys to, so passkeys are unavailable.
    pub fn from_public_url(public_url: &str) -> Result<Self, Unavailable> {
        let invalid = || Unavailable::Invalid(public_url.to_owned());
        let mut origin = Url::parse(public_url).map_err(|_| invalid())?;
        let host = origin.host_str().ok_or_else(invalid)?.to_owned();
        let address = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>();
        match address {
            Ok(ip) if ip.is_loopback() => {
                origin.set_host(Some("localhost")).map_err(|_| invalid())?;
            }
            Ok(_) => return Err(Unavailable::NotADomain(public_url.to_owned())),
            Err(_) => {}
        }
        origin.set_path("");
        let id = origin.host_str().ok_or_else(invalid)?.to_owned();
        let webauthn = WebauthnBuilder::new(&id, &origin)
            .map_err(|_| invalid())?
            .rp_name("Keyhold")
            .timeout(CEREMONY_TTL)
            .build()
            .map_err(|_| invalid())?;
        Ok(Self { webauthn, id })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_relying_party_is_the_public_url() {
        let rp = RelyingParty::from_public_url("https://id.example.com").unwrap();
        assert_eq!(rp.id, "id.example.com");
        let origins = rp.webauthn.get_allowed_origins();
        assert_eq!(origins[0].as_str(), "https://id.example.com/");
    }

    #[test]
    fn loopback_stands_for_localhost_and_other_addresses_have_no_passkeys() {
        let rp = RelyingParty::from_public_url("http://127.0.0.1:3000").unwrap();
        assert_eq!(rp.id, "localhost");
        let origins = rp.webauthn.get_allowed_origins();
        assert_eq!(origins[0].as_str(), "http://localhost:3000/");
        assert!(RelyingParty::from_public_url("http://[::1]:3000").is_ok());
        assert!(matches!(
            RelyingParty::from_public_url("http://192.0.2.7:3000"),
            Err(Unavailable::NotADomain(_))
        ));
    }
}
