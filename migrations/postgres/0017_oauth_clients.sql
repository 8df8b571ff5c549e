-- Applications registered to sign their users in with Keyhold (OpenID Connect clients,
-- `keyhold admin clients`, src/server/cli/clients.rs). `client_id` is random (128 bits,
-- URL-safe). `secret_hash` is the SHA-256 (hex) of a confidential client's secret (256
-- random bits, shown once); a public client has none. `redirect_uris` and
-- `post_logout_redirect_uris` are JSON arrays of the URIs as registered (compared
-- exactly, src/server/building_blocks/oauth_clients/redirect_uri.rs); `scopes` the
-- scopes it may ask for, separated by spaces; `public` and `first_party` are 0 or 1.
CREATE TABLE oauth_clients (
    client_id                 TEXT    PRIMARY KEY,
    name                      TEXT    NOT NULL,
    public                    BIGINT  NOT NULL,
    first_party               BIGINT  NOT NULL,
    secret_hash               TEXT,
    redirect_uris             TEXT    NOT NULL,
    post_logout_redirect_uris TEXT    NOT NULL,
    scopes                    TEXT    NOT NULL,
    id_token_alg              TEXT    NOT NULL,
    created_at                BIGINT  NOT NULL,
    CONSTRAINT oauth_clients_secret_iff_confidential
        CHECK ((public = 1 AND secret_hash IS NULL) OR (public = 0 AND secret_hash IS NOT NULL))
);
