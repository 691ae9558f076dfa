//! Shared fixtures: keyrings, connections, stores on both backends.

use std::future::Future;
use std::sync::Arc;

use auth::crypto::{EncryptionKey, Keyring};
use auth::secret::{AccessToken, RefreshToken};
use auth::store::redis::RedisBackend;
use auth::store::{Connection, ConnectionStatus, Store};
use test_support::TestRedis;

pub const ORG: &str = "00Dx0000000BV7zEAG";

pub fn keyring() -> Arc<Keyring> {
    Arc::new(Keyring::new(EncryptionKey::generate("k1").unwrap()))
}

pub fn connection(access: &str, refresh: &str, issued_at_ms: u64) -> Connection {
    Connection {
        instance_url: "https://example.my.salesforce.com".into(),
        access_token: AccessToken::new(access),
        refresh_token: Some(RefreshToken::new(refresh)),
        issued_at_ms,
        scope: "api refresh_token".into(),
        id_url: format!("https://login.salesforce.com/id/{ORG}/005x00000012Q9PAAU"),
        user_id: "005x00000012Q9PAAU".into(),
        status: ConnectionStatus::Active,
    }
}

/// A store on Redis under the test's prefix.
pub fn redis_store(redis: &TestRedis, keyring: Arc<Keyring>) -> Store {
    Store::new(
        Arc::new(RedisBackend::new(redis.url(), redis.prefix()).unwrap()),
        keyring,
    )
}

/// Runs `check` against a memory store and a Redis store (same keyring semantics).
pub async fn on_both<F, Fut>(check: F)
where
    F: Fn(Store, &'static str) -> Fut,
    Fut: Future<Output = ()>,
{
    check(Store::memory(keyring()), "memory").await;
    let redis = TestRedis::shared();
    check(redis_store(&redis, keyring()), "redis").await;
}
