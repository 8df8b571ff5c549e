//! A software passkey authenticator and the browser's part of WebAuthn, for tests over
//! HTTP: it answers Keyhold's options as `credential.toJSON()` would, with a real P-256
//! key (ES256), "none" attestation and a signature counter; and it can misbehave on
//! purpose (no user verification, another origin, a counter going backwards).

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use p256::ecdsa::{signature::Signer, Signature, SigningKey};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// Flags of the authenticator data (WebAuthn §6.1).
const USER_PRESENT: u8 = 0x01;
const USER_VERIFIED: u8 = 0x04;
const ATTESTED_DATA: u8 = 0x40;

/// One passkey held by the authenticator.
#[derive(Clone)]
pub struct Credential {
    pub id: Vec<u8>,
    pub key: SigningKey,
    /// The account's handle, as the relying party gave it.
    pub user_handle: Vec<u8>,
    /// The next signature counter (increased by each use).
    pub counter: u32,
}

impl Credential {
    /// A `PublicKeyCredential` of this passkey in its JSON form, around `response`.
    fn answer(&self, response: Value) -> Value {
        json!({
            "id": encode(&self.id),
            "rawId": encode(&self.id),
            "type": "public-key",
            "response": response,
            "clientExtensionResults": {},
            "authenticatorAttachment": "platform",
        })
    }
}

/// How the authenticator and browser behave.
#[derive(Clone)]
pub struct Authenticator {
    /// The origin the "browser" reports in the client data.
    pub origin: String,
    /// Whether the person is verified (fingerprint, PIN): the UV flag.
    pub verifies_user: bool,
}

impl Authenticator {
    pub fn new(origin: &str) -> Self {
        Self {
            origin: origin.to_owned(),
            verifies_user: true,
        }
    }

    /// Makes a passkey for `options` (`{"publicKey": …}` from a registration start) and
    /// returns it with the browser's answer.
    pub fn create(&self, options: &Value) -> (Credential, Value) {
        let user_handle = decode(
            options["publicKey"]["user"]["id"]
                .as_str()
                .expect("user.id"),
        );
        let mut id = vec![0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut id);
        let credential = Credential {
            id,
            key: SigningKey::random(&mut rand::rngs::OsRng),
            user_handle,
            counter: 1,
        };
        let answer = self.attest(&credential, options);
        (credential, answer)
    }

    /// The answer registering `credential` (a new one, or, from a hostile client, one
    /// that exists already) for `options`.
    pub fn attest(&self, credential: &Credential, options: &Value) -> Value {
        let public_key = &options["publicKey"];
        let rp_id = public_key["rp"]["id"].as_str().expect("rp.id");
        let client_data = self.client_data("webauthn.create", public_key);
        let mut auth_data = self.auth_data(rp_id, ATTESTED_DATA, 0);
        auth_data.extend_from_slice(&[0u8; 16]); // AAGUID: none
        let id_len = u16::try_from(credential.id.len()).expect("short id");
        auth_data.extend_from_slice(&id_len.to_be_bytes());
        auth_data.extend_from_slice(&credential.id);
        auth_data.extend_from_slice(&cose_key(&credential.key));
        let mut attestation = Cbor::default();
        attestation.map(3);
        attestation.text("fmt");
        attestation.text("none");
        attestation.text("attStmt");
        attestation.map(0);
        attestation.text("authData");
        attestation.bytes(&auth_data);
        credential.answer(json!({
            "clientDataJSON": encode(client_data.as_bytes()),
            "attestationObject": encode(&attestation.0),
            "transports": ["internal"],
        }))
    }

    /// Signs `options` (`{"publicKey": …}` from a log-in start) with `credential`,
    /// presenting its current counter, and counts the use.
    pub fn get(&self, credential: &mut Credential, options: &Value) -> Value {
        let answer = self.assert(credential, options);
        credential.counter += 1;
        answer
    }

    /// The answer `get` would give, without counting the use (so a later answer can
    /// present the same counter again, as a clone would).
    pub fn assert(&self, credential: &Credential, options: &Value) -> Value {
        let public_key = &options["publicKey"];
        let rp_id = public_key["rpId"].as_str().expect("rpId");
        let client_data = self.client_data("webauthn.get", public_key);
        let auth_data = self.auth_data(rp_id, 0, credential.counter);
        let mut signed = auth_data.clone();
        signed.extend_from_slice(&Sha256::digest(client_data.as_bytes()));
        let signature: Signature = credential.key.sign(&signed);
        credential.answer(json!({
            "clientDataJSON": encode(client_data.as_bytes()),
            "authenticatorData": encode(&auth_data),
            "signature": encode(signature.to_der().as_bytes()),
            "userHandle": encode(&credential.user_handle),
        }))
    }

    fn client_data(&self, kind: &str, public_key: &Value) -> String {
        json!({
            "type": kind,
            "challenge": public_key["challenge"],
            "origin": self.origin,
            "crossOrigin": false,
        })
        .to_string()
    }

    fn auth_data(&self, rp_id: &str, extra_flags: u8, counter: u32) -> Vec<u8> {
        let mut flags = USER_PRESENT | extra_flags;
        if self.verifies_user {
            flags |= USER_VERIFIED;
        }
        let mut data = Sha256::digest(rp_id.as_bytes()).to_vec();
        data.push(flags);
        data.extend_from_slice(&counter.to_be_bytes());
        data
    }
}

/// The public key as a COSE_Key: EC2, ES256, P-256, x and y.
fn cose_key(key: &SigningKey) -> Vec<u8> {
    let point = key.verifying_key().to_encoded_point(false);
    let mut cbor = Cbor::default();
    cbor.map(5);
    cbor.int(1); // kty
    cbor.int(2); // EC2
    cbor.int(3); // alg
    cbor.int(-7); // ES256
    cbor.int(-1); // crv
    cbor.int(1); // P-256
    cbor.int(-2); // x
    cbor.bytes(point.x().expect("x"));
    cbor.int(-3); // y
    cbor.bytes(point.y().expect("y"));
    cbor.0
}

/// The little CBOR (RFC 8949) WebAuthn needs: small maps, integers, text and bytes.
#[derive(Default)]
struct Cbor(Vec<u8>);

impl Cbor {
    fn head(&mut self, major: u8, length: usize) {
        let major = major << 5;
        match length {
            0..=23 => self.0.push(major | length as u8),
            24..=0xff => self.0.extend_from_slice(&[major | 24, length as u8]),
            _ => {
                self.0.push(major | 25);
                self.0
                    .extend_from_slice(&u16::try_from(length).expect("short").to_be_bytes());
            }
        }
    }
    fn int(&mut self, value: i64) {
        match u8::try_from(value) {
            Ok(positive) => self.head(0, usize::from(positive)),
            Err(_) => self.head(1, usize::try_from(-1 - value).expect("small")),
        }
    }
    fn bytes(&mut self, bytes: &[u8]) {
        self.head(2, bytes.len());
        self.0.extend_from_slice(bytes);
    }
    fn text(&mut self, text: &str) {
        self.head(3, text.len());
        self.0.extend_from_slice(text.as_bytes());
    }
    fn map(&mut self, pairs: usize) {
        self.head(5, pairs);
    }
}

/// Unpadded base64url, as WebAuthn's JSON forms carry binary fields.
pub fn encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn decode(text: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(text).expect("base64url")
}
