//! Whether a name is an account's must not show in how long a refused log-in takes
//! (issue 31 finding 10): only a known name has an activity entry to write, so the
//! entries of failed and throttled log-ins are written after the answer. Shown
//! structurally rather than by timing: with the activity table held by another
//! connection, known and unknown names are answered at once, and the entries appear
//! once the table is free.

use crate::client::requests::{newest, registration};
use crate::helpers::{Engine, TestServer};
use sqlx::{Connection, Executor, PgConnection, SqliteConnection};
use std::time::Duration;

const WRONG: &str = "wrong password number one";

/// Another connection holding the table writes wait for (SQLite: the whole database).
enum Holder {
    Sqlite(SqliteConnection),
    Postgres(PgConnection),
}

impl Holder {
    async fn take(server: &TestServer, engine: Engine) -> Self {
        let url = &server.database().url;
        match engine {
            Engine::Sqlite => {
                let mut conn = SqliteConnection::connect(url).await.unwrap();
                conn.execute("BEGIN IMMEDIATE").await.unwrap();
                Self::Sqlite(conn)
            }
            Engine::Postgres => {
                let mut conn = PgConnection::connect(url).await.unwrap();
                conn.execute("BEGIN").await.unwrap();
                conn.execute("LOCK TABLE security_events IN EXCLUSIVE MODE")
                    .await
                    .unwrap();
                Self::Postgres(conn)
            }
        }
    }

    async fn release(self) {
        match self {
            Self::Sqlite(mut conn) => {
                conn.execute("COMMIT").await.unwrap();
            }
            Self::Postgres(mut conn) => {
                conn.execute("COMMIT").await.unwrap();
            }
        }
    }
}

on_both_databases!(
    refused_log_ins_answer_before_their_entry_is_written,
    |engine: Engine| async move {
        // A write waits up to a minute for the table: far longer than the answers may.
        let server = TestServer::start_with(engine, |s| {
            s.insert("KEYHOLD_DB_STATEMENT_TIMEOUT", "60".into());
        })
        .await;
        let token = server.signed_up("known").await;
        let other = server
            .api()
            .register(&registration("other", "other@example.com", WRONG))
            .await;
        assert_eq!(other.status(), 201);
        // Spend both names' budgets (5 per address): the next attempts are refused
        // before any hashing, where only the entry could tell the names apart.
        for name in ["known", "unknown"] {
            for _ in 0..5 {
                assert_eq!(server.api().login(name, WRONG).await.status(), 401);
            }
        }

        let holder = Holder::take(&server, engine).await;
        let answered = |name: &'static str, password: &'static str| {
            let api = server.api();
            async move {
                let login = api.login(name, password);
                tokio::time::timeout(Duration::from_secs(5), login)
                    .await
                    .unwrap_or_else(|_| panic!("{name}: no answer while the table is held"))
                    .status()
            }
        };
        assert_eq!(answered("known", WRONG).await, 429);
        assert_eq!(answered("unknown", WRONG).await, 429);
        // A wrong password (hashed, then refused) is not held up either.
        assert_eq!(answered("other", "not the password of other").await, 401);
        holder.release().await;

        // Written afterwards, in order, before the owner reads them.
        let page = server
            .api()
            .bearer(&token)
            .activity(&newest(None))
            .await
            .json();
        let entries: Vec<(&str, i64)> = page["entries"]
            .as_array()
            .unwrap_or_else(|| panic!("{page}"))
            .iter()
            .map(|e| (e["kind"].as_str().unwrap(), e["count"].as_i64().unwrap()))
            .collect();
        assert_eq!(
            entries,
            [
                ("login_throttled", 1),
                ("login_failed", 5),
                ("login_succeeded", 1)
            ]
        );
    }
);

on_both_databases!(
    entries_still_queued_at_shutdown_are_stored_by_the_drain,
    |engine: Engine| async move {
        let server = TestServer::start_with(engine, |s| {
            s.insert("KEYHOLD_DB_STATEMENT_TIMEOUT", "60".into());
        })
        .await;
        server.signed_up("known").await;
        let before = server.rows("security_events").await;

        let holder = Holder::take(&server, engine).await;
        for _ in 0..3 {
            assert_eq!(server.api().login("known", WRONG).await.status(), 401);
        }
        // The serving loop has returned: what main does next must wait for the writer,
        // which waits for the table.
        let drained = async {
            server.drain_activity().await;
            server.rows("security_events").await
        };
        let released = async {
            tokio::time::sleep(Duration::from_millis(300)).await;
            holder.release().await;
        };
        let (after, ()) = tokio::join!(drained, released);
        // One entry (the three failures fold into it), there before the drain returned.
        assert_eq!(after, before + 1);
    }
);

on_both_databases!(
    a_stuck_queue_holds_up_the_owners_reads_only_briefly,
    |engine: Engine| async move {
        let server = TestServer::start_with(engine, |s| {
            s.insert("KEYHOLD_DB_STATEMENT_TIMEOUT", "60".into());
        })
        .await;
        let token = server.signed_up("known").await;

        // The writer is stuck on the held table with this account's entry (as it would
        // be behind a flood of another account's): reading the list waits a moment for
        // it, then goes on.
        let holder = Holder::take(&server, engine).await;
        assert_eq!(server.api().login("known", WRONG).await.status(), 401);
        let api = server.api().bearer(&token);
        let read = tokio::time::timeout(Duration::from_secs(5), api.activity(&newest(None)))
            .await
            .expect("the owner's read waits for the queue only briefly");
        assert_eq!(read.status(), 200);
        holder.release().await;
    }
);
