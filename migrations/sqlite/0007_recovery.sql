-- Account recovery and e-mail verification (src/server/accounts/recovery.rs,
-- email_verification.rs; mail in src/server/mail/).
--
-- An address counts as the person's once they followed the link sent to it. A changed
-- address waits in `pending_email` until its link is followed.
ALTER TABLE users ADD COLUMN email_verified_at BIGINT;
ALTER TABLE users ADD COLUMN pending_email TEXT;

-- Links sent by mail (reset a password, confirm an address, undo an address change).
-- Only the SHA-256 of the link's secret is stored; a link is deleted when used, when a
-- newer one of the same purpose is sent, and with its account. `email`: the address it
-- confirms or restores; `binding`: what must still hold when it is used (for a reset,
-- the SHA-256 of the password hash it was sent under, so a password change voids it;
-- for an undo, the address the account moved to).
CREATE TABLE one_time_links (
    hash       TEXT   PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    TEXT   NOT NULL,
    email      TEXT   NOT NULL,
    binding    TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX one_time_links_user ON one_time_links (user_id, purpose, created_at);

-- Mail waiting to be sent: written in the request, sent by a background worker on any
-- instance, retried with backoff while the mail server is down; deleted once sent.
-- `next_attempt_at` doubles as a lease: a worker moves it forward before sending, so
-- two instances never send one message twice (and a crashed sender's message is
-- retried when the lease runs out).
CREATE TABLE mail_queue (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    recipient       TEXT   NOT NULL,
    subject         TEXT   NOT NULL,
    text_body       TEXT   NOT NULL,
    html_body       TEXT   NOT NULL,
    created_at      BIGINT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    last_error      TEXT
);
CREATE INDEX mail_queue_due ON mail_queue (next_attempt_at);
