//! [`Ingest`]: "store these events unless already stored", the one step the intake needs
//! between parsing and `Ack`. [`crate::RedisStreamQueue`] does it atomically in one script;
//! [`StagedIngest`] composes any [`IdempotencyStore`] with any [`EventQueue`] through the
//! claim → enqueue → commit protocol described in [`crate::idempotency`].

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::{BoxFuture, Claim, Error, Event, EventQueue, IdempotencyStore, OutboundMessage};

/// What an ingest did with a message's events.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IngestOutcome {
    /// Events stored now.
    pub enqueued: usize,
    /// Events stored before (by an earlier delivery).
    pub duplicates: usize,
}

/// Stores the new events of a message durably. `Ok` means every event is in the queue (now or
/// before), so the message may be acknowledged; any error means it must not be.
pub trait Ingest: Send + Sync {
    /// Stores the events not stored before.
    fn ingest<'a>(&'a self, events: &'a [Event]) -> BoxFuture<'a, Result<IngestOutcome, Error>>;

    /// Stores the events of a parsed message (what the intake calls): by default
    /// [`Event::from_message`] then [`ingest`](Self::ingest); a store that only needs the events'
    /// JSON writes it from the borrowed message instead.
    fn ingest_message<'a>(
        &'a self,
        message: &'a OutboundMessage<'_>,
        received_at: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<IngestOutcome, Error>> {
        let events = Event::from_message(message, received_at);
        Box::pin(async move { self.ingest(&events).await })
    }
}

/// Claim, enqueue, then commit (or release on failure).
#[derive(Clone)]
pub struct StagedIngest {
    store: Arc<dyn IdempotencyStore>,
    queue: Arc<dyn EventQueue>,
}

impl std::fmt::Debug for StagedIngest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StagedIngest")
    }
}

impl StagedIngest {
    /// Composes a store and a queue.
    pub fn new(store: Arc<dyn IdempotencyStore>, queue: Arc<dyn EventQueue>) -> Self {
        Self { store, queue }
    }
}

impl Ingest for StagedIngest {
    fn ingest<'a>(&'a self, events: &'a [Event]) -> BoxFuture<'a, Result<IngestOutcome, Error>> {
        Box::pin(async move {
            let keys: Vec<String> = events.iter().map(Event::dedupe_key).collect();
            let claims = self.store.claim(&keys).await?;
            let mut new_keys = Vec::new();
            let mut new_events = Vec::new();
            let mut outcome = IngestOutcome::default();
            let mut in_progress = false;
            for ((key, event), claim) in keys.iter().zip(events).zip(&claims) {
                match claim {
                    Claim::New if !new_keys.contains(key) => {
                        new_keys.push(key.clone());
                        new_events.push(event.clone());
                    }
                    // The same notification twice in one message: stored once.
                    Claim::New | Claim::Duplicate => outcome.duplicates += 1,
                    Claim::InProgress => in_progress = true,
                }
            }
            if in_progress {
                let _ = self.store.release(&new_keys).await;
                return Err(Error::DeliveryInProgress);
            }
            if let Err(error) = self.queue.enqueue(&new_events).await {
                // Best effort: if this fails too, the pending marks expire on their own.
                let _ = self.store.release(&new_keys).await;
                return Err(error);
            }
            // The events are stored: acknowledging is safe even if the commit fails (then a
            // later redelivery is enqueued again, which consumers tolerate).
            if let Err(error) = self.store.commit(&new_keys).await {
                tracing::warn!(%error, "events enqueued but their dedupe marks not committed");
            }
            outcome.enqueued += new_events.len();
            Ok(outcome)
        })
    }
}
