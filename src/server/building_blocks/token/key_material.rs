//! Asymmetric signing keys (Ed25519 for EdDSA, P-256 for ES256): generated from the OS
//! random generator or read from PKCS#8, with their public JWK and its RFC 7638
//! thumbprint as `kid`. The private part never leaves this type except sealed
//! (`key_encryption.rs`).

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use jsonwebtoken::{
    jwk::{
        AlgorithmParameters, CommonParameters, EllipticCurve, EllipticCurveKeyParameters,
        EllipticCurveKeyType, Jwk, KeyAlgorithm, OctetKeyPairParameters, OctetKeyPairType,
        PublicKeyUse, ThumbprintHash,
    },
    Algorithm, DecodingKey, EncodingKey,
};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use rand::RngCore;
use secrecy::{ExposeSecret, SecretBox};

/// The algorithms a published key may have.
pub const ASYMMETRIC: [Algorithm; 2] = [Algorithm::EdDSA, Algorithm::ES256];

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    #[error("{0:?} is not a key algorithm Keyhold publishes (EdDSA or ES256)")]
    Unsupported(Algorithm),
    #[error("the private key is not a PKCS#8 {0:?} key ({1})")]
    Unreadable(Algorithm, String),
}

/// A private key with its public half.
pub struct KeyPair {
    pub alg: Algorithm,
    /// RFC 7638 thumbprint of the public JWK (SHA-256, base64url).
    pub kid: String,
    /// The public key as published, with `kid`, `alg` and `use: "sig"`.
    pub jwk: Jwk,
    pkcs8: SecretBox<[u8]>,
}

impl std::fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyPair")
            .field("alg", &self.alg)
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl KeyPair {
    /// A new key from the OS random generator.
    pub fn generate(alg: Algorithm) -> Result<Self, KeyError> {
        let unreadable = |e: String| KeyError::Unreadable(alg, e);
        let der = match alg {
            Algorithm::EdDSA => {
                let mut seed = [0u8; 32];
                rand::rngs::OsRng.fill_bytes(&mut seed);
                let key = ed25519_dalek::SigningKey::from_bytes(&seed);
                seed.fill(0);
                key.to_pkcs8_der().map_err(|e| unreadable(e.to_string()))?
            }
            Algorithm::ES256 => p256::SecretKey::random(&mut rand::rngs::OsRng)
                .to_pkcs8_der()
                .map_err(|e| unreadable(e.to_string()))?,
            other => return Err(KeyError::Unsupported(other)),
        };
        Self::from_pkcs8_der(alg, der.as_bytes())
    }

    /// A key from a PKCS#8 PEM document (`-----BEGIN PRIVATE KEY-----`).
    pub fn from_pem(alg: Algorithm, pem: &str) -> Result<Self, KeyError> {
        let unreadable = |e: String| KeyError::Unreadable(alg, e);
        let der = match alg {
            Algorithm::EdDSA => ed25519_dalek::SigningKey::from_pkcs8_pem(pem)
                .map_err(|e| unreadable(e.to_string()))?
                .to_pkcs8_der()
                .map_err(|e| unreadable(e.to_string()))?,
            Algorithm::ES256 => p256::SecretKey::from_pkcs8_pem(pem)
                .map_err(|e| unreadable(e.to_string()))?
                .to_pkcs8_der()
                .map_err(|e| unreadable(e.to_string()))?,
            other => return Err(KeyError::Unsupported(other)),
        };
        Self::from_pkcs8_der(alg, der.as_bytes())
    }

    /// A key from PKCS#8 DER.
    pub fn from_pkcs8_der(alg: Algorithm, der: &[u8]) -> Result<Self, KeyError> {
        let unreadable = |e: String| KeyError::Unreadable(alg, e);
        let (params, key_algorithm) = match alg {
            Algorithm::EdDSA => {
                let key = ed25519_dalek::SigningKey::from_pkcs8_der(der)
                    .map_err(|e| unreadable(e.to_string()))?;
                let params = AlgorithmParameters::OctetKeyPair(OctetKeyPairParameters {
                    key_type: OctetKeyPairType::OctetKeyPair,
                    curve: EllipticCurve::Ed25519,
                    x: URL_SAFE_NO_PAD.encode(key.verifying_key().as_bytes()),
                });
                (params, KeyAlgorithm::EdDSA)
            }
            Algorithm::ES256 => {
                let key =
                    p256::SecretKey::from_pkcs8_der(der).map_err(|e| unreadable(e.to_string()))?;
                let point = key.public_key().to_encoded_point(false);
                let (Some(x), Some(y)) = (point.x(), point.y()) else {
                    return Err(unreadable("the public point is the identity".into()));
                };
                let params = AlgorithmParameters::EllipticCurve(EllipticCurveKeyParameters {
                    key_type: EllipticCurveKeyType::EC,
                    curve: EllipticCurve::P256,
                    x: URL_SAFE_NO_PAD.encode(x),
                    y: URL_SAFE_NO_PAD.encode(y),
                });
                (params, KeyAlgorithm::ES256)
            }
            other => return Err(KeyError::Unsupported(other)),
        };
        let mut jwk = Jwk {
            common: CommonParameters {
                public_key_use: Some(PublicKeyUse::Signature),
                key_algorithm: Some(key_algorithm),
                ..CommonParameters::default()
            },
            algorithm: params,
        };
        let kid = jwk.thumbprint(ThumbprintHash::SHA256);
        jwk.common.key_id = Some(kid.clone());
        Ok(Self {
            alg,
            kid,
            jwk,
            pkcs8: SecretBox::new(der.into()),
        })
    }

    /// The PKCS#8 DER of the private key, to be sealed before it is stored.
    pub fn pkcs8_der(&self) -> &[u8] {
        self.pkcs8.expose_secret()
    }

    /// What signs tokens.
    pub fn encoding_key(&self) -> EncodingKey {
        match self.alg {
            Algorithm::EdDSA => EncodingKey::from_ed_der(self.pkcs8_der()),
            _ => EncodingKey::from_ec_der(self.pkcs8_der()),
        }
    }

    /// What checks them: built from the public JWK only.
    pub fn decoding_key(&self) -> Result<DecodingKey, KeyError> {
        DecodingKey::from_jwk(&self.jwk).map_err(|e| KeyError::Unreadable(self.alg, e.to_string()))
    }
}

/// `EdDSA`, `ES256` or `HS256` as written in settings and JWT headers.
pub fn parse_algorithm(text: &str) -> Option<Algorithm> {
    match text.trim() {
        "HS256" => Some(Algorithm::HS256),
        "EdDSA" => Some(Algorithm::EdDSA),
        "ES256" => Some(Algorithm::ES256),
        _ => None,
    }
}

/// The name of an algorithm as a JWT header writes it.
pub fn algorithm_name(alg: Algorithm) -> &'static str {
    match alg {
        Algorithm::EdDSA => "EdDSA",
        Algorithm::ES256 => "ES256",
        Algorithm::HS256 => "HS256",
        _ => "unsupported",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_round_trip_through_pkcs8() {
        for alg in ASYMMETRIC {
            let key = KeyPair::generate(alg).unwrap();
            let again = KeyPair::from_pkcs8_der(alg, key.pkcs8_der()).unwrap();
            assert_eq!(key.kid, again.kid);
            assert_eq!(key.kid.len(), 43, "SHA-256, base64url");
            let json = serde_json::to_value(&key.jwk).unwrap();
            assert_eq!(json["use"], "sig");
            assert_eq!(json["alg"], algorithm_name(alg));
            assert_eq!(json["kid"], key.kid.as_str());
            assert!(json.get("d").is_none(), "no private part in {json}");
        }
    }

    #[test]
    fn pem_keys_are_read_and_the_wrong_kind_refused() {
        let ed = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
        let pem = ed
            .to_pkcs8_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
            .unwrap();
        let key = KeyPair::from_pem(Algorithm::EdDSA, &pem).unwrap();
        assert_eq!(key.alg, Algorithm::EdDSA);
        assert!(KeyPair::from_pem(Algorithm::ES256, &pem).is_err());
        assert!(KeyPair::from_pem(Algorithm::EdDSA, "not a key").is_err());
        assert_eq!(
            KeyPair::generate(Algorithm::HS256).unwrap_err(),
            KeyError::Unsupported(Algorithm::HS256)
        );
    }

    /// RFC 8037 appendix A.3: the thumbprint of its example Ed25519 key.
    #[test]
    fn kid_is_the_rfc_7638_thumbprint() {
        let secret = URL_SAFE_NO_PAD
            .decode("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A")
            .unwrap();
        let key = ed25519_dalek::SigningKey::from_bytes(&secret.try_into().unwrap());
        let der = key.to_pkcs8_der().unwrap();
        let pair = KeyPair::from_pkcs8_der(Algorithm::EdDSA, der.as_bytes()).unwrap();
        assert_eq!(pair.kid, "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
    }
}
