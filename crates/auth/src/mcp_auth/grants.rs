//! Storage of what our authorization server hands out: registered clients, authorization codes,
//! access and refresh tokens. Codes and tokens are opaque random strings that are stored only as
//! SHA-256 hashes, each with its expiry (also as the backend TTL); codes and refresh tokens are
//! taken atomically (single use).

use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::pkce::PkceChallenge;
use crate::random::sha256_hex;
use crate::store::Store;
use crate::{Error, Result};

use super::registration::RegisteredClient;

/// What a grant record is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantKind {
    /// An authorization code.
    Code,
    /// An access token.
    Access,
    /// A refresh token.
    Refresh,
    /// A token family: the current access and refresh token hashes of one authorization,
    /// across rotations (overwritten on each rotation).
    Family,
    /// A spent code or refresh token, naming its family, so a replay revokes the family.
    Spent,
}

impl GrantKind {
    fn prefix(self) -> &'static str {
        match self {
            Self::Code => "mcp:code:",
            Self::Access => "mcp:at:",
            Self::Refresh => "mcp:rt:",
            Self::Family => "mcp:family:",
            Self::Spent => "mcp:spent:",
        }
    }
}

/// What a code or token stands for. Holds no secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantRecord {
    /// Our principal (the user).
    pub principal: String,
    /// The Salesforce org whose connection requests run against, when chosen.
    pub org_id: Option<String>,
    /// The MCP client.
    pub client_id: String,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// The audience: our canonical resource URL.
    pub resource: String,
    /// Expiry, epoch milliseconds.
    pub expires_at_ms: u64,
    /// Codes: the redirect URI the code was issued for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_uri: Option<String>,
    /// Codes: the client's PKCE challenge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_challenge: Option<PkceChallenge>,
    /// Refresh tokens and families: the hash of the access token issued with it (revoked
    /// together).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_hash: Option<String>,
    /// Families: the hash of the current refresh token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_hash: Option<String>,
    /// The token family (one per authorization code exchange).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family: Option<String>,
}

/// Storage for registered clients and our codes and tokens (looked up by hash).
#[async_trait]
pub trait GrantStore: Send + Sync + 'static {
    /// Now, epoch milliseconds (expiry is judged by this clock).
    fn now_ms(&self) -> u64;
    /// Saves a registered client, kept for
    /// [`super::registration::DEFAULT_CLIENT_IDLE_TTL`] unless touched.
    async fn put_client(&self, client: &RegisteredClient) -> Result<()>;
    /// Saves a registered client (again), to be forgotten after `idle_ttl` without another
    /// touch: called on registration and whenever the client is used.
    async fn touch_client(&self, client: &RegisteredClient, idle_ttl: Duration) -> Result<()>;
    /// Adds one to the windowed counter `key` (rate limits); the new count.
    async fn increment_counter(&self, key: &str, window: Duration) -> Result<u64>;
    /// A registered client.
    async fn get_client(&self, client_id: &str) -> Result<Option<RegisteredClient>>;
    /// Saves a grant under the hash of its code or token.
    async fn put_grant(
        &self,
        kind: GrantKind,
        hash: &str,
        record: &GrantRecord,
        ttl: Duration,
    ) -> Result<()>;
    /// Reads a grant.
    async fn get_grant(&self, kind: GrantKind, hash: &str) -> Result<Option<GrantRecord>>;
    /// Reads and deletes a grant atomically (single use).
    async fn take_grant(&self, kind: GrantKind, hash: &str) -> Result<Option<GrantRecord>>;
    /// Deletes a grant.
    async fn delete_grant(&self, kind: GrantKind, hash: &str) -> Result<bool>;
    /// Keeps a validated request while the user looks at the consent page.
    async fn put_consent(&self, hash: &str, consent: &PendingConsent, ttl: Duration) -> Result<()>;
    /// Takes a pending consent (single use).
    async fn take_consent(&self, hash: &str) -> Result<Option<PendingConsent>>;
}

/// An authorization request waiting for the user's consent, bound to the browser that saw the
/// consent page (the hash of a `SameSite=Strict` cookie value).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingConsent {
    /// The validated request.
    pub request: super::authorize::ValidatedAuthorizationRequest,
    /// SHA-256 of the browser-binding cookie.
    pub browser_hash: String,
}

fn client_key(client_id: &str) -> String {
    format!("mcp:client:{}", sha256_hex(client_id))
}

fn decode<T: serde::de::DeserializeOwned>(raw: Option<String>) -> Result<Option<T>> {
    raw.map(|raw| serde_json::from_str(&raw).map_err(|_| Error::Corrupt("grant record")))
        .transpose()
}

fn encode<T: Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|_| Error::Corrupt("grant record not serialisable"))
}

#[async_trait]
impl GrantStore for Store {
    fn now_ms(&self) -> u64 {
        self.clock().now_ms()
    }

    async fn put_client(&self, client: &RegisteredClient) -> Result<()> {
        self.touch_client(client, super::registration::DEFAULT_CLIENT_IDLE_TTL)
            .await
    }

    async fn touch_client(&self, client: &RegisteredClient, idle_ttl: Duration) -> Result<()> {
        self.backend()
            .set(
                &client_key(&client.client_id),
                &encode(client)?,
                Some(idle_ttl),
            )
            .await
    }

    async fn increment_counter(&self, key: &str, window: Duration) -> Result<u64> {
        self.backend().increment(key, window).await
    }

    async fn get_client(&self, client_id: &str) -> Result<Option<RegisteredClient>> {
        decode(self.backend().get(&client_key(client_id)).await?)
    }

    async fn put_grant(
        &self,
        kind: GrantKind,
        hash: &str,
        record: &GrantRecord,
        ttl: Duration,
    ) -> Result<()> {
        let key = format!("{}{hash}", kind.prefix());
        if kind == GrantKind::Family {
            return self.backend().set(&key, &encode(record)?, Some(ttl)).await;
        }
        if self
            .backend()
            .set_if_absent(&key, &encode(record)?, Some(ttl))
            .await?
        {
            Ok(())
        } else {
            Err(Error::Conflict)
        }
    }

    async fn get_grant(&self, kind: GrantKind, hash: &str) -> Result<Option<GrantRecord>> {
        decode(
            self.backend()
                .get(&format!("{}{hash}", kind.prefix()))
                .await?,
        )
    }

    async fn take_grant(&self, kind: GrantKind, hash: &str) -> Result<Option<GrantRecord>> {
        decode(
            self.backend()
                .take(&format!("{}{hash}", kind.prefix()))
                .await?,
        )
    }

    async fn delete_grant(&self, kind: GrantKind, hash: &str) -> Result<bool> {
        self.backend()
            .delete(&format!("{}{hash}", kind.prefix()))
            .await
    }

    async fn put_consent(&self, hash: &str, consent: &PendingConsent, ttl: Duration) -> Result<()> {
        let key = format!("mcp:consent:{hash}");
        if self
            .backend()
            .set_if_absent(&key, &encode(consent)?, Some(ttl))
            .await?
        {
            Ok(())
        } else {
            Err(Error::Conflict)
        }
    }

    async fn take_consent(&self, hash: &str) -> Result<Option<PendingConsent>> {
        decode(self.backend().take(&format!("mcp:consent:{hash}")).await?)
    }
}
