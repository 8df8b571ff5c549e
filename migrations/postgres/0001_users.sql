-- Accounts. Uniqueness is case-insensitive through the *_key columns (lower-cased
-- by the application), so one statement decides a registration race.
CREATE TABLE users (
    id            BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username      TEXT    NOT NULL,
    username_key  TEXT    NOT NULL,
    email         TEXT    NOT NULL,
    email_key     TEXT    NOT NULL,
    password_hash TEXT    NOT NULL,
    -- Tokens carry the generation they were issued under; bumping it (password change,
    -- log out everywhere) invalidates every earlier token at once, on every instance.
    token_generation BIGINT NOT NULL DEFAULT 0,
    created_at    BIGINT  NOT NULL,
    updated_at    BIGINT  NOT NULL,
    CONSTRAINT users_username_key_unique UNIQUE (username_key),
    CONSTRAINT users_email_key_unique UNIQUE (email_key)
);
