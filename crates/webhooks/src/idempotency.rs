//! The idempotency store: "have we taken this notification already?", keyed by
//! [`dedupe_key`](crate::dedupe_key) (org + notification id).
//!
//! # The invariant: a notification is marked done only once its event is stored
//!
//! A plain "claim, then enqueue" loses messages: if the process dies (or the queue fails)
//! between the claim and the enqueue, Salesforce's redelivery is dropped as a duplicate. So a
//! claim has two phases:
//!
//! 1. [`claim`](IdempotencyStore::claim) marks each unseen key **pending** with a short TTL
//!    (default 5 minutes) and reports [`Claim::New`]; a key already **done** is a
//!    [`Claim::Duplicate`]; a key pending for someone else is [`Claim::InProgress`].
//! 2. After the events are durably enqueued, [`commit`](IdempotencyStore::commit) marks the keys
//!    **done** for the long TTL (default 72 h, never below 48 h: Salesforce retries for 24 h).
//!    If enqueueing fails, [`release`](IdempotencyStore::release) drops the pending marks.
//!
//! A crash between the phases leaves only pending marks, which expire: a later redelivery is
//! taken as new. A redelivery that arrives while another delivery of the same notification is
//! pending is answered "retry later" (503), never `Ack`, because the other delivery may still
//! fail. The worst case is a crash after enqueue and before commit: the notification is then
//! enqueued twice, which consumers tolerate (at-least-once; their side effects are keyed by
//! notification id). Nothing acknowledged is ever missing from the queue.
//!
//! For Redis, [`crate::RedisStreamQueue`] also offers an ingest that does the dedupe and the
//! `XADD` atomically in one script, which has no crash window at all.

mod memory;
mod redis;

use std::time::Duration;

pub use memory::MemoryIdempotencyStore;
pub use redis::RedisIdempotencyStore;

use crate::{BoxFuture, Error};

/// The answer to a claim of one notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// Not seen before: now pending for this caller, who must commit or release it.
    New,
    /// Already stored: acknowledge without storing again.
    Duplicate,
    /// Pending for another delivery that may still fail: ask Salesforce to retry later.
    InProgress,
}

/// How long marks live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdempotencyTtl {
    /// How long a done mark lives (clamped to at least [`IdempotencyTtl::MIN_DONE`]).
    pub done: Duration,
    /// How long a pending mark lives when neither committed nor released (a crash).
    pub pending: Duration,
}

impl IdempotencyTtl {
    /// The shortest done TTL accepted: twice Salesforce's 24-hour retry window.
    pub const MIN_DONE: Duration = Duration::from_secs(48 * 3600);

    pub(crate) fn done(&self) -> Duration {
        self.done.max(Self::MIN_DONE)
    }

    pub(crate) fn pending(&self) -> Duration {
        self.pending.max(Duration::from_millis(1))
    }
}

impl Default for IdempotencyTtl {
    fn default() -> Self {
        Self {
            done: Duration::from_secs(72 * 3600),
            pending: Duration::from_secs(300),
        }
    }
}

/// Where claims are recorded. Batch methods take a whole message's keys at once so that a
/// network-backed store needs one round trip per phase.
pub trait IdempotencyStore: Send + Sync {
    /// Claims each key; the answers are in the order of `keys`.
    fn claim<'a>(&'a self, keys: &'a [String]) -> BoxFuture<'a, Result<Vec<Claim>, Error>>;

    /// Marks claimed keys done (their events are stored).
    fn commit<'a>(&'a self, keys: &'a [String]) -> BoxFuture<'a, Result<(), Error>>;

    /// Drops the pending marks of claimed keys whose events could not be stored.
    fn release<'a>(&'a self, keys: &'a [String]) -> BoxFuture<'a, Result<(), Error>>;
}
