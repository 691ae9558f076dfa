//! The in-memory [`Backend`]: the embedded default and the reference the Redis backend is held
//! to. Values are the same sealed strings the Redis backend stores. The number of keys is
//! capped ([`MemoryBackend::with_max_entries`]): when full of live entries, new keys are refused
//! with [`Error::Capacity`] instead of growing without bound.

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;

use super::Backend;
use crate::{Error, Result};

/// Expired entries are swept every this many operations, so unread expired values do not pile up.
const SWEEP_EVERY: usize = 1024;

#[derive(Default)]
struct Inner {
    values: HashMap<String, (String, Option<Instant>)>,
    indexes: HashMap<String, BTreeSet<String>>,
    operations_since_sweep: usize,
}

/// Default cap on stored keys.
pub const DEFAULT_MAX_ENTRIES: usize = 200_000;

/// A process-local backend behind a mutex (never held across an await).
pub struct MemoryBackend {
    inner: Mutex<Inner>,
    max_entries: usize,
}

impl Default for MemoryBackend {
    fn default() -> Self {
        Self {
            inner: Mutex::default(),
            max_entries: DEFAULT_MAX_ENTRIES,
        }
    }
}

impl std::fmt::Debug for MemoryBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryBackend").finish_non_exhaustive()
    }
}

impl MemoryBackend {
    /// A backend holding at most `max_entries` keys (values and counters; at least one).
    pub fn with_max_entries(max_entries: usize) -> Self {
        Self {
            max_entries: max_entries.max(1),
            ..Self::default()
        }
    }

    /// Inserts `key`, refusing a new key when the store is full of live entries.
    fn insert(
        &self,
        inner: &mut Inner,
        key: &str,
        value: String,
        expiry: Option<Instant>,
    ) -> Result<()> {
        if !inner.values.contains_key(key) && inner.values.len() >= self.max_entries {
            let now = Instant::now();
            inner
                .values
                .retain(|_, (_, expiry)| expiry.is_none_or(|e| e > now));
            if inner.values.len() >= self.max_entries {
                return Err(Error::Capacity("in-memory store is full"));
            }
        }
        inner.values.insert(key.to_owned(), (value, expiry));
        Ok(())
    }

    fn with<T>(&self, f: impl FnOnce(&mut Inner) -> T) -> Result<T> {
        let mut inner = self
            .inner
            .lock()
            .map_err(|_| Error::Storage("memory store poisoned".into()))?;
        let now = Instant::now();
        inner.operations_since_sweep += 1;
        if inner.operations_since_sweep >= SWEEP_EVERY {
            inner.operations_since_sweep = 0;
            inner
                .values
                .retain(|_, (_, expiry)| expiry.is_none_or(|e| e > now));
        }
        Ok(f(&mut inner))
    }

    /// Every stored value (for tests that check nothing is kept in clear text).
    pub fn dump(&self) -> Result<Vec<(String, String)>> {
        self.with(|inner| {
            inner
                .values
                .iter()
                .map(|(k, (v, _))| (k.clone(), v.clone()))
                .collect()
        })
    }
}

fn live<'a>(inner: &'a Inner, key: &str) -> Option<&'a String> {
    let now = Instant::now();
    inner
        .values
        .get(key)
        .filter(|(_, expiry)| expiry.is_none_or(|e| e > now))
        .map(|(v, _)| v)
}

fn expiry(ttl: Option<Duration>) -> Option<Instant> {
    ttl.map(|ttl| Instant::now() + ttl)
}

#[async_trait]
impl Backend for MemoryBackend {
    async fn get(&self, key: &str) -> Result<Option<String>> {
        self.with(|inner| live(inner, key).cloned())
    }

    async fn set(&self, key: &str, value: &str, ttl: Option<Duration>) -> Result<()> {
        self.with(|inner| self.insert(inner, key, value.to_owned(), expiry(ttl)))?
    }

    async fn set_if_absent(&self, key: &str, value: &str, ttl: Option<Duration>) -> Result<bool> {
        self.with(|inner| {
            if live(inner, key).is_some() {
                return Ok(false);
            }
            self.insert(inner, key, value.to_owned(), expiry(ttl))
                .map(|()| true)
        })?
    }

    async fn compare_and_set(&self, key: &str, expected: &str, value: &str) -> Result<bool> {
        self.with(|inner| {
            if live(inner, key).map(String::as_str) != Some(expected) {
                return false;
            }
            inner
                .values
                .insert(key.to_owned(), (value.to_owned(), None));
            true
        })
    }

    async fn take(&self, key: &str) -> Result<Option<String>> {
        self.with(|inner| {
            let value = live(inner, key).cloned();
            inner.values.remove(key);
            value
        })
    }

    async fn delete(&self, key: &str) -> Result<bool> {
        self.with(|inner| {
            let existed = live(inner, key).is_some();
            inner.values.remove(key);
            existed
        })
    }

    async fn delete_if_equals(&self, key: &str, expected: &str) -> Result<bool> {
        self.with(|inner| {
            if live(inner, key).map(String::as_str) != Some(expected) {
                return false;
            }
            inner.values.remove(key);
            true
        })
    }

    async fn index_add(&self, index: &str, member: &str) -> Result<()> {
        self.with(|inner| {
            inner
                .indexes
                .entry(index.to_owned())
                .or_default()
                .insert(member.to_owned());
        })
    }

    async fn index_remove(&self, index: &str, member: &str) -> Result<()> {
        self.with(|inner| {
            if let Some(set) = inner.indexes.get_mut(index) {
                set.remove(member);
                if set.is_empty() {
                    inner.indexes.remove(index);
                }
            }
        })
    }

    async fn index_members(&self, index: &str) -> Result<Vec<String>> {
        self.with(|inner| {
            inner
                .indexes
                .get(index)
                .map(|set| set.iter().cloned().collect())
                .unwrap_or_default()
        })
    }

    async fn increment(&self, key: &str, window: Duration) -> Result<u64> {
        self.with(|inner| {
            let current = live(inner, key).and_then(|v| v.parse::<u64>().ok());
            let (count, until) = match (current, inner.values.get(key)) {
                (Some(n), Some((_, until))) => (n.saturating_add(1), *until),
                _ => (1, expiry(Some(window))),
            };
            self.insert(inner, key, count.to_string(), until)
                .map(|()| count)
        })?
    }
}
