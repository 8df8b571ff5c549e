//! `keyhold admin clients`: the applications that sign their users in with Keyhold
//! (OpenID Connect clients): add, list, show, rotate-secret, remove. A confidential
//! client's secret is printed once, when made; only its hash is stored. `--json` prints
//! machine-readable output.

use crate::server::{
    building_blocks::{
        clock::unix_now,
        oauth_clients::{
            allowed_scopes, client_name, client_secret::ClientSecret,
            redirect_uri::registered_uris, IdTokenAlg, RegistrationError,
        },
        token::random_id,
    },
    store::{OAuthClient, OAuthClientStore, SqlStore},
};
use clap::Subcommand;
use serde_json::json;

#[derive(Debug, Subcommand)]
pub enum ClientsCommand {
    /// Register an application; prints its client id and, for a confidential client,
    /// its secret (shown this once).
    Add {
        /// The name people see on the consent page.
        name: String,
        /// Where the person is sent back, compared exactly (repeat for several):
        /// https, http://127.0.0.1 or http://[::1] (any port) for a native app, or the
        /// app's private-use scheme (com.example.app:/callback).
        #[arg(long = "redirect-uri", value_name = "URI")]
        redirect_uris: Vec<String>,
        /// A native or browser app that cannot keep a secret: no secret, PKCE only.
        #[arg(long)]
        public: bool,
        /// The operator's own application: no consent page.
        #[arg(long)]
        first_party: bool,
        /// Scopes it may ask for (repeat, or separate with spaces): openid, profile,
        /// email, offline_access. Default: openid profile email.
        #[arg(long = "scope", value_name = "SCOPE")]
        scopes: Vec<String>,
        /// Where RP-initiated logout may send the person back (repeat for several).
        #[arg(long = "post-logout-redirect-uri", value_name = "URI")]
        post_logout_redirect_uris: Vec<String>,
        /// How its ID tokens are signed: RS256, EdDSA or ES256.
        #[arg(long, default_value = "RS256", value_name = "ALG")]
        id_token_alg: String,
        #[arg(long)]
        json: bool,
    },
    /// The registered applications, oldest first.
    List {
        #[arg(long)]
        json: bool,
    },
    /// One application (never its secret, which is not stored).
    Show {
        client_id: String,
        #[arg(long)]
        json: bool,
    },
    /// A new secret for a confidential client; the old one stops working at once.
    RotateSecret {
        client_id: String,
        #[arg(long)]
        json: bool,
    },
    /// Remove the application: it can no longer sign anyone in.
    Remove {
        client_id: String,
        /// Confirms the removal (it cannot be undone).
        #[arg(long)]
        yes: bool,
    },
}

pub async fn run(db: &SqlStore, command: ClientsCommand) -> Result<(), String> {
    match command {
        ClientsCommand::Add {
            name,
            redirect_uris,
            public,
            first_party,
            scopes,
            post_logout_redirect_uris,
            id_token_alg,
            json,
        } => {
            let refused = |e: RegistrationError| e.to_string();
            let secret = (!public).then(ClientSecret::generate);
            let client = OAuthClient {
                client_id: random_id(),
                name: client_name(&name).map_err(refused)?,
                public,
                first_party,
                secret_hash: secret.as_ref().map(|s| s.hash.clone()),
                redirect_uris: registered_uris(&redirect_uris, true).map_err(refused)?,
                post_logout_redirect_uris: registered_uris(&post_logout_redirect_uris, false)
                    .map_err(refused)?,
                scopes: allowed_scopes(&scopes).map_err(refused)?,
                id_token_alg: IdTokenAlg::parse(&id_token_alg)
                    .map_err(refused)?
                    .name()
                    .to_owned(),
                created_at: unix_now(),
            };
            db.add_client(&client).await.map_err(fail)?;
            announce("oauth_client_added", &client.client_id);
            print_credentials(&client, secret.as_ref(), json);
        }
        ClientsCommand::List { json } => {
            let clients = db.clients().await.map_err(fail)?;
            if json {
                let list: Vec<_> = clients.iter().map(client_json).collect();
                println!("{}", serde_json::Value::Array(list));
            } else {
                println!(
                    "{:<22}  {:<12} {:<11} name",
                    "client_id", "type", "first-party"
                );
                for client in &clients {
                    println!(
                        "{:<22}  {:<12} {:<11} {}",
                        client.client_id,
                        kind(client),
                        if client.first_party { "yes" } else { "no" },
                        client.name
                    );
                }
            }
        }
        ClientsCommand::Show { client_id, json } => {
            let shown = client_json(&find(db, &client_id).await?);
            if json {
                println!("{shown}");
            } else {
                println!("{}", serde_json::to_string_pretty(&shown).map_err(fail)?);
            }
        }
        ClientsCommand::RotateSecret { client_id, json } => {
            let client = find(db, &client_id).await?;
            if client.public {
                return Err(format!(
                    "{} is a public client: it has no secret to rotate",
                    client.client_id
                ));
            }
            let secret = ClientSecret::generate();
            if !db
                .set_client_secret_hash(&client.client_id, &secret.hash)
                .await
                .map_err(fail)?
            {
                return Err(missing(&client_id));
            }
            announce("oauth_client_secret_rotated", &client.client_id);
            print_credentials(&client, Some(&secret), json);
        }
        ClientsCommand::Remove { client_id, yes } => {
            let client = find(db, &client_id).await?;
            if !yes {
                return Err(format!(
                    "removing {:?} ({}) cannot be undone: add --yes to confirm",
                    client.name, client.client_id
                ));
            }
            if !db.remove_client(&client.client_id).await.map_err(fail)? {
                return Err(missing(&client_id));
            }
            announce("oauth_client_removed", &client.client_id);
            println!("{:?} ({}) is removed", client.name, client.client_id);
        }
    }
    Ok(())
}

/// The client id and, once, the secret: the only time the secret is ever printed.
fn print_credentials(client: &OAuthClient, secret: Option<&ClientSecret>, json: bool) {
    if json {
        let mut shown = json!({ "client_id": client.client_id });
        if let Some(secret) = secret {
            shown["client_secret"] = secret.value.clone().into();
        }
        println!("{shown}");
        return;
    }
    println!("{} ({})", client.name, kind(client));
    println!("client_id:     {}", client.client_id);
    if let Some(secret) = secret {
        println!("client_secret: {}", secret.value);
        println!("The secret is shown this once: Keyhold keeps only its hash.");
    }
}

async fn find(db: &SqlStore, client_id: &str) -> Result<OAuthClient, String> {
    db.client(client_id)
        .await
        .map_err(fail)?
        .ok_or_else(|| missing(client_id))
}

fn missing(client_id: &str) -> String {
    format!("no client has the id {client_id:?}")
}

/// The administrator's change, as a log line (no secret, no name: the id says which).
fn announce(event: &'static str, client_id: &str) {
    tracing::info!(target: "keyhold::audit", event, client_id, "client registry changed");
}

fn kind(client: &OAuthClient) -> &'static str {
    if client.public {
        "public"
    } else {
        "confidential"
    }
}

fn client_json(client: &OAuthClient) -> serde_json::Value {
    json!({
        "client_id": client.client_id, "name": client.name, "type": kind(client),
        "first_party": client.first_party, "redirect_uris": client.redirect_uris,
        "post_logout_redirect_uris": client.post_logout_redirect_uris,
        "scopes": client.scopes, "id_token_alg": client.id_token_alg,
        "created_at": client.created_at,
    })
}

fn fail(e: impl std::fmt::Display) -> String {
    format!("database error: {e}")
}
