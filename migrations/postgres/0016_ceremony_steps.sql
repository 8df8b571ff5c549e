-- The step a WebAuthn ceremony answers for: `session:<id>` (registering a passkey or
-- confirming a change from that session), `mfa:<token hash>` (the passkey step of that
-- log-in), none (a passwordless log-in, throttled per address). A new ceremony for the
-- same purpose and step replaces the one before it, so each session and each log-in
-- waiting for its second factor holds at most one of each purpose
-- (src/server/store/sql/passkeys.rs; issue 31 finding 6).
ALTER TABLE webauthn_ceremonies ADD COLUMN step TEXT;
CREATE INDEX webauthn_ceremonies_step ON webauthn_ceremonies (purpose, step);
