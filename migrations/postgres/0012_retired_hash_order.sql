-- The order in which a session's refresh tokens were replaced (1, 2, 3, … per session),
-- so that only the most recent ones are kept (`RETIRED_HASHES_KEPT` in
-- src/server/store/mod.rs): a session refreshed for weeks no longer grows the table by a
-- row per refresh. Rows from before this migration count as the oldest.
ALTER TABLE retired_refresh_hashes ADD COLUMN seq BIGINT NOT NULL DEFAULT 0;
