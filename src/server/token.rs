//! Access tokens: HS256 JWTs with pinned algorithm, `kid` key rotation and the claims
//! RFC 8725 and OWASP ASVS V9 ask for (`sub`, `iat`, `nbf`, `exp`, `iss`, `aud`, `jti`).

pub use super::config::secrets::SecretError;
use super::{clock::Clock, config::secrets::check_secret};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use jsonwebtoken::{
    decode, decode_header, encode, errors::ErrorKind, Algorithm, DecodingKey, EncodingKey, Header,
    Validation,
};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::time::Duration;

/// Clock skew tolerated on `exp` and `nbf`.
const LEEWAY_SECS: u64 = 30;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    pub sub: String,
    pub iat: u64,
    pub nbf: u64,
    pub exp: u64,
    pub iss: String,
    pub aud: String,
    pub jti: String,
    /// The user's token generation at issue time (see `users.token_generation`).
    pub gen: i64,
    /// The sign-in session the token belongs to; it stops working when that ends.
    pub sid: String,
}

/// Why a token was refused; all of them mean 401 `invalid_token` to the caller.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("the token is malformed")]
    Malformed,
    #[error("the token uses a refused algorithm or type")]
    WrongAlgorithm,
    #[error("the token was signed with an unknown key")]
    UnknownKey,
    #[error("the token signature is invalid")]
    BadSignature,
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid yet")]
    NotYetValid,
    #[error("the token has the wrong issuer or audience")]
    WrongAudience,
    #[error("the token was revoked (password change or log out everywhere)")]
    Revoked,
    #[error("a token could not be made: {0}")]
    Signing(String),
}

struct SigningKey {
    kid: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl SigningKey {
    fn new(secret: &[u8]) -> Self {
        let digest = Sha256::digest(secret);
        Self {
            kid: URL_SAFE_NO_PAD.encode(&digest[..9]),
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
        }
    }
}

/// A freshly issued token and its lifetime in seconds.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub token: String,
    pub expires_in: u64,
}

/// Issues and checks tokens. Signs with the current key; accepts the current and the
/// previous key, so rotating the secret does not sign everybody out at once.
pub struct TokenService {
    clock: Clock,
    current: SigningKey,
    previous: Option<SigningKey>,
    issuer: String,
    audience: String,
    ttl: Duration,
    validation: Validation,
}

impl TokenService {
    pub fn new(
        clock: Clock,
        current: &[u8],
        previous: Option<&[u8]>,
        issuer: &str,
        audience: &str,
        ttl: Duration,
    ) -> Result<Self, SecretError> {
        check_secret("KEYHOLD_JWT_SECRET", current)?;
        if let Some(previous) = previous {
            check_secret("KEYHOLD_JWT_PREVIOUS_SECRET", previous)?;
        }
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "nbf", "iat", "iss", "aud", "sub"]);
        // `exp` and `nbf` are checked against our clock in `verify` (the library would
        // read the system clock).
        validation.validate_exp = false;
        validation.validate_nbf = false;
        Ok(Self {
            clock,
            current: SigningKey::new(current),
            previous: previous.map(SigningKey::new),
            issuer: issuer.into(),
            audience: audience.into(),
            ttl,
            validation,
        })
    }

    /// A token for the user with this stable id and current token generation, in
    /// session `sid`.
    pub fn issue(
        &self,
        user_id: i64,
        generation: i64,
        sid: &str,
    ) -> Result<IssuedToken, TokenError> {
        let now = self.now();
        let claims = Claims {
            sub: user_id.to_string(),
            iat: now,
            nbf: now,
            exp: now + self.ttl.as_secs(),
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            jti: random_id(),
            gen: generation,
            sid: sid.to_owned(),
        };
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(self.current.kid.clone());
        let token = encode(&header, &claims, &self.current.encoding)
            .map_err(|e| TokenError::Signing(e.to_string()))?;
        Ok(IssuedToken {
            token,
            expires_in: self.ttl.as_secs(),
        })
    }

    /// The claims of a valid token; every check of RFC 8725 applies.
    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        let header = decode_header(token).map_err(|_| TokenError::Malformed)?;
        if header.alg != Algorithm::HS256 || header.typ.as_deref().is_some_and(|t| t != "JWT") {
            return Err(TokenError::WrongAlgorithm);
        }
        let key = self.key_for(header.kid.as_deref())?;
        let claims = decode::<Claims>(token, &key.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|e| match e.kind() {
                ErrorKind::InvalidSignature => TokenError::BadSignature,
                ErrorKind::InvalidIssuer | ErrorKind::InvalidAudience => TokenError::WrongAudience,
                ErrorKind::InvalidAlgorithm => TokenError::WrongAlgorithm,
                _ => TokenError::Malformed,
            })?;
        let now = self.now();
        if claims.exp.saturating_add(LEEWAY_SECS) < now {
            return Err(TokenError::Expired);
        }
        if claims.nbf > now.saturating_add(LEEWAY_SECS) {
            return Err(TokenError::NotYetValid);
        }
        Ok(claims)
    }

    fn now(&self) -> u64 {
        u64::try_from(self.clock.now()).unwrap_or(0)
    }

    fn key_for(&self, kid: Option<&str>) -> Result<&SigningKey, TokenError> {
        let kid = kid.ok_or(TokenError::UnknownKey)?;
        [Some(&self.current), self.previous.as_ref()]
            .into_iter()
            .flatten()
            .find(|key| key.kid == kid)
            .ok_or(TokenError::UnknownKey)
    }
}

/// 128 random bits, URL-safe (22 characters).
pub fn random_id() -> String {
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unix_now() -> u64 {
        u64::try_from(crate::server::unix_now()).unwrap()
    }

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef-test";
    const OTHER: &[u8] = b"another secret that is long enough: 42 XYZ!";

    fn service() -> TokenService {
        TokenService::new(
            Clock::system(),
            SECRET,
            None,
            "keyhold",
            "keyhold-api",
            Duration::from_secs(600),
        )
        .unwrap()
    }

    fn sign(claims: &Claims, alg: Algorithm, secret: &[u8], kid: Option<String>) -> String {
        let mut header = Header::new(alg);
        header.kid = kid;
        encode(&header, claims, &EncodingKey::from_secret(secret)).unwrap()
    }

    fn claims_with(edit: impl FnOnce(&mut Claims)) -> Claims {
        let now = unix_now();
        let mut claims = Claims {
            sub: "7".into(),
            iat: now,
            nbf: now,
            exp: now + 600,
            iss: "keyhold".into(),
            aud: "keyhold-api".into(),
            jti: random_id(),
            gen: 0,
            sid: "s".into(),
        };
        edit(&mut claims);
        claims
    }

    fn kid() -> Option<String> {
        Some(service().current.kid.clone())
    }

    #[test]
    fn issued_tokens_verify() {
        let tokens = service();
        let issued = tokens.issue(42, 0, "s").unwrap();
        let claims = tokens.verify(&issued.token).unwrap();
        assert_eq!(claims.sub, "42");
        assert_eq!(claims.exp - claims.iat, 600);
        assert_eq!(issued.expires_in, 600);
    }

    #[test]
    fn tampered_payload_is_refused() {
        let token = service().issue(1, 0, "s").unwrap().token;
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        let payload = URL_SAFE_NO_PAD.decode(&parts[1]).unwrap();
        let forged = String::from_utf8(payload)
            .unwrap()
            .replace("\"sub\":\"1\"", "\"sub\":\"2\"");
        parts[1] = URL_SAFE_NO_PAD.encode(forged);
        assert_eq!(
            service().verify(&parts.join(".")),
            Err(TokenError::BadSignature)
        );
    }

    #[test]
    fn alg_none_and_stripped_signatures_are_refused() {
        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
        let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims_with(|_| ())).unwrap());
        assert!(service().verify(&format!("{header}.{body}.")).is_err());
        let token = service().issue(1, 0, "s").unwrap().token;
        let stripped = token.rsplit_once('.').unwrap().0.to_owned() + ".";
        assert!(service().verify(&stripped).is_err());
        assert!(service().verify("").is_err());
        assert!(service().verify("a.b.c").is_err());
    }

    #[test]
    fn other_algorithms_are_refused() {
        let token = sign(&claims_with(|_| ()), Algorithm::HS512, SECRET, kid());
        assert_eq!(service().verify(&token), Err(TokenError::WrongAlgorithm));
    }

    #[test]
    fn expired_and_future_tokens_are_refused() {
        let now = unix_now();
        let expired = sign(
            &claims_with(|c| c.exp = now - 120),
            Algorithm::HS256,
            SECRET,
            kid(),
        );
        assert_eq!(service().verify(&expired), Err(TokenError::Expired));
        let early = sign(
            &claims_with(|c| c.nbf = now + 3600),
            Algorithm::HS256,
            SECRET,
            kid(),
        );
        assert_eq!(service().verify(&early), Err(TokenError::NotYetValid));
        let skewed = sign(
            &claims_with(|c| c.exp = now - 5),
            Algorithm::HS256,
            SECRET,
            kid(),
        );
        assert!(service().verify(&skewed).is_ok(), "within the leeway");
    }

    #[test]
    fn wrong_issuer_audience_and_key_are_refused() {
        let iss = sign(
            &claims_with(|c| c.iss = "evil".into()),
            Algorithm::HS256,
            SECRET,
            kid(),
        );
        assert_eq!(service().verify(&iss), Err(TokenError::WrongAudience));
        let aud = sign(
            &claims_with(|c| c.aud = "other".into()),
            Algorithm::HS256,
            SECRET,
            kid(),
        );
        assert_eq!(service().verify(&aud), Err(TokenError::WrongAudience));
        let wrong_key = sign(&claims_with(|_| ()), Algorithm::HS256, OTHER, kid());
        assert_eq!(service().verify(&wrong_key), Err(TokenError::BadSignature));
        let no_kid = sign(&claims_with(|_| ()), Algorithm::HS256, SECRET, None);
        assert_eq!(service().verify(&no_kid), Err(TokenError::UnknownKey));
    }

    #[test]
    fn previous_key_still_verifies_after_rotation() {
        let old = service();
        let token = old.issue(5, 0, "s").unwrap().token;
        let rotated = TokenService::new(
            Clock::system(),
            OTHER,
            Some(SECRET),
            "keyhold",
            "keyhold-api",
            Duration::from_secs(60),
        )
        .unwrap();
        assert_eq!(rotated.verify(&token).unwrap().sub, "5");
        let dropped = TokenService::new(
            Clock::system(),
            OTHER,
            None,
            "keyhold",
            "keyhold-api",
            Duration::from_secs(60),
        )
        .unwrap();
        assert_eq!(dropped.verify(&token), Err(TokenError::UnknownKey));
    }

    #[test]
    fn short_secrets_are_refused() {
        let short = TokenService::new(
            Clock::system(),
            b"short",
            None,
            "i",
            "a",
            Duration::from_secs(60),
        );
        assert!(matches!(short, Err(SecretError::TooShort(_))));
    }

    #[test]
    fn patterned_secrets_are_refused_however_long() {
        let make = |secret: &[u8], previous: Option<&[u8]>| {
            TokenService::new(
                Clock::system(),
                secret,
                previous,
                "i",
                "a",
                Duration::from_secs(60),
            )
        };
        let good: &[u8] = b"unit-test-secret-0123456789abcdef-0123456789";
        for weak in [
            "a".repeat(64),
            "abcd".repeat(16),
            "0123456789".repeat(4),
            "password".repeat(8),
        ] {
            let refused = make(weak.as_bytes(), None);
            assert!(
                matches!(refused, Err(SecretError::LowEntropy("KEYHOLD_JWT_SECRET"))),
                "{weak}"
            );
            let refused = make(good, Some(weak.as_bytes()));
            assert!(
                matches!(
                    refused,
                    Err(SecretError::LowEntropy("KEYHOLD_JWT_PREVIOUS_SECRET"))
                ),
                "{weak}"
            );
        }
        let message = SecretError::LowEntropy("KEYHOLD_JWT_SECRET").to_string();
        assert!(message.contains("openssl rand"), "{message}");
        assert!(make(good, None).is_ok());
    }

    #[test]
    fn tokens_expire_on_the_services_clock() {
        let clock = Clock::system();
        let tokens = TokenService::new(
            clock.clone(),
            SECRET,
            None,
            "keyhold",
            "keyhold-api",
            Duration::from_secs(600),
        )
        .unwrap();
        let token = tokens.issue(7, 0, "sid").unwrap().token;
        clock.advance(Duration::from_secs(600 + LEEWAY_SECS));
        assert!(tokens.verify(&token).is_ok(), "within the leeway");
        clock.advance(Duration::from_secs(1));
        assert_eq!(tokens.verify(&token), Err(TokenError::Expired));
    }
}
