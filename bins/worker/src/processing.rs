//! The processing loop: consumers of the queue's group that take new entries, take over
//! entries idle too long with a dead consumer (XAUTOCLAIM), run the [`Processor`], and
//! acknowledge, or report the failure (retried, then dead-lettered with its error). On shutdown
//! each consumer finishes the batch in hand before it stops.
//!
//! The loop shares the machine with the intake, so it keeps its Redis calls per batch rather
//! than per event: one acknowledgement for the events of a batch that were processed, and the
//! takeover of idle entries only when one may be due (every half idle time, and whenever no new
//! entry came), not before every read.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::time::Instant;

use followups::Processor;
use tokio_util::sync::CancellationToken;
use webhooks::{Delivery, EventQueue, FailOutcome};

use crate::metrics::ProcessingMetrics;

/// Entries taken per receive.
const BATCH: usize = 32;

/// How long a receive waits for new entries (also how often reclaiming is tried when idle).
const WAIT: Duration = Duration::from_millis(500);

/// `{hostname}-{pid}`: unique per process, so that a restarted worker is a new consumer and
/// the old one's pending entries are reclaimed.
pub fn consumer_base_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "worker".to_owned());
    format!("{host}-{}", std::process::id())
}

/// One consumer.
pub struct Consumer {
    /// Its name in the consumer group.
    pub name: String,
    /// The queue.
    pub queue: Arc<dyn EventQueue>,
    /// What to do with events.
    pub processor: Processor,
    /// Counters.
    pub metrics: Arc<ProcessingMetrics>,
    /// Idle time after which another consumer's entry is taken over.
    pub claim_idle: Duration,
}

impl Consumer {
    /// Runs until `stop` is cancelled (finishing the batch in hand).
    pub async fn run(self, stop: CancellationToken) {
        tracing::info!(consumer = %self.name, "consumer started");
        // The first round takes over what a dead predecessor left.
        let mut reclaim_at = Instant::now();
        while !stop.is_cancelled() {
            let batch = match self.next_batch(&mut reclaim_at).await {
                Ok(batch) => batch,
                Err(error) => {
                    tracing::warn!(consumer = %self.name, %error, "queue unavailable; retrying");
                    tokio::select! {
                        () = stop.cancelled() => break,
                        () = tokio::time::sleep(Duration::from_millis(200)) => continue,
                    }
                }
            };
            let mut processed = Vec::with_capacity(batch.len());
            for delivery in &batch {
                if self.handle(delivery).await {
                    processed.push(delivery);
                }
            }
            self.ack(&processed).await;
        }
        tracing::info!(consumer = %self.name, "consumer stopped");
    }

    /// How often idle entries are looked for while new ones keep coming: often enough that an
    /// entry idle for `claim_idle` waits at most half as long again.
    fn reclaim_interval(&self) -> Duration {
        (self.claim_idle / 2).max(Duration::from_millis(100))
    }

    async fn next_batch(&self, reclaim_at: &mut Instant) -> Result<Vec<Delivery>, webhooks::Error> {
        if Instant::now() >= *reclaim_at {
            let reclaimed = self
                .queue
                .reclaim(&self.name, self.claim_idle, BATCH)
                .await?;
            if !reclaimed.is_empty() {
                // More may be waiting: look again next round.
                let n = u64::try_from(reclaimed.len()).unwrap_or(u64::MAX);
                self.metrics.reclaimed.fetch_add(n, Ordering::Relaxed);
                tracing::info!(consumer = %self.name, count = n, "reclaimed idle entries");
                return Ok(reclaimed);
            }
            *reclaim_at = Instant::now() + self.reclaim_interval();
        }
        // Not raced with shutdown: a read dropped after Redis ran it would leave entries
        // pending with this consumer until reclaimed. The wait is short instead.
        let received = self.queue.receive(&self.name, BATCH, WAIT).await?;
        if received.is_empty() {
            // Idle: nothing competes with looking for abandoned entries now.
            *reclaim_at = Instant::now();
        }
        Ok(received)
    }

    /// Acknowledges the processed events of a batch at once.
    async fn ack(&self, processed: &[&Delivery]) {
        if processed.is_empty() {
            return;
        }
        let ids: Vec<String> = processed.iter().map(|d| d.entry_id.clone()).collect();
        if let Err(error) = self.queue.ack(&ids).await {
            // Processed but not acknowledged: they will be reclaimed and processed again,
            // which the idempotent side effects make harmless.
            tracing::warn!(entries = ids.len(), %error, "ack failed");
            return;
        }
        let n = u64::try_from(ids.len()).unwrap_or(u64::MAX);
        self.metrics.processed.fetch_add(n, Ordering::Relaxed);
        if let Some(last) = processed.last() {
            let lag = (chrono::Utc::now() - last.event.received_at).num_milliseconds();
            self.metrics.lag_ms.store(lag, Ordering::Relaxed);
        }
    }

    /// Processes one event; `true` when it is to be acknowledged.
    async fn handle(&self, delivery: &Delivery) -> bool {
        let event = &delivery.event;
        match self.processor.process(event).await {
            Ok(outcome) => {
                tracing::debug!(
                    entry = %delivery.entry_id,
                    object = %event.object_type,
                    rules = ?outcome.rules,
                    tasks = ?outcome.task_ids,
                    "event processed"
                );
                true
            }
            Err(error) => {
                self.metrics.failed.fetch_add(1, Ordering::Relaxed);
                let text = error.to_string();
                match self.queue.fail(delivery, &text).await {
                    Ok(FailOutcome::DeadLettered) => {
                        self.metrics.dead_lettered.fetch_add(1, Ordering::Relaxed);
                        tracing::error!(entry = %delivery.entry_id, error = %text, "event dead-lettered");
                    }
                    Ok(FailOutcome::WillRetry) => {
                        tracing::warn!(
                            entry = %delivery.entry_id,
                            deliveries = delivery.delivery_count,
                            error = %text,
                            "event failed; will retry"
                        );
                    }
                    Err(fail_error) => {
                        tracing::warn!(entry = %delivery.entry_id, error = %fail_error, "could not record failure");
                    }
                }
                false
            }
        }
    }
}
