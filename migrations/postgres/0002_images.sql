-- Profile images: one per user, re-encoded at two sizes, addressed by content hash.
-- users.image_hash lets every user read build the image URL without a join.
ALTER TABLE users ADD COLUMN image_hash TEXT;

CREATE TABLE images (
    user_id    BIGINT  PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    hash       TEXT    NOT NULL,
    large      BYTEA   NOT NULL,
    small      BYTEA   NOT NULL,
    created_at BIGINT  NOT NULL
);

CREATE INDEX images_hash ON images (hash);
