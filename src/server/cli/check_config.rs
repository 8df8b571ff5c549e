//! `keyhold check-config`: reads the settings as the server would, refuses what it would
//! refuse, checks that the database answers, and prints the effective settings (secrets
//! shown as redacted). Changes nothing.

use crate::server::{
    building_blocks::token::key_rotation::KeySet,
    config::{secrets::check_secret, Config},
};
use secrecy::ExposeSecret;
use sqlx::{AnyConnection, Connection};

pub async fn run() -> Result<(), String> {
    let config = Config::from_env().map_err(|e| e.to_string())?;
    for (name, secret) in [
        ("KEYHOLD_JWT_SECRET", &config.jwt_secret),
        ("KEYHOLD_JWT_PREVIOUS_SECRET", &config.jwt_previous_secret),
    ] {
        if let Some(secret) = secret {
            check_secret(name, secret.expose_secret().as_bytes()).map_err(|e| e.to_string())?;
        }
    }
    KeySet::configured_key(&config).map_err(|e| format!("KEYHOLD_JWT_PRIVATE_KEY: {e}"))?;
    sqlx::any::install_default_drivers();
    let connect = AnyConnection::connect(config.database_url.expose_secret());
    match tokio::time::timeout(config.db_connect_timeout, connect).await {
        Ok(Ok(conn)) => drop(conn),
        Ok(Err(e)) => return Err(format!("the database cannot be reached: {e}")),
        Err(_) => return Err("the database did not answer in time".into()),
    }
    println!("{config:#?}");
    println!("the settings are valid and the database answers");
    Ok(())
}
