//! Legacy-era HTTP sessions: ids issued on `initialize` and a pluggable store for their state,
//! in memory (one process) or in Redis (shared by replicas, so any one can serve any request).

use std::collections::HashMap;
use std::fmt;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use rand::RngCore;

use crate::Error;
use crate::dispatch::SessionState;

/// Longest session id accepted from a client.
const MAX_SESSION_ID_LEN: usize = 128;

/// 128 random bits as 32 lowercase hex characters (session ids, sampling request ids).
pub(crate) fn random_hex128() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A session id. Ids are bearer-like, so `Debug` never prints them.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SessionId(String);

impl SessionId {
    /// A fresh random id: 128 bits as 32 lowercase hex characters.
    pub fn generate() -> Self {
        SessionId(random_hex128())
    }

    /// Accepts a client-supplied id if it has the shape we issue (anything else cannot exist).
    pub fn parse(s: &str) -> Option<Self> {
        let ok = !s.is_empty()
            && s.len() <= MAX_SESSION_ID_LEN
            && s.bytes().all(|b| b.is_ascii_hexdigit());
        ok.then(|| SessionId(s.to_owned()))
    }

    /// The id as sent in the `Mcp-Session-Id` header.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionId([redacted])")
    }
}

/// Where legacy session state lives. Implementations must be safe to share between replicas
/// when they are meant for several processes.
pub trait SessionStore: Send + Sync + 'static {
    /// Stores (creates or replaces) a session's state.
    fn save<'a>(
        &'a self,
        id: &'a SessionId,
        state: &'a SessionState,
    ) -> BoxFuture<'a, Result<(), Error>>;
    /// Loads a session's state; `None` when unknown or expired. Refreshes its TTL.
    fn load<'a>(&'a self, id: &'a SessionId) -> BoxFuture<'a, Result<Option<SessionState>, Error>>;
    /// Ends a session; `false` when it did not exist.
    fn delete<'a>(&'a self, id: &'a SessionId) -> BoxFuture<'a, Result<bool, Error>>;
}

/// The authenticated owner of a request, put in the HTTP request's extensions by whatever
/// authenticates in front of the MCP service (the server maps its principal to a string). A
/// legacy session created with an owner can only be used by requests with the same owner; one
/// created without can only be used without. The crate never interprets the value.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SessionOwner(pub String);

impl fmt::Debug for SessionOwner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionOwner([redacted])")
    }
}

/// Default cap of [`InMemorySessionStore`].
pub const DEFAULT_MAX_SESSIONS: usize = 10_000;

/// Sessions in this process's memory, expiring after an idle TTL, at most `max_sessions` of them
/// (a new session beyond that is refused with [`Error::SessionLimit`]). Loads take a shared lock
/// and bump an atomic last-use stamp, so concurrent requests do not serialize on it. Expired
/// sessions are swept at most once per sweep interval (a fraction of the TTL), not on every
/// save, so saving stays O(1) amortised.
#[derive(Debug)]
pub struct InMemorySessionStore {
    ttl: Duration,
    max_sessions: usize,
    sweep_every_ms: u64,
    epoch: Instant,
    /// When expired sessions were last swept (see `sweep_if_due`).
    last_sweep: AtomicU64,
    sessions: RwLock<HashMap<SessionId, Entry>>,
}

#[derive(Debug)]
struct Entry {
    state: SessionState,
    /// Milliseconds since the store's epoch at last use.
    last_used: AtomicU64,
}

impl InMemorySessionStore {
    /// A store whose sessions expire after `ttl` without use, holding at most
    /// [`DEFAULT_MAX_SESSIONS`].
    pub fn new(ttl: Duration) -> Self {
        let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX);
        InMemorySessionStore {
            ttl,
            max_sessions: DEFAULT_MAX_SESSIONS,
            // A quarter of the TTL keeps expired entries to a small overhang; at most a minute.
            sweep_every_ms: (ttl_ms / 4).clamp(1, 60_000),
            epoch: Instant::now(),
            last_sweep: AtomicU64::new(0),
            sessions: RwLock::new(HashMap::new()),
        }
    }

    /// The same store holding at most `max_sessions` live sessions (at least one).
    #[must_use]
    pub fn with_max_sessions(mut self, max_sessions: usize) -> Self {
        self.max_sessions = max_sessions.max(1);
        self
    }

    /// How many sessions are held now, expired ones not yet swept included.
    pub fn len(&self) -> usize {
        self.sessions
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .len()
    }

    /// Whether no session is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn expired(&self, entry: &Entry, now: u64) -> bool {
        let ttl = u64::try_from(self.ttl.as_millis()).unwrap_or(u64::MAX);
        now.saturating_sub(entry.last_used.load(Ordering::Relaxed)) >= ttl
    }

    /// Sweeps expired sessions if the last sweep is at least an interval old; whether it did.
    fn sweep_if_due(&self, map: &mut HashMap<SessionId, Entry>, now: u64) -> bool {
        // Stored as the sweep time + 1, so 0 means "never swept".
        let last = self.last_sweep.load(Ordering::Relaxed);
        let stamp = now.saturating_add(1);
        if last != 0 && stamp.saturating_sub(last) < self.sweep_every_ms {
            return false;
        }
        self.last_sweep.store(stamp, Ordering::Relaxed);
        map.retain(|_, e| !self.expired(e, now));
        true
    }
}

impl Default for InMemorySessionStore {
    fn default() -> Self {
        Self::new(Duration::from_secs(3600))
    }
}

impl SessionStore for InMemorySessionStore {
    fn save<'a>(
        &'a self,
        id: &'a SessionId,
        state: &'a SessionState,
    ) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            let now = self.now_ms();
            let mut map = self.sessions.write().unwrap_or_else(|p| p.into_inner());
            self.sweep_if_due(&mut map, now);
            if !map.contains_key(id) && map.len() >= self.max_sessions {
                // Full: expired sessions may still be in the map between sweeps. Sweeping
                // whenever full would let a flood of initializes make every save O(n), so
                // only an already-expired entry found cheaply is reused.
                let expired = map
                    .iter()
                    .take(64)
                    .find(|(_, e)| self.expired(e, now))
                    .map(|(k, _)| k.clone());
                match expired {
                    Some(old) => {
                        map.remove(&old);
                    }
                    None => return Err(Error::SessionLimit),
                }
            }
            map.insert(
                id.clone(),
                Entry {
                    state: state.clone(),
                    last_used: AtomicU64::new(now),
                },
            );
            Ok(())
        })
    }

    fn load<'a>(&'a self, id: &'a SessionId) -> BoxFuture<'a, Result<Option<SessionState>, Error>> {
        Box::pin(async move {
            let now = self.now_ms();
            let map = self.sessions.read().unwrap_or_else(|p| p.into_inner());
            Ok(match map.get(id) {
                Some(e) if !self.expired(e, now) => {
                    e.last_used.store(now, Ordering::Relaxed);
                    Some(e.state.clone())
                }
                _ => None,
            })
        })
    }

    fn delete<'a>(&'a self, id: &'a SessionId) -> BoxFuture<'a, Result<bool, Error>> {
        Box::pin(async move {
            let mut map = self.sessions.write().unwrap_or_else(|p| p.into_inner());
            Ok(map.remove(id).is_some())
        })
    }
}

/// Sessions in Redis under `{prefix}session:{id}` with an idle TTL, shared by every replica.
pub struct RedisSessionStore {
    pool: deadpool_redis::Pool,
    prefix: String,
    ttl_secs: u64,
}

impl fmt::Debug for RedisSessionStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisSessionStore")
            .field("prefix", &self.prefix)
            .field("ttl_secs", &self.ttl_secs)
            .finish_non_exhaustive()
    }
}

impl RedisSessionStore {
    /// A store on an existing pool. `prefix` namespaces the keys (for instance `"sfmcp:mcp:"`).
    pub fn new(pool: deadpool_redis::Pool, prefix: impl Into<String>, ttl: Duration) -> Self {
        RedisSessionStore {
            pool,
            prefix: prefix.into(),
            ttl_secs: ttl.as_secs().max(1),
        }
    }

    /// A store with its own pool for `url` (`redis://host:port/db`).
    pub fn connect(url: &str, prefix: impl Into<String>, ttl: Duration) -> Result<Self, Error> {
        let pool = deadpool_redis::Config::from_url(url)
            .create_pool(Some(deadpool_redis::Runtime::Tokio1))
            .map_err(|e| Error::SessionStore(format!("cannot create Redis pool: {e}")))?;
        Ok(Self::new(pool, prefix, ttl))
    }

    fn key(&self, id: &SessionId) -> String {
        format!("{}session:{}", self.prefix, id.as_str())
    }

    async fn conn(&self) -> Result<deadpool_redis::Connection, Error> {
        self.pool
            .get()
            .await
            .map_err(|e| Error::SessionStore(format!("Redis unavailable: {e}")))
    }
}

// Only the error category: a Redis error may echo a key, which holds a session id.
fn redis_err(e: redis::RedisError) -> Error {
    Error::SessionStore(format!("Redis command failed: {:?}", e.kind()))
}

impl SessionStore for RedisSessionStore {
    fn save<'a>(
        &'a self,
        id: &'a SessionId,
        state: &'a SessionState,
    ) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            let json = serde_json::to_string(state)
                .map_err(|e| Error::SessionStore(format!("cannot encode session: {e}")))?;
            let mut conn = self.conn().await?;
            redis::cmd("SET")
                .arg(self.key(id))
                .arg(json)
                .arg("EX")
                .arg(self.ttl_secs)
                .query_async::<()>(&mut conn)
                .await
                .map_err(redis_err)
        })
    }

    fn load<'a>(&'a self, id: &'a SessionId) -> BoxFuture<'a, Result<Option<SessionState>, Error>> {
        Box::pin(async move {
            let mut conn = self.conn().await?;
            let raw: Option<String> = redis::cmd("GETEX")
                .arg(self.key(id))
                .arg("EX")
                .arg(self.ttl_secs)
                .query_async(&mut conn)
                .await
                .map_err(redis_err)?;
            match raw {
                None => Ok(None),
                Some(raw) => serde_json::from_str(&raw)
                    .map(Some)
                    .map_err(|e| Error::SessionStore(format!("corrupt session record: {e}"))),
            }
        })
    }

    fn delete<'a>(&'a self, id: &'a SessionId) -> BoxFuture<'a, Result<bool, Error>> {
        Box::pin(async move {
            let mut conn = self.conn().await?;
            let n: i64 = redis::cmd("DEL")
                .arg(self.key(id))
                .query_async(&mut conn)
                .await
                .map_err(redis_err)?;
            Ok(n > 0)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_hex_and_redacted() {
        let id = SessionId::generate();
        assert_eq!(id.as_str().len(), 32);
        assert_eq!(SessionId::parse(id.as_str()), Some(id.clone()));
        assert_eq!(format!("{id:?}"), "SessionId([redacted])");
        assert_eq!(SessionId::parse("not hex"), None);
        assert_eq!(SessionId::parse(""), None);
    }

    #[tokio::test]
    async fn memory_store_round_trip() {
        let store = InMemorySessionStore::default();
        let id = SessionId::generate();
        let state = state();
        assert_eq!(store.load(&id).await.unwrap(), None);
        store.save(&id, &state).await.unwrap();
        assert_eq!(store.load(&id).await.unwrap(), Some(state));
        assert!(store.delete(&id).await.unwrap());
        assert!(!store.delete(&id).await.unwrap());
    }

    #[tokio::test]
    async fn memory_store_expires() {
        let store = InMemorySessionStore::new(Duration::ZERO);
        let id = SessionId::generate();
        let state = state();
        store.save(&id, &state).await.unwrap();
        assert_eq!(store.load(&id).await.unwrap(), None);
    }

    fn state() -> SessionState {
        SessionState {
            protocol_version: "2025-06-18".into(),
            log_level: None,
            initialized: false,
            owner: None,
            client_sampling: false,
        }
    }

    #[tokio::test]
    async fn memory_store_is_capped() {
        let store = InMemorySessionStore::default().with_max_sessions(3);
        let ids: Vec<SessionId> = (0..3).map(|_| SessionId::generate()).collect();
        for id in &ids {
            store.save(id, &state()).await.unwrap();
        }
        let refused = store.save(&SessionId::generate(), &state()).await;
        assert!(matches!(refused, Err(Error::SessionLimit)), "{refused:?}");
        // Existing sessions can still be updated, and a deleted one frees a place.
        store.save(&ids[0], &state()).await.unwrap();
        assert!(store.delete(&ids[1]).await.unwrap());
        store.save(&SessionId::generate(), &state()).await.unwrap();
        assert_eq!(store.len(), 3);
    }

    #[tokio::test]
    async fn a_full_store_reuses_expired_places() {
        let store = InMemorySessionStore::new(Duration::from_millis(50)).with_max_sessions(2);
        store.save(&SessionId::generate(), &state()).await.unwrap();
        store.save(&SessionId::generate(), &state()).await.unwrap();
        tokio::time::sleep(Duration::from_millis(120)).await;
        store.save(&SessionId::generate(), &state()).await.unwrap();
        store.save(&SessionId::generate(), &state()).await.unwrap();
        assert!(store.len() <= 2);
    }

    #[tokio::test]
    async fn saves_do_not_sweep_every_time() {
        let store = InMemorySessionStore::new(Duration::from_secs(3600));
        let now = store.now_ms();
        let mut map = HashMap::new();
        assert!(store.sweep_if_due(&mut map, now), "the first save sweeps");
        assert!(
            !store.sweep_if_due(&mut map, now + 1),
            "the next one does not"
        );
        assert!(
            store.sweep_if_due(&mut map, now + 60_000),
            "a minute later it does again"
        );
    }
}
