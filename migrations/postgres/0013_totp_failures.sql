-- Consecutive wrong codes for the authenticator app, kept until a second factor is
-- proven (a right code, a recovery code or a passkey): at 100 the app is locked
-- (`TOTP_FAILURE_CAP` in src/server/accounts/second_factor.rs, NIST SP 800-63B §5.2.2),
-- whatever the time between guesses.
ALTER TABLE totp_factors ADD COLUMN failed_codes BIGINT NOT NULL DEFAULT 0;
