-- Sign-in sessions: one row per log-in. Access tokens name their session (`sid`) and
-- stop working when it ends. The refresh token is stored only as a SHA-256 hash; the
-- previous hash is kept for a few seconds so tabs refreshing at once are not mistaken
-- for a stolen token being replayed.
CREATE TABLE sessions (
    id            TEXT    PRIMARY KEY,
    user_id       INTEGER  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at    BIGINT  NOT NULL,
    last_seen_at  BIGINT  NOT NULL,
    expires_at    BIGINT  NOT NULL,
    user_agent    TEXT    NOT NULL,
    address       TEXT    NOT NULL,
    refresh_hash  TEXT    NOT NULL,
    previous_hash TEXT,
    rotated_at    BIGINT  NOT NULL
);

CREATE INDEX sessions_user ON sessions (user_id, last_seen_at);
