//! Running requests that `notifications/cancelled` may cancel, keyed by the caller's scope
//! (a legacy session id, or the stdio connection) and request id. Sharded so concurrent
//! requests rarely contend on one lock.

use std::collections::HashMap;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};

use tokio_util::sync::CancellationToken;

use crate::jsonrpc::RequestId;

const SHARDS: usize = 16;

type Key = (String, RequestId);

/// The registry of running, cancellable requests.
#[derive(Debug, Clone, Default)]
pub struct InFlight {
    shards: Arc<[Mutex<HashMap<Key, CancellationToken>>; SHARDS]>,
}

impl InFlight {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    fn shard(&self, key: &Key) -> &Mutex<HashMap<Key, CancellationToken>> {
        let mut h = DefaultHasher::new();
        key.hash(&mut h);
        let i = usize::try_from(h.finish() % SHARDS as u64).unwrap_or(0);
        &self.shards[i % SHARDS]
    }

    /// Registers a running request; it is removed again when the returned guard drops.
    pub fn register(&self, scope: &str, id: RequestId, token: CancellationToken) -> InFlightGuard {
        let key = (scope.to_owned(), id);
        self.shard(&key)
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key.clone(), token);
        InFlightGuard {
            registry: self.clone(),
            key: Some(key),
        }
    }

    /// Cancels a running request; `false` when it is not (or no longer) running.
    pub fn cancel(&self, scope: &str, id: &RequestId) -> bool {
        let key = (scope.to_owned(), id.clone());
        let token = self
            .shard(&key)
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&key);
        match token {
            Some(t) => {
                t.cancel();
                true
            }
            None => false,
        }
    }
}

/// Removes its request from the registry when dropped.
#[derive(Debug)]
pub struct InFlightGuard {
    registry: InFlight,
    key: Option<Key>,
}

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.registry
                .shard(&key)
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cancel_and_cleanup() {
        let reg = InFlight::new();
        let token = CancellationToken::new();
        let guard = reg.register("s", RequestId::Number(1), token.clone());
        assert!(!reg.cancel("other", &RequestId::Number(1)));
        assert!(reg.cancel("s", &RequestId::Number(1)));
        assert!(token.is_cancelled());
        drop(guard);
        let _g = reg.register("s", RequestId::Number(2), CancellationToken::new());
        drop(_g);
        assert!(!reg.cancel("s", &RequestId::Number(2)));
    }
}
