//! Single-flight refresh: one Salesforce refresh for many concurrent callers, across replicas.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use auth::clock::{Clock as _, ManualClock};
use auth::refresh::{RefreshFn, RefreshPolicy, TokenManager};
use auth::salesforce::SalesforceTokens;
use auth::secret::{AccessToken, RefreshToken};
use auth::store::{ConnectionKey, ConnectionStatus, Store, TokenStore as _};
use auth::{Error, SalesforceErrorKind};
use futures::FutureExt as _;
use test_support::TestRedis;

use crate::common::{ORG, connection, keyring, redis_store};

const NOW: u64 = 1_800_000_000_000;
const HOUR: u64 = 60 * 60 * 1000;

fn policy() -> RefreshPolicy {
    RefreshPolicy {
        lifetime: Duration::from_secs(2 * 60 * 60),
        margin: Duration::from_secs(5 * 60),
        lock_ttl: Duration::from_secs(30),
        poll_interval: Duration::from_millis(5),
    }
}

/// A refresher that counts its calls, checks it got the current refresh token, and rotates.
fn counting_refresher(calls: Arc<AtomicUsize>, expected_refresh: &'static str) -> RefreshFn {
    Arc::new(move |token: Option<RefreshToken>| {
        let calls = calls.clone();
        async move {
            let n = calls.fetch_add(1, Ordering::SeqCst) + 1;
            assert_eq!(token, Some(RefreshToken::new(expected_refresh)));
            // Give the other callers time to pile up behind this refresh.
            tokio::time::sleep(Duration::from_millis(20)).await;
            Ok(SalesforceTokens {
                access_token: AccessToken::new(format!("at-new-{n}")),
                refresh_token: Some(RefreshToken::new(format!("rt-new-{n}"))),
                instance_url: "https://example.my.salesforce.com".into(),
                id_url: format!("https://login.salesforce.com/id/{ORG}/005x00000012Q9PAAU"),
                org_id: ORG.into(),
                user_id: "005x00000012Q9PAAU".into(),
                issued_at_ms: NOW,
                scope: "api refresh_token".into(),
            })
        }
        .boxed()
    })
}

fn manager(store: Store, refresher: RefreshFn, clock: &ManualClock) -> TokenManager {
    let store = Arc::new(store);
    TokenManager::with_clock(
        store.clone(),
        store,
        refresher,
        policy(),
        Arc::new(clock.clone()),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hundred_callers_two_replicas_one_refresh() {
    let redis = TestRedis::shared();
    let ring = keyring();
    let clock = ManualClock::new(NOW);
    let key = ConnectionKey::new("alice", ORG).unwrap();
    let replica_a = redis_store(&redis, ring.clone());
    let replica_b = redis_store(&redis, ring.clone());
    replica_a
        .upsert(&key, &connection("at-expired", "rt-1", NOW - 3 * HOUR))
        .await
        .unwrap();

    let calls = Arc::new(AtomicUsize::new(0));
    let managers = [
        manager(replica_a, counting_refresher(calls.clone(), "rt-1"), &clock),
        manager(
            replica_b.clone(),
            counting_refresher(calls.clone(), "rt-1"),
            &clock,
        ),
    ];
    let mut tasks = Vec::new();
    for i in 0..100 {
        let manager = managers[i % 2].clone();
        let key = key.clone();
        tasks.push(tokio::spawn(
            async move { manager.access_token(&key).await },
        ));
    }
    for task in tasks {
        let fresh = task.await.unwrap().unwrap();
        assert_eq!(fresh.access_token, AccessToken::new("at-new-1"));
    }
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    // The rotated pair landed together.
    let stored = replica_b.get(&key).await.unwrap().unwrap();
    assert_eq!(stored.connection.access_token, AccessToken::new("at-new-1"));
    assert_eq!(
        stored.connection.refresh_token,
        Some(RefreshToken::new("rt-new-1"))
    );
}

#[tokio::test]
async fn fresh_tokens_are_not_refreshed_and_near_expiry_ones_are() {
    let clock = ManualClock::new(NOW);
    let store = Store::memory(keyring());
    let key = ConnectionKey::new("alice", ORG).unwrap();
    store
        .upsert(&key, &connection("at-1", "rt-1", NOW - HOUR))
        .await
        .unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let manager = manager(store, counting_refresher(calls.clone(), "rt-1"), &clock);
    assert_eq!(
        manager.access_token(&key).await.unwrap().access_token,
        AccessToken::new("at-1")
    );
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    // Four minutes before expiry: inside the five-minute margin, so refreshed proactively.
    clock.advance_ms(HOUR - 4 * 60 * 1000);
    assert_eq!(
        manager.access_token(&key).await.unwrap().access_token,
        AccessToken::new("at-new-1")
    );
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn rejection_refreshes_only_the_rejected_token() {
    let clock = ManualClock::new(NOW);
    let store = Store::memory(keyring());
    let key = ConnectionKey::new("alice", ORG).unwrap();
    store
        .upsert(&key, &connection("at-1", "rt-1", clock.now_ms()))
        .await
        .unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let manager = manager(store, counting_refresher(calls.clone(), "rt-1"), &clock);
    let fresh = manager
        .refresh_after_rejection(&key, &AccessToken::new("at-1"))
        .await
        .unwrap();
    assert_eq!(fresh.access_token, AccessToken::new("at-new-1"));
    // A caller still holding the old token gets the new one without another refresh.
    let again = manager
        .refresh_after_rejection(&key, &AccessToken::new("at-1"))
        .await
        .unwrap();
    assert_eq!(again.access_token, AccessToken::new("at-new-1"));
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn invalid_grant_marks_the_connection_and_does_not_loop() {
    let clock = ManualClock::new(NOW);
    let store = Store::memory(keyring());
    let key = ConnectionKey::new("alice", ORG).unwrap();
    store
        .upsert(&key, &connection("at-1", "rt-revoked", NOW - 3 * HOUR))
        .await
        .unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let refresher: RefreshFn = Arc::new(move |_token| {
        counter.fetch_add(1, Ordering::SeqCst);
        async {
            Err(Error::Salesforce {
                kind: SalesforceErrorKind::InvalidGrant,
                status: 400,
            })
        }
        .boxed()
    });
    let manager = manager(store.clone(), refresher, &clock);
    for _ in 0..3 {
        assert!(matches!(
            manager.access_token(&key).await,
            Err(Error::ReauthorizationRequired)
        ));
    }
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(
        store.get(&key).await.unwrap().unwrap().connection.status,
        ConnectionStatus::NeedsReauthorization
    );
}

#[tokio::test]
async fn unknown_connection_is_not_found() {
    let clock = ManualClock::new(NOW);
    let calls = Arc::new(AtomicUsize::new(0));
    let manager = manager(
        Store::memory(keyring()),
        counting_refresher(calls, "rt"),
        &clock,
    );
    let key = ConnectionKey::new("nobody", ORG).unwrap();
    assert!(matches!(
        manager.access_token(&key).await,
        Err(Error::NotFound)
    ));
}

#[tokio::test]
async fn a_connection_without_refresh_token_is_renewed_by_the_refresher_with_none() {
    let clock = ManualClock::new(NOW);
    let store = Store::memory(keyring());
    let key = ConnectionKey::new("integration", ORG).unwrap();
    let mut c = connection("at-cc", "unused", NOW - 3 * HOUR);
    c.refresh_token = None;
    store.upsert(&key, &c).await.unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let refresher: RefreshFn = Arc::new(move |token: Option<RefreshToken>| {
        counter.fetch_add(1, Ordering::SeqCst);
        assert!(token.is_none());
        async {
            Ok(SalesforceTokens {
                access_token: AccessToken::new("at-cc-2"),
                refresh_token: None,
                instance_url: "https://example.my.salesforce.com".into(),
                id_url: format!("https://login.salesforce.com/id/{ORG}/005x00000012Q9PAAU"),
                org_id: ORG.into(),
                user_id: "005x00000012Q9PAAU".into(),
                issued_at_ms: NOW,
                scope: "api".into(),
            })
        }
        .boxed()
    });
    let manager = manager(store.clone(), refresher, &clock);
    assert_eq!(
        manager.access_token(&key).await.unwrap().access_token,
        AccessToken::new("at-cc-2")
    );
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(
        store
            .get(&key)
            .await
            .unwrap()
            .unwrap()
            .connection
            .refresh_token,
        None
    );
}

#[tokio::test]
async fn a_refresh_that_returns_another_user_is_refused() {
    // A user's connection renewed through the client-credentials flow would come back as the
    // integration user: that must never be stored under the user's key.
    let clock = ManualClock::new(NOW);
    let store = Store::memory(keyring());
    let key = ConnectionKey::new("alice", ORG).unwrap();
    store
        .upsert(&key, &connection("at-1", "rt-1", NOW - 3 * HOUR))
        .await
        .unwrap();
    let refresher: RefreshFn = Arc::new(move |_token| {
        async {
            Ok(SalesforceTokens {
                access_token: AccessToken::new("at-integration"),
                refresh_token: None,
                instance_url: "https://example.my.salesforce.com".into(),
                id_url: format!("https://login.salesforce.com/id/{ORG}/005x0000001INTEGAAA"),
                org_id: ORG.into(),
                user_id: "005x0000001INTEGAAA".into(),
                issued_at_ms: NOW,
                scope: "api".into(),
            })
        }
        .boxed()
    });
    let manager = manager(store.clone(), refresher, &clock);
    assert!(matches!(
        manager.access_token(&key).await,
        Err(Error::ReauthorizationRequired)
    ));
    let stored = store.get(&key).await.unwrap().unwrap().connection;
    assert_eq!(stored.status, ConnectionStatus::NeedsReauthorization);
    assert_eq!(
        stored.access_token,
        AccessToken::new("at-1"),
        "the other user's token was not stored"
    );
}
