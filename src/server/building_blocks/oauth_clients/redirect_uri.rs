//! Redirect URIs: which an application may register (RFC 8252 §7, RFC 9700 §4.1), and
//! whether a presented `redirect_uri` is one of them: compared exactly, character for
//! character (RFC 9700 §2.1), except that a loopback IP redirect matches whatever port
//! the native app listens on (RFC 8252 §7.3).
//!
//! `localhost` is not a loopback address here (RFC 8252 §8.3): the name can resolve
//! elsewhere (a hosts file, a resolver), so `http://localhost` is refused at registration
//! with a hint to use `127.0.0.1` or `[::1]`, and gets no port leeway. `https://localhost`
//! is an ordinary https URI, matched exactly.

use super::RegistrationError;
use std::net::{Ipv4Addr, Ipv6Addr};
use url::{Host, Url};

/// The longest redirect URI accepted, in bytes.
pub const MAX_URI_LEN: usize = 2000;

/// The URIs of `values` after the registration rules, each once, in the order given.
/// `required`: at least one (redirect URIs; post-logout redirect URIs may be none).
pub fn registered_uris(
    values: &[String],
    required: bool,
) -> Result<Vec<String>, RegistrationError> {
    if required && values.is_empty() {
        return Err(RegistrationError::NoRedirectUri);
    }
    let mut uris: Vec<String> = Vec::with_capacity(values.len());
    for value in values {
        check_registration(value)?;
        if !uris.contains(value) {
            uris.push(value.clone());
        }
    }
    Ok(uris)
}

/// Refuses a URI an application may not register, saying why. Kept as given when
/// accepted: matching compares the text.
pub fn check_registration(text: &str) -> Result<(), RegistrationError> {
    let refuse = |reason: &str| RegistrationError::RedirectUri {
        uri: text.to_owned(),
        reason: reason.to_owned(),
    };
    if text.is_empty() || text.len() > MAX_URI_LEN {
        return Err(refuse("it must be 1 to 2000 characters"));
    }
    // The parser drops tabs, newlines and surrounding spaces; the stored text must be
    // exactly what is matched, so none are accepted (percent-encode other characters).
    if !text.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(refuse(
            "only printable ASCII without spaces (percent-encode other characters)",
        ));
    }
    let url = Url::parse(text).map_err(|_| refuse("it is not an absolute URI"))?;
    if url.fragment().is_some() {
        return Err(refuse(
            "it has a fragment (#…), which a redirect URI must not",
        ));
    }
    if has_userinfo(text, &url) {
        return Err(refuse(
            "it has a user name or password (…@) before the host",
        ));
    }
    match url.scheme() {
        "https" => Ok(()),
        "http" => check_http(text, &url).map_err(|reason| refuse(&reason)),
        // RFC 8252 §7.1: a private-use scheme is a reverse domain name the app owns,
        // so it has a dot; javascript:, data:, file: and the like have none.
        scheme if scheme.contains('.') => Ok(()),
        _ => Err(refuse(
            "the scheme must be https, http on a loopback address, or an app's \
             private-use scheme with a dot such as com.example.app (RFC 8252 §7.1)",
        )),
    }
}

/// `http` only on a loopback IP literal, written as the parser writes it back (the port
/// is then the one part that may differ, see `loopback_without_port`).
fn check_http(text: &str, url: &Url) -> Result<(), String> {
    if url.host() == Some(Host::Domain("localhost")) {
        return Err(
            "write the loopback address as http://127.0.0.1 or http://[::1]: \
                    localhost may resolve elsewhere (RFC 8252 §8.3)"
                .into(),
        );
    }
    if !is_loopback_ip(url) {
        return Err(
            "http is allowed only on a loopback address (127.0.0.1 or [::1]); \
                    use https"
                .into(),
        );
    }
    if url.as_str() != text {
        return Err(format!("write it as {}", url.as_str()));
    }
    Ok(())
}

fn is_loopback_ip(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip == Ipv4Addr::LOCALHOST,
        Some(Host::Ipv6(ip)) => ip == Ipv6Addr::LOCALHOST,
        _ => false,
    }
}

/// Whether the authority holds `user[:password]@`, even an empty one (`https://@host/`,
/// which the parser writes back without it).
fn has_userinfo(text: &str, url: &Url) -> bool {
    if !url.username().is_empty() || url.password().is_some() {
        return true;
    }
    let Some((_, rest)) = text.split_once("://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    authority.contains('@')
}

/// Whether `presented` (a request's `redirect_uri`) is one of `registered`.
pub fn is_registered(registered: &[String], presented: &str) -> bool {
    registered.iter().any(|uri| matches(uri, presented))
}

/// Exact comparison, except that two `http` loopback IP URIs that differ only by their
/// port match (RFC 8252 §7.3: a native app listens on whatever port it is given).
pub fn matches(registered: &str, presented: &str) -> bool {
    if registered == presented {
        return true;
    }
    match (
        loopback_without_port(registered),
        loopback_without_port(presented),
    ) {
        (Some(registered), Some(presented)) => registered == presented,
        _ => false,
    }
}

/// An `http` URI on a loopback IP literal, without its port; `None` for anything else,
/// and for text the parser would write differently (no leeway for ambiguous spellings).
fn loopback_without_port(text: &str) -> Option<String> {
    let mut url = Url::parse(text).ok()?;
    if url.scheme() != "http" || !is_loopback_ip(&url) || url.as_str() != text {
        return None;
    }
    url.set_port(None).ok()?;
    Some(url.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(text: &str) -> String {
        match check_registration(text) {
            Err(RegistrationError::RedirectUri { reason, .. }) => reason,
            other => panic!("{text:?} was not refused: {other:?}"),
        }
    }

    #[test]
    fn what_may_be_registered() {
        for good in [
            "https://client.example.com/cb",
            "https://client.example.com/cb?tenant=a",
            "https://localhost:8443/cb",
            "http://127.0.0.1/cb",
            "http://127.0.0.1:8080/cb",
            "http://[::1]:8080/cb",
            "com.example.app:/oauth2redirect",
            "com.example.app://callback",
        ] {
            assert_eq!(check_registration(good), Ok(()), "{good}");
        }
    }

    #[test]
    fn what_may_not_be_registered() {
        for (bad, why) in [
            ("http://client.example.com/cb", "loopback"),
            ("http://10.0.0.1/cb", "loopback"),
            ("http://127.0.0.2/cb", "loopback"),
            ("http://localhost:8080/cb", "RFC 8252 §8.3"),
            ("javascript:alert(1)", "scheme"),
            ("JavaScript://%0aalert(1)", "scheme"),
            ("data:text/html,<script>alert(1)</script>", "scheme"),
            ("file:///etc/passwd", "scheme"),
            ("ftp://client.example.com/", "scheme"),
            ("https://client.example.com/cb#frag", "fragment"),
            ("https://client.example.com/cb#", "fragment"),
            ("https://client.example@evil.example/", "user name"),
            ("https://user:pass@client.example.com/", "user name"),
            ("https://@evil.example/", "user name"),
            ("/cb", "absolute"),
            ("client.example.com/cb", "absolute"),
            ("https://client.example.com/c b", "ASCII"),
            ("https://client.example.com/c\nb", "ASCII"),
            (" https://client.example.com/cb", "ASCII"),
            ("https://client.example.com/caf\u{e9}", "ASCII"),
            ("", "1 to 2000"),
            ("http://127.0.0.1:80/cb", "write it as http://127.0.0.1/cb"),
            ("http://127.0.0.1:8080/a/../cb", "write it as"),
        ] {
            let reason = refused(bad);
            assert!(reason.contains(why), "{bad:?}: {reason}");
        }
        let long = format!("https://client.example.com/{}", "a".repeat(2000));
        assert!(refused(&long).contains("1 to 2000"));
    }

    #[test]
    fn a_list_is_deduplicated_and_needs_one_redirect_uri() {
        let given = vec![
            "https://a.example/cb".to_owned(),
            "https://a.example/cb".to_owned(),
        ];
        assert_eq!(registered_uris(&given, true).unwrap().len(), 1);
        assert_eq!(
            registered_uris(&[], true),
            Err(RegistrationError::NoRedirectUri)
        );
        assert_eq!(registered_uris(&[], false), Ok(vec![]));
        let mixed = vec![
            "https://a.example/cb".to_owned(),
            "http://a.example/cb".to_owned(),
        ];
        assert!(registered_uris(&mixed, true).is_err());
    }

    #[test]
    fn presented_uris_match_exactly() {
        let registered = vec!["https://client.example.com/cb".to_owned()];
        assert!(is_registered(&registered, "https://client.example.com/cb"));
        for attack in [
            "https://client.example.com.evil.example/cb",
            "https://client.example.com/cb/../evil",
            "https://client.example.com/other",
            "https://client.example.com/cb/",
            "https://client.example.com/cb?next=https://evil.example",
            "https://client.example.com/cb#",
            "https://client.example.com/cb#evil",
            "http://client.example.com/cb",
            "https://client.example@evil.example/cb",
            "https://evil.example/cb",
            "https://CLIENT.example.com/cb",
            "https://client.example.com:443/cb",
            "https://client.example.com:8443/cb",
            "https://client.example.com/CB",
            "https://client.example.com/%63b",
            "",
        ] {
            assert!(!is_registered(&registered, attack), "{attack}");
        }
    }

    #[test]
    fn a_loopback_ip_matches_any_port_and_nothing_else_does() {
        let registered = vec![
            "http://127.0.0.1:8080/cb".to_owned(),
            "http://[::1]/cb".to_owned(),
        ];
        for native in [
            "http://127.0.0.1:8080/cb",
            "http://127.0.0.1:51234/cb",
            "http://127.0.0.1/cb",
            "http://[::1]:60000/cb",
        ] {
            assert!(is_registered(&registered, native), "{native}");
        }
        for attack in [
            "http://127.0.0.1:51234/other",
            "http://127.0.0.1:51234/cb?x=1",
            "http://127.0.0.1:51234/cb#x",
            "http://127.0.0.2:8080/cb",
            "http://localhost:8080/cb",
            "https://127.0.0.1:8080/cb",
            "http://127.0.0.1:51234/a/../cb",
            "http://user@127.0.0.1:51234/cb",
            "http://127.1:51234/cb",
            "http://evil.example:8080/cb",
        ] {
            assert!(!is_registered(&registered, attack), "{attack}");
        }
        // The port leeway is for loopback IPs only.
        let web = vec!["https://client.example.com:8443/cb".to_owned()];
        assert!(!is_registered(&web, "https://client.example.com:9443/cb"));
        let named = vec!["https://localhost:8443/cb".to_owned()];
        assert!(!is_registered(&named, "https://localhost:9443/cb"));
        let private = vec!["com.example.app:/cb".to_owned()];
        assert!(is_registered(&private, "com.example.app:/cb"));
        assert!(!is_registered(&private, "com.example.app:/cb2"));
    }
}
