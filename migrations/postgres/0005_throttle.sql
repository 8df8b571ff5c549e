-- Throttling state shared by every instance (src/server/throttle/): one row per budget
-- and key (a hash: no name or address is stored). `until_ms` is a GCRA theoretical
-- arrival time or the end of a backoff wait; `attempts` the backoff's streak. Rows
-- that would step like new ones are pruned as the table is used. (SQLite keeps this in
-- the memory of the one instance that owns the database.)
CREATE TABLE throttle (
    key      TEXT   PRIMARY KEY,
    attempts BIGINT NOT NULL,
    until_ms BIGINT NOT NULL
);

CREATE INDEX throttle_until ON throttle (until_ms);
