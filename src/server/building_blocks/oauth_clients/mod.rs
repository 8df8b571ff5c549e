//! What an application registered to sign its users in with Keyhold (an OpenID Connect
//! client) may be: its name, scopes and ID token algorithm (here), its redirect URIs
//! (`redirect_uri.rs`) and its secret (`client_secret.rs`); and what it may ask
//! (`authorization_request.rs`) and how it is answered (`authorization_response.rs`).
//! Free of the store: the admin command and the endpoints check with these.

pub mod authorization_request;
pub mod authorization_response;
pub mod client_secret;
pub mod redirect_uri;

use std::fmt;

/// Why a registration was refused, in words for the operator.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistrationError {
    #[error("the name must be 1 to {MAX_NAME_CHARS} characters, without control characters")]
    Name,
    #[error("unknown scope {0:?}: the known scopes are {known}", known = SCOPES.join(", "))]
    UnknownScope(String),
    #[error("unknown ID token algorithm {0:?}: use RS256, EdDSA or ES256")]
    IdTokenAlg(String),
    #[error("{uri:?} cannot be a redirect URI: {reason}")]
    RedirectUri { uri: String, reason: String },
    #[error("at least one --redirect-uri is needed")]
    NoRedirectUri,
}

/// The longest application name, in characters.
pub const MAX_NAME_CHARS: usize = 100;

/// The scopes Keyhold knows (OpenID Connect Core §5.4 and §11).
pub const SCOPES: [&str; 4] = ["openid", "profile", "email", "offline_access"];

/// The scopes of a client registered without `--scope`: the ID token and the claims
/// about the person; `offline_access` (refresh tokens) only when asked for.
pub const DEFAULT_SCOPES: [&str; 3] = ["openid", "profile", "email"];

/// The application's name as shown on the consent page: trimmed, 1–100 characters, no
/// control characters (a name cannot break a line of the page or the command's output).
pub fn client_name(name: &str) -> Result<String, RegistrationError> {
    let name = name.trim();
    let chars = name.chars().count();
    if chars == 0 || chars > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(RegistrationError::Name);
    }
    Ok(name.to_owned())
}

/// The scopes a client may ask for, from `--scope` values (each one scope or several
/// separated by spaces, as in an OAuth `scope` parameter): known ones only, each once, in
/// the order of `SCOPES`. None given: `DEFAULT_SCOPES`.
pub fn allowed_scopes(requested: &[String]) -> Result<Vec<String>, RegistrationError> {
    let words: Vec<&str> = requested.iter().flat_map(|s| s.split(' ')).collect();
    if let Some(unknown) = words.iter().find(|w| !w.is_empty() && !SCOPES.contains(w)) {
        return Err(RegistrationError::UnknownScope((*unknown).to_owned()));
    }
    let chosen: Vec<String> = SCOPES
        .iter()
        .filter(|scope| words.contains(scope))
        .map(|scope| (*scope).to_owned())
        .collect();
    if chosen.is_empty() {
        return Ok(DEFAULT_SCOPES.iter().map(|s| (*s).to_owned()).collect());
    }
    Ok(chosen)
}

/// How a client's ID tokens are signed. RS256 is the default: OpenID Connect Core §15.1
/// requires providers to offer it and many client libraries expect it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum IdTokenAlg {
    #[default]
    Rs256,
    EdDsa,
    Es256,
}

impl IdTokenAlg {
    /// The JOSE name (`alg`), as stored and shown.
    pub fn name(self) -> &'static str {
        match self {
            Self::Rs256 => "RS256",
            Self::EdDsa => "EdDSA",
            Self::Es256 => "ES256",
        }
    }

    /// The JOSE name, exactly (JOSE names are case-sensitive).
    pub fn parse(name: &str) -> Result<Self, RegistrationError> {
        [Self::Rs256, Self::EdDsa, Self::Es256]
            .into_iter()
            .find(|alg| alg.name() == name)
            .ok_or_else(|| RegistrationError::IdTokenAlg(name.to_owned()))
    }
}

impl fmt::Display for IdTokenAlg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(values: &[&str]) -> Vec<String> {
        values.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn known_scopes_are_kept_once_in_order() {
        let scopes = allowed_scopes(&strings(&["email openid", "offline_access", "openid"]));
        assert_eq!(scopes.unwrap(), ["openid", "email", "offline_access"]);
        assert_eq!(allowed_scopes(&[]).unwrap(), DEFAULT_SCOPES);
        assert_eq!(allowed_scopes(&strings(&[" "])).unwrap(), DEFAULT_SCOPES);
    }

    #[test]
    fn unknown_scopes_are_refused() {
        for bad in ["admin", "OPENID", "openid\tadmin", "profile,email", "*"] {
            let refused = allowed_scopes(&strings(&["openid", bad]));
            assert!(
                matches!(refused, Err(RegistrationError::UnknownScope(_))),
                "{bad:?}: {refused:?}"
            );
        }
    }

    #[test]
    fn id_token_algorithms_are_the_published_ones() {
        assert_eq!(IdTokenAlg::parse("RS256"), Ok(IdTokenAlg::Rs256));
        assert_eq!(IdTokenAlg::parse("EdDSA"), Ok(IdTokenAlg::EdDsa));
        assert_eq!(IdTokenAlg::parse("ES256"), Ok(IdTokenAlg::Es256));
        for bad in ["none", "HS256", "rs256", "RS512", ""] {
            assert!(IdTokenAlg::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(IdTokenAlg::default().name(), "RS256");
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(client_name("  Wiki  ").unwrap(), "Wiki");
        assert_eq!(client_name(&"é".repeat(100)).unwrap().chars().count(), 100);
        for bad in ["", "   ", "line\nbreak", "bell\u{7}", &"x".repeat(101)] {
            assert_eq!(client_name(bad), Err(RegistrationError::Name), "{bad:?}");
        }
    }
}
