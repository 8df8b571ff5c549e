//! The answer to an authorization request, as the URL the browser is sent to: the
//! checked redirect URI with `code` and `state`, or `error`, `error_description` and
//! `state`, and always `iss` (RFC 9207, so a client talking to several providers knows
//! which one answered). Added with the URL parser's form encoding, after the registered
//! URI's own query, which is kept (RFC 6749 §3.1.2).

use super::authorization_request::ErrorRedirect;
use url::Url;

/// The URL for a granted request. `redirect_uri` is `AuthorizationRequest::redirect_uri`;
/// it passed the registration rules, so it parses (an error here is Keyhold's, for its
/// own page, never a redirect).
pub fn success_redirect(
    redirect_uri: &str,
    code: &str,
    state: Option<&str>,
    issuer: &str,
) -> Result<String, url::ParseError> {
    answer(redirect_uri, &[("code", code)], state, issuer)
}

/// The URL for a refused request, to the redirect URI checked before it was refused.
pub fn error_redirect(refusal: &ErrorRedirect, issuer: &str) -> Result<String, url::ParseError> {
    answer(
        &refusal.redirect_uri,
        &[
            ("error", refusal.error.as_str()),
            ("error_description", refusal.description),
        ],
        refusal.state.as_deref(),
        issuer,
    )
}

fn answer(
    redirect_uri: &str,
    pairs: &[(&str, &str)],
    state: Option<&str>,
    issuer: &str,
) -> Result<String, url::ParseError> {
    let mut url = Url::parse(redirect_uri)?;
    {
        let mut query = url.query_pairs_mut();
        query.extend_pairs(pairs);
        if let Some(state) = state {
            query.append_pair("state", state);
        }
        query.append_pair("iss", issuer);
    }
    Ok(url.into())
}

#[cfg(test)]
mod tests {
    use super::super::authorization_request::tests::{check, with, REDIRECT};
    use super::super::authorization_request::AuthorizationError;
    use super::*;

    const ISSUER: &str = "https://id.example.com";

    fn query(url: &str) -> (Url, Vec<(String, String)>) {
        let url = Url::parse(url).unwrap();
        let pairs = url.query_pairs().into_owned().collect();
        (url, pairs)
    }

    fn pairs(values: &[(&str, &str)]) -> Vec<(String, String)> {
        values
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn a_code_goes_back_with_state_exactly_and_the_issuer() {
        let state = "a b&c=d+e#f/?é%20\"<x>";
        let answer = success_redirect(REDIRECT, "the-code", Some(state), ISSUER).unwrap();
        assert!(answer.starts_with("https://client.example.com/cb?tenant=a&code=the-code&"));
        let (url, got) = query(&answer);
        assert_eq!(url.host_str(), Some("client.example.com"));
        assert_eq!(url.fragment(), None);
        assert_eq!(
            got,
            pairs(&[
                ("tenant", "a"),
                ("code", "the-code"),
                ("state", state),
                ("iss", ISSUER)
            ])
        );
        let without_state = success_redirect("com.example.app:/cb", "c", None, ISSUER).unwrap();
        assert_eq!(
            without_state,
            "com.example.app:/cb?code=c&iss=https%3A%2F%2Fid.example.com"
        );
    }

    #[test]
    fn an_error_goes_back_to_the_registered_uri_and_nowhere_else() {
        // A hostile state tries to add parameters, a fragment or another target.
        let state = "x&redirect_uri=https://evil.example/#@evil.example";
        let refused = check(&with(&[
            ("response_type", Some("token")),
            ("state", Some(state)),
        ]));
        let Err(AuthorizationError::RedirectBack(back)) = refused else {
            panic!("not sent back: {refused:?}");
        };
        let (url, got) = query(&error_redirect(&back, ISSUER).unwrap());
        assert_eq!(
            (url.scheme(), url.host_str(), url.path()),
            ("https", Some("client.example.com"), "/cb")
        );
        assert_eq!(url.fragment(), None);
        assert_eq!(
            got,
            pairs(&[
                ("tenant", "a"),
                ("error", "unsupported_response_type"),
                ("error_description", back.description),
                ("state", state),
                ("iss", ISSUER),
            ])
        );
    }

    #[test]
    fn error_descriptions_use_the_allowed_characters() {
        // RFC 6749 §4.1.2.1: %x20-21 / %x23-5B / %x5D-7E (no quote, no backslash).
        for changes in [
            vec![("response_type", Some("token"))],
            vec![("response_type", None)],
            vec![("code_challenge", None)],
            vec![("code_challenge_method", Some("plain"))],
            vec![("code_challenge", Some("short"))],
            vec![("scope", Some("openid admin"))],
            vec![("scope", Some("email"))],
            vec![("prompt", Some("none login"))],
            vec![("max_age", Some("x"))],
            vec![("request", Some("x"))],
            vec![("request_uri", Some("x"))],
            vec![("registration", Some("x"))],
            vec![("response_mode", Some("fragment"))],
        ] {
            let Err(AuthorizationError::RedirectBack(back)) = check(&with(&changes)) else {
                panic!("{changes:?} not sent back");
            };
            let allowed = |b: u8| matches!(b, 0x20..=0x21 | 0x23..=0x5B | 0x5D..=0x7E);
            assert!(
                back.description.bytes().all(allowed),
                "{}",
                back.description
            );
        }
    }
}
