//! Logging in with a password, and who a bearer token belongs to.

use super::{
    password_check::Upgrade, second_factor::AMR_PASSWORD, AccountError, Accounts, Authenticated,
    Client, LogInStep, Principal,
};
use crate::api::security_events::ActivityKind;
use crate::server::{
    building_blocks::{
        token::TokenError,
        validation::{lookup_key, normalize_password},
    },
    store::{Session, User},
    throttle::LoginAttempt,
};

impl Accounts {
    /// Checks a username-or-email and password: the person, or the second step their
    /// account asks for (which keeps `continuation`, what the log-in is for). An unknown
    /// user and a wrong password give the same error after the same amount of work (their
    /// activity entries are written after the answer); attempts are throttled before any
    /// hashing, first per address whatever the name (a browser that proves with its
    /// device cookie that it signed in to this account before spends only its own
    /// budget).
    pub async fn login(
        &self,
        identifier: &str,
        password: &str,
        client: Client<'_>,
        device_cookie: Option<&str>,
        continuation: Option<&str>,
    ) -> Result<LogInStep, AccountError> {
        let result = self
            .check_log_in(identifier, password, client, device_cookie, continuation)
            .await;
        let outcome = match &result {
            Ok(LogInStep::Authenticated(_)) => "ok",
            Ok(LogInStep::SecondFactorRequired { .. }) => "second_factor_required",
            Err(AccountError::InvalidCredentials) => "invalid",
            Err(AccountError::Throttled(_)) => "throttled",
            Err(AccountError::Disabled) => "disabled",
            Err(AccountError::EmailNotVerified) => "unverified",
            Err(AccountError::Busy) => "shed",
            Err(_) => "error",
        };
        metrics::counter!("keyhold_logins_total", "outcome" => outcome).increment(1);
        result
    }

    async fn check_log_in(
        &self,
        identifier: &str,
        password: &str,
        client: Client<'_>,
        device_cookie: Option<&str>,
        continuation: Option<&str>,
    ) -> Result<LogInStep, AccountError> {
        let key = lookup_key(identifier);
        let found = self.store.credentials(&key).await?;
        let user_id = found.as_ref().map(|credentials| credentials.user.id);
        let attempt = LoginAttempt {
            account: match &found {
                Some(credentials) => format!("user:{}", credentials.user.id),
                None => format!("name:{key}"),
            },
            addr: client.addr,
            device: found.as_ref().and_then(|credentials| {
                let user = &credentials.user;
                device_cookie
                    .and_then(|cookie| self.devices.verify(cookie, user.id, user.token_generation))
            }),
        };
        // Known and unknown names alike: the entry is written after the answer.
        if let Err(wait) = self.throttle.login(&attempt).await? {
            self.record_attempt(ActivityKind::LoginThrottled, user_id, client);
            return Err(AccountError::Throttled(wait));
        }
        let password = normalize_password(password);
        let checked = if password.chars().count() > self.policy.max_chars {
            None
        } else {
            self.verify_password(found, password, Upgrade::Yes).await?
        };
        let Some(found) = checked else {
            self.record_attempt(ActivityKind::LoginFailed, user_id, client);
            return Err(AccountError::InvalidCredentials);
        };
        let user = &found.user;
        if user.disabled_at.is_some() {
            // Only the owner, with the right password, learns why.
            self.record(ActivityKind::LoginRefusedDisabled, user.id, client, None)
                .await;
            return Err(AccountError::Disabled);
        }
        self.throttle.login_succeeded(&attempt).await?;
        self.admit(user, client).await?;
        let known_device = attempt.device.is_some();
        let methods = self.second_factor_methods(user.id).await?;
        if !methods.is_empty() {
            return self
                .require_second_factor(&found, methods, client, known_device, continuation)
                .await;
        }
        Ok(LogInStep::Authenticated(Authenticated {
            user: found.user,
            amr: vec![AMR_PASSWORD],
            auth_time: self.clock.now(),
            known_device,
            continuation: continuation.map(str::to_owned),
            activity: ActivityKind::LoginSucceeded,
        }))
    }

    /// The user and session a bearer token (the value after `Bearer `) belongs to, if
    /// the token is valid, its session live and no password change or
    /// log-out-everywhere happened since it was issued.
    pub async fn authenticate(&self, token: Option<&str>) -> Result<Principal, AccountError> {
        let token = token.ok_or(AccountError::MissingToken)?;
        let claims = self.tokens.verify(token)?;
        let id: i64 = claims.sub.parse().map_err(|_| TokenError::Malformed)?;
        let (session, user) = self.live_session(&claims.sid).await.map_err(|e| match e {
            AccountError::SessionEnded => TokenError::Revoked.into(),
            other => other,
        })?;
        if session.user_id != id || claims.gen != user.token_generation {
            return Err(TokenError::Revoked.into());
        }
        self.principal(session, user).await
    }

    /// The principal of a live session, marking it used (at most once per touch
    /// interval).
    pub(super) async fn principal(
        &self,
        session: Session,
        user: User,
    ) -> Result<Principal, AccountError> {
        let now = self.clock.now();
        if now - session.last_seen_at >= self.sessions.touch_interval() {
            self.store.touch_session(user.id, &session.id, now).await?;
        }
        Ok(Principal {
            user,
            session_id: session.id,
            amr: session.amr,
        })
    }
}
