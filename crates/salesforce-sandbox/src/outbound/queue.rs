//! Pending outbound messages: batching per endpoint and action (≤ 100 notifications), the
//! retry schedule on sandbox time, and the bounded logs of delivered and dropped notifications.

use std::collections::VecDeque;

use chrono::{DateTime, TimeDelta, Utc};
use salesforce_core::id::RecordId;
use serde::Serialize;

use super::rule::OutboundRule;
use crate::value::format_datetime;

/// Notifications per message, as in Salesforce.
pub const MAX_NOTIFICATIONS_PER_MESSAGE: usize = 100;
/// The most notifications waiting at once; further matches are dropped with a warning.
pub const MAX_PENDING_NOTIFICATIONS: usize = 100_000;
/// Entries kept in each of the delivered and dropped logs.
pub const LOG_CAPACITY: usize = 10_000;
/// How long a message is retried before it is dropped.
pub const RETRY_WINDOW: TimeDelta = TimeDelta::hours(24);
const FIRST_RETRY: TimeDelta = TimeDelta::seconds(15);
const MAX_RETRY_INTERVAL: TimeDelta = TimeDelta::hours(2);

/// The wait after the `attempts`-th failed attempt: 15 s, doubling, at most 2 h.
pub fn retry_interval(attempts: u32) -> TimeDelta {
    let doublings = attempts.saturating_sub(1).min(20);
    let interval = FIRST_RETRY * 2_i32.pow(doublings);
    interval.min(MAX_RETRY_INTERVAL)
}

/// One notification in a message: which record, sent with which id.
#[derive(Debug, Clone)]
pub(crate) struct Notification {
    pub(crate) id: RecordId,
    pub(crate) record: RecordId,
}

/// A message waiting for delivery (or retry).
#[derive(Debug, Clone)]
pub(crate) struct Message {
    pub(crate) id: u64,
    /// The rule as it was when the changes matched.
    pub(crate) rule: OutboundRule,
    pub(crate) notifications: Vec<Notification>,
    pub(crate) created: DateTime<Utc>,
    pub(crate) attempts: u32,
    pub(crate) next_attempt: DateTime<Utc>,
    pub(crate) last_attempt: Option<DateTime<Utc>>,
    pub(crate) last_error: Option<String>,
}

impl Message {
    fn action_id(&self) -> &str {
        self.rule.action_id.as_deref().unwrap_or_default()
    }
}

/// A pending message as `GET /__sandbox/outbound/queue` shows it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueuedMessage {
    /// Sandbox-local message number.
    pub id: u64,
    /// The rule's name.
    pub rule: String,
    /// The action id.
    pub action_id: String,
    /// The endpoint.
    pub endpoint: String,
    /// Notification ids in the message.
    pub notification_ids: Vec<String>,
    /// Record ids, in the same order.
    pub record_ids: Vec<String>,
    /// Failed attempts so far.
    pub attempts: u32,
    /// When the first notification matched.
    pub created_at: String,
    /// When the next attempt is due (sandbox time).
    pub next_attempt_at: String,
    /// When the last attempt was made.
    pub last_attempt_at: Option<String>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
}

/// A delivered or dropped notification.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationOutcome {
    /// The notification id (`04l…`).
    pub notification_id: String,
    /// The action id (`04k…`).
    pub action_id: String,
    /// The record it was about.
    pub record_id: String,
    /// Attempts made, the last one included.
    pub attempts: u32,
    /// When it was acknowledged or dropped (sandbox time).
    pub at: String,
}

/// All outbound messages not yet acknowledged or dropped.
#[derive(Debug, Default)]
pub(crate) struct Queue {
    messages: Vec<Message>,
    next_message: u64,
    pending: usize,
    delivered: VecDeque<NotificationOutcome>,
    dropped: VecDeque<NotificationOutcome>,
}

/// What became of one attempt.
#[derive(Debug)]
pub(crate) enum Outcome {
    Acknowledged,
    Failed(String),
}

impl Queue {
    /// Adds a notification to the open batch of its rule's endpoint and action, or starts one.
    /// Returns false when the queue is full.
    pub(crate) fn push(
        &mut self,
        rule: &OutboundRule,
        notification: Notification,
        now: DateTime<Utc>,
    ) -> bool {
        if self.pending >= MAX_PENDING_NOTIFICATIONS {
            return false;
        }
        self.pending += 1;
        let open = self.messages.iter_mut().find(|m| {
            m.attempts == 0
                && m.last_attempt.is_none()
                && m.notifications.len() < MAX_NOTIFICATIONS_PER_MESSAGE
                && m.rule.endpoint == rule.endpoint
                && m.rule.action_id == rule.action_id
        });
        match open {
            Some(message) => message.notifications.push(notification),
            None => {
                self.next_message += 1;
                self.messages.push(Message {
                    id: self.next_message,
                    rule: rule.clone(),
                    notifications: vec![notification],
                    created: now,
                    attempts: 0,
                    next_attempt: now,
                    last_attempt: None,
                    last_error: None,
                });
            }
        }
        true
    }

    /// Messages due at `now`; they are marked as attempted so that later matches start a
    /// new batch instead of joining one already on the wire.
    pub(crate) fn take_due(&mut self, now: DateTime<Utc>) -> Vec<Message> {
        self.messages
            .iter_mut()
            .filter(|m| m.next_attempt <= now)
            .map(|m| {
                m.last_attempt = Some(now);
                m.clone()
            })
            .collect()
    }

    /// The earliest due time of any message.
    pub(crate) fn next_due(&self) -> Option<DateTime<Utc>> {
        self.messages.iter().map(|m| m.next_attempt).min()
    }

    /// Records how an attempt of message `id` ended at `now`.
    pub(crate) fn finish(&mut self, id: u64, outcome: Outcome, now: DateTime<Utc>) {
        let Some(pos) = self.messages.iter().position(|m| m.id == id) else {
            return;
        };
        let Some(message) = self.messages.get_mut(pos) else {
            return;
        };
        message.attempts += 1;
        message.last_attempt = Some(now);
        let done = match outcome {
            Outcome::Acknowledged => Some(true),
            Outcome::Failed(error) => {
                tracing::debug!(message = id, attempts = message.attempts, %error, "outbound message not acknowledged");
                message.last_error = Some(error);
                let next = now + retry_interval(message.attempts);
                message.next_attempt = next;
                (next > message.created + RETRY_WINDOW).then_some(false)
            }
        };
        let Some(delivered) = done else { return };
        let message = self.messages.swap_remove(pos);
        self.pending = self.pending.saturating_sub(message.notifications.len());
        if !delivered {
            tracing::warn!(
                message = id,
                attempts = message.attempts,
                "outbound message dropped after 24 hours of retries"
            );
        }
        let log = if delivered {
            &mut self.delivered
        } else {
            &mut self.dropped
        };
        for n in &message.notifications {
            if log.len() >= LOG_CAPACITY {
                log.pop_front();
            }
            log.push_back(NotificationOutcome {
                notification_id: n.id.to_string(),
                action_id: message.action_id().to_owned(),
                record_id: n.record.to_string(),
                attempts: message.attempts,
                at: format_datetime(now),
            });
        }
    }

    pub(crate) fn view(&self) -> Vec<QueuedMessage> {
        self.messages
            .iter()
            .map(|m| QueuedMessage {
                id: m.id,
                rule: m.rule.name.clone(),
                action_id: m.action_id().to_owned(),
                endpoint: m.rule.endpoint.clone(),
                notification_ids: m.notifications.iter().map(|n| n.id.to_string()).collect(),
                record_ids: m
                    .notifications
                    .iter()
                    .map(|n| n.record.to_string())
                    .collect(),
                attempts: m.attempts,
                created_at: format_datetime(m.created),
                next_attempt_at: format_datetime(m.next_attempt),
                last_attempt_at: m.last_attempt.map(format_datetime),
                last_error: m.last_error.clone(),
            })
            .collect()
    }

    pub(crate) fn delivered(&self) -> Vec<NotificationOutcome> {
        self.delivered.iter().cloned().collect()
    }

    pub(crate) fn dropped(&self) -> Vec<NotificationOutcome> {
        self.dropped.iter().cloned().collect()
    }

    /// Forgets every message and log entry (org reset).
    pub(crate) fn clear(&mut self) {
        let next_message = self.next_message;
        *self = Self {
            next_message,
            ..Self::default()
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_double_from_15_seconds_up_to_2_hours() {
        let secs: Vec<i64> = (1..=12).map(|n| retry_interval(n).num_seconds()).collect();
        assert_eq!(
            secs,
            [15, 30, 60, 120, 240, 480, 960, 1920, 3840, 7200, 7200, 7200]
        );
        assert_eq!(retry_interval(u32::MAX).num_seconds(), 7200);
    }
}
