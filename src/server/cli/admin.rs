//! `keyhold admin`: accounts (list, show, disable, enable, delete, remove their second
//! factors) and their sessions (list, revoke), straight in the database; registered
//! applications are `clients.rs`. Each change is recorded in the account's activity log
//! as done by an administrator, and a server caching rows of a SQLite file is told (it
//! forgets them within a second). `--json` prints machine-readable output.

use crate::api::security_events::ActivityKind;
use crate::server::{
    accounts::{new_link, record_event, Origin, RESET},
    building_blocks::{
        clock::unix_now, digest::sha256_hex, user_agent::describe_device, validation::lookup_key,
    },
    store::{
        ActivityStore, Credentials, LinkStore, PasskeyStore, SecondFactorStore, SessionStore,
        SqlStore, User, UserStore,
    },
};
use clap::Subcommand;
use serde_json::json;

/// How administrator actions appear in the activity log.
const ADMIN: Origin<'static> = Origin {
    address: "local",
    user_agent: "keyhold-admin",
    session_id: None,
};

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Accounts.
    Users {
        #[command(subcommand)]
        command: UsersCommand,
    },
    /// Sign-in sessions of an account.
    Sessions {
        #[command(subcommand)]
        command: SessionsCommand,
    },
    /// Applications that sign their users in with Keyhold (OpenID Connect clients).
    Clients {
        #[command(subcommand)]
        command: super::clients::ClientsCommand,
    },
    /// Print a one-time password reset link for the account (valid 30 minutes), to
    /// hand to its owner yourself; earlier reset links stop working.
    PasswordResetLink {
        #[arg(long)]
        user: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Accounts in creation order.
    List {
        /// Only accounts created after the account with this id.
        #[arg(long)]
        after: Option<i64>,
        #[arg(long, default_value_t = 100)]
        limit: i64,
        #[arg(long)]
        json: bool,
    },
    /// One account, its sessions and its recent security activity.
    Show {
        /// Username or e-mail address.
        user: String,
        #[arg(long)]
        json: bool,
    },
    /// Refuse every sign-in and end every session and token of the account at once.
    Disable { user: String },
    /// Let a disabled account sign in again.
    Enable { user: String },
    /// Delete the account and everything stored about it.
    Delete {
        user: String,
        /// Confirms the deletion (it cannot be undone).
        #[arg(long)]
        yes: bool,
    },
    /// Turn two-step verification off (the owner lost the authenticator app, the
    /// recovery codes and the passkeys: all are removed) and end every session: the
    /// password alone signs in again. Check who is asking first.
    RemoveSecondFactors {
        user: String,
        /// Confirms it.
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum SessionsCommand {
    /// The account's sessions.
    List {
        #[arg(long)]
        user: String,
        #[arg(long)]
        json: bool,
    },
    /// End one session (`--session ID`) or, without it, every session and token.
    Revoke {
        #[arg(long)]
        user: String,
        #[arg(long)]
        session: Option<String>,
    },
}

pub async fn run(db: &SqlStore, public_url: &str, command: AdminCommand) -> Result<(), String> {
    match command {
        AdminCommand::Users { command } => users(db, command).await,
        AdminCommand::Sessions { command } => sessions(db, command).await,
        AdminCommand::Clients { command } => super::clients::run(db, command).await,
        AdminCommand::PasswordResetLink { user } => {
            let found = find_credentials(db, &user).await?;
            let binding = sha256_hex(&found.password_hash);
            let (token, link) = new_link(
                found.user.id,
                RESET,
                &found.user.email,
                &binding,
                unix_now(),
            );
            db.issue_link(&link, None).await.map_err(fail)?;
            changed(db, ActivityKind::ResetLinkIssuedByAdmin, &found.user).await?;
            println!("{public_url}/reset-password?token={token}");
            Ok(())
        }
    }
}

async fn users(db: &SqlStore, command: UsersCommand) -> Result<(), String> {
    match command {
        UsersCommand::List { after, limit, json } => {
            let users = db
                .users_page(after, limit.clamp(1, 10_000))
                .await
                .map_err(fail)?;
            if json {
                let list: Vec<_> = users.iter().map(user_json).collect();
                println!("{}", serde_json::Value::Array(list));
            } else {
                println!("{:>8}  {:<24} {:<32} status", "id", "username", "email");
                for user in &users {
                    println!(
                        "{:>8}  {:<24} {:<32} {}",
                        user.id,
                        user.username,
                        user.email,
                        status(user)
                    );
                }
            }
        }
        UsersCommand::Show { user, json } => {
            let user = find(db, &user).await?;
            let sessions = db.sessions(user.id).await.map_err(fail)?;
            let events = db.events(user.id, None, 10).await.map_err(fail)?;
            let totp = db.totp_factor(user.id).await.map_err(fail)?;
            let codes = db.recovery_code_hashes(user.id).await.map_err(fail)?;
            let passkeys = db.passkeys(user.id).await.map_err(fail)?;
            let mut shown = user_json(&user);
            shown["sessions"] = sessions.len().into();
            shown["authenticator_app"] = totp.is_some_and(|t| t.confirmed_at.is_some()).into();
            shown["recovery_codes_left"] = codes.len().into();
            shown["passkeys"] = passkeys.len().into();
            shown["recent_activity"] = events
                .iter()
                .map(
                    |e| json!({"kind": e.kind, "at": e.at, "count": e.count, "address": e.address}),
                )
                .collect();
            if json {
                println!("{shown}");
            } else {
                println!("{}", serde_json::to_string_pretty(&shown).map_err(fail)?);
            }
        }
        UsersCommand::Disable { user } => {
            let user = find(db, &user).await?;
            db.set_disabled(user.id, true).await.map_err(fail)?;
            changed(db, ActivityKind::AccountDisabled, &user).await?;
            println!(
                "{} is disabled; every session and token ended",
                user.username
            );
        }
        UsersCommand::Enable { user } => {
            let user = find(db, &user).await?;
            db.set_disabled(user.id, false).await.map_err(fail)?;
            changed(db, ActivityKind::AccountEnabled, &user).await?;
            println!("{} can sign in again", user.username);
        }
        UsersCommand::Delete { user, yes } => {
            let user = find(db, &user).await?;
            if !yes {
                return Err(format!(
                    "deleting {} cannot be undone: add --yes to confirm",
                    user.username
                ));
            }
            db.delete(user.id).await.map_err(fail)?;
            changed(db, ActivityKind::AccountDeleted, &user).await?;
            println!("{} is deleted", user.username);
        }
        UsersCommand::RemoveSecondFactors { user, yes } => {
            let user = find(db, &user).await?;
            if !yes {
                return Err(format!(
                    "this lets {}'s password alone sign in: add --yes to confirm",
                    user.username
                ));
            }
            db.remove_totp(user.id).await.map_err(fail)?;
            db.remove_passkeys(user.id).await.map_err(fail)?;
            db.revoke_tokens(user.id).await.map_err(fail)?;
            changed(db, ActivityKind::SecondFactorsRemovedByAdmin, &user).await?;
            println!(
                "{} has no second factor now; every session and token ended",
                user.username
            );
        }
    }
    Ok(())
}

async fn sessions(db: &SqlStore, command: SessionsCommand) -> Result<(), String> {
    match command {
        SessionsCommand::List { user, json } => {
            let user = find(db, &user).await?;
            let sessions = db.sessions(user.id).await.map_err(fail)?;
            let list: Vec<_> = sessions
                .iter()
                .map(|s| {
                    json!({
                        "id": s.id, "device": describe_device(&s.user_agent),
                        "address": s.address, "created_at": s.created_at,
                        "last_seen_at": s.last_seen_at, "expires_at": s.expires_at,
                    })
                })
                .collect();
            if json {
                println!("{}", serde_json::Value::Array(list));
            } else {
                for s in &sessions {
                    let device = describe_device(&s.user_agent);
                    println!(
                        "{}  {:<28} {:<40} {}",
                        s.id, device, s.address, s.last_seen_at
                    );
                }
            }
        }
        SessionsCommand::Revoke { user, session } => {
            let user = find(db, &user).await?;
            match session {
                Some(id) => {
                    if !db.delete_session(user.id, &id).await.map_err(fail)? {
                        return Err(format!("{} has no session {id}", user.username));
                    }
                    println!("session {id} of {} ended", user.username);
                }
                None => {
                    db.revoke_tokens(user.id).await.map_err(fail)?;
                    println!("every session and token of {} ended", user.username);
                }
            }
            changed(db, ActivityKind::SessionsRevokedByAdmin, &user).await?;
        }
    }
    Ok(())
}

/// The account with this username or e-mail address.
async fn find(db: &SqlStore, name: &str) -> Result<User, String> {
    Ok(find_credentials(db, name).await?.user)
}

/// The account with this username or e-mail address, with its password hash.
async fn find_credentials(db: &SqlStore, name: &str) -> Result<Credentials, String> {
    db.credentials(&lookup_key(name))
        .await
        .map_err(fail)?
        .ok_or_else(|| format!("no account has the username or e-mail {name:?}"))
}

/// After a write: the activity entry, and the nudge for a server caching rows.
async fn changed(db: &SqlStore, kind: ActivityKind, user: &User) -> Result<(), String> {
    record_event(db, kind, user.id, ADMIN, unix_now()).await;
    db.note_external_change().await.map_err(fail)
}

fn user_json(user: &User) -> serde_json::Value {
    json!({
        "id": user.id, "username": user.username, "email": user.email,
        "created_at": user.created_at, "updated_at": user.updated_at,
        "disabled_at": user.disabled_at, "image": user.image_hash.is_some(),
    })
}

fn status(user: &User) -> &'static str {
    if user.disabled_at.is_some() {
        "disabled"
    } else {
        "active"
    }
}

fn fail(e: impl std::fmt::Display) -> String {
    format!("database error: {e}")
}
