//! The durable event queue: [`EventQueue`] with consumer-group semantics (receive, ack, fail,
//! reclaim from dead consumers, dead-letter after too many deliveries), in memory
//! ([`MemoryEventQueue`], the embedded mode) and on Redis Streams ([`RedisStreamQueue`]).
//!
//! Delivery is at least once: an entry stays pending until acknowledged, and an entry whose
//! consumer died is handed to another by [`EventQueue::reclaim`]. Consumers must therefore make
//! their side effects idempotent (keyed by the event's notification id).

mod batch;
mod memory;
mod redis;

use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use batch::BatchedRedisIngest;
pub use memory::MemoryEventQueue;
pub use redis::{RedisStreamQueue, StreamConfig};

use crate::{BoxFuture, Error, Event};

/// An event handed to a consumer.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    /// The queue's id for the entry (what [`EventQueue::ack`] takes).
    pub entry_id: String,
    /// The event.
    pub event: Event,
    /// How many times it has been delivered, this time included (1 on the first delivery).
    pub delivery_count: u64,
}

/// What [`EventQueue::fail`] did with an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailOutcome {
    /// It stays pending and will be redelivered by [`EventQueue::reclaim`] once idle long enough.
    WillRetry,
    /// It reached the delivery limit and was moved to the dead-letter list with its error.
    DeadLettered,
}

/// An entry given up on, with the last error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeadLetter {
    /// Its id in the main queue.
    pub entry_id: String,
    /// The event, when the entry could be decoded.
    pub event: Option<Event>,
    /// The last error reported for it.
    pub error: String,
    /// How many times it was delivered.
    pub delivery_count: u64,
}

/// Tuning shared by both implementations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueLimits {
    /// Most unprocessed entries kept: enqueue fails beyond it (the intake answers 503), never
    /// trims.
    pub max_len: usize,
    /// Deliveries after which a failing entry is dead-lettered.
    pub max_deliveries: u64,
    /// Most dead letters kept.
    pub max_dead_letters: usize,
}

impl Default for QueueLimits {
    fn default() -> Self {
        Self {
            max_len: 1_000_000,
            max_deliveries: 5,
            max_dead_letters: 100_000,
        }
    }
}

/// The longest error text kept with an entry.
pub(crate) const MAX_ERROR_LEN: usize = 1024;

pub(crate) fn truncate_error(error: &str) -> String {
    let mut end = error.len().min(MAX_ERROR_LEN);
    while !error.is_char_boundary(end) {
        end -= 1;
    }
    error.get(..end).unwrap_or_default().to_owned()
}

/// A queue of events with consumer-group semantics.
pub trait EventQueue: Send + Sync {
    /// Appends events durably, in order; all or (on error) possibly some of them.
    fn enqueue<'a>(&'a self, events: &'a [Event]) -> BoxFuture<'a, Result<(), Error>>;

    /// Up to `max` entries never delivered before, now pending for `consumer`; waits up to
    /// `wait` for the first one.
    fn receive<'a>(
        &'a self,
        consumer: &'a str,
        max: usize,
        wait: Duration,
    ) -> BoxFuture<'a, Result<Vec<Delivery>, Error>>;

    /// Marks entries processed.
    fn ack<'a>(&'a self, entry_ids: &'a [String]) -> BoxFuture<'a, Result<(), Error>>;

    /// Records that processing failed: the entry is retried later, or dead-lettered once it has
    /// been delivered [`QueueLimits::max_deliveries`] times.
    fn fail<'a>(
        &'a self,
        delivery: &'a Delivery,
        error: &'a str,
    ) -> BoxFuture<'a, Result<FailOutcome, Error>>;

    /// Takes over up to `max` entries pending (with any consumer) for longer than `min_idle`,
    /// counting a new delivery each; entries past the delivery limit are dead-lettered instead.
    fn reclaim<'a>(
        &'a self,
        consumer: &'a str,
        min_idle: Duration,
        max: usize,
    ) -> BoxFuture<'a, Result<Vec<Delivery>, Error>>;

    /// The most recent dead letters, newest last, at most `max`.
    fn dead_letters<'a>(&'a self, max: usize) -> BoxFuture<'a, Result<Vec<DeadLetter>, Error>>;
}
