//! TokenStore, FlowStore and RefreshLock behave alike on memory and Redis, and keep only
//! ciphertext.

use std::sync::Arc;
use std::time::Duration;

use auth::Error;
use auth::clock::{Clock as _, ManualClock};
use auth::pkce::generate_verifier;
use auth::secret::{AccessToken, OAuthState, PkceVerifier};
use auth::store::memory::MemoryBackend;
use auth::store::{
    ConnectionKey, ConnectionStatus, FlowStore as _, PendingFlow, RefreshLock as _, Store,
    TokenStore as _,
};
use test_support::TestRedis;

use crate::common::{ORG, connection, keyring, on_both, redis_store};

fn flow(now_ms: u64) -> PendingFlow {
    PendingFlow {
        verifier: generate_verifier(),
        redirect_uri: "https://mcp.example.com/oauth/salesforce/callback".into(),
        login_host: "https://login.salesforce.com".into(),
        client_id: "3MVG9consumerkey".into(),
        created_at_ms: now_ms,
        mcp_request: None,
    }
}

#[tokio::test]
async fn upsert_get_and_versions() {
    on_both(|store, name| async move {
        let key = ConnectionKey::new("alice@example.com", ORG).unwrap();
        assert!(store.get(&key).await.unwrap().is_none(), "{name}");
        assert_eq!(
            store
                .upsert(&key, &connection("at1", "rt1", 1))
                .await
                .unwrap(),
            1
        );
        let stored = store.get(&key).await.unwrap().unwrap();
        assert_eq!(stored.version, 1);
        assert_eq!(stored.connection, connection("at1", "rt1", 1));
        assert_eq!(
            store
                .upsert(&key, &connection("at2", "rt2", 2))
                .await
                .unwrap(),
            2
        );
        let stored = store.get(&key).await.unwrap().unwrap();
        assert_eq!(stored.connection.access_token, AccessToken::new("at2"));
    })
    .await;
}

#[tokio::test]
async fn replace_is_compare_and_swap() {
    on_both(|store, name| async move {
        let key = ConnectionKey::new("alice", ORG).unwrap();
        store
            .upsert(&key, &connection("at1", "rt1", 1))
            .await
            .unwrap();
        // Two writers read version 1; only the first replacement lands.
        assert_eq!(
            store
                .replace(&key, 1, &connection("at2", "rt2", 2))
                .await
                .unwrap(),
            2
        );
        assert!(
            matches!(
                store.replace(&key, 1, &connection("at3", "rt3", 3)).await,
                Err(Error::Conflict)
            ),
            "{name}"
        );
        let stored = store.get(&key).await.unwrap().unwrap();
        assert_eq!(stored.connection, connection("at2", "rt2", 2));
        assert!(store.delete(&key).await.unwrap());
        assert!(matches!(
            store.replace(&key, 2, &connection("at4", "rt4", 4)).await,
            Err(Error::NotFound)
        ));
    })
    .await;
}

#[tokio::test]
async fn list_and_delete_per_principal() {
    on_both(|store, _| async move {
        let a1 = ConnectionKey::new("alice", "00D000000000001").unwrap();
        let a2 = ConnectionKey::new("alice", "00D000000000002").unwrap();
        let b1 = ConnectionKey::new("bob", "00D000000000001").unwrap();
        for key in [&a1, &a2, &b1] {
            store.upsert(key, &connection("at", "rt", 1)).await.unwrap();
        }
        let listed: Vec<_> = store
            .list("alice")
            .await
            .unwrap()
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(listed, vec![a1.clone(), a2.clone()]);
        assert!(store.delete(&a1).await.unwrap());
        assert!(!store.delete(&a1).await.unwrap());
        let listed: Vec<_> = store
            .list("alice")
            .await
            .unwrap()
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(listed, vec![a2]);
        assert_eq!(store.list("bob").await.unwrap().len(), 1);
        assert!(store.list("carol").await.unwrap().is_empty());
    })
    .await;
}

#[tokio::test]
async fn needs_reauthorization_status_round_trips() {
    on_both(|store, _| async move {
        let key = ConnectionKey::new("alice", ORG).unwrap();
        store
            .upsert(&key, &connection("at", "rt", 1))
            .await
            .unwrap();
        let mut c = connection("at", "rt", 1);
        c.status = ConnectionStatus::NeedsReauthorization;
        store.replace(&key, 1, &c).await.unwrap();
        assert_eq!(
            store.get(&key).await.unwrap().unwrap().connection.status,
            ConnectionStatus::NeedsReauthorization
        );
    })
    .await;
}

#[test]
fn connection_keys_are_validated() {
    assert!(ConnectionKey::new("", ORG).is_err());
    assert!(ConnectionKey::new("alice", "00D").is_err());
    assert!(ConnectionKey::new("alice", "00D00000000000!").is_err());
    assert!(ConnectionKey::new("al\nice", ORG).is_err());
    assert!(ConnectionKey::new(&"a".repeat(257), ORG).is_err());
    assert!(ConnectionKey::new("alice:with:colons", "00D000000000001").is_ok());
}

#[tokio::test]
async fn a_value_under_another_key_or_keyring_does_not_open() {
    let redis = TestRedis::shared();
    let store = redis_store(&redis, keyring());
    let key = ConnectionKey::new("alice", ORG).unwrap();
    store
        .upsert(&key, &connection("at", "rt", 1))
        .await
        .unwrap();
    // Another keyring reading the same Redis: an error, never garbage.
    let stranger = redis_store(&redis, keyring());
    assert!(matches!(stranger.get(&key).await, Err(Error::Decrypt)));

    // Copy alice's sealed record under mallory's key: the associated data differs.
    let backend = Arc::new(MemoryBackend::default());
    let ring = keyring();
    let memory = Store::new(backend.clone(), ring);
    memory
        .upsert(&key, &connection("at", "rt", 1))
        .await
        .unwrap();
    let (_, value) = backend
        .dump()
        .unwrap()
        .into_iter()
        .find(|(k, _)| k.starts_with("conn:"))
        .unwrap();
    let mallory = ConnectionKey::new("mallory", ORG).unwrap();
    use auth::store::Backend as _;
    let mallory_key = format!("conn:{}:{ORG}", "bWFsbG9yeQ");
    backend.set(&mallory_key, &value, None).await.unwrap();
    assert!(matches!(memory.get(&mallory).await, Err(Error::Decrypt)));
}

#[tokio::test]
async fn flows_are_single_use() {
    on_both(|store, name| async move {
        let state = OAuthState::generate();
        let f = flow(store.clock().now_ms());
        store.put_flow(&state, &f).await.unwrap();
        assert_eq!(
            store.take_flow(state.secret()).await.unwrap(),
            Some(f),
            "{name}"
        );
        assert_eq!(
            store.take_flow(state.secret()).await.unwrap(),
            None,
            "{name}: reused state"
        );
        assert_eq!(store.take_flow("unknown-state").await.unwrap(), None);
        assert_eq!(store.take_flow(&"x".repeat(1000)).await.unwrap(), None);
    })
    .await;
}

#[tokio::test]
async fn expired_flows_are_refused() {
    on_both(|store, name| async move {
        let clock = ManualClock::new(1_700_000_000_000);
        let store = store.with_clock(Arc::new(clock.clone()));
        let state = OAuthState::generate();
        store.put_flow(&state, &flow(clock.now_ms())).await.unwrap();
        clock.advance_ms(10 * 60 * 1000);
        assert_eq!(
            store.take_flow(state.secret()).await.unwrap(),
            None,
            "{name}: expired state"
        );
    })
    .await;
}

#[tokio::test]
async fn flow_take_is_single_use_across_replicas() {
    let redis = TestRedis::shared();
    let ring = keyring();
    let replicas: Vec<Store> = (0..4).map(|_| redis_store(&redis, ring.clone())).collect();
    let state = OAuthState::generate();
    replicas[0]
        .put_flow(&state, &flow(replicas[0].clock().now_ms()))
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for i in 0..32 {
        let store = replicas[i % replicas.len()].clone();
        let state = state.secret().to_owned();
        tasks.push(tokio::spawn(async move {
            store.take_flow(&state).await.unwrap()
        }));
    }
    let mut winners = 0;
    for task in tasks {
        if task.await.unwrap().is_some() {
            winners += 1;
        }
    }
    assert_eq!(winners, 1);
}

#[tokio::test]
async fn redis_holds_no_secret_in_clear_text() {
    let redis = TestRedis::shared();
    let store = redis_store(&redis, keyring());
    let key = ConnectionKey::new("alice", ORG).unwrap();
    let access = "00Dx0000000BV7z!AR8AQCLEARACCESS";
    let refresh = "5Aep861CLEARREFRESH";
    store
        .upsert(&key, &connection(access, refresh, 1))
        .await
        .unwrap();
    let state = OAuthState::generate();
    let f = flow(store.clock().now_ms());
    let verifier: PkceVerifier = f.verifier.clone();
    store.put_flow(&state, &f).await.unwrap();

    let client = redis::Client::open(redis.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let keys = redis.keys();
    assert!(keys.len() >= 3, "{keys:?}");
    let needles = [access, refresh, verifier.secret(), state.secret()];
    for key in keys {
        assert!(key.starts_with(redis.prefix()));
        let kind: String = redis::cmd("TYPE")
            .arg(&key)
            .query_async(&mut conn)
            .await
            .unwrap();
        let values: Vec<String> = match kind.as_str() {
            "string" => vec![
                redis::cmd("GET")
                    .arg(&key)
                    .query_async(&mut conn)
                    .await
                    .unwrap(),
            ],
            "set" => redis::cmd("SMEMBERS")
                .arg(&key)
                .query_async(&mut conn)
                .await
                .unwrap(),
            other => panic!("unexpected type {other} at {key}"),
        };
        for needle in needles {
            assert!(!key.contains(needle), "secret in key {key}");
            for value in &values {
                assert!(!value.contains(needle), "secret in clear at {key}");
            }
        }
    }
}

#[tokio::test]
async fn memory_holds_no_secret_in_clear_text() {
    let backend = Arc::new(MemoryBackend::default());
    let store = Store::new(backend.clone(), keyring());
    let key = ConnectionKey::new("alice", ORG).unwrap();
    store
        .upsert(&key, &connection("CLEARACCESS", "CLEARREFRESH", 1))
        .await
        .unwrap();
    let state = OAuthState::generate();
    let f = flow(store.clock().now_ms());
    store.put_flow(&state, &f).await.unwrap();
    for (k, v) in backend.dump().unwrap() {
        for needle in [
            "CLEARACCESS",
            "CLEARREFRESH",
            f.verifier.secret(),
            state.secret(),
        ] {
            assert!(!k.contains(needle) && !v.contains(needle));
        }
    }
}

#[tokio::test]
async fn refresh_lock_is_exclusive_and_released_only_by_its_holder() {
    on_both(|store, name| async move {
        let ttl = Duration::from_secs(30);
        assert!(
            store.try_lock("conn-a", "token-1", ttl).await.unwrap(),
            "{name}"
        );
        assert!(!store.try_lock("conn-a", "token-2", ttl).await.unwrap());
        assert!(!store.unlock("conn-a", "token-2").await.unwrap());
        assert!(store.unlock("conn-a", "token-1").await.unwrap());
        assert!(store.try_lock("conn-a", "token-2", ttl).await.unwrap());
    })
    .await;
}
