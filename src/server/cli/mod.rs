//! The command line of the `keyhold` binary: serving (the default), `migrate`,
//! `check-config`, `admin` (accounts and sessions, `admin.rs`; applications,
//! `clients.rs`) and `keys` (the published token signing keys, `keys.rs`). Every command
//! reads the same environment as the server and works while it runs.

mod admin;
mod check_config;
mod clients;
mod keys;

use crate::server::{config::Config, runtime::state::connect_with_retry, store::SqlStore};
use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "keyhold",
    version,
    about = "Keyhold: user accounts, sign-in and tokens"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the web app and the API (what `keyhold` does without a command).
    Serve,
    /// Apply the database migrations that are pending, then exit.
    Migrate,
    /// Check the settings and the database, print the effective settings (no secrets).
    CheckConfig,
    /// Manage accounts and sessions in the database (safe while the server runs).
    Admin {
        #[command(subcommand)]
        command: admin::AdminCommand,
    },
    /// The published token signing keys (KEYHOLD_JWT_ALG=EdDSA or ES256): list,
    /// rotate, revoke (safe while the server runs).
    Keys {
        #[command(subcommand)]
        command: keys::KeysCommand,
    },
}

/// Runs a command other than `serve`; the error is what to print before exiting 1.
pub async fn run(command: Command) -> Result<(), String> {
    match command {
        Command::Serve => Err("`serve` is run by main".into()),
        Command::Migrate => {
            let config = Config::from_env().map_err(|e| e.to_string())?;
            connect(&config).await?;
            println!("the database schema is up to date");
            Ok(())
        }
        Command::CheckConfig => check_config::run().await,
        Command::Admin { command } => {
            let config = Config::from_env().map_err(|e| e.to_string())?;
            admin::run(&connect(&config).await?, &config.mail.public_url, command).await
        }
        Command::Keys { command } => {
            let config = Config::from_env().map_err(|e| e.to_string())?;
            keys::run(&config, &connect(&config).await?, command).await
        }
    }
}

/// The database of `config`, migrated.
async fn connect(config: &Config) -> Result<SqlStore, String> {
    connect_with_retry(config)
        .await
        .map_err(|e| format!("cannot use the database: {e}"))
}
