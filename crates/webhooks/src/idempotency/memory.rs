//! [`MemoryIdempotencyStore`]: bounded, TTL-evicting, for the embedded single-process mode.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use tokio::time::Instant;

use super::{Claim, IdempotencyStore, IdempotencyTtl};
use crate::{BoxFuture, Error};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Pending,
    Done,
}

#[derive(Debug)]
struct Entry {
    state: State,
    expires: Instant,
    generation: u64,
}

#[derive(Debug, Default)]
struct Inner {
    entries: HashMap<String, Entry>,
    /// Insertion order for eviction; records whose generation no longer matches are stale.
    order: VecDeque<(String, u64)>,
    next_generation: u64,
}

/// An in-memory store holding at most `capacity` keys. Expired keys go first; when it is still
/// full, the oldest key is evicted (which can only let a very old notification through twice,
/// never lose one).
#[derive(Debug)]
pub struct MemoryIdempotencyStore {
    inner: Mutex<Inner>,
    capacity: usize,
    ttl: IdempotencyTtl,
}

impl MemoryIdempotencyStore {
    /// A store for at most `capacity` keys (at least 1).
    pub fn new(capacity: usize, ttl: IdempotencyTtl) -> Self {
        Self {
            inner: Mutex::new(Inner::default()),
            capacity: capacity.max(1),
            ttl,
        }
    }

    /// Number of live and not yet evicted keys.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// True when no key is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the map half-updated in a way that matters.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn claim_now(&self, keys: &[String]) -> Vec<Claim> {
        let now = Instant::now();
        let mut inner = self.lock();
        keys.iter()
            .map(|key| match inner.entries.get(key) {
                Some(entry) if entry.expires > now => match entry.state {
                    State::Done => Claim::Duplicate,
                    State::Pending => Claim::InProgress,
                },
                _ => {
                    self.insert(&mut inner, key, State::Pending, now + self.ttl.pending());
                    Claim::New
                }
            })
            .collect()
    }

    fn insert(&self, inner: &mut Inner, key: &str, state: State, expires: Instant) {
        let now = Instant::now();
        if !inner.entries.contains_key(key) {
            while inner.entries.len() >= self.capacity {
                let Some((old, generation)) = inner.order.pop_front() else {
                    break;
                };
                if inner
                    .entries
                    .get(&old)
                    .is_some_and(|e| e.generation == generation)
                {
                    inner.entries.remove(&old);
                }
            }
        }
        let generation = inner.next_generation;
        inner.next_generation += 1;
        inner.entries.insert(
            key.to_owned(),
            Entry {
                state,
                expires,
                generation,
            },
        );
        inner.order.push_back((key.to_owned(), generation));
        // Keep the order queue bounded: drop stale records and expired entries.
        if inner.order.len() > 2 * self.capacity + 16 {
            let Inner { entries, order, .. } = inner;
            entries.retain(|_, e| e.expires > now);
            order.retain(|(k, g)| entries.get(k).is_some_and(|e| e.generation == *g));
        }
    }
}

impl Default for MemoryIdempotencyStore {
    fn default() -> Self {
        Self::new(100_000, IdempotencyTtl::default())
    }
}

impl IdempotencyStore for MemoryIdempotencyStore {
    fn claim<'a>(&'a self, keys: &'a [String]) -> BoxFuture<'a, Result<Vec<Claim>, Error>> {
        Box::pin(async move { Ok(self.claim_now(keys)) })
    }

    fn commit<'a>(&'a self, keys: &'a [String]) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            let expires = Instant::now() + self.ttl.done();
            let mut inner = self.lock();
            for key in keys {
                self.insert(&mut inner, key, State::Done, expires);
            }
            Ok(())
        })
    }

    fn release<'a>(&'a self, keys: &'a [String]) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            let mut inner = self.lock();
            for key in keys {
                if inner
                    .entries
                    .get(key)
                    .is_some_and(|e| e.state == State::Pending)
                {
                    inner.entries.remove(key);
                }
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn keys(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| (*s).to_owned()).collect()
    }

    #[tokio::test(start_paused = true)]
    async fn claim_commit_release_and_expiry() {
        let store = MemoryIdempotencyStore::new(10, IdempotencyTtl::default());
        let ab = keys(&["a", "b"]);
        assert_eq!(store.claim(&ab).await.unwrap(), [Claim::New, Claim::New]);
        assert_eq!(
            store.claim(&ab).await.unwrap(),
            [Claim::InProgress, Claim::InProgress]
        );
        store.release(&ab[..1]).await.unwrap();
        store.commit(&ab[1..]).await.unwrap();
        assert_eq!(
            store.claim(&ab).await.unwrap(),
            [Claim::New, Claim::Duplicate]
        );
        // "a" is pending again and never committed: a crash. It expires; "b" (done) does not.
        tokio::time::advance(Duration::from_secs(301)).await;
        assert_eq!(
            store.claim(&ab).await.unwrap(),
            [Claim::New, Claim::Duplicate]
        );
        tokio::time::advance(Duration::from_secs(72 * 3600)).await;
        assert_eq!(store.claim(&ab[1..]).await.unwrap(), [Claim::New]);
    }

    #[tokio::test(start_paused = true)]
    async fn bounded_by_capacity() {
        let store = MemoryIdempotencyStore::new(3, IdempotencyTtl::default());
        for i in 0..50 {
            let key = keys(&[&format!("k{i}")]);
            store.claim(&key).await.unwrap();
            store.commit(&key).await.unwrap();
            assert!(store.len() <= 3);
            assert!(store.lock().order.len() <= 2 * 3 + 16 + 1);
        }
        assert_eq!(
            store.claim(&keys(&["k49"])).await.unwrap(),
            [Claim::Duplicate]
        );
        assert_eq!(store.claim(&keys(&["k0"])).await.unwrap(), [Claim::New]);
    }
}
