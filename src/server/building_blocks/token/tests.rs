//! Access tokens: issue, verify and every refusal, on a clock the tests move.

use super::*;
use jsonwebtoken::EncodingKey;
use jsonwebtoken::{decode_header, Algorithm};
use key_ring::{KeyRing, RingKey};

fn unix_now() -> u64 {
    u64::try_from(crate::server::building_blocks::clock::unix_now()).unwrap()
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
        amr: vec!["pwd".into()],
    };
    edit(&mut claims);
    claims
}

fn kid() -> Option<String> {
    service()
        .keys()
        .with_signer(i64::MAX, |key| key.kid.clone())
}

#[test]
fn issued_tokens_verify() {
    let tokens = service();
    let issued = tokens.issue(42, 0, "s", "pwd").unwrap();
    let claims = tokens.verify(&issued.token).unwrap();
    assert_eq!(claims.sub, "42");
    assert_eq!(claims.exp - claims.iat, 600);
    assert_eq!(issued.expires_in, 600);
}

#[test]
fn tampered_payload_is_refused() {
    let token = service().issue(1, 0, "s", "pwd").unwrap().token;
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
    let token = service().issue(1, 0, "s", "pwd").unwrap().token;
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
    let token = old.issue(5, 0, "s", "pwd").unwrap().token;
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
    let token = tokens.issue(7, 0, "sid", "pwd").unwrap().token;
    clock.advance(Duration::from_secs(600 + LEEWAY_SECS));
    assert!(tokens.verify(&token).is_ok(), "within the leeway");
    clock.advance(Duration::from_secs(1));
    assert_eq!(tokens.verify(&token), Err(TokenError::Expired));
}

fn published_service(alg: Algorithm) -> (TokenService, KeyPair) {
    let pair = KeyPair::generate(alg).unwrap();
    let ring = KeyRing::new(vec![RingKey::published(&pair, 0).unwrap()], 60);
    let service = TokenService::with_keys(
        Clock::system(),
        Arc::new(ring),
        None,
        "keyhold",
        "keyhold-api",
        Duration::from_secs(600),
    );
    (service, pair)
}

#[test]
fn published_keys_sign_and_verify_with_their_own_algorithm() {
    for alg in key_material::ASYMMETRIC {
        let (tokens, pair) = published_service(alg);
        let token = tokens.issue(9, 0, "s", "pwd").unwrap().token;
        let header = decode_header(&token).unwrap();
        assert_eq!(header.alg, alg);
        assert_eq!(header.kid.as_deref(), Some(pair.kid.as_str()));
        assert_eq!(tokens.verify(&token).unwrap().sub, "9");
        let (other, _) = published_service(alg);
        assert_eq!(other.verify(&token), Err(TokenError::UnknownKey));
    }
}

#[test]
fn hs256_signed_with_the_public_key_is_refused() {
    let (tokens, pair) = published_service(Algorithm::EdDSA);
    let public = serde_json::to_vec(&pair.jwk).unwrap();
    let x = match &pair.jwk.algorithm {
        jsonwebtoken::jwk::AlgorithmParameters::OctetKeyPair(p) => p.x.clone(),
        _ => unreachable!(),
    };
    for secret in [public, x.into_bytes()] {
        let forged = sign(
            &claims_with(|_| ()),
            Algorithm::HS256,
            &secret,
            Some(pair.kid.clone()),
        );
        assert_eq!(tokens.verify(&forged), Err(TokenError::WrongAlgorithm));
    }
}

#[test]
fn headers_naming_keys_elsewhere_are_refused() {
    let (tokens, pair) = published_service(Algorithm::ES256);
    for edit in [
        |h: &mut Header| h.jku = Some("https://evil.example/jwks.json".into()),
        |h: &mut Header| h.x5u = Some("https://evil.example/cert.pem".into()),
        |h: &mut Header| h.crit = Some(vec!["exp".into()]),
    ] {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(pair.kid.clone());
        edit(&mut header);
        let token = encode(&header, &claims_with(|_| ()), &pair.encoding_key()).unwrap();
        assert_eq!(tokens.verify(&token), Err(TokenError::WrongAlgorithm));
    }
}
