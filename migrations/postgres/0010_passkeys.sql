-- Passkeys (WebAuthn, src/server/accounts/passkeys.rs): each row is one credential an
-- authenticator made for the account. `credential` is webauthn-rs's `Passkey` as JSON
-- (public key, signature counter, flags); `credential_id` its id in base64url, unique
-- across accounts, by which a passwordless log-in finds it; `user_handle` the random id
-- the authenticator keeps for the account (never the account's own id). `sign_count`
-- mirrors the stored counter so that a use is recorded only if the counter still moves
-- forward (a cloned authenticator replays old counters).
CREATE TABLE passkeys (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id       BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name          TEXT   NOT NULL,
    credential_id TEXT   NOT NULL,
    user_handle   TEXT   NOT NULL,
    credential    TEXT   NOT NULL,
    sign_count    BIGINT NOT NULL,
    created_at    BIGINT NOT NULL,
    last_used_at  BIGINT,
    CONSTRAINT passkeys_credential_id_unique UNIQUE (credential_id)
);
CREATE INDEX passkeys_user ON passkeys (user_id, created_at);

-- A WebAuthn ceremony under way (registering a passkey, signing in with one): the
-- challenge's server-side state, kept by the SHA-256 of the random id handed to the
-- browser, deleted by the request that finishes it (single use) and worthless after
-- `expires_at`. `user_id` is empty for a passwordless log-in, where the authenticator
-- says whose passkey it used.
CREATE TABLE webauthn_ceremonies (
    id_hash    TEXT   PRIMARY KEY,
    purpose    TEXT   NOT NULL,
    user_id    BIGINT REFERENCES users (id) ON DELETE CASCADE,
    state      TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX webauthn_ceremonies_expiry ON webauthn_ceremonies (expires_at);
