-- Secrets sealed at rest under KEYHOLD_KEY_ENCRYPTION_KEY (src/server/building_blocks/
-- sealing.rs: ChaCha20-Poly1305, one key derived per purpose, each value bound to its
-- row), so reading the database gives no secret that computes a code or follows a link.
-- SQL cannot seal: every start-up seals the rows still readable before it serves
-- (src/server/runtime/sealed_at_rest.rs).

-- The authenticator app's secret (active or waiting for its first code): 0 = the
-- readable base32 of earlier versions (never used as it is), 1 = sealed for the row's
-- account.
ALTER TABLE totp_factors ADD COLUMN secret_sealed BIGINT NOT NULL DEFAULT 0;

-- Queued bodies carry live links: 0 = readable (queued by an earlier version, still
-- sent), 1 = sealed for the row's recipient and time queued.
ALTER TABLE mail_queue ADD COLUMN bodies_sealed BIGINT NOT NULL DEFAULT 0;

-- A known value sealed under the key-encryption key the database was first started
-- with: a start-up given another key cannot open it and stops, naming the variable.
CREATE TABLE key_check (
    id     BIGINT  PRIMARY KEY CHECK (id = 1),
    sealed TEXT    NOT NULL
);
