-- Two defences for sessions (docs/security.md "Sessions").
--
-- 1. Every refresh secret a session ever handed out stays recognisable: the hash a
--    rotation replaces moves here, so presenting any earlier cookie after the grace
--    window is recognised as a replay and ends the session, however many times a thief
--    has rotated it since. Rows go with their session.
CREATE TABLE retired_refresh_hashes (
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    hash       TEXT NOT NULL,
    PRIMARY KEY (session_id, hash)
);

-- 2. A session belongs to the token generation it was opened under. A log-in whose
--    password check was still running when the password changed or the person logged
--    out everywhere cannot open a session that outlives that change.
ALTER TABLE sessions ADD COLUMN generation BIGINT NOT NULL DEFAULT 0;
UPDATE sessions SET generation =
    (SELECT token_generation FROM users WHERE users.id = sessions.user_id);
