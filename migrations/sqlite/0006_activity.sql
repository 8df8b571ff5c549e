-- The security activity log (src/server/accounts/activity.rs): what happened to an
-- account, for its owner to read and for operators. Repeated failures from one address
-- are folded into one row (`count`), so a password-guessing run cannot grow the table
-- faster than the throttle lets it try. No foreign key: `account_deleted` outlives the
-- account (the rest of its rows go with it). Rows older than KEYHOLD_AUDIT_RETENTION are
-- pruned in the background.
CREATE TABLE security_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    BIGINT  NOT NULL,
    kind       TEXT    NOT NULL,
    at         BIGINT  NOT NULL,
    address    TEXT    NOT NULL,
    user_agent TEXT    NOT NULL,
    session_id TEXT,
    count      BIGINT  NOT NULL DEFAULT 1
);
CREATE INDEX security_events_user ON security_events (user_id, id);
CREATE INDEX security_events_at ON security_events (at);

-- An administrator's `keyhold admin users disable`: the account cannot sign in, refresh
-- or use a token until enabled again.
ALTER TABLE users ADD COLUMN disabled_at BIGINT;

-- Bumped by every `keyhold admin` write, so a server caching rows of this SQLite file
-- (src/server/store/cache.rs) learns that another process changed it.
CREATE TABLE external_changes (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    serial BIGINT  NOT NULL
);
INSERT INTO external_changes (id, serial) VALUES (1, 0);
