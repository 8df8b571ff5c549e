//! The error answers of the API as OpenAPI responses (server only: documentation). Each
//! endpoint's `utoipa::path` lists the ones its own rules can produce; the answers every
//! endpoint can give (a malformed or refused body, 405, 503) are added to every operation
//! by the document itself (`server/edge/openapi.rs`).

use super::ApiError;
use utoipa::IntoResponses;

/// 400.
#[derive(IntoResponses)]
#[response(status = 400, description = "The body cannot be parsed.")]
pub struct Malformed(pub ApiError);

/// 401.
#[derive(IntoResponses)]
#[response(
    status = 401,
    description = "Missing or refused credentials or token (`WWW-Authenticate: Bearer`). At log-in, `mfa_required` (with `mfa_token` and `methods`) when the password was right and the account has a second factor.",
    headers(("WWW-Authenticate" = String))
)]
pub struct Unauthenticated(pub ApiError);

/// 403 from a password check.
#[derive(IntoResponses)]
#[response(
    status = 403,
    description = "A password or second-factor code confirming the change is wrong (field names which: `current_password`, `password`, `code` or `recovery_code`)."
)]
pub struct WrongPassword(pub ApiError);

/// 403 from the `Origin` check of the endpoints that use the refresh cookie.
#[derive(IntoResponses)]
#[response(
    status = 403,
    description = "A browser request from another site (its `Origin` is not this site)."
)]
pub struct CrossSite(pub ApiError);

/// 404.
#[derive(IntoResponses)]
#[response(status = 404, description = "No such session (field `id`).")]
pub struct NoSuchSession(pub ApiError);

/// 404.
#[derive(IntoResponses)]
#[response(status = 404, description = "No such activity entry (field `id`).")]
pub struct NoSuchEntry(pub ApiError);

/// 405.
#[derive(IntoResponses)]
#[response(
    status = 405,
    description = "The endpoint does not accept this method."
)]
pub struct WrongMethod(pub ApiError);

/// 409.
#[derive(IntoResponses)]
#[response(
    status = 409,
    description = "The username or e-mail is taken (field names which)."
)]
pub struct Conflict(pub ApiError);

/// 409 from the second-factor set-up.
#[derive(IntoResponses)]
#[response(
    status = 409,
    description = "The authenticator app is not in the state this needs (already set up; nothing waiting for its first code; none to remove)."
)]
pub struct SecondFactorState(pub ApiError);

/// 400 `invalid_link`.
#[derive(IntoResponses)]
#[response(
    status = 400,
    description = "The link's token is unknown, used, replaced by a newer link, voided by a password change or expired (`error`: `invalid_link`, field `token`)."
)]
pub struct InvalidLink(pub ApiError);

/// 413.
#[derive(IntoResponses)]
#[response(
    status = 413,
    description = "The body is too large (16 KiB; images 5 MiB)."
)]
pub struct TooLarge(pub ApiError);

/// 415.
#[derive(IntoResponses)]
#[response(
    status = 415,
    description = "The body's content type is not accepted; the message lists the accepted ones."
)]
pub struct UnsupportedType(pub ApiError);

/// 422.
#[derive(IntoResponses)]
#[response(
    status = 422,
    description = "A field is missing or breaks a rule (field names which)."
)]
pub struct Invalid(pub ApiError);

/// 429.
#[derive(IntoResponses)]
#[response(
    status = 429,
    description = "Too many attempts (failed log-ins; sign-ups, profile changes or uploads from one address; passkey ceremonies, uploads or confirmation mails of one account); retry after `Retry-After` seconds.",
    headers(("Retry-After" = String))
)]
pub struct Throttled(pub ApiError);

/// 503.
#[derive(IntoResponses)]
#[response(
    status = 503,
    description = "Busy or the database is unavailable; retry after `Retry-After` seconds.",
    headers(("Retry-After" = String))
)]
pub struct Unavailable(pub ApiError);

/// 404 from a passkey endpoint on a site without passkeys.
#[derive(IntoResponses)]
#[response(
    status = 404,
    description = "Passkeys are not available on this site (`KEYHOLD_PUBLIC_URL` names an IP address, not a domain)."
)]
pub struct PasskeysOff(pub ApiError);

/// 404 from renaming or removing a passkey.
#[derive(IntoResponses)]
#[response(
    status = 404,
    description = "No such passkey (field `id`), or passkeys are not available on this site."
)]
pub struct NoSuchPasskey(pub ApiError);

/// 400 `invalid_ceremony`.
#[derive(IntoResponses)]
#[response(
    status = 400,
    description = "The body cannot be parsed, or the ceremony is unknown, already finished or older than 5 minutes (`error`: `invalid_ceremony`, field `ceremony`): start again."
)]
pub struct InvalidCeremony(pub ApiError);

/// 409 from registering a passkey.
#[derive(IntoResponses)]
#[response(
    status = 409,
    description = "The passkey is registered already (field `credential`), or the account has the most passkeys allowed (20)."
)]
pub struct PasskeyConflict(pub ApiError);
