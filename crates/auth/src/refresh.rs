//! Single-flight refresh of Salesforce access tokens.
//!
//! Salesforce rotates refresh tokens: the old one dies the moment a new one is issued, so two
//! concurrent refreshes with the same token make one fail with `invalid_grant`. Hence exactly one
//! refresh per connection at a time: in-process, every waiter shares one in-flight future per
//! connection; across replicas, a lease lock ([`RefreshLock`], `SET NX PX` with a random token,
//! released by compare-and-delete). After taking the lock the store is read again, because
//! another replica may have refreshed meanwhile. `invalid_grant` marks the connection
//! needs-re-authorization instead of retrying.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::FutureExt as _;
use futures::future::{BoxFuture, Shared};

use crate::clock::{Clock, SystemClock};
use crate::random::random_token;
use crate::salesforce::SalesforceTokens;
use crate::secret::{AccessToken, RefreshToken, ct_eq_str};
use crate::store::{
    Connection, ConnectionKey, ConnectionStatus, RefreshLock, StoredConnection, TokenStore,
};
use crate::{Error, Result, SalesforceErrorKind};

/// Performs one refresh at Salesforce (usually [`crate::salesforce::SalesforceOAuthClient::refresher`]).
/// It gets the connection's refresh token, or `None` for a connection without one (the
/// client-credentials integration user, whose token is renewed by running that flow again).
pub type RefreshFn =
    Arc<dyn Fn(Option<RefreshToken>) -> BoxFuture<'static, Result<SalesforceTokens>> + Send + Sync>;

/// Timing of refreshes.
#[derive(Debug, Clone, Copy)]
pub struct RefreshPolicy {
    /// How long an access token lives after `issued_at` (Salesforce does not say).
    pub lifetime: Duration,
    /// Refresh this long before expiry, so callers rarely meet an expired token.
    pub margin: Duration,
    /// Lease of the cross-replica lock; a crashed holder blocks others at most this long. Keep
    /// it longer than the HTTP timeout of a refresh, or a slow refresh can overlap another.
    pub lock_ttl: Duration,
    /// How often a replica waiting for another's refresh looks at the store again.
    pub poll_interval: Duration,
}

impl Default for RefreshPolicy {
    fn default() -> Self {
        Self {
            lifetime: Duration::from_secs(2 * 60 * 60),
            margin: Duration::from_secs(5 * 60),
            lock_ttl: Duration::from_secs(60),
            poll_interval: Duration::from_millis(25),
        }
    }
}

/// A usable access token and where to use it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FreshToken {
    /// Where API calls go.
    pub instance_url: String,
    /// The access token.
    pub access_token: AccessToken,
    /// When it was issued, epoch milliseconds.
    pub issued_at_ms: u64,
}

impl From<&StoredConnection> for FreshToken {
    fn from(stored: &StoredConnection) -> Self {
        Self {
            instance_url: stored.connection.instance_url.clone(),
            access_token: stored.connection.access_token.clone(),
            issued_at_ms: stored.connection.issued_at_ms,
        }
    }
}

type Flight = Shared<BoxFuture<'static, Result<FreshToken>>>;

struct Inner {
    store: Arc<dyn TokenStore>,
    lock: Arc<dyn RefreshLock>,
    refresher: RefreshFn,
    clock: Arc<dyn Clock>,
    policy: RefreshPolicy,
    in_flight: Mutex<HashMap<ConnectionKey, Flight>>,
}

/// Hands out access tokens, refreshing each connection at most once at a time. Cheap to clone.
#[derive(Clone)]
pub struct TokenManager {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for TokenManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenManager")
            .field("policy", &self.inner.policy)
            .finish_non_exhaustive()
    }
}

impl TokenManager {
    /// A manager over `store` (connections) and `lock` (usually the same [`crate::store::Store`]),
    /// on the system clock.
    pub fn new(
        store: Arc<dyn TokenStore>,
        lock: Arc<dyn RefreshLock>,
        refresher: RefreshFn,
        policy: RefreshPolicy,
    ) -> Self {
        Self::with_clock(store, lock, refresher, policy, Arc::new(SystemClock))
    }

    /// Like [`new`](Self::new) with another clock (tests of expiry).
    pub fn with_clock(
        store: Arc<dyn TokenStore>,
        lock: Arc<dyn RefreshLock>,
        refresher: RefreshFn,
        policy: RefreshPolicy,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                store,
                lock,
                refresher,
                clock,
                policy,
                in_flight: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// A usable access token for `key`, refreshed first when it is expired or about to be.
    pub async fn access_token(&self, key: &ConnectionKey) -> Result<FreshToken> {
        let stored = self.inner.store.get(key).await?.ok_or(Error::NotFound)?;
        check_active(&stored)?;
        if self.inner.is_fresh(&stored.connection) {
            return Ok(FreshToken::from(&stored));
        }
        self.single_flight(key, stored.version, false).await
    }

    /// Salesforce rejected `rejected` (401 `INVALID_SESSION_ID`) before its computed expiry:
    /// refresh, unless the stored token is already a different one.
    pub async fn refresh_after_rejection(
        &self,
        key: &ConnectionKey,
        rejected: &AccessToken,
    ) -> Result<FreshToken> {
        let stored = self.inner.store.get(key).await?.ok_or(Error::NotFound)?;
        check_active(&stored)?;
        if !ct_eq_str(stored.connection.access_token.secret(), rejected.secret()) {
            return Ok(FreshToken::from(&stored));
        }
        self.single_flight(key, stored.version, true).await
    }

    async fn single_flight(
        &self,
        key: &ConnectionKey,
        seen_version: u64,
        force: bool,
    ) -> Result<FreshToken> {
        let flight = {
            let mut in_flight = self
                .inner
                .in_flight
                .lock()
                .map_err(|_| Error::Storage("refresh table poisoned".into()))?;
            in_flight
                .entry(key.clone())
                .or_insert_with(|| {
                    let inner = self.inner.clone();
                    let key = key.clone();
                    async move {
                        inner
                            .refresh_across_replicas(&key, seen_version, force)
                            .await
                    }
                    .boxed()
                    .shared()
                })
                .clone()
        };
        let result = flight.clone().await;
        if let Ok(mut in_flight) = self.inner.in_flight.lock()
            && in_flight.get(key).is_some_and(|f| f.ptr_eq(&flight))
        {
            in_flight.remove(key);
        }
        result
    }
}

fn check_active(stored: &StoredConnection) -> Result<()> {
    match stored.connection.status {
        ConnectionStatus::Active => Ok(()),
        ConnectionStatus::NeedsReauthorization => Err(Error::ReauthorizationRequired),
    }
}

impl Inner {
    fn is_fresh(&self, connection: &Connection) -> bool {
        let expires = connection
            .issued_at_ms
            .saturating_add(millis(self.policy.lifetime));
        self.clock
            .now_ms()
            .saturating_add(millis(self.policy.margin))
            < expires
    }

    /// Whether `stored` already holds what a refresh triggered at `seen_version` wants.
    fn already_refreshed(&self, stored: &StoredConnection, seen_version: u64, force: bool) -> bool {
        stored.version != seen_version || (!force && self.is_fresh(&stored.connection))
    }

    async fn refresh_across_replicas(
        &self,
        key: &ConnectionKey,
        seen_version: u64,
        force: bool,
    ) -> Result<FreshToken> {
        let name = format!("refresh:{}", key.label());
        let token = random_token();
        let give_up_at = self
            .clock
            .now_ms()
            .saturating_add(millis(self.policy.lock_ttl) * 2);
        loop {
            if self
                .lock
                .try_lock(&name, &token, self.policy.lock_ttl)
                .await?
            {
                break;
            }
            // Another replica is refreshing: wait for its result rather than racing it.
            tokio::time::sleep(self.policy.poll_interval).await;
            let stored = self.store.get(key).await?.ok_or(Error::NotFound)?;
            check_active(&stored)?;
            if self.already_refreshed(&stored, seen_version, force) {
                return Ok(FreshToken::from(&stored));
            }
            if self.clock.now_ms() > give_up_at {
                return Err(Error::Storage(
                    "timed out waiting for another replica's refresh".into(),
                ));
            }
        }
        let result = self.refresh_locked(key, seen_version, force).await;
        if let Err(error) = self.lock.unlock(&name, &token).await {
            // The lease expires by itself; losing the unlock only delays the next refresh.
            tracing::warn!(connection = %key.label(), %error, "could not release refresh lock");
        }
        result
    }

    async fn refresh_locked(
        &self,
        key: &ConnectionKey,
        seen_version: u64,
        force: bool,
    ) -> Result<FreshToken> {
        let stored = self.store.get(key).await?.ok_or(Error::NotFound)?;
        check_active(&stored)?;
        if self.already_refreshed(&stored, seen_version, force) {
            return Ok(FreshToken::from(&stored));
        }
        let refreshed = (self.refresher)(stored.connection.refresh_token.clone())
            .await
            .and_then(|tokens| same_identity(&stored.connection, tokens));
        match refreshed {
            Ok(tokens) => {
                let mut connection = stored.connection.clone();
                connection.access_token = tokens.access_token;
                if let Some(rotated) = tokens.refresh_token {
                    connection.refresh_token = Some(rotated);
                }
                connection.issued_at_ms = tokens.issued_at_ms;
                connection.instance_url = tokens.instance_url;
                if !tokens.scope.is_empty() {
                    connection.scope = tokens.scope;
                }
                connection.status = ConnectionStatus::Active;
                self.store.replace(key, stored.version, &connection).await?;
                tracing::info!(connection = %key.label(), "refreshed Salesforce access token");
                Ok(FreshToken {
                    instance_url: connection.instance_url,
                    access_token: connection.access_token,
                    issued_at_ms: connection.issued_at_ms,
                })
            }
            Err(Error::Salesforce {
                kind: SalesforceErrorKind::InvalidGrant,
                ..
            }) => {
                let mut connection = stored.connection.clone();
                connection.status = ConnectionStatus::NeedsReauthorization;
                match self.store.replace(key, stored.version, &connection).await {
                    Ok(_) | Err(Error::NotFound) => {}
                    // Someone rotated the token while we were refused (a lease that ran out):
                    // theirs is the live one, so use it rather than condemn the connection.
                    Err(Error::Conflict) => {
                        if let Some(current) = self.store.get(key).await? {
                            check_active(&current)?;
                            return Ok(FreshToken::from(&current));
                        }
                    }
                    Err(error) => return Err(error),
                }
                tracing::warn!(connection = %key.label(), "refresh token refused; re-authorization required");
                Err(Error::ReauthorizationRequired)
            }
            Err(error) => Err(error),
        }
    }
}

/// A refresh must return tokens for the same user of the same org: a user connection without a
/// refresh token renewed through the client-credentials flow would otherwise silently become the
/// integration user. A mismatch is treated like a refused refresh: the user logs in again.
fn same_identity(connection: &Connection, tokens: SalesforceTokens) -> Result<SalesforceTokens> {
    let same_user = ct_eq_str(&tokens.user_id, &connection.user_id);
    let same_org =
        connection.id_url.is_empty() || org_of(&connection.id_url) == Some(tokens.org_id.as_str());
    if same_user && same_org {
        Ok(tokens)
    } else {
        tracing::warn!("a refresh returned another identity than the connection's; refusing it");
        Err(Error::Salesforce {
            kind: SalesforceErrorKind::InvalidGrant,
            status: 400,
        })
    }
}

/// The org id of an identity URL `…/id/<org id>/<user id>`.
fn org_of(id_url: &str) -> Option<&str> {
    let mut parts = id_url.trim_end_matches('/').rsplit('/');
    let _user = parts.next()?;
    parts.next()
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}
