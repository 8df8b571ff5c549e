-- Bounding the throttle table without forgetting what counts (issue 31 finding 5, as the
-- second review found it): `forget_ms` is when a row steps exactly like a new one (a
-- bucket filled up again, a backoff's streak over), and `holds_back` marks an account's
-- streak past its free attempts, never pruned before `forget_ms`. Rows from before are
-- kept for the longest window any rule had (a day) and treated as holding back.
ALTER TABLE throttle ADD COLUMN forget_ms BIGINT NOT NULL DEFAULT 0;
ALTER TABLE throttle ADD COLUMN holds_back BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE throttle SET forget_ms = until_ms + 86400000, holds_back = TRUE;
CREATE INDEX throttle_forget ON throttle (forget_ms);
DROP INDEX throttle_until;
