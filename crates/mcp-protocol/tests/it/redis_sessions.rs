//! Legacy sessions in Redis: the store round-trips state, and two service instances sharing
//! one Redis serve one session (as two replicas behind a load balancer would).

use std::sync::Arc;
use std::time::Duration;

use mcp_protocol::{RedisSessionStore, SessionId, SessionState, SessionStore};
use test_support::TestRedis;

use crate::harness::{Transcript, service};

fn store(redis: &TestRedis) -> Arc<RedisSessionStore> {
    Arc::new(
        RedisSessionStore::connect(redis.url(), redis.prefix(), Duration::from_secs(60)).unwrap(),
    )
}

#[tokio::test]
async fn redis_store_round_trip() {
    let redis = TestRedis::shared();
    let store = store(&redis);
    let id = SessionId::generate();
    let state = SessionState {
        protocol_version: "2025-11-25".into(),
        log_level: None,
        initialized: true,
        owner: None,
        client_sampling: false,
    };
    assert_eq!(store.load(&id).await.unwrap(), None);
    store.save(&id, &state).await.unwrap();
    assert_eq!(store.load(&id).await.unwrap(), Some(state));
    assert!(redis.keys().iter().all(|k| k.starts_with(redis.prefix())));
    assert!(store.delete(&id).await.unwrap());
    assert_eq!(store.load(&id).await.unwrap(), None);
}

#[tokio::test]
async fn two_instances_share_a_legacy_session() {
    let redis = TestRedis::shared();
    let mut a = Transcript::new(service(store(&redis)));
    let mut b = Transcript::new(service(store(&redis)));
    let (status, _) = a
        .post(&[], r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"c","version":"1"}}}"#)
        .await;
    assert_eq!(status, 200);
    b.session = a.session.clone();
    let (status, _) = b
        .post(
            &[],
            r#"{"jsonrpc":"2.0","id":2,"method":"logging/setLevel","params":{"level":"debug"}}"#,
        )
        .await;
    assert_eq!(status, 200);
    // The log level set through B is honoured by A: its slow call streams log messages.
    let (status, body) = a
        .post(&[], r#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"slow","arguments":{"steps":1,"delay_ms":1}}}"#)
        .await;
    assert_eq!(status, 200);
    assert!(body.contains("notifications/message"), "{body}");
    let (status, body) = b.post(&[], r#"{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"echo","arguments":{"text":"from b"}}}"#).await;
    assert_eq!(status, 200);
    assert!(body.contains("from b"), "{body}");
    // Ending the session on A ends it for B.
    let (status, _) = a
        .send(http::Method::DELETE, crate::harness::LEGACY, &[], "")
        .await;
    assert_eq!(status, 200);
    let (status, _) = b
        .post(&[], r#"{"jsonrpc":"2.0","id":5,"method":"ping"}"#)
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn session_store_outage_is_503() {
    let mut redis = TestRedis::private();
    let mut t = Transcript::new(service(store(&redis)));
    redis.stop();
    let (status, body) = t
        .post(&[], r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"c","version":"1"}}}"#)
        .await;
    assert_eq!(status, 503);
    assert_eq!(
        body,
        r#"{"jsonrpc":"2.0","id":1,"error":{"code":-32603,"message":"session store unavailable"}}"#
    );
    // Requests that need no session still work without Redis.
    let (status, _) = t
        .post(&[], r#"{"jsonrpc":"2.0","id":2,"method":"ping"}"#)
        .await;
    assert_eq!(status, 200);
}
