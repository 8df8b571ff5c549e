//! `keyhold keys`: the published token signing keys (KEYHOLD_JWT_ALG=EdDSA or ES256) in
//! the database: list them, rotate (a standby key now, signing after a delay; the old
//! key stays published until its tokens have expired), revoke one at once. Every running
//! instance follows within KEYHOLD_JWT_KEYS_RELOAD.

use crate::server::{
    building_blocks::{
        clock::unix_now,
        token::{
            key_material::algorithm_name,
            key_rotation::{KeySet, KeyStatus},
            KeyPair,
        },
    },
    config::{parse_duration, Config},
    store::SqlStore,
};
use clap::Subcommand;
use serde_json::json;
use std::{path::PathBuf, sync::Arc, time::Duration};

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// The keys and where each is in its life (standby, current, previous, retired).
    List {
        #[arg(long)]
        json: bool,
    },
    /// Publish a new key now; it signs once the delay is over, and the key it replaces
    /// stays published until every token it signed has expired.
    Rotate {
        /// How long the new key is published before it signs (default
        /// KEYHOLD_JWT_KEY_PROMOTE_AFTER, 20m): longer than resource servers cache the
        /// key set. `0` makes it sign at once (a compromised key).
        #[arg(long, value_parser = duration)]
        promote_after: Option<Duration>,
        /// Use this PKCS#8 PEM private key instead of generating one.
        #[arg(long)]
        private_key_file: Option<PathBuf>,
    },
    /// Remove a key from the set at once: its tokens stop verifying everywhere. The key
    /// signing now cannot be removed (rotate with `--promote-after 0` first).
    Revoke {
        kid: String,
        /// Confirms the removal (tokens it signed stop working).
        #[arg(long)]
        yes: bool,
    },
}

fn duration(text: &str) -> Result<Duration, String> {
    parse_duration(text).ok_or_else(|| format!("{text:?} is not a duration such as 0, 90s, 20m"))
}

pub async fn run(config: &Config, store: &SqlStore, command: KeysCommand) -> Result<(), String> {
    if !config.publishes_keys() {
        return Err(
            "KEYHOLD_JWT_ALG is HS256, which publishes no keys: set it to EdDSA or \
                    ES256 (an HS256 secret rotates with KEYHOLD_JWT_PREVIOUS_SECRET)"
                .into(),
        );
    }
    let keys = KeySet::from_config(config, Arc::new(store.clone())).map_err(|e| e.to_string())?;
    let now = unix_now();
    match command {
        KeysCommand::List { json } => {
            let statuses = keys.statuses(now).await.map_err(|e| e.to_string())?;
            print_statuses(&statuses, json);
            Ok(())
        }
        KeysCommand::Rotate {
            promote_after,
            private_key_file,
        } => {
            let pair = match private_key_file {
                None => None,
                Some(path) => {
                    let pem = std::fs::read_to_string(&path)
                        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                    Some(KeyPair::from_pem(config.jwt_alg, &pem).map_err(|e| e.to_string())?)
                }
            };
            let promote_after = promote_after.unwrap_or(config.jwt_key_promote_after);
            let key = keys
                .rotate(config.jwt_alg, pair, now, promote_after)
                .await
                .map_err(|e| e.to_string())?;
            println!(
                "new {} key {} published; it signs from {} (in {}s)",
                algorithm_name(config.jwt_alg),
                key.kid,
                key.activate_at,
                key.activate_at - now
            );
            Ok(())
        }
        KeysCommand::Revoke { kid, yes } => {
            if !yes {
                return Err("add --yes: tokens signed with this key stop working".into());
            }
            keys.revoke(&kid, now).await.map_err(|e| e.to_string())?;
            println!("key {kid} removed from the set");
            Ok(())
        }
    }
}

fn print_statuses(statuses: &[KeyStatus], as_json: bool) {
    if as_json {
        let list: Vec<_> = statuses
            .iter()
            .map(|s| {
                json!({
                    "kid": s.kid, "alg": s.alg, "state": s.phase.name(),
                    "created_at": s.created_at, "activate_at": s.activate_at,
                })
            })
            .collect();
        println!("{}", serde_json::Value::Array(list));
        return;
    }
    if statuses.is_empty() {
        println!("no keys yet: the first server start makes one");
    }
    for s in statuses {
        println!(
            "{:<44} {:<6} {:<9} activates at {}",
            s.kid,
            s.alg,
            s.phase.name(),
            s.activate_at
        );
    }
}
