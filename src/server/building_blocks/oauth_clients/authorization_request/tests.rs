//! Every rule of an authorization request, each by the request that breaks it.

use super::*;

/// RFC 7636 Appendix B's S256 challenge.
pub const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
pub const REDIRECT: &str = "https://client.example.com/cb?tenant=a";

const GOOD: [(&str, &str); 8] = [
    ("client_id", "client-1"),
    ("redirect_uri", REDIRECT),
    ("response_type", "code"),
    ("scope", "email openid email"),
    ("state", "xyz"),
    ("nonce", "n-0S6"),
    ("code_challenge", CHALLENGE),
    ("code_challenge_method", "S256"),
];

/// The good request with `changes` applied: `Some` replaces or adds, `None` removes.
pub fn with(changes: &[(&'static str, Option<&'static str>)]) -> Vec<(&'static str, &'static str)> {
    let mut pairs: Vec<_> = GOOD
        .iter()
        .copied()
        .filter(|(name, _)| !changes.iter().any(|(n, _)| n == name))
        .collect();
    pairs.extend(
        changes
            .iter()
            .filter_map(|(name, value)| value.map(|v| (*name, v))),
    );
    pairs
}

pub fn check<V: AsRef<str>>(
    pairs: &[(&str, V)],
) -> Result<AuthorizationRequest, AuthorizationError> {
    let uris = vec![
        REDIRECT.to_owned(),
        "http://127.0.0.1:8080/native".to_owned(),
    ];
    let scopes = vec!["openid".to_owned(), "email".to_owned()];
    let params = AuthorizationParams::from_pairs(pairs.iter().map(|(n, v)| (*n, v.as_ref())));
    let client = RegisteredClient {
        client_id: "client-1",
        redirect_uris: &uris,
        scopes: &scopes,
    };
    authorization_request(
        &params,
        params
            .client_id()
            .filter(|id| *id == "client-1")
            .map(|_| client),
    )
}

/// The error sent back, after checking it goes to the presented URI with `state`.
fn sent_back(pairs: &[(&str, &str)], state: Option<&str>) -> (ErrorCode, &'static str) {
    match check(pairs) {
        Err(AuthorizationError::RedirectBack(back)) => {
            assert_eq!(back.redirect_uri, REDIRECT);
            assert_eq!(back.state.as_deref(), state, "{pairs:?}");
            (back.error, back.description)
        }
        other => panic!("{pairs:?} not sent back: {other:?}"),
    }
}

fn shown(pairs: &[(&str, &str)]) -> PageError {
    match check(pairs) {
        Err(AuthorizationError::ShowOnPage(reason)) => reason,
        other => panic!("{pairs:?} not shown on the page: {other:?}"),
    }
}

#[test]
fn a_good_request_is_accepted_with_its_values() {
    let accepted = check(&with(&[
        ("max_age", Some("0")),
        ("login_hint", Some("ada")),
    ]))
    .unwrap();
    assert_eq!(
        accepted,
        AuthorizationRequest {
            client_id: "client-1".into(),
            redirect_uri: REDIRECT.into(),
            scopes: vec!["openid".into(), "email".into()],
            state: Some("xyz".into()),
            nonce: Some("n-0S6".into()),
            code_challenge: CHALLENGE.into(),
            prompt: Prompt::Unspecified,
            max_age: Some(0),
            login_hint: Some("ada".into()),
        }
    );
    let minimal = check(&with(&[
        ("state", None),
        ("nonce", None),
        ("response_mode", Some("query")),
    ]))
    .unwrap();
    assert_eq!((minimal.state, minimal.nonce), (None, None));
    // A native app's loopback redirect, on the port it listens on, kept as presented.
    let native = check(&with(&[(
        "redirect_uri",
        Some("http://127.0.0.1:51234/native"),
    )]))
    .unwrap();
    assert_eq!(native.redirect_uri, "http://127.0.0.1:51234/native");
}

#[test]
fn unknown_clients_and_unregistered_redirects_are_never_redirected() {
    // Each also carries a redirectable error, which must not win.
    let token = ("response_type", Some("token"));
    assert_eq!(
        shown(&with(&[("client_id", None), token])),
        PageError::MissingClientId
    );
    assert_eq!(
        shown(&with(&[("client_id", Some("client-2")), token])),
        PageError::UnknownClient
    );
    assert_eq!(
        shown(&with(&[("redirect_uri", None), token])),
        PageError::MissingRedirectUri
    );
    for attack in [
        "https://evil.example/cb",
        "https://client.example.com/cb",
        "https://client.example.com/cb?tenant=a&next=https://evil.example",
        "https://client.example.com.evil.example/cb?tenant=a",
        "https://client.example.com/cb?tenant=a#evil",
        "http://127.0.0.1:51234/other",
        "javascript:alert(1)",
    ] {
        let pairs = with(&[("redirect_uri", Some(attack)), token]);
        assert_eq!(
            shown(&pairs),
            PageError::UnregisteredRedirectUri,
            "{attack}"
        );
    }
    // A second redirect_uri or client_id cannot smuggle another target in.
    let mut pairs = with(&[token]);
    pairs.push(("redirect_uri", "https://evil.example/cb"));
    assert_eq!(shown(&pairs), PageError::Duplicated("redirect_uri"));
    let mut pairs = with(&[]);
    pairs.insert(0, ("client_id", "client-2"));
    assert_eq!(shown(&pairs), PageError::Duplicated("client_id"));
    // A record found for another id is not this client's.
    let uris = vec![REDIRECT.to_owned()];
    let params = AuthorizationParams::from_pairs(with(&[]));
    let other = RegisteredClient {
        client_id: "client-2",
        redirect_uris: &uris,
        scopes: &[],
    };
    assert_eq!(
        authorization_request(&params, Some(other)),
        Err(AuthorizationError::ShowOnPage(PageError::UnknownClient))
    );
}

#[test]
fn a_single_registered_uri_is_still_required() {
    let uris = vec![REDIRECT.to_owned()];
    let scopes = vec!["openid".to_owned()];
    let params = AuthorizationParams::from_pairs(with(&[("redirect_uri", None)]));
    let client = RegisteredClient {
        client_id: "client-1",
        redirect_uris: &uris,
        scopes: &scopes,
    };
    assert_eq!(
        authorization_request(&params, Some(client)),
        Err(AuthorizationError::ShowOnPage(
            PageError::MissingRedirectUri
        ))
    );
}

#[test]
fn only_the_code_flow_is_supported() {
    for other in [
        "token",
        "code id_token",
        "id_token",
        "code token",
        "CODE",
        "none",
    ] {
        let pairs = with(&[("response_type", Some(other))]);
        assert_eq!(
            sent_back(&pairs, Some("xyz")).0,
            ErrorCode::UnsupportedResponseType,
            "{other}"
        );
    }
    let missing = with(&[("response_type", None)]);
    assert_eq!(
        sent_back(&missing, Some("xyz")).0,
        ErrorCode::InvalidRequest
    );
    for mode in ["fragment", "form_post"] {
        let pairs = with(&[("response_mode", Some(mode))]);
        assert_eq!(
            sent_back(&pairs, Some("xyz")).0,
            ErrorCode::InvalidRequest,
            "{mode}"
        );
    }
}

#[test]
fn pkce_s256_is_required() {
    let bad_chars = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw+cM";
    for (changes, why) in [
        (vec![("code_challenge", None)], "PKCE is required"),
        (
            vec![("code_challenge", None), ("code_challenge_method", None)],
            "PKCE is required",
        ),
        (vec![("code_challenge_method", None)], "S256"),
        (vec![("code_challenge_method", Some("plain"))], "plain"),
        (vec![("code_challenge_method", Some("s256"))], "S256"),
        (
            vec![("code_challenge", Some(&CHALLENGE[..42]))],
            "43 base64url",
        ),
        (
            vec![(
                "code_challenge",
                Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM="),
            )],
            "43",
        ),
        (vec![("code_challenge", Some(bad_chars))], "base64url"),
        (
            vec![(
                "code_challenge",
                Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw.c~"),
            )],
            "base64url",
        ),
        (
            vec![(
                "code_challenge",
                Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw cM"),
            )],
            "base64url",
        ),
        (
            vec![(
                "code_challenge",
                Some("É9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-c"),
            )],
            "base64url",
        ),
    ] {
        let (error, description) = sent_back(&with(&changes), Some("xyz"));
        assert_eq!(error, ErrorCode::InvalidRequest, "{changes:?}");
        assert!(description.contains(why), "{changes:?}: {description}");
    }
    // 128 characters is a valid verifier length, but no S256 challenge is that long.
    let long = "a".repeat(128);
    let pairs: Vec<(&str, &str)> = with(&[("code_challenge", None)])
        .into_iter()
        .chain([("code_challenge", long.as_str())])
        .collect();
    assert_eq!(sent_back(&pairs, Some("xyz")).0, ErrorCode::InvalidRequest);
}

#[test]
fn a_parameter_given_twice_is_refused() {
    for (name, value) in [
        ("scope", "openid"),
        ("code_challenge", CHALLENGE),
        ("response_type", "code"),
        ("nonce", "n"),
    ] {
        let mut pairs = with(&[]);
        pairs.push((name, value));
        let (error, description) = sent_back(&pairs, Some("xyz"));
        assert_eq!(error, ErrorCode::InvalidRequest, "{name}");
        assert!(description.contains("more than once"), "{name}");
    }
    // Which state would be echoed is ambiguous: none is.
    let mut pairs = with(&[]);
    pairs.push(("state", "other"));
    assert_eq!(sent_back(&pairs, None).0, ErrorCode::InvalidRequest);
    // Unknown parameters are ignored, even twice; an empty one counts as absent.
    let mut pairs = with(&[("state", Some(""))]);
    pairs.extend([("foo", "1"), ("foo", "2"), ("state", "kept")]);
    assert_eq!(check(&pairs).unwrap().state.as_deref(), Some("kept"));
}

#[test]
fn scopes_are_the_clients_only_and_include_openid() {
    for scope in [
        Some("openid offline_access"),
        Some("openid profile"),
        Some("openid admin"),
        Some("OPENID"),
        Some("email"),
        None,
        Some("openid\temail"),
    ] {
        let (error, _) = sent_back(&with(&[("scope", scope)]), Some("xyz"));
        assert_eq!(error, ErrorCode::InvalidScope, "{scope:?}");
    }
    let accepted = check(&with(&[("scope", Some("  openid  "))])).unwrap();
    assert_eq!(accepted.scopes, ["openid"]);
}

#[test]
fn prompt_values_and_none_alone() {
    let prompt_of =
        |value: &'static str| check(&with(&[("prompt", Some(value))])).map(|r| r.prompt);
    assert_eq!(prompt_of("none"), Ok(Prompt::None));
    assert_eq!(
        prompt_of("login"),
        Ok(Prompt::Ask {
            login: true,
            consent: false
        })
    );
    assert_eq!(
        prompt_of("consent login"),
        Ok(Prompt::Ask {
            login: true,
            consent: true
        })
    );
    for bad in [
        "none login",
        "consent none",
        "select_account",
        "Login",
        "none,login",
    ] {
        let (error, _) = sent_back(&with(&[("prompt", Some(bad))]), Some("xyz"));
        assert_eq!(error, ErrorCode::InvalidRequest, "{bad}");
    }
}

#[test]
fn max_age_is_whole_seconds() {
    let age = |value: &'static str| check(&with(&[("max_age", Some(value))])).map(|r| r.max_age);
    assert_eq!(age("3600"), Ok(Some(3600)));
    assert_eq!(age("9999999999"), Ok(Some(9_999_999_999)));
    for bad in ["-1", "+5", "1.5", "1e3", "abc", " 5", "99999999999", "٣"] {
        let (error, _) = sent_back(&with(&[("max_age", Some(bad))]), Some("xyz"));
        assert_eq!(error, ErrorCode::InvalidRequest, "{bad}");
    }
}

#[test]
fn request_objects_and_registration_are_not_supported() {
    for (name, code) in [
        ("request", ErrorCode::RequestNotSupported),
        ("request_uri", ErrorCode::RequestUriNotSupported),
        ("registration", ErrorCode::RegistrationNotSupported),
    ] {
        assert_eq!(
            sent_back(&with(&[(name, Some("x"))]), Some("xyz")).0,
            code,
            "{name}"
        );
    }
}

#[test]
fn hostile_lengths_are_refused() {
    let at_limit = "s".repeat(MAX_PARAMETER_LEN);
    let over = "s".repeat(MAX_PARAMETER_LEN + 1);
    let mut pairs: Vec<(&str, &str)> = with(&[("state", None), ("nonce", None)]);
    pairs.extend([
        ("state", at_limit.as_str()),
        ("nonce", at_limit.as_str()),
        ("login_hint", at_limit.as_str()),
    ]);
    assert_eq!(
        check(&pairs).unwrap().state.as_deref(),
        Some(at_limit.as_str())
    );
    for name in ["nonce", "login_hint"] {
        let mut pairs = with(&[(name, None)]);
        pairs.push((name, over.as_str()));
        assert_eq!(
            sent_back(&pairs, Some("xyz")).0,
            ErrorCode::InvalidRequest,
            "{name}"
        );
    }
    // An over-long state is refused and not echoed.
    let mut pairs = with(&[("state", None)]);
    pairs.push(("state", over.as_str()));
    assert_eq!(sent_back(&pairs, None).0, ErrorCode::InvalidRequest);
}
