//! [`MemoryEventQueue`]: a bounded in-process queue with the same consumer-group semantics as
//! the Redis one, for the embedded demo (nothing survives the process).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use super::{DeadLetter, Delivery, EventQueue, FailOutcome, QueueLimits, truncate_error};
use crate::{BoxFuture, Error, Event};

#[derive(Debug)]
struct Entry {
    event: Event,
    deliveries: u64,
    /// When it was last handed out; `None` while it waits in `ready`.
    delivered_at: Option<Instant>,
    last_error: Option<String>,
}

#[derive(Debug, Default)]
struct Inner {
    ready: VecDeque<u64>,
    entries: HashMap<u64, Entry>,
    dead: VecDeque<DeadLetter>,
    next_id: u64,
}

/// The in-memory queue.
#[derive(Debug)]
pub struct MemoryEventQueue {
    inner: Mutex<Inner>,
    arrived: Notify,
    limits: QueueLimits,
}

impl Default for MemoryEventQueue {
    fn default() -> Self {
        Self::new(QueueLimits {
            max_len: 100_000,
            ..QueueLimits::default()
        })
    }
}

impl MemoryEventQueue {
    /// A queue holding at most `limits.max_len` unacknowledged entries.
    pub fn new(limits: QueueLimits) -> Self {
        Self {
            inner: Mutex::new(Inner::default()),
            arrived: Notify::new(),
            limits,
        }
    }

    /// Entries not yet acknowledged (waiting or pending).
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// True when every entry has been acknowledged.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn bury(&self, inner: &mut Inner, id: u64, error: String) {
        if let Some(entry) = inner.entries.remove(&id) {
            if inner.dead.len() >= self.limits.max_dead_letters.max(1) {
                inner.dead.pop_front();
            }
            inner.dead.push_back(DeadLetter {
                entry_id: id.to_string(),
                event: Some(entry.event),
                error,
                delivery_count: entry.deliveries,
            });
        }
    }

    fn take_ready(&self, max: usize) -> Vec<Delivery> {
        let now = Instant::now();
        let mut inner = self.lock();
        let mut out = Vec::new();
        while out.len() < max {
            let Some(id) = inner.ready.pop_front() else {
                break;
            };
            if let Some(entry) = inner.entries.get_mut(&id) {
                entry.deliveries += 1;
                entry.delivered_at = Some(now);
                out.push(Delivery {
                    entry_id: id.to_string(),
                    event: entry.event.clone(),
                    delivery_count: entry.deliveries,
                });
            }
        }
        out
    }
}

impl EventQueue for MemoryEventQueue {
    fn enqueue<'a>(&'a self, events: &'a [Event]) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            {
                let mut inner = self.lock();
                if inner.entries.len() + events.len() > self.limits.max_len {
                    return Err(Error::QueueFull {
                        capacity: self.limits.max_len,
                    });
                }
                for event in events {
                    let id = inner.next_id;
                    inner.next_id += 1;
                    inner.entries.insert(
                        id,
                        Entry {
                            event: event.clone(),
                            deliveries: 0,
                            delivered_at: None,
                            last_error: None,
                        },
                    );
                    inner.ready.push_back(id);
                }
            }
            self.arrived.notify_waiters();
            Ok(())
        })
    }

    fn receive<'a>(
        &'a self,
        _consumer: &'a str,
        max: usize,
        wait: Duration,
    ) -> BoxFuture<'a, Result<Vec<Delivery>, Error>> {
        Box::pin(async move {
            let deadline = Instant::now() + wait;
            loop {
                let arrived = self.arrived.notified();
                let taken = self.take_ready(max);
                if !taken.is_empty() || Instant::now() >= deadline {
                    return Ok(taken);
                }
                if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                    return Ok(self.take_ready(max));
                }
            }
        })
    }

    fn ack<'a>(&'a self, entry_ids: &'a [String]) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            let mut inner = self.lock();
            for id in entry_ids.iter().filter_map(|id| id.parse::<u64>().ok()) {
                inner.entries.remove(&id);
            }
            Ok(())
        })
    }

    fn fail<'a>(
        &'a self,
        delivery: &'a Delivery,
        error: &'a str,
    ) -> BoxFuture<'a, Result<FailOutcome, Error>> {
        Box::pin(async move {
            let Ok(id) = delivery.entry_id.parse::<u64>() else {
                return Ok(FailOutcome::WillRetry);
            };
            let mut inner = self.lock();
            let error = truncate_error(error);
            let Some(entry) = inner.entries.get_mut(&id) else {
                return Ok(FailOutcome::WillRetry);
            };
            if entry.deliveries >= self.limits.max_deliveries {
                self.bury(&mut inner, id, error);
                return Ok(FailOutcome::DeadLettered);
            }
            entry.last_error = Some(error);
            Ok(FailOutcome::WillRetry)
        })
    }

    fn reclaim<'a>(
        &'a self,
        _consumer: &'a str,
        min_idle: Duration,
        max: usize,
    ) -> BoxFuture<'a, Result<Vec<Delivery>, Error>> {
        Box::pin(async move {
            let now = Instant::now();
            let mut inner = self.lock();
            let mut idle: Vec<u64> = inner
                .entries
                .iter()
                .filter(|(_, e)| {
                    e.delivered_at
                        .is_some_and(|at| now.duration_since(at) >= min_idle)
                })
                .map(|(id, _)| *id)
                .collect();
            idle.sort_unstable();
            let mut out = Vec::new();
            for id in idle.into_iter().take(max) {
                let Some(entry) = inner.entries.get_mut(&id) else {
                    continue;
                };
                entry.deliveries += 1;
                entry.delivered_at = Some(now);
                if entry.deliveries > self.limits.max_deliveries {
                    let error = entry.last_error.clone().unwrap_or_else(|| {
                        format!("not acknowledged after {} deliveries", entry.deliveries - 1)
                    });
                    entry.deliveries -= 1;
                    self.bury(&mut inner, id, error);
                    continue;
                }
                out.push(Delivery {
                    entry_id: id.to_string(),
                    event: entry.event.clone(),
                    delivery_count: entry.deliveries,
                });
            }
            Ok(out)
        })
    }

    fn dead_letters<'a>(&'a self, max: usize) -> BoxFuture<'a, Result<Vec<DeadLetter>, Error>> {
        Box::pin(async move {
            let inner = self.lock();
            let skip = inner.dead.len().saturating_sub(max);
            Ok(inner.dead.iter().skip(skip).cloned().collect())
        })
    }
}
