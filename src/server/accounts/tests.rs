//! The account rules against a real store kept in memory (SQLite `:memory:`), with a
//! clock the tests move: no HTTP, no sleeping.

use super::{AccountError, Accounts, Client, Parts};
use crate::server::{
    building_blocks::{
        clock::Clock,
        device_cookie::DeviceCookies,
        images::{ImageProcessor, UploadCapacity},
        password::PasswordHasher,
        session_policy::SessionPolicy,
        token::{TokenError, TokenService},
        validation::PasswordPolicy,
    },
    config::Argon2Cost,
    store::{DatabaseOptions, SqlStore, StoreError},
    throttle::{Limits, MemoryThrottle, Throttle},
};
use std::{net::IpAddr, sync::Arc, time::Duration};

const PASSWORD: &str = "correct horse battery staple";
const DAY: Duration = Duration::from_secs(86_400);
const UNIT_TEST_KEK: &[u8] = b"unit-test-key-encryption-key-0123456789abcdef";

async fn accounts() -> (Accounts, Clock) {
    let clock = Clock::system();
    let store = SqlStore::connect(&DatabaseOptions {
        url: "sqlite::memory:".into(),
        pool_size: 1,
        acquire_timeout: Duration::from_secs(5),
        statement_timeout: Duration::from_secs(5),
    })
    .await
    .expect("in-memory store");
    let cheap = Argon2Cost {
        memory_kib: 1024,
        iterations: 1,
        parallelism: 1,
    };
    let tokens = TokenService::new(
        clock.clone(),
        b"unit-test-secret-0123456789abcdef-0123456789",
        None,
        "keyhold",
        "keyhold-api",
        Duration::from_secs(900),
    )
    .expect("tokens");
    let accounts = Accounts::new(Parts {
        clock: clock.clone(),
        store: Arc::new(store),
        hasher: PasswordHasher::new(cheap, 1, 8).expect("hasher"),
        tokens,
        policy: PasswordPolicy {
            min_chars: 15,
            max_chars: 256,
        },
        throttle: Throttle::new(
            Arc::new(MemoryThrottle::new(Limits::default().max_keys)),
            Limits::default(),
            clock.clone(),
        ),
        devices: DeviceCookies::new(b"unit-test-device-key-0123456789abcdef"),
        session_cookies: crate::server::building_blocks::session_cookie::SessionCookies::new(
            b"unit-test-session-key-0123456789abcdef",
        ),
        images: ImageProcessor::new(UploadCapacity {
            slots: 1,
            queue: 0,
            threads: 1,
        })
        .expect("image threads"),
        sessions: SessionPolicy::default(),
        mailer: crate::server::mail::Mailer::new(
            "https://id.example",
            Arc::new(crate::server::mail::MailSeal::new(UNIT_TEST_KEK)),
            Arc::new(tokio::sync::Notify::new()),
        ),
        totp_secrets:
            crate::server::building_blocks::second_factors::totp_at_rest::TotpSecrets::new(
                UNIT_TEST_KEK,
            ),
        require_verified_email: false,
        relying_party: crate::server::building_blocks::relying_party::RelyingParty::from_public_url(
            "https://id.example",
        ),
    });
    (accounts, clock)
}

fn client() -> Client<'static> {
    Client {
        addr: IpAddr::from([192, 0, 2, 1]),
        user_agent: "unit test",
    }
}

async fn signed_up(accounts: &Accounts, name: &str) -> super::SignIn {
    let email = format!("{name}@example.com");
    accounts
        .register(name, &email, PASSWORD, client().addr)
        .await
        .unwrap();
    log_in(accounts, name, PASSWORD).await.unwrap()
}

/// A password log-in to the end, as `POST /api/login` runs it: the person, their
/// session, its first-party tokens.
async fn log_in(
    accounts: &Accounts,
    identifier: &str,
    password: &str,
) -> Result<super::SignIn, AccountError> {
    let step = accounts
        .login(identifier, password, client(), None, None)
        .await?;
    let super::LogInStep::Authenticated(person) = step else {
        panic!("no second factor in these tests");
    };
    let opened = accounts.complete_log_in(person, client()).await?;
    accounts.issue_first_party(opened)
}

#[tokio::test]
async fn a_log_in_gives_a_token_that_names_its_user_and_session() {
    let (accounts, _) = accounts().await;
    let signed_in = signed_up(&accounts, "ada").await;
    let principal = accounts
        .authenticate(Some(&signed_in.access.token))
        .await
        .unwrap();
    assert_eq!(principal.user.username, "ada");
    assert_eq!(principal.session_id, signed_in.refresh.session_id);
    let by_email = log_in(&accounts, "ADA@example.com", PASSWORD).await;
    assert!(by_email.is_ok(), "the e-mail works too, regardless of case");
}

#[tokio::test]
async fn unknown_users_and_wrong_passwords_get_the_same_error() {
    let (accounts, _) = accounts().await;
    signed_up(&accounts, "ada").await;
    let wrong = log_in(&accounts, "ada", "not the password at all").await;
    let unknown = log_in(&accounts, "nobody", PASSWORD).await;
    assert!(matches!(wrong, Err(AccountError::InvalidCredentials)));
    assert!(matches!(unknown, Err(AccountError::InvalidCredentials)));
}

#[tokio::test]
async fn a_replaced_refresh_token_replayed_after_the_grace_window_ends_the_session() {
    let (accounts, clock) = accounts().await;
    let signed_in = signed_up(&accounts, "ada").await;
    let stolen = signed_in.refresh.value();
    let refreshed = accounts.refresh(Some(&stolen), client()).await.unwrap();
    let (newest, _) = refreshed.refresh.expect("rotated");

    // Within the grace window (two tabs racing): a token, no new cookie.
    let racing = accounts.refresh(Some(&stolen), client()).await.unwrap();
    assert!(racing.refresh.is_none());

    clock.advance(Duration::from_secs(11));
    let replayed = accounts.refresh(Some(&stolen), client()).await;
    assert!(matches!(replayed, Err(AccountError::SessionEnded)));
    let newest = accounts.refresh(Some(&newest.value()), client()).await;
    assert!(
        matches!(newest, Err(AccountError::SessionEnded)),
        "the whole session ended"
    );
}

#[tokio::test]
async fn sessions_end_when_idle_and_at_their_lifetime() {
    let (accounts, clock) = accounts().await;
    let idle = signed_up(&accounts, "ada").await;
    let busy = log_in(&accounts, "ada", PASSWORD).await.unwrap();
    let mut cookie = busy.refresh.value();
    for _ in 0..4 {
        clock.advance(6 * DAY);
        let refreshed = accounts.refresh(Some(&cookie), client()).await.unwrap();
        cookie = refreshed.refresh.expect("rotated").0.value();
    }
    let idle = accounts
        .refresh(Some(&idle.refresh.value()), client())
        .await;
    assert!(
        matches!(idle, Err(AccountError::SessionEnded)),
        "7 days idle"
    );
    clock.advance(6 * DAY);
    let old = accounts.refresh(Some(&cookie), client()).await;
    assert!(
        matches!(old, Err(AccountError::SessionEnded)),
        "30 days old"
    );
}

#[tokio::test]
async fn log_out_everywhere_and_a_password_change_revoke_earlier_tokens() {
    let (accounts, _) = accounts().await;
    let first = signed_up(&accounts, "ada").await;
    let second = log_in(&accounts, "ada", PASSWORD).await.unwrap();
    let principal = accounts
        .authenticate(Some(&second.access.token))
        .await
        .unwrap();

    let wrong = accounts
        .change_password(
            &principal,
            ("not my password", "another long passphrase"),
            Default::default(),
            client(),
        )
        .await;
    assert!(matches!(
        wrong,
        Err(AccountError::WrongPassword("current_password"))
    ));

    let fresh = accounts
        .change_password(
            &principal,
            (PASSWORD, "another long passphrase"),
            Default::default(),
            client(),
        )
        .await
        .unwrap();
    let revoked = accounts.authenticate(Some(&first.access.token)).await;
    assert!(matches!(
        revoked,
        Err(AccountError::InvalidToken(TokenError::Revoked))
    ));
    let principal = accounts.authenticate(Some(&fresh.token)).await.unwrap();

    accounts
        .log_out_everywhere(&principal, client())
        .await
        .unwrap();
    let after = accounts.authenticate(Some(&fresh.token)).await;
    assert!(matches!(
        after,
        Err(AccountError::InvalidToken(TokenError::Revoked))
    ));
}

#[tokio::test]
async fn access_tokens_expire_with_the_clock() {
    let (accounts, clock) = accounts().await;
    let signed_in = signed_up(&accounts, "ada").await;
    clock.advance(Duration::from_secs(16 * 60));
    let expired = accounts.authenticate(Some(&signed_in.access.token)).await;
    assert!(matches!(
        expired,
        Err(AccountError::InvalidToken(TokenError::Expired))
    ));
}

#[tokio::test]
async fn a_log_in_that_read_the_user_before_a_log_out_everywhere_opens_no_session() {
    let (accounts, _) = accounts().await;
    let first = signed_up(&accounts, "ada").await;
    let principal = accounts
        .authenticate(Some(&first.access.token))
        .await
        .unwrap();
    // A log-in in flight holds the row it read before its (slow) password check...
    let read_before = principal.user.clone();
    // ...while the owner logs out everywhere.
    accounts
        .log_out_everywhere(&principal, client())
        .await
        .unwrap();
    let late = accounts
        .open_session(&read_before, client(), &["pwd"])
        .await;
    assert!(matches!(late, Err(AccountError::SessionEnded)), "{late:?}");
    let ada = accounts
        .store
        .find(principal.user.id)
        .await
        .unwrap()
        .unwrap();
    assert!(accounts.store.sessions(ada.id).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_password_change_applies_only_over_the_hash_it_checked() {
    let (accounts, _) = accounts().await;
    let signed_in = signed_up(&accounts, "ada").await;
    let principal = accounts
        .authenticate(Some(&signed_in.access.token))
        .await
        .unwrap();
    let id = principal.user.id;
    let checked = accounts.store.credentials("ada").await.unwrap().unwrap();
    // A first change lands...
    accounts
        .change_password(
            &principal,
            (PASSWORD, "another long passphrase"),
            Default::default(),
            client(),
        )
        .await
        .unwrap();
    // ...so a second one that checked the same old hash must not overwrite it.
    let stale = accounts
        .store
        .change_password(id, &checked.password_hash, "$argon2id$stale", None)
        .await;
    assert!(matches!(stale, Err(StoreError::Missing)), "{stale:?}");
    assert!(log_in(&accounts, "ada", "another long passphrase")
        .await
        .is_ok());
}

#[tokio::test]
async fn repeated_failures_fold_into_one_entry_and_old_entries_are_pruned() {
    use crate::api::security_events::ActivityKind;

    let (accounts, clock) = accounts().await;
    let signed_in = signed_up(&accounts, "ada").await;
    let user = accounts
        .authenticate(Some(&signed_in.access.token))
        .await
        .unwrap()
        .user;
    for _ in 0..3 {
        let wrong = log_in(&accounts, "ada", "a wrong password, long enough");
        assert!(matches!(wrong.await, Err(AccountError::InvalidCredentials)));
    }
    let kinds = |events: Vec<crate::server::store::StoredEvent>| -> Vec<(ActivityKind, i64)> {
        events
            .into_iter()
            .map(|e| (ActivityKind::from_name(&e.kind), e.count))
            .collect()
    };
    let (events, next) = accounts.activity(&user, None, None).await.unwrap();
    assert_eq!(
        kinds(events),
        [
            (ActivityKind::LoginFailed, 3),
            (ActivityKind::LoginSucceeded, 1)
        ]
    );
    assert_eq!(next, None);

    // Past the folding window, a failure is a new entry.
    clock.advance(Duration::from_secs(16 * 60));
    let wrong = log_in(&accounts, "ada", "a wrong password, long enough");
    assert!(wrong.await.is_err());
    let (events, _) = accounts.activity(&user, None, None).await.unwrap();
    assert_eq!(events.len(), 3);

    // Retention: entries older than it go; newer ones stay.
    clock.advance(89 * DAY);
    let wrong = log_in(&accounts, "ada", "a wrong password, long enough");
    assert!(wrong.await.is_err());
    assert_eq!(accounts.prune_activity(90 * DAY).await.unwrap(), 0);
    clock.advance(DAY + Duration::from_secs(1));
    assert_eq!(accounts.prune_activity(90 * DAY).await.unwrap(), 3);
    let (events, _) = accounts.activity(&user, None, None).await.unwrap();
    assert_eq!(kinds(events), [(ActivityKind::LoginFailed, 1)]);
}

#[tokio::test]
async fn what_a_session_repeats_folds_until_a_quiet_window() {
    use crate::api::security_events::ActivityKind;

    let (accounts, clock) = accounts().await;
    let signed_in = signed_up(&accounts, "ada").await;
    let principal = accounts
        .authenticate(Some(&signed_in.access.token))
        .await
        .unwrap();
    let kinds = |events: Vec<crate::server::store::StoredEvent>| -> Vec<(ActivityKind, i64)> {
        events
            .into_iter()
            .map(|e| (ActivityKind::from_name(&e.kind), e.count))
            .collect()
    };
    for _ in 0..3 {
        accounts
            .revoke_other_sessions(&principal, client())
            .await
            .unwrap();
        clock.advance(Duration::from_secs(14 * 60));
    }
    let (events, _) = accounts
        .activity(&principal.user, None, None)
        .await
        .unwrap();
    assert_eq!(
        kinds(events),
        [
            (ActivityKind::OtherSessionsRevoked, 3),
            (ActivityKind::LoginSucceeded, 1)
        ]
    );
    // Over 15 minutes after the entry's latest, a repeat is a new entry.
    clock.advance(Duration::from_secs(2 * 60));
    accounts
        .revoke_other_sessions(&principal, client())
        .await
        .unwrap();
    let (events, _) = accounts
        .activity(&principal.user, None, None)
        .await
        .unwrap();
    assert_eq!(
        kinds(events),
        [
            (ActivityKind::OtherSessionsRevoked, 1),
            (ActivityKind::OtherSessionsRevoked, 3),
            (ActivityKind::LoginSucceeded, 1)
        ]
    );
}
