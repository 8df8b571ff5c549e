//! How long sessions live, over real HTTP on SQLite and PostgreSQL: one unused for the
//! idle timeout ends, one in use ends at its absolute lifetime, and an account keeps at
//! most its cap of sessions.

use crate::devices::{me_status, refresh, sessions, sign_in};
use crate::helpers::{Engine, TestServer};
use std::time::Duration;

const DAY: Duration = Duration::from_secs(86_400);

on_both_databases!(idle_sessions_end, |engine: Engine| async move {
    // The default idle timeout: 7 days.
    let server = TestServer::start(engine).await;
    server.registered("sleepy").await;
    let idle = sign_in(&server, "sleepy", "curl/8.5.0").await;
    let active = sign_in(&server, "sleepy", "curl/8.5.0").await;
    server.clock.advance(4 * DAY);
    let (_, cookie) = refresh(&server, &active.cookie).await.unwrap();
    server.clock.advance(4 * DAY);

    // Eight days without use: over. Used four days ago: alive.
    assert_eq!(me_status(&server, &idle.access).await, 401);
    assert_eq!(refresh(&server, &idle.cookie).await, Err(401));
    let (access, _) = refresh(&server, &cookie.unwrap()).await.unwrap();
    assert_eq!(me_status(&server, &access).await, 200);
});

on_both_databases!(
    sessions_end_at_their_absolute_lifetime,
    |engine: Engine| async move {
        // The default absolute lifetime: 30 days.
        let server = TestServer::start(engine).await;
        server.registered("mayfly").await;
        let device = sign_in(&server, "mayfly", "curl/8.5.0").await;
        let mut cookie = device.cookie;
        for _ in 0..4 {
            server.clock.advance(6 * DAY);
            let (access, next) = refresh(&server, &cookie).await.unwrap();
            assert_eq!(me_status(&server, &access).await, 200);
            cookie = next.unwrap();
        }
        // Refreshing every six days kept it active, but 30 days after the log-in it is over.
        server.clock.advance(6 * DAY);
        assert_eq!(refresh(&server, &cookie).await, Err(401));
    }
);

on_both_databases!(sessions_per_user_are_capped, |engine: Engine| async move {
    let server = TestServer::start_with(engine, |s| {
        s.insert("KEYHOLD_SESSIONS_PER_USER", "3".into());
    })
    .await;
    server.registered("hoarder").await;
    let mut devices = Vec::new();
    for _ in 0..5 {
        devices.push(sign_in(&server, "hoarder", "curl/8.5.0").await);
    }
    let newest = devices.last().unwrap();
    assert_eq!(sessions(&server, &newest.access).await.len(), 3);
    assert_eq!(me_status(&server, &newest.access).await, 200);
});
