//! [`BatchedRedisIngest`]: group commit for the Redis ingest. Messages arriving together are
//! stored by one run of the ingest script instead of one each, which saves Redis a script call
//! and a round trip per message. Each message still gets its own answer, and only after the
//! script that stored its events has returned, so "stored before Ack" holds unchanged.

use std::sync::{Arc, OnceLock};

use chrono::{DateTime, Utc};
use tokio::sync::{Semaphore, mpsc, oneshot};

use super::RedisStreamQueue;
use crate::ingest::{Ingest, IngestOutcome};
use crate::{BoxFuture, Error, Event, OutboundMessage};

struct Job {
    items: Vec<(String, String)>,
    reply: oneshot::Sender<Result<Vec<u8>, String>>,
}

/// An [`Ingest`] that batches concurrent messages into one script run (at most
/// `max_batch_events` events per run, never splitting a message, a few runs in flight).
#[derive(Debug, Clone)]
pub struct BatchedRedisIngest {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    queue: RedisStreamQueue,
    max_batch_events: usize,
    /// Set when the batching task is started, on first use.
    jobs: OnceLock<mpsc::Sender<Job>>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job")
            .field("events", &self.items.len())
            .finish()
    }
}

impl BatchedRedisIngest {
    /// Runs in flight at once.
    const IN_FLIGHT: usize = 4;

    /// A batching ingest over `queue`. Its task starts on the tokio runtime of the first
    /// message (so that building one needs no runtime) and ends when every clone is dropped.
    pub fn new(queue: RedisStreamQueue, max_batch_events: usize) -> Self {
        Self {
            shared: Arc::new(Shared {
                queue,
                max_batch_events: max_batch_events.max(1),
                jobs: OnceLock::new(),
            }),
        }
    }

    fn jobs(&self) -> &mpsc::Sender<Job> {
        let shared = &self.shared;
        shared.jobs.get_or_init(|| {
            let (jobs, receiver) = mpsc::channel(1024);
            tokio::spawn(run(shared.queue.clone(), receiver, shared.max_batch_events));
            jobs
        })
    }
}

async fn run(queue: RedisStreamQueue, mut jobs: mpsc::Receiver<Job>, max_events: usize) {
    let in_flight = Arc::new(Semaphore::new(BatchedRedisIngest::IN_FLIGHT));
    let queue = Arc::new(queue);
    loop {
        let Ok(permit) = in_flight.clone().acquire_owned().await else {
            return;
        };
        let Some(first) = jobs.recv().await else {
            return;
        };
        let mut events = first.items.len();
        let mut batch = vec![first];
        while events < max_events {
            match jobs.try_recv() {
                Ok(job) => {
                    events += job.items.len();
                    batch.push(job);
                }
                Err(_) => break,
            }
        }
        let queue = queue.clone();
        tokio::spawn(async move {
            let result = queue
                .ingest_encoded(batch.iter().flat_map(|job| job.items.iter()))
                .await;
            match result {
                Ok(codes) => {
                    let mut rest = codes.as_slice();
                    for job in batch {
                        let (mine, tail) = rest.split_at(job.items.len().min(rest.len()));
                        rest = tail;
                        let reply = if mine.len() == job.items.len() {
                            Ok(mine.to_vec())
                        } else {
                            Err("short reply from the ingest script".to_owned())
                        };
                        let _ = job.reply.send(reply);
                    }
                }
                Err(error) => {
                    let message = error.to_string();
                    for job in batch {
                        let _ = job.reply.send(Err(message.clone()));
                    }
                }
            }
            drop(permit);
        });
    }
}

impl BatchedRedisIngest {
    /// Hands encoded events to the batching task and waits for their script run.
    async fn ingest_items(&self, items: Vec<(String, String)>) -> Result<IngestOutcome, Error> {
        if items.is_empty() {
            return Ok(IngestOutcome::default());
        }
        let (reply, answer) = oneshot::channel();
        let stopped = || Error::StoreUnavailable("ingest batcher stopped".to_owned());
        self.jobs()
            .send(Job { items, reply })
            .await
            .map_err(|_| stopped())?;
        let codes = answer
            .await
            .map_err(|_| stopped())?
            .map_err(Error::StoreUnavailable)?;
        RedisStreamQueue::outcome(&codes)
    }
}

impl Ingest for BatchedRedisIngest {
    fn ingest<'a>(&'a self, events: &'a [Event]) -> BoxFuture<'a, Result<IngestOutcome, Error>> {
        let items = RedisStreamQueue::encode(events);
        Box::pin(async move { self.ingest_items(items?).await })
    }

    fn ingest_message<'a>(
        &'a self,
        message: &'a OutboundMessage<'_>,
        received_at: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<IngestOutcome, Error>> {
        let items = RedisStreamQueue::encode_message(message, received_at);
        Box::pin(async move { self.ingest_items(items?).await })
    }
}
