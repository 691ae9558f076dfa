//! The event queue: Redis Streams consumer groups (receive, ack, reclaim from a dead consumer,
//! dead-lettering) and the same behaviour from the in-memory queue.

use std::time::Duration;

use test_support::TestRedis;
use webhooks::{
    EventQueue, FailOutcome, MemoryEventQueue, QueueLimits, RedisStore, RedisStreamQueue,
    StreamConfig,
};

use crate::stores::events;

fn redis_queue(redis: &TestRedis, max_deliveries: u64) -> RedisStreamQueue {
    let config = StreamConfig {
        limits: QueueLimits {
            max_deliveries,
            ..QueueLimits::default()
        },
        ..StreamConfig::default()
    };
    RedisStreamQueue::new(
        RedisStore::new(redis.url(), redis.prefix()).unwrap(),
        config,
    )
}

fn memory_queue(max_deliveries: u64) -> MemoryEventQueue {
    MemoryEventQueue::new(QueueLimits {
        max_deliveries,
        ..QueueLimits::default()
    })
}

async fn receive_ack_and_reclaim(queue: &dyn EventQueue) {
    let batch = events(0, 4);
    queue.enqueue(&batch).await.unwrap();
    // Consumer "a" takes two and dies without acknowledging; "b" takes the other two.
    let a = queue.receive("a", 2, Duration::ZERO).await.unwrap();
    assert_eq!(
        a.iter().map(|d| &d.event).collect::<Vec<_>>(),
        [&batch[0], &batch[1]]
    );
    assert!(a.iter().all(|d| d.delivery_count == 1));
    let b = queue.receive("b", 10, Duration::ZERO).await.unwrap();
    assert_eq!(b.len(), 2);
    queue
        .ack(&b.iter().map(|d| d.entry_id.clone()).collect::<Vec<_>>())
        .await
        .unwrap();
    assert!(
        queue
            .receive("b", 10, Duration::ZERO)
            .await
            .unwrap()
            .is_empty()
    );
    // "b" reclaims what "a" left pending (idle ≥ 0 ms), as a second delivery.
    let reclaimed = queue.reclaim("b", Duration::ZERO, 10).await.unwrap();
    assert_eq!(
        reclaimed.iter().map(|d| &d.event).collect::<Vec<_>>(),
        [&batch[0], &batch[1]]
    );
    assert!(reclaimed.iter().all(|d| d.delivery_count == 2));
    // Nothing is idle for an hour yet.
    assert!(
        queue
            .reclaim("c", Duration::from_secs(3600), 10)
            .await
            .unwrap()
            .is_empty()
    );
    queue
        .ack(
            &reclaimed
                .iter()
                .map(|d| d.entry_id.clone())
                .collect::<Vec<_>>(),
        )
        .await
        .unwrap();
    assert!(
        queue
            .reclaim("c", Duration::ZERO, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(queue.dead_letters(10).await.unwrap().is_empty());
}

async fn dead_lettering(queue: &dyn EventQueue) {
    let batch = events(0, 2);
    queue.enqueue(&batch).await.unwrap();
    let first = queue.receive("a", 10, Duration::ZERO).await.unwrap();
    assert_eq!(first.len(), 2);
    // Event 0 fails twice and goes to the dead letters with its error.
    assert_eq!(
        queue
            .fail(&first[0], "Task insert: REQUIRED_FIELD_MISSING")
            .await
            .unwrap(),
        FailOutcome::WillRetry
    );
    // Event 1's consumer dies on every delivery without reporting.
    let again = queue.reclaim("a", Duration::ZERO, 10).await.unwrap();
    assert_eq!(again.len(), 2);
    assert!(again.iter().all(|d| d.delivery_count == 2));
    let zero = again.iter().find(|d| d.event == batch[0]).unwrap();
    assert_eq!(
        queue
            .fail(zero, "Task insert: still failing")
            .await
            .unwrap(),
        FailOutcome::DeadLettered
    );
    // Past the limit, reclaiming dead-letters event 1 instead of handing it out again.
    assert!(
        queue
            .reclaim("b", Duration::ZERO, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let dead = queue.dead_letters(10).await.unwrap();
    assert_eq!(dead.len(), 2, "{dead:?}");
    assert_eq!(dead[0].event.as_ref(), Some(&batch[0]));
    assert_eq!(dead[0].error, "Task insert: still failing");
    assert_eq!(dead[0].delivery_count, 2);
    assert_eq!(dead[1].event.as_ref(), Some(&batch[1]));
    assert_eq!(dead[1].error, "not acknowledged after 2 deliveries");
    assert!(
        queue
            .reclaim("b", Duration::ZERO, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        queue
            .receive("b", 10, Duration::ZERO)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn redis_consumer_group_reclaims_a_dead_consumers_entries() {
    let redis = TestRedis::shared();
    receive_ack_and_reclaim(&redis_queue(&redis, 5)).await;
    assert!(redis.keys().iter().all(|k| k.starts_with(redis.prefix())));
}

#[tokio::test]
async fn redis_dead_letters_after_max_deliveries() {
    let redis = TestRedis::shared();
    dead_lettering(&redis_queue(&redis, 2)).await;
}

#[tokio::test]
async fn memory_consumer_group_reclaims_a_dead_consumers_entries() {
    receive_ack_and_reclaim(&memory_queue(5)).await;
}

#[tokio::test]
async fn memory_dead_letters_after_max_deliveries() {
    dead_lettering(&memory_queue(2)).await;
}

#[tokio::test]
async fn memory_queue_is_bounded_and_wakes_receivers() {
    let queue = std::sync::Arc::new(MemoryEventQueue::new(QueueLimits {
        max_len: 3,
        ..QueueLimits::default()
    }));
    assert!(matches!(
        queue.enqueue(&events(0, 4)).await,
        Err(webhooks::Error::QueueFull { capacity: 3 })
    ));
    let waiting = tokio::spawn({
        let queue = queue.clone();
        async move {
            queue
                .receive("a", 10, Duration::from_secs(30))
                .await
                .unwrap()
        }
    });
    tokio::task::yield_now().await;
    queue.enqueue(&events(0, 1)).await.unwrap();
    assert_eq!(waiting.await.unwrap().len(), 1);
}

#[tokio::test]
async fn redis_blocking_receive_returns_when_an_entry_arrives() {
    let redis = TestRedis::shared();
    let queue = redis_queue(&redis, 5);
    queue.ensure_group().await.unwrap();
    let reader = queue.clone();
    let waiting = tokio::spawn(async move {
        reader
            .receive("a", 10, Duration::from_secs(10))
            .await
            .unwrap()
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    queue.enqueue(&events(0, 1)).await.unwrap();
    assert_eq!(waiting.await.unwrap().len(), 1);
}

#[tokio::test]
async fn redis_backlog_is_refused_at_its_limit_never_trimmed() {
    use webhooks::Ingest;
    let redis = TestRedis::shared();
    let queue = RedisStreamQueue::new(
        RedisStore::new(redis.url(), redis.prefix()).unwrap(),
        StreamConfig {
            limits: QueueLimits {
                max_len: 3,
                ..QueueLimits::default()
            },
            ..StreamConfig::default()
        },
    );
    queue.ensure_group().await.unwrap();
    queue.ingest(&events(0, 3)).await.unwrap();
    // A fourth event would exceed the backlog: refused (the intake answers 503), and nothing
    // already stored is dropped, nor is the refused event marked as seen.
    assert!(queue.ingest(&events(3, 1)).await.is_err());
    assert!(matches!(
        queue.enqueue(&events(3, 1)).await,
        Err(webhooks::Error::QueueFull { capacity: 3 })
    ));
    let taken = queue.receive("a", 10, Duration::ZERO).await.unwrap();
    assert_eq!(taken.len(), 3, "every stored event is still there");
    // Processed entries leave the stream, which makes room again.
    queue
        .ack(&taken.iter().map(|d| d.entry_id.clone()).collect::<Vec<_>>())
        .await
        .unwrap();
    let outcome = queue.ingest(&events(3, 1)).await.unwrap();
    assert_eq!(
        outcome.enqueued, 1,
        "the redelivery is new, not a duplicate"
    );
}
