//! The intake end to end over a real hyper server on 127.0.0.1:0 with Redis: duplicates
//! enqueued once; every refusal with its status and no side effects; Redis down → 503 and
//! nothing acknowledged, back up → the redelivery is accepted and enqueued once.

use std::sync::Arc;
use std::time::Duration;

use test_support::TestRedis;
use webhooks::{
    EventQueue, Intake, Limits, MemoryEventQueue, MemoryIdempotencyStore, OrgAllowList, PathToken,
    RedisStore, RedisStreamQueue, StagedIngest, StreamConfig, Verifier,
};

use crate::fixtures::{ORG, make_soap, make_soap_for};
use crate::http_client::{post, send, serve};

const PATH: &str = "/webhooks/salesforce/outbound";

fn verifier() -> Verifier {
    Verifier::without_path_token(OrgAllowList::new([ORG]).unwrap())
}

fn redis_queue(redis: &TestRedis) -> RedisStreamQueue {
    let store = RedisStore::new(redis.url(), redis.prefix())
        .unwrap()
        .with_timeout(Duration::from_millis(500));
    RedisStreamQueue::new(store, StreamConfig::default())
}

async fn drain(queue: &dyn EventQueue) -> Vec<String> {
    let got = queue.receive("test", 10_000, Duration::ZERO).await.unwrap();
    got.into_iter().map(|d| d.event.notification_id).collect()
}

#[tokio::test]
async fn duplicate_delivery_is_enqueued_once() {
    let redis = TestRedis::shared();
    let queue = redis_queue(&redis);
    let intake = Intake::new(verifier(), Arc::new(queue.clone()));
    let metrics = intake.metrics();
    let addr = serve(intake).await;
    let message = make_soap(100);
    for _ in 0..2 {
        let (status, body) = post(addr, PATH, message.clone()).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body, webhooks::response::ACK_BODY);
    }
    let ids = drain(&queue).await;
    assert_eq!(ids.len(), 100);
    let snapshot = metrics.snapshot();
    assert_eq!((snapshot.received, snapshot.acknowledged), (2, 2));
    assert_eq!((snapshot.enqueued, snapshot.duplicates), (100, 100));
}

#[tokio::test]
async fn refusals_have_the_right_status_and_no_side_effects() {
    let redis = TestRedis::shared();
    let queue = redis_queue(&redis);
    let limits = Limits {
        max_body_bytes: 64 * 1024,
        ..Limits::default()
    };
    let intake = Intake::new(verifier(), Arc::new(queue.clone())).with_limits(limits);
    let metrics = intake.metrics();
    let addr = serve(intake).await;

    let xxe =
        r#"<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>"#;
    let cases: Vec<(String, u16, &str)> = vec![
        (
            make_soap(1).replace("</sf:Email>", ""),
            400,
            "soapenv:Client",
        ),
        (xxe.to_owned(), 400, "DOCTYPE"),
        (make_soap(101), 400, "more than 100 notifications"),
        (
            make_soap_for("00D000000000001", 0, 1),
            403,
            "not authorized",
        ),
        (make_soap(200), 413, "too large"),
    ];
    for (body, status, needle) in cases {
        let (got, text) = post(addr, PATH, body).await;
        assert_eq!(got.as_u16(), status, "{text}");
        assert!(
            text.contains("<soapenv:Fault>") && text.contains(needle),
            "{text}"
        );
    }
    let (status, _) = send(addr, "GET", PATH, "text/xml", "").await;
    assert_eq!(status, 405);
    let (status, _) = send(addr, "POST", PATH, "application/json", make_soap(1)).await;
    assert_eq!(status, 415);
    let (status, _) = post(addr, "/elsewhere", make_soap(1)).await;
    assert_eq!(status, 404);
    let (status, _) = post(addr, &format!("{PATH}/lead-created/extra"), make_soap(1)).await;
    assert_eq!(status, 404);

    assert!(
        drain(&queue).await.is_empty(),
        "a refused message left events behind"
    );
    assert!(
        redis.keys().iter().all(|k| !k.contains("dedupe")),
        "{:?}",
        redis.keys()
    );
    let snapshot = metrics.snapshot();
    assert_eq!(snapshot.acknowledged, 0);
    assert_eq!(snapshot.refused, 7);
}

#[tokio::test]
async fn per_action_paths_and_secret_token() {
    let queue = Arc::new(MemoryEventQueue::default());
    let ingest = StagedIngest::new(Arc::new(MemoryIdempotencyStore::default()), queue.clone());
    let intake = Intake::new(
        Verifier::new(
            OrgAllowList::new([ORG]).unwrap(),
            PathToken::new("s3cr3t".to_owned()),
        ),
        Arc::new(ingest),
    );
    let addr = serve(intake).await;
    let (status, text) = post(addr, PATH, make_soap(1)).await;
    assert_eq!(status, 403, "{text}");
    let (status, text) = post(addr, &format!("{PATH}/wrong"), make_soap(1)).await;
    assert_eq!(status, 403, "{text}");
    assert!(!text.contains("s3cr3t"));
    let (status, _) = post(addr, &format!("{PATH}/lead-created/wrong"), make_soap(1)).await;
    assert_eq!(status, 403);
    assert!(queue.is_empty());
    let (status, _) = post(addr, &format!("{PATH}/lead-created/s3cr3t"), make_soap(1)).await;
    assert_eq!(status, 200);
    let (status, _) = post(addr, &format!("{PATH}/s3cr3t"), make_soap_for(ORG, 1, 1)).await;
    assert_eq!(status, 200);
    assert_eq!(queue.len(), 2);

    let open = Intake::new(
        verifier(),
        Arc::new(StagedIngest::new(
            Arc::new(MemoryIdempotencyStore::default()),
            queue.clone(),
        )),
    );
    let addr = serve(open).await;
    let (status, _) = post(
        addr,
        &format!("{PATH}/lead-created"),
        make_soap_for(ORG, 2, 1),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(queue.len(), 3);
}

#[tokio::test]
async fn redis_outage_is_a_503_and_the_redelivery_is_stored_once() {
    let mut redis = TestRedis::private();
    let queue = redis_queue(&redis);
    let intake = Intake::new(verifier(), Arc::new(queue.clone()));
    let metrics = intake.metrics();
    let addr = serve(intake).await;
    let message = make_soap(10);

    redis.stop();
    let (status, text) = post(addr, PATH, message.clone()).await;
    assert_eq!(status, 503, "{text}");
    assert!(
        text.contains("soapenv:Server") && !text.contains("<Ack>"),
        "{text}"
    );
    assert_eq!(metrics.snapshot().acknowledged, 0);

    redis.start();
    let (status, text) = post(addr, PATH, message.clone()).await;
    assert_eq!(status, 200, "{text}");
    let (status, _) = post(addr, PATH, message).await;
    assert_eq!(status, 200);
    let ids = drain(&queue).await;
    assert_eq!(ids.len(), 10);
    let snapshot = metrics.snapshot();
    assert_eq!(
        (snapshot.unavailable, snapshot.enqueued, snapshot.duplicates),
        (1, 10, 10)
    );
}
