//! [`RedisIdempotencyStore`]: marks as Redis strings `{prefix}dedupe:{org15}:{notification}`
//! holding `pending` or `done`, with `SET … NX` and TTLs; one round trip per phase.

use std::sync::LazyLock;

use redis::Script;

use super::{Claim, IdempotencyStore, IdempotencyTtl};
use crate::{BoxFuture, Error, RedisStore};

/// Per key: `SET key pending NX PX ttl`; when taken, report `done` (1) or pending (2).
static CLAIM: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local out = {}
for i, key in ipairs(KEYS) do
  if redis.call('SET', key, 'pending', 'NX', 'PX', ARGV[1]) then
    out[i] = 0
  elseif redis.call('GET', key) == 'done' then
    out[i] = 1
  else
    out[i] = 2
  end
end
return out
",
    )
});

/// Per key: delete it only while it is still pending.
static RELEASE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
for _, key in ipairs(KEYS) do
  if redis.call('GET', key) == 'pending' then redis.call('DEL', key) end
end
return 0
",
    )
});

/// The Redis idempotency store.
#[derive(Debug, Clone)]
pub struct RedisIdempotencyStore {
    redis: RedisStore,
    ttl: IdempotencyTtl,
}

impl RedisIdempotencyStore {
    /// A store on `redis` with these TTLs.
    pub fn new(redis: RedisStore, ttl: IdempotencyTtl) -> Self {
        Self { redis, ttl }
    }

    /// The Redis key of a dedupe key.
    pub fn redis_key(&self, dedupe_key: &str) -> String {
        self.redis.key(&format!("dedupe:{dedupe_key}"))
    }

    fn redis_keys(&self, keys: &[String]) -> Vec<String> {
        keys.iter().map(|k| self.redis_key(k)).collect()
    }
}

impl IdempotencyStore for RedisIdempotencyStore {
    fn claim<'a>(&'a self, keys: &'a [String]) -> BoxFuture<'a, Result<Vec<Claim>, Error>> {
        Box::pin(async move {
            if keys.is_empty() {
                return Ok(Vec::new());
            }
            let mut invocation = CLAIM.prepare_invoke();
            for key in self.redis_keys(keys) {
                invocation.key(key);
            }
            invocation.arg(u64::try_from(self.ttl.pending().as_millis()).unwrap_or(u64::MAX));
            let mut connection = self.redis.connection().await?;
            let codes: Vec<u8> = self
                .redis
                .timed(async { Ok(invocation.invoke_async(&mut connection).await?) })
                .await?;
            Ok(codes
                .into_iter()
                .map(|code| match code {
                    0 => Claim::New,
                    1 => Claim::Duplicate,
                    _ => Claim::InProgress,
                })
                .collect())
        })
    }

    fn commit<'a>(&'a self, keys: &'a [String]) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            if keys.is_empty() {
                return Ok(());
            }
            let mut pipe = redis::pipe();
            for key in self.redis_keys(keys) {
                pipe.set_ex(key, "done", self.ttl.done().as_secs()).ignore();
            }
            let mut connection = self.redis.connection().await?;
            self.redis
                .timed(async { Ok(pipe.query_async::<()>(&mut connection).await?) })
                .await
        })
    }

    fn release<'a>(&'a self, keys: &'a [String]) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            if keys.is_empty() {
                return Ok(());
            }
            let mut invocation = RELEASE.prepare_invoke();
            for key in self.redis_keys(keys) {
                invocation.key(key);
            }
            let mut connection = self.redis.connection().await?;
            self.redis
                .timed(async { Ok(invocation.invoke_async::<()>(&mut connection).await?) })
                .await
        })
    }
}
