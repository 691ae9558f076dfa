//! The Redis [`Backend`] over deadpool-redis. Every key starts with the configured prefix;
//! single use is `GETDEL`; compare-and-swap, compare-and-delete and the windowed counter are Lua
//! scripts, so each is atomic across replicas.

use std::time::Duration;

use async_trait::async_trait;
use deadpool_redis::{Config, Pool, Runtime};
use redis::Script;

use super::Backend;
use crate::{Error, Result};

const COMPARE_AND_SET: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2])
  return 1
end
return 0
";

const COMPARE_AND_DELETE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
";

const INCREMENT: &str = r"
local n = redis.call('INCR', KEYS[1])
if n == 1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return n
";

/// A Redis-backed store backend.
pub struct RedisBackend {
    pool: Pool,
    prefix: String,
    compare_and_set: Script,
    compare_and_delete: Script,
    increment: Script,
}

impl std::fmt::Debug for RedisBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisBackend")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

fn storage_error(error: impl std::fmt::Display) -> Error {
    // Redis errors name commands and keys, never our values (which are sealed anyway).
    Error::Storage(error.to_string())
}

impl RedisBackend {
    /// A pooled backend for the Redis at `url`; every key is written under `prefix`.
    pub fn new(url: &str, prefix: &str) -> Result<Self> {
        let pool = Config::from_url(url)
            .create_pool(Some(Runtime::Tokio1))
            .map_err(|e| Error::Config(format!("redis pool: {e}")))?;
        Ok(Self::from_pool(pool, prefix))
    }

    /// A backend over an existing pool.
    pub fn from_pool(pool: Pool, prefix: &str) -> Self {
        Self {
            pool,
            prefix: prefix.to_owned(),
            compare_and_set: Script::new(COMPARE_AND_SET),
            compare_and_delete: Script::new(COMPARE_AND_DELETE),
            increment: Script::new(INCREMENT),
        }
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    async fn connection(&self) -> Result<deadpool_redis::Connection> {
        self.pool.get().await.map_err(storage_error)
    }
}

fn set_command(key: &str, value: &str, ttl: Option<Duration>) -> redis::Cmd {
    let mut cmd = redis::cmd("SET");
    cmd.arg(key).arg(value);
    if let Some(ttl) = ttl {
        cmd.arg("PX")
            .arg(u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1));
    }
    cmd
}

#[async_trait]
impl Backend for RedisBackend {
    async fn get(&self, key: &str) -> Result<Option<String>> {
        let mut conn = self.connection().await?;
        redis::cmd("GET")
            .arg(self.key(key))
            .query_async(&mut conn)
            .await
            .map_err(storage_error)
    }

    async fn set(&self, key: &str, value: &str, ttl: Option<Duration>) -> Result<()> {
        let mut conn = self.connection().await?;
        set_command(&self.key(key), value, ttl)
            .query_async::<()>(&mut conn)
            .await
            .map_err(storage_error)
    }

    async fn set_if_absent(&self, key: &str, value: &str, ttl: Option<Duration>) -> Result<bool> {
        let mut conn = self.connection().await?;
        let reply: Option<String> = set_command(&self.key(key), value, ttl)
            .arg("NX")
            .query_async(&mut conn)
            .await
            .map_err(storage_error)?;
        Ok(reply.is_some())
    }

    async fn compare_and_set(&self, key: &str, expected: &str, value: &str) -> Result<bool> {
        let mut conn = self.connection().await?;
        let done: i64 = self
            .compare_and_set
            .key(self.key(key))
            .arg(expected)
            .arg(value)
            .invoke_async(&mut conn)
            .await
            .map_err(storage_error)?;
        Ok(done == 1)
    }

    async fn take(&self, key: &str) -> Result<Option<String>> {
        let mut conn = self.connection().await?;
        redis::cmd("GETDEL")
            .arg(self.key(key))
            .query_async(&mut conn)
            .await
            .map_err(storage_error)
    }

    async fn delete(&self, key: &str) -> Result<bool> {
        let mut conn = self.connection().await?;
        let removed: i64 = redis::cmd("DEL")
            .arg(self.key(key))
            .query_async(&mut conn)
            .await
            .map_err(storage_error)?;
        Ok(removed > 0)
    }

    async fn delete_if_equals(&self, key: &str, expected: &str) -> Result<bool> {
        let mut conn = self.connection().await?;
        let removed: i64 = self
            .compare_and_delete
            .key(self.key(key))
            .arg(expected)
            .invoke_async(&mut conn)
            .await
            .map_err(storage_error)?;
        Ok(removed > 0)
    }

    async fn index_add(&self, index: &str, member: &str) -> Result<()> {
        let mut conn = self.connection().await?;
        redis::cmd("SADD")
            .arg(self.key(index))
            .arg(member)
            .query_async::<()>(&mut conn)
            .await
            .map_err(storage_error)
    }

    async fn index_remove(&self, index: &str, member: &str) -> Result<()> {
        let mut conn = self.connection().await?;
        redis::cmd("SREM")
            .arg(self.key(index))
            .arg(member)
            .query_async::<()>(&mut conn)
            .await
            .map_err(storage_error)
    }

    async fn index_members(&self, index: &str) -> Result<Vec<String>> {
        let mut conn = self.connection().await?;
        redis::cmd("SMEMBERS")
            .arg(self.key(index))
            .query_async(&mut conn)
            .await
            .map_err(storage_error)
    }

    async fn increment(&self, key: &str, window: Duration) -> Result<u64> {
        let mut conn = self.connection().await?;
        self.increment
            .key(self.key(key))
            .arg(u64::try_from(window.as_millis()).unwrap_or(u64::MAX).max(1))
            .invoke_async(&mut conn)
            .await
            .map_err(storage_error)
    }
}
