//! The applications registered to sign their users in with Keyhold (OpenID Connect
//! clients), as stored: the `OAuthClientStore` trait and its record. The rules for what
//! a client may be are in `building_blocks/oauth_clients/`.

use super::StoreError;
use async_trait::async_trait;

/// A registered client, as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct OAuthClient {
    /// Random, 128 bits, URL-safe: says nothing about the client.
    pub client_id: String,
    pub name: String,
    /// A public client (a native or browser app) has no secret.
    pub public: bool,
    /// The operator's own application: no consent page.
    pub first_party: bool,
    /// SHA-256 (hex) of a confidential client's secret; none for a public client.
    pub secret_hash: Option<String>,
    /// Compared exactly (`building_blocks/oauth_clients/redirect_uri.rs`).
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    /// The scopes it may ask for.
    pub scopes: Vec<String>,
    /// `RS256`, `EdDSA` or `ES256`.
    pub id_token_alg: String,
    pub created_at: i64,
}

debug_without_secrets!(OAuthClient {
    client_id,
    name,
    public,
    first_party,
    redirect_uris,
    post_logout_redirect_uris,
    scopes,
    id_token_alg,
    created_at
});

/// Registered clients, written by the admin command line.
#[async_trait]
pub trait OAuthClientStore: Send + Sync {
    async fn add_client(&self, client: &OAuthClient) -> Result<(), StoreError>;
    /// Every client, oldest first.
    async fn clients(&self) -> Result<Vec<OAuthClient>, StoreError>;
    async fn client(&self, client_id: &str) -> Result<Option<OAuthClient>, StoreError>;
    /// Replaces a confidential client's secret hash (the old secret stops working at
    /// once); `false` if there is no such confidential client.
    async fn set_client_secret_hash(&self, client_id: &str, hash: &str)
        -> Result<bool, StoreError>;
    /// Whether there was such a client.
    async fn remove_client(&self, client_id: &str) -> Result<bool, StoreError>;
}
