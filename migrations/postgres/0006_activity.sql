-- The security activity log (src/server/accounts/activity.rs): what happened to an
-- account, for its owner to read and for operators. Repeated failures from one address
-- are folded into one row (`count`), so a password-guessing run cannot grow the table
-- faster than the throttle lets it try. No foreign key: `account_deleted` outlives the
-- account (the rest of its rows go with it). Rows older than KEYHOLD_AUDIT_RETENTION are
-- pruned in the background.
CREATE TABLE security_events (
    id         BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
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
