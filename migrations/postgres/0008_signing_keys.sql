-- The published token signing keys (KEYHOLD_JWT_ALG=EdDSA or ES256), shared by every
-- instance on this database (src/server/token/key_rotation.rs). A key signs from
-- activate_at until a later key's activate_at, then stays published until every token
-- it signed has expired, and is deleted at the next rotation. The private key is PKCS#8
-- sealed with ChaCha20-Poly1305 under KEYHOLD_KEY_ENCRYPTION_KEY (base64url of nonce and
-- ciphertext, bound to kid and alg); public_jwk is what GET /.well-known/jwks.json shows.
CREATE TABLE signing_keys (
    kid                TEXT    PRIMARY KEY,
    alg                TEXT    NOT NULL,
    public_jwk         TEXT    NOT NULL,
    sealed_private_key TEXT    NOT NULL,
    created_at         BIGINT  NOT NULL,
    activate_at        BIGINT  NOT NULL
);
