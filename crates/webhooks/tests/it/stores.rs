//! Idempotency on Redis (claim/commit/release, TTL ≥ 48 h, prefix) and both ingests, including
//! the crash window: a claim whose enqueue failed must not turn the redelivery into a duplicate.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::Utc;
use test_support::TestRedis;
use webhooks::{
    BoxFuture, Claim, DeadLetter, Delivery, Error, Event, EventQueue, FailOutcome,
    IdempotencyStore, IdempotencyTtl, Ingest, IngestOutcome, Limits, MemoryEventQueue,
    MemoryIdempotencyStore, RedisIdempotencyStore, RedisStore, RedisStreamQueue, StagedIngest,
    StreamConfig, parse,
};

use crate::fixtures::make_soap_for;

pub fn events(first: usize, n: usize) -> Vec<Event> {
    let xml = make_soap_for("00Do0000000e0vQEAQ", first, n);
    let message = parse(xml.as_bytes(), &Limits::default()).unwrap();
    Event::from_message(&message, Utc::now())
}

fn keys(events: &[Event]) -> Vec<String> {
    events.iter().map(Event::dedupe_key).collect()
}

fn redis_ttl(redis: &TestRedis, key: &str) -> i64 {
    let client = redis::Client::open(redis.url()).unwrap();
    let mut connection = client.get_connection().unwrap();
    redis::cmd("TTL").arg(key).query(&mut connection).unwrap()
}

#[tokio::test]
async fn redis_claim_commit_release() {
    let redis = TestRedis::shared();
    let store = RedisIdempotencyStore::new(
        RedisStore::new(redis.url(), redis.prefix()).unwrap(),
        IdempotencyTtl {
            done: Duration::from_secs(60),
            ..IdempotencyTtl::default()
        },
    );
    let ks = keys(&events(0, 3));
    assert_eq!(store.claim(&ks).await.unwrap(), [Claim::New; 3]);
    assert_eq!(store.claim(&ks).await.unwrap(), [Claim::InProgress; 3]);
    store.commit(&ks[..2]).await.unwrap();
    store.release(&ks[2..]).await.unwrap();
    assert_eq!(
        store.claim(&ks).await.unwrap(),
        [Claim::Duplicate, Claim::Duplicate, Claim::New]
    );
    // Releasing never removes a done mark.
    store.release(&ks[..1]).await.unwrap();
    assert_eq!(store.claim(&ks[..1]).await.unwrap(), [Claim::Duplicate]);
    // Everything lives under the prefix, and a done mark lives at least 48 h.
    let stored = redis.keys();
    assert_eq!(stored.len(), 3, "{stored:?}");
    let done_key = store.redis_key(&ks[0]);
    assert!(stored.contains(&done_key));
    assert!(redis_ttl(&redis, &done_key) > 47 * 3600);
}

/// A queue whose enqueue fails while `down` is set, like Redis going away mid-message.
struct FlakyQueue {
    inner: MemoryEventQueue,
    down: AtomicBool,
}

impl EventQueue for FlakyQueue {
    fn enqueue<'a>(&'a self, events: &'a [Event]) -> BoxFuture<'a, Result<(), Error>> {
        if self.down.load(Ordering::SeqCst) {
            Box::pin(async { Err(Error::StoreUnavailable("down".to_owned())) })
        } else {
            self.inner.enqueue(events)
        }
    }
    fn receive<'a>(
        &'a self,
        c: &'a str,
        m: usize,
        w: Duration,
    ) -> BoxFuture<'a, Result<Vec<Delivery>, Error>> {
        self.inner.receive(c, m, w)
    }
    fn ack<'a>(&'a self, ids: &'a [String]) -> BoxFuture<'a, Result<(), Error>> {
        self.inner.ack(ids)
    }
    fn fail<'a>(
        &'a self,
        d: &'a Delivery,
        e: &'a str,
    ) -> BoxFuture<'a, Result<FailOutcome, Error>> {
        self.inner.fail(d, e)
    }
    fn reclaim<'a>(
        &'a self,
        c: &'a str,
        i: Duration,
        m: usize,
    ) -> BoxFuture<'a, Result<Vec<Delivery>, Error>> {
        self.inner.reclaim(c, i, m)
    }
    fn dead_letters<'a>(&'a self, m: usize) -> BoxFuture<'a, Result<Vec<DeadLetter>, Error>> {
        self.inner.dead_letters(m)
    }
}

async fn staged_crash_window(store: Arc<dyn IdempotencyStore>) {
    let queue = Arc::new(FlakyQueue {
        inner: MemoryEventQueue::default(),
        down: AtomicBool::new(true),
    });
    let ingest = StagedIngest::new(store.clone(), queue.clone());
    let batch = events(0, 3);
    assert!(matches!(
        ingest.ingest(&batch).await,
        Err(Error::StoreUnavailable(_))
    ));
    assert!(queue.inner.is_empty());
    // The redelivery is not a duplicate: the failed claim was released.
    queue.down.store(false, Ordering::SeqCst);
    assert_eq!(
        ingest.ingest(&batch).await.unwrap(),
        IngestOutcome {
            enqueued: 3,
            duplicates: 0
        }
    );
    assert_eq!(
        ingest.ingest(&batch).await.unwrap(),
        IngestOutcome {
            enqueued: 0,
            duplicates: 3
        }
    );
    assert_eq!(queue.inner.len(), 3);
    // A delivery overlapping one still in flight is refused (retry later), never acknowledged.
    let more = events(10, 2);
    assert_eq!(store.claim(&keys(&more[..1])).await.unwrap(), [Claim::New]);
    assert!(matches!(
        ingest.ingest(&more).await,
        Err(Error::DeliveryInProgress)
    ));
    // ... and what it had claimed is released, so it is taken once the other one finishes.
    store.release(&keys(&more[..1])).await.unwrap();
    assert_eq!(
        ingest.ingest(&more).await.unwrap(),
        IngestOutcome {
            enqueued: 2,
            duplicates: 0
        }
    );
}

#[tokio::test]
async fn staged_ingest_memory_crash_window() {
    staged_crash_window(Arc::new(MemoryIdempotencyStore::default())).await;
}

#[tokio::test]
async fn staged_ingest_redis_crash_window() {
    let redis = TestRedis::shared();
    let store = RedisIdempotencyStore::new(
        RedisStore::new(redis.url(), redis.prefix()).unwrap(),
        IdempotencyTtl::default(),
    );
    staged_crash_window(Arc::new(store)).await;
}

#[tokio::test(start_paused = true)]
async fn staged_ingest_crash_before_commit_expires() {
    // A crash after claiming and before enqueueing leaves only a pending mark, which expires:
    // the redelivery is then accepted.
    let store = Arc::new(MemoryIdempotencyStore::new(100, IdempotencyTtl::default()));
    let batch = events(0, 1);
    assert_eq!(store.claim(&keys(&batch)).await.unwrap(), [Claim::New]);
    let ingest = StagedIngest::new(store, Arc::new(MemoryEventQueue::default()));
    assert!(matches!(
        ingest.ingest(&batch).await,
        Err(Error::DeliveryInProgress)
    ));
    tokio::time::advance(IdempotencyTtl::default().pending + Duration::from_secs(1)).await;
    assert_eq!(ingest.ingest(&batch).await.unwrap().enqueued, 1);
}

#[tokio::test]
async fn redis_atomic_ingest_dedupes_and_enqueues_once() {
    let redis = TestRedis::shared();
    let queue = RedisStreamQueue::new(
        RedisStore::new(redis.url(), redis.prefix()).unwrap(),
        StreamConfig::default(),
    );
    let batch = events(0, 100);
    assert_eq!(
        queue.ingest(&batch).await.unwrap(),
        IngestOutcome {
            enqueued: 100,
            duplicates: 0
        }
    );
    let overlapping = events(50, 100);
    assert_eq!(
        queue.ingest(&overlapping).await.unwrap(),
        IngestOutcome {
            enqueued: 50,
            duplicates: 50
        }
    );
    let got = queue.receive("c1", 1_000, Duration::ZERO).await.unwrap();
    assert_eq!(got.len(), 150);
    let mut ids: Vec<&str> = got
        .iter()
        .map(|d| d.event.notification_id.as_str())
        .collect();
    ids.dedup();
    assert_eq!(ids.len(), 150);
    assert_eq!(got[0].event, batch[0]);
    // Its dedupe marks are the ones the idempotency store reads.
    let store = RedisIdempotencyStore::new(
        RedisStore::new(redis.url(), redis.prefix()).unwrap(),
        IdempotencyTtl::default(),
    );
    assert_eq!(
        store.claim(&keys(&batch[..1])).await.unwrap(),
        [Claim::Duplicate]
    );
    assert!(redis.keys().iter().all(|k| k.starts_with(redis.prefix())));
}

#[tokio::test]
async fn redis_atomic_ingest_marks_nothing_when_xadd_fails() {
    let redis = TestRedis::shared();
    let queue = RedisStreamQueue::new(
        RedisStore::new(redis.url(), redis.prefix()).unwrap(),
        StreamConfig::default(),
    );
    // Make XADD fail (WRONGTYPE) by occupying the stream's key with a string.
    let client = redis::Client::open(redis.url()).unwrap();
    let mut connection = client.get_connection().unwrap();
    redis::cmd("SET")
        .arg(queue.stream_key())
        .arg("not a stream")
        .query::<()>(&mut connection)
        .unwrap();
    let batch = events(0, 3);
    assert!(matches!(
        queue.ingest(&batch).await,
        Err(Error::StoreUnavailable(_))
    ));
    assert!(
        redis.keys().iter().all(|k| !k.contains("dedupe")),
        "{:?}",
        redis.keys()
    );
    // Once the queue works again, the redelivery is new, and stored once.
    redis::cmd("DEL")
        .arg(queue.stream_key())
        .query::<()>(&mut connection)
        .unwrap();
    assert_eq!(
        queue.ingest(&batch).await.unwrap(),
        IngestOutcome {
            enqueued: 3,
            duplicates: 0
        }
    );
    assert_eq!(
        queue.ingest(&batch).await.unwrap(),
        IngestOutcome {
            enqueued: 0,
            duplicates: 3
        }
    );
    assert_eq!(
        queue.receive("c", 10, Duration::ZERO).await.unwrap().len(),
        3
    );
}

#[tokio::test]
async fn batched_redis_ingest_answers_each_message_on_its_own() {
    let redis = TestRedis::shared();
    let queue = RedisStreamQueue::new(
        RedisStore::new(redis.url(), redis.prefix()).unwrap(),
        StreamConfig::default(),
    );
    let ingest = Arc::new(webhooks::BatchedRedisIngest::new(queue.clone(), 50));
    // 40 concurrent messages of 5 notifications, each overlapping the previous by 2.
    let tasks: Vec<_> = (0..40)
        .map(|m| {
            let ingest = ingest.clone();
            tokio::spawn(async move { ingest.ingest(&events(m * 3, 5)).await.unwrap() })
        })
        .collect();
    let mut total = IngestOutcome::default();
    for task in tasks {
        let outcome = task.await.unwrap();
        assert_eq!(outcome.enqueued + outcome.duplicates, 5);
        total.enqueued += outcome.enqueued;
        total.duplicates += outcome.duplicates;
    }
    assert_eq!(
        total,
        IngestOutcome {
            enqueued: 40 * 3 + 2,
            duplicates: 39 * 2
        }
    );
    assert_eq!(
        queue
            .receive("c", 1_000, Duration::ZERO)
            .await
            .unwrap()
            .len(),
        122
    );
}

#[tokio::test]
async fn batched_redis_ingest_reports_an_outage() {
    let mut redis = TestRedis::private();
    let store = RedisStore::new(redis.url(), redis.prefix())
        .unwrap()
        .with_timeout(Duration::from_millis(500));
    let queue = RedisStreamQueue::new(store, StreamConfig::default());
    let ingest = webhooks::BatchedRedisIngest::new(queue.clone(), 100);
    redis.stop();
    assert!(matches!(
        ingest.ingest(&events(0, 2)).await,
        Err(Error::StoreUnavailable(_))
    ));
    redis.start();
    assert_eq!(
        ingest.ingest(&events(0, 2)).await.unwrap(),
        IngestOutcome {
            enqueued: 2,
            duplicates: 0
        }
    );
}
