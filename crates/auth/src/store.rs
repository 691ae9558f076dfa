//! Token and flow storage: the [`TokenStore`] of Salesforce connections keyed by (principal, org
//! id), the [`FlowStore`] of pending OAuth flows (single-use `state`, 10-minute TTL), and the
//! [`RefreshLock`] that serialises refreshes across replicas.
//!
//! One [`Store`] implements all three over a small key-value [`Backend`] with two
//! implementations, [`memory::MemoryBackend`] and [`redis::RedisBackend`]. Every secret is sealed
//! with the [`Keyring`] before it reaches either backend, so both hold only ciphertext and behave
//! alike; the associated data is the record's own key, so a value moved to another key fails to
//! open.

pub mod file;
pub mod memory;
pub mod redis;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use crate::clock::{Clock, SystemClock};
use crate::crypto::Keyring;
use crate::mcp_auth::authorize::ValidatedAuthorizationRequest;
use crate::random::sha256_hex;
use crate::secret::{AccessToken, OAuthState, PkceVerifier, RefreshToken};
use crate::{Error, Result};

/// How long a pending flow (and its `state`) lives.
pub const FLOW_TTL: Duration = Duration::from_secs(600);
const MAX_PRINCIPAL_LEN: usize = 256;
const MAX_STATE_LEN: usize = 128;
const CAS_ATTEMPTS: usize = 8;

/// The primitive operations a storage backend offers. Keys are logical (the backend adds its
/// own prefix); values are opaque strings, already sealed where secret.
#[async_trait]
pub trait Backend: Send + Sync + 'static {
    /// The value at `key`, if present and not expired.
    async fn get(&self, key: &str) -> Result<Option<String>>;
    /// Sets `key` unconditionally.
    async fn set(&self, key: &str, value: &str, ttl: Option<Duration>) -> Result<()>;
    /// Sets `key` only if absent; whether it was set.
    async fn set_if_absent(&self, key: &str, value: &str, ttl: Option<Duration>) -> Result<bool>;
    /// Sets `key` to `value` only if it currently holds exactly `expected`; whether it was set.
    async fn compare_and_set(&self, key: &str, expected: &str, value: &str) -> Result<bool>;
    /// Atomically reads and deletes `key` (single use, also across replicas).
    async fn take(&self, key: &str) -> Result<Option<String>>;
    /// Deletes `key`; whether it existed.
    async fn delete(&self, key: &str) -> Result<bool>;
    /// Deletes `key` only if it holds exactly `expected`; whether it was deleted.
    async fn delete_if_equals(&self, key: &str, expected: &str) -> Result<bool>;
    /// Adds `member` to the set `index`.
    async fn index_add(&self, index: &str, member: &str) -> Result<()>;
    /// Removes `member` from the set `index`.
    async fn index_remove(&self, index: &str, member: &str) -> Result<()>;
    /// The members of the set `index`.
    async fn index_members(&self, index: &str) -> Result<Vec<String>>;
    /// Atomically adds one to the counter at `key` and returns the new count; a counter created
    /// by this call expires after `window` (fixed-window rate limits).
    async fn increment(&self, key: &str, window: Duration) -> Result<u64>;
}

/// Identifies one Salesforce connection: who (our principal) and which org.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnectionKey {
    principal: String,
    org_id: String,
}

impl ConnectionKey {
    /// `principal`: 1–256 bytes without control characters; `org_id`: 15 or 18 alphanumerics.
    pub fn new(principal: &str, org_id: &str) -> Result<Self> {
        validate_principal(principal)?;
        let org_ok =
            matches!(org_id.len(), 15 | 18) && org_id.bytes().all(|c| c.is_ascii_alphanumeric());
        if !org_ok {
            return Err(Error::InvalidIdentifier(
                "org id must be 15 or 18 alphanumeric characters",
            ));
        }
        Ok(Self {
            principal: principal.to_owned(),
            org_id: org_id.to_owned(),
        })
    }

    /// Our principal (the user id in our world).
    pub fn principal(&self) -> &str {
        &self.principal
    }

    /// The Salesforce org id.
    pub fn org_id(&self) -> &str {
        &self.org_id
    }

    fn storage_key(&self) -> String {
        format!(
            "conn:{}:{}",
            principal_component(&self.principal),
            self.org_id
        )
    }

    fn associated_data(&self) -> Vec<u8> {
        format!("conn\0{}\0{}", self.principal, self.org_id).into_bytes()
    }

    /// A short, stable, non-secret label for logs and lock names.
    pub fn label(&self) -> String {
        format!("{}:{}", principal_component(&self.principal), self.org_id)
    }
}

fn validate_principal(principal: &str) -> Result<()> {
    if principal.is_empty()
        || principal.len() > MAX_PRINCIPAL_LEN
        || principal.chars().any(char::is_control)
    {
        return Err(Error::InvalidIdentifier(
            "principal must be 1-256 bytes without control characters",
        ));
    }
    Ok(())
}

fn principal_component(principal: &str) -> String {
    URL_SAFE_NO_PAD.encode(principal.as_bytes())
}

fn principal_index(principal: &str) -> String {
    format!("principal:{}", principal_component(principal))
}

/// Whether a connection can be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionStatus {
    /// Usable.
    Active,
    /// Salesforce refused the refresh token (`invalid_grant`): the user must log in again.
    NeedsReauthorization,
}

/// One user's Salesforce connection to one org.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    /// `instance_url` from the token response, where API calls go.
    pub instance_url: String,
    /// The current access token.
    pub access_token: AccessToken,
    /// The current refresh token (absent for client-credentials connections).
    pub refresh_token: Option<RefreshToken>,
    /// When the access token was issued, epoch milliseconds (Salesforce's `issued_at`).
    pub issued_at_ms: u64,
    /// Granted scopes, space-separated as Salesforce returns them.
    pub scope: String,
    /// The identity URL (`id`), `…/id/<org id>/<user id>`.
    pub id_url: String,
    /// The Salesforce user id.
    pub user_id: String,
    /// Whether the connection is usable.
    pub status: ConnectionStatus,
}

/// A connection as read from the store, with the version a later
/// [`replace`](TokenStore::replace) must name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredConnection {
    /// The record.
    pub connection: Connection,
    /// Increases on every write.
    pub version: u64,
}

#[derive(Serialize, Deserialize)]
struct ConnectionPlain<S> {
    instance_url: S,
    access_token: S,
    refresh_token: Option<S>,
    issued_at_ms: u64,
    scope: S,
    id_url: S,
    user_id: S,
    status: ConnectionStatus,
}

/// Storage of Salesforce connections. All writes are atomic per connection.
#[async_trait]
pub trait TokenStore: Send + Sync + 'static {
    /// The connection, if any.
    async fn get(&self, key: &ConnectionKey) -> Result<Option<StoredConnection>>;
    /// Inserts or overwrites the connection (a fresh login); returns the new version.
    async fn upsert(&self, key: &ConnectionKey, connection: &Connection) -> Result<u64>;
    /// Replaces the connection only if it is still at `expected_version` (compare-and-swap), so
    /// a rotated access + refresh token pair lands atomically and a lost race is
    /// [`Error::Conflict`]. [`Error::NotFound`] when it was deleted meanwhile.
    async fn replace(
        &self,
        key: &ConnectionKey,
        expected_version: u64,
        connection: &Connection,
    ) -> Result<u64>;
    /// Every connection of `principal`.
    async fn list(&self, principal: &str) -> Result<Vec<(ConnectionKey, StoredConnection)>>;
    /// Deletes the connection locally (revoke at Salesforce first); whether it existed.
    async fn delete(&self, key: &ConnectionKey) -> Result<bool>;
}

/// A pending authorization flow at Salesforce, found again by its `state` on the callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingFlow {
    /// Our PKCE verifier for the Salesforce code exchange.
    pub verifier: PkceVerifier,
    /// The `redirect_uri` we sent to Salesforce (must be repeated in the exchange).
    pub redirect_uri: String,
    /// The Salesforce login host the flow started at (base URL).
    pub login_host: String,
    /// The OAuth client the flow is for (our Salesforce consumer key).
    pub client_id: String,
    /// When the flow started, epoch milliseconds.
    pub created_at_ms: u64,
    /// The MCP client's validated authorization request to resume after the callback
    /// (absent for a command-line login).
    pub mcp_request: Option<ValidatedAuthorizationRequest>,
}

#[derive(Serialize, Deserialize)]
struct PendingFlowPlain<S> {
    verifier: S,
    redirect_uri: S,
    login_host: S,
    client_id: S,
    created_at_ms: u64,
    mcp_request: Option<ValidatedAuthorizationRequest>,
}

/// Storage of pending flows: each `state` can be taken once, and only within [`FLOW_TTL`].
#[async_trait]
pub trait FlowStore: Send + Sync + 'static {
    /// Remembers `flow` under `state`.
    async fn put_flow(&self, state: &OAuthState, flow: &PendingFlow) -> Result<()>;
    /// Takes the flow for `state` (atomically single use, also across replicas). `None` when
    /// unknown, already used or expired.
    async fn take_flow(&self, state: &str) -> Result<Option<PendingFlow>>;
}

/// A lease-style lock for serialising work across replicas.
#[async_trait]
pub trait RefreshLock: Send + Sync + 'static {
    /// Tries to take lock `name` with a random `token`, expiring after `ttl`.
    async fn try_lock(&self, name: &str, token: &str, ttl: Duration) -> Result<bool>;
    /// Releases lock `name` if it is still held with `token`.
    async fn unlock(&self, name: &str, token: &str) -> Result<bool>;
}

/// The store: a backend, the keyring and a clock. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    backend: Arc<dyn Backend>,
    keyring: Arc<Keyring>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("key_id", &self.keyring.current_key_id())
            .finish_non_exhaustive()
    }
}

impl Store {
    /// A store over `backend`, sealing with `keyring`, on the system clock.
    pub fn new(backend: Arc<dyn Backend>, keyring: Arc<Keyring>) -> Self {
        Self {
            backend,
            keyring,
            clock: Arc::new(SystemClock),
        }
    }

    /// An in-memory store (the embedded default).
    pub fn memory(keyring: Arc<Keyring>) -> Self {
        Self::new(Arc::new(memory::MemoryBackend::default()), keyring)
    }

    /// Replaces the clock (tests of expiry).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The clock this store judges expiry by.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    pub(crate) fn backend(&self) -> &dyn Backend {
        self.backend.as_ref()
    }

    fn seal_connection(&self, key: &ConnectionKey, c: &Connection, version: u64) -> Result<String> {
        let plain = ConnectionPlain {
            instance_url: c.instance_url.as_str(),
            access_token: c.access_token.secret(),
            refresh_token: c.refresh_token.as_ref().map(RefreshToken::secret),
            issued_at_ms: c.issued_at_ms,
            scope: c.scope.as_str(),
            id_url: c.id_url.as_str(),
            user_id: c.user_id.as_str(),
            status: c.status,
        };
        let json = secrecy::zeroize::Zeroizing::new(
            serde_json::to_vec(&plain)
                .map_err(|_| Error::Corrupt("connection not serialisable"))?,
        );
        let sealed = self.keyring.seal(&json, &key.associated_data())?;
        Ok(format!("{version}:{sealed}"))
    }

    fn open_connection(&self, key: &ConnectionKey, raw: &str) -> Result<StoredConnection> {
        let (version, sealed) = split_version(raw)?;
        let json = self.keyring.open(sealed, &key.associated_data())?;
        let plain: ConnectionPlain<String> =
            serde_json::from_slice(&json).map_err(|_| Error::Corrupt("connection record"))?;
        Ok(StoredConnection {
            version,
            connection: Connection {
                instance_url: plain.instance_url,
                access_token: AccessToken::new(plain.access_token),
                refresh_token: plain.refresh_token.map(RefreshToken::new),
                issued_at_ms: plain.issued_at_ms,
                scope: plain.scope,
                id_url: plain.id_url,
                user_id: plain.user_id,
                status: plain.status,
            },
        })
    }
}

fn split_version(raw: &str) -> Result<(u64, &str)> {
    let (version, sealed) = raw
        .split_once(':')
        .ok_or(Error::Corrupt("missing version"))?;
    let version = version.parse().map_err(|_| Error::Corrupt("bad version"))?;
    Ok((version, sealed))
}

#[async_trait]
impl TokenStore for Store {
    async fn get(&self, key: &ConnectionKey) -> Result<Option<StoredConnection>> {
        match self.backend.get(&key.storage_key()).await? {
            Some(raw) => self.open_connection(key, &raw).map(Some),
            None => Ok(None),
        }
    }

    async fn upsert(&self, key: &ConnectionKey, connection: &Connection) -> Result<u64> {
        let storage_key = key.storage_key();
        // Index first: a listing may then name a connection that is not there yet (skipped),
        // but never misses one that is.
        self.backend
            .index_add(&principal_index(&key.principal), &key.org_id)
            .await?;
        for _ in 0..CAS_ATTEMPTS {
            match self.backend.get(&storage_key).await? {
                None => {
                    let value = self.seal_connection(key, connection, 1)?;
                    if self
                        .backend
                        .set_if_absent(&storage_key, &value, None)
                        .await?
                    {
                        return Ok(1);
                    }
                }
                Some(raw) => {
                    let (version, _) = split_version(&raw)?;
                    let next = version.saturating_add(1);
                    let value = self.seal_connection(key, connection, next)?;
                    if self
                        .backend
                        .compare_and_set(&storage_key, &raw, &value)
                        .await?
                    {
                        return Ok(next);
                    }
                }
            }
        }
        Err(Error::Conflict)
    }

    async fn replace(
        &self,
        key: &ConnectionKey,
        expected_version: u64,
        connection: &Connection,
    ) -> Result<u64> {
        let storage_key = key.storage_key();
        let raw = self
            .backend
            .get(&storage_key)
            .await?
            .ok_or(Error::NotFound)?;
        let (version, _) = split_version(&raw)?;
        if version != expected_version {
            return Err(Error::Conflict);
        }
        let next = version.saturating_add(1);
        let value = self.seal_connection(key, connection, next)?;
        if self
            .backend
            .compare_and_set(&storage_key, &raw, &value)
            .await?
        {
            Ok(next)
        } else {
            Err(Error::Conflict)
        }
    }

    async fn list(&self, principal: &str) -> Result<Vec<(ConnectionKey, StoredConnection)>> {
        validate_principal(principal)?;
        let mut org_ids = self
            .backend
            .index_members(&principal_index(principal))
            .await?;
        org_ids.sort();
        let mut out = Vec::with_capacity(org_ids.len());
        for org_id in org_ids {
            let Ok(key) = ConnectionKey::new(principal, &org_id) else {
                continue;
            };
            if let Some(stored) = self.get(&key).await? {
                out.push((key, stored));
            }
        }
        Ok(out)
    }

    async fn delete(&self, key: &ConnectionKey) -> Result<bool> {
        let existed = self.backend.delete(&key.storage_key()).await?;
        self.backend
            .index_remove(&principal_index(&key.principal), &key.org_id)
            .await?;
        Ok(existed)
    }
}

fn flow_key(state: &str) -> (String, Vec<u8>) {
    let hash = sha256_hex(state);
    let aad = format!("flow\0{hash}").into_bytes();
    (format!("flow:{hash}"), aad)
}

#[async_trait]
impl FlowStore for Store {
    async fn put_flow(&self, state: &OAuthState, flow: &PendingFlow) -> Result<()> {
        let (key, aad) = flow_key(state.secret());
        let plain = PendingFlowPlain {
            verifier: flow.verifier.secret(),
            redirect_uri: flow.redirect_uri.as_str(),
            login_host: flow.login_host.as_str(),
            client_id: flow.client_id.as_str(),
            created_at_ms: flow.created_at_ms,
            mcp_request: flow.mcp_request.clone(),
        };
        let json = secrecy::zeroize::Zeroizing::new(
            serde_json::to_vec(&plain).map_err(|_| Error::Corrupt("flow not serialisable"))?,
        );
        let sealed = self.keyring.seal(&json, &aad)?;
        if self
            .backend
            .set_if_absent(&key, &sealed, Some(FLOW_TTL))
            .await?
        {
            Ok(())
        } else {
            Err(Error::Conflict)
        }
    }

    async fn take_flow(&self, state: &str) -> Result<Option<PendingFlow>> {
        if state.is_empty() || state.len() > MAX_STATE_LEN {
            return Ok(None);
        }
        let (key, aad) = flow_key(state);
        let Some(sealed) = self.backend.take(&key).await? else {
            return Ok(None);
        };
        let json = self.keyring.open(&sealed, &aad)?;
        let plain: PendingFlowPlain<String> =
            serde_json::from_slice(&json).map_err(|_| Error::Corrupt("flow record"))?;
        let age = self.clock.now_ms().saturating_sub(plain.created_at_ms);
        if u128::from(age) >= FLOW_TTL.as_millis() {
            return Ok(None);
        }
        Ok(Some(PendingFlow {
            verifier: PkceVerifier::new(plain.verifier),
            redirect_uri: plain.redirect_uri,
            login_host: plain.login_host,
            client_id: plain.client_id,
            created_at_ms: plain.created_at_ms,
            mcp_request: plain.mcp_request,
        }))
    }
}

#[async_trait]
impl RefreshLock for Store {
    async fn try_lock(&self, name: &str, token: &str, ttl: Duration) -> Result<bool> {
        self.backend
            .set_if_absent(&format!("lock:{name}"), token, Some(ttl))
            .await
    }

    async fn unlock(&self, name: &str, token: &str) -> Result<bool> {
        self.backend
            .delete_if_equals(&format!("lock:{name}"), token)
            .await
    }
}
