//! [`RedisStore`]: the pooled Redis connection, key prefix and operation timeout that the
//! Redis-backed idempotency store and queue share.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use deadpool_redis::{Config, Connection, Pool, PoolConfig, Runtime, Timeouts};
use redis::aio::MultiplexedConnection;

use crate::Error;

/// A Redis connection pool with a key prefix (every key this crate writes starts with it) and a
/// timeout for each operation, so that a hung Redis turns into a 503 rather than a hung intake.
///
/// Non-blocking commands share one multiplexed connection taken from the pool (concurrent
/// requests are pipelined on it, and a pooled connection would cost a `PING` round trip per
/// checkout); it is dropped on the first error and replaced on the next use. Blocking reads
/// (`XREADGROUP … BLOCK`) use pooled connections of their own.
#[derive(Clone)]
pub struct RedisStore {
    pool: Pool,
    shared: Arc<Mutex<Option<MultiplexedConnection>>>,
    prefix: Arc<str>,
    timeout: Duration,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// Default number of pooled connections.
    pub const DEFAULT_POOL_SIZE: usize = 32;

    /// Default per-operation timeout.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);

    /// A pool for `url` (connections are opened lazily) whose keys start with `prefix`.
    ///
    /// # Errors
    /// [`Error::StoreUnavailable`] when the URL is invalid.
    pub fn new(url: &str, prefix: impl Into<String>) -> Result<Self, Error> {
        Self::with_pool_size(url, prefix, Self::DEFAULT_POOL_SIZE)
    }

    /// Like [`new`](Self::new) with at most `max_connections` pooled connections.
    ///
    /// # Errors
    /// [`Error::StoreUnavailable`] when the URL is invalid.
    pub fn with_pool_size(
        url: &str,
        prefix: impl Into<String>,
        max_connections: usize,
    ) -> Result<Self, Error> {
        let mut config = Config::from_url(url);
        let mut pool = PoolConfig::new(max_connections.max(1));
        pool.timeouts = Timeouts {
            wait: Some(Self::DEFAULT_TIMEOUT),
            create: Some(Self::DEFAULT_TIMEOUT),
            recycle: Some(Self::DEFAULT_TIMEOUT),
        };
        config.pool = Some(pool);
        let pool = config
            .create_pool(Some(Runtime::Tokio1))
            .map_err(|e| Error::StoreUnavailable(e.to_string()))?;
        Ok(Self {
            pool,
            shared: Arc::default(),
            prefix: prefix.into().into(),
            timeout: Self::DEFAULT_TIMEOUT,
        })
    }

    /// Sets the per-operation timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The key prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    pub(crate) fn timeout(&self) -> Duration {
        self.timeout
    }

    pub(crate) fn key(&self, suffix: &str) -> String {
        format!("{}{suffix}", self.prefix)
    }

    /// The shared multiplexed connection, (re)connecting through the pool when there is none.
    /// For non-blocking commands only; run them through [`timed`](Self::timed).
    ///
    /// # Errors
    /// [`Error::StoreUnavailable`] or [`Error::StoreTimeout`] when Redis cannot be reached.
    pub async fn connection(&self) -> Result<MultiplexedConnection, Error> {
        if let Some(connection) = self.lock_shared().clone() {
            return Ok(connection);
        }
        let connection = Connection::take(self.dedicated_connection().await?);
        *self.lock_shared() = Some(connection.clone());
        Ok(connection)
    }

    /// A pooled connection for one caller (for blocking commands).
    pub(crate) async fn dedicated_connection(&self) -> Result<Connection, Error> {
        self.timed(async { Ok(self.pool.get().await?) }).await
    }

    fn lock_shared(&self) -> std::sync::MutexGuard<'_, Option<MultiplexedConnection>> {
        self.shared.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs one operation within the timeout; a timeout or an unreachable Redis drops the shared
    /// connection, so that the next operation connects afresh.
    ///
    /// # Errors
    /// [`Error::StoreTimeout`], or the operation's own error.
    pub async fn timed<T>(
        &self,
        operation: impl Future<Output = Result<T, Error>>,
    ) -> Result<T, Error> {
        let result = tokio::time::timeout(self.timeout, operation)
            .await
            .map_err(|_| Error::StoreTimeout(self.timeout))
            .and_then(|result| result);
        if let Err(Error::StoreTimeout(_) | Error::StoreUnavailable(_)) = &result {
            // The connection may be broken: the next operation connects afresh.
            *self.lock_shared() = None;
        }
        result
    }
}
