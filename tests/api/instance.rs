//! A Keyhold server process for the tests that need the real binary: its own memory to
//! measure, its exit, several instances on one database.

use crate::client::Client;
use crate::helpers::free_port;
use std::{
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

/// The JWT secret of every `Instance` (so that several act as one service).
const INSTANCE_SECRET: &str = "shared-secret-of-both-instances-0123456789abcdef";

/// A Keyhold server process: the real binary, with its own memory to measure.
pub struct Instance {
    pub child: Child,
    pub base: String,
    http: reqwest::Client,
}

impl Instance {
    pub fn spawn(database_url: &str, data_dir: &std::path::Path) -> Self {
        Self::spawn_with(database_url, data_dir, &[])
    }

    pub fn spawn_with(
        database_url: &str,
        data_dir: &std::path::Path,
        extra: &[(&str, &str)],
    ) -> Self {
        let port = free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_keyhold"))
            .env("LEPTOS_OUTPUT_NAME", "keyhold")
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
            .env("LEPTOS_SITE_ROOT", "target/site")
            .env("DATABASE_URL", database_url)
            .env("KEYHOLD_DATA_DIR", data_dir)
            .env("KEYHOLD_JWT_SECRET", INSTANCE_SECRET)
            .env("KEYHOLD_ARGON2_MEMORY_KIB", "1024")
            .env("KEYHOLD_ARGON2_ITERATIONS", "1")
            .env("KEYHOLD_DB_POOL_SIZE", "20")
            .env("RUST_LOG", "warn")
            .env("KEYHOLD_RATE_REGISTRATION", "100000/1s")
            .envs(crate::helpers::key_encryption_key_for(database_url))
            .env("KEYHOLD_RATE_LOGIN_ADDRESS", "100000/1s")
            .envs(extra.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the keyhold binary");
        Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
            http: reqwest::Client::new(),
        }
    }

    pub async fn ready(self, client: &reqwest::Client) -> Self {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(response) = client.get(format!("{}/healthz", self.base)).send().await {
                if response.status() == 200 {
                    return self;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("instance at {} did not become healthy", self.base);
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A client of this instance's API.
    pub fn api(&self) -> Client {
        Client::over(self.http.clone(), &self.base)
    }

    /// A memory figure of the process from `/proc/<pid>/status`, in KiB: `VmRSS` (resident
    /// now) or `VmHWM` (the peak so far); 0 if unreadable.
    pub fn memory_kib(&self, field: &str) -> u64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .ok()
            .and_then(|status| {
                status
                    .lines()
                    .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
                    .and_then(|value| value.split_whitespace().next()?.parse().ok())
            })
            .unwrap_or(0)
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
