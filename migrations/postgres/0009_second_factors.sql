-- Second factors (src/server/accounts/second_factor.rs, totp.rs).
--
-- How each session was authenticated (RFC 8176 `amr` values, comma-separated): every
-- session opened before this migration was opened with a password.
ALTER TABLE sessions ADD COLUMN amr TEXT NOT NULL DEFAULT 'pwd';

-- The authenticator app (RFC 6238): one per account. Active once `confirmed_at` is set
-- (the person typed a valid code); `last_step` is the last time step accepted, so a
-- code cannot be used twice. The secret must be readable to compute codes.
CREATE TABLE totp_factors (
    user_id      BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret       TEXT   NOT NULL,
    created_at   BIGINT NOT NULL,
    confirmed_at BIGINT,
    last_step    BIGINT NOT NULL DEFAULT 0
);

-- Single-use recovery codes, shown once: only their SHA-256 is kept (each carries 80
-- random bits). A used code keeps its row with `used_at` until the set is replaced.
CREATE TABLE recovery_codes (
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash  TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    used_at    BIGINT,
    PRIMARY KEY (user_id, code_hash)
);

-- A password check waiting for its second factor (`mfa_token`, stored as its SHA-256):
-- single use, short-lived, bound to the address it came from and to the password hash
-- it checked, dead after a few wrong codes.
CREATE TABLE mfa_challenges (
    token_hash    TEXT   PRIMARY KEY,
    user_id       BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    address       TEXT   NOT NULL,
    binding       TEXT   NOT NULL,
    known_device  BIGINT NOT NULL DEFAULT 0,
    failures      BIGINT NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL
);
CREATE INDEX mfa_challenges_expiry ON mfa_challenges (expires_at);
