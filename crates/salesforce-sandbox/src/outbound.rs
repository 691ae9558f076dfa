//! Outbound messages: rules that turn committed creates and updates into SOAP notifications,
//! delivered to their endpoints as Salesforce does — batched (≤ 100 per message), `Ack`
//! required, retried with growing intervals on sandbox time for 24 hours, at least once and
//! unordered.
//!
//! Changes are captured through the store's [`CommitObserver`] hook, which every [`Txn`]
//! calls when it is dropped (committed) with what survived its rollbacks; rolled-back
//! savepoints therefore never send. Values are read when a message is sent, not when the
//! change matched.
//!
//! [`Txn`]: crate::store::Txn

pub(crate) mod admin;
pub(crate) mod delivery;
pub mod envelope;
pub mod queue;
pub mod rule;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, RwLock};

use chrono::{DateTime, Utc};
use salesforce_core::id::RecordId;
use tokio::sync::Notify;

pub use queue::{NotificationOutcome, QueuedMessage};
pub use rule::{OutboundRule, demo_outbound_rules};

use crate::Sandbox;
use crate::store::{Change, CommitObserver, OrgData, make_id};
use queue::{Notification, Queue};

/// The org's outbound rules and pending messages.
#[derive(Debug)]
pub struct Outbound {
    rules: RwLock<Vec<OutboundRule>>,
    queue: Mutex<Queue>,
    /// Wakes the delivery loop when work arrives.
    wake: Notify,
    /// One delivery round at a time (the loop's or a flush).
    round: tokio::sync::Mutex<()>,
    next_id: AtomicU64,
    client: reqwest::Client,
}

impl Outbound {
    pub(crate) fn new() -> Self {
        let client = reqwest::Client::builder()
            .timeout(delivery::TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        Self {
            rules: RwLock::new(Vec::new()),
            queue: Mutex::new(Queue::default()),
            wake: Notify::new(),
            round: tokio::sync::Mutex::new(()),
            next_id: AtomicU64::new(1),
            client,
        }
    }

    fn mint(&self, prefix: &str) -> RecordId {
        make_id(prefix, self.next_id.fetch_add(1, Ordering::Relaxed))
    }

    fn queue(&self) -> MutexGuard<'_, Queue> {
        // The queue is consistent between operations; a poisoned lock is still usable.
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The rules, validated (canonical names, action ids filled in).
    pub fn rules(&self) -> Vec<OutboundRule> {
        self.rules.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Validates `rule` against the org's schema and adds it (replacing a rule of the same
    /// name, whose action id it keeps unless given one). Returns the stored rule.
    pub(crate) fn add_rule(
        &self,
        data: &OrgData,
        rule: &OutboundRule,
    ) -> Result<OutboundRule, String> {
        let users = data.users();
        let mut rules = self.rules.write().unwrap_or_else(|e| e.into_inner());
        let existing = rules.iter().position(|r| r.name == rule.name);
        if existing.is_none() && rules.len() >= rule::MAX_RULES {
            return Err(format!("at most {} rules", rule::MAX_RULES));
        }
        let mut rule = rule.clone();
        if rule.action_id.is_none() {
            rule.action_id = existing
                .and_then(|i| rules.get(i))
                .and_then(|r| r.action_id.clone());
        }
        let validated = rule.validated(data.schema(), &[users.admin, users.integration], || {
            self.mint("04k")
        })?;
        match existing.and_then(|i| rules.get_mut(i)) {
            Some(slot) => *slot = validated.clone(),
            None => rules.push(validated.clone()),
        }
        Ok(validated)
    }

    /// Removes the rule called `name`; messages already queued are still delivered.
    pub fn remove_rule(&self, name: &str) -> bool {
        let mut rules = self.rules.write().unwrap_or_else(|e| e.into_inner());
        let before = rules.len();
        rules.retain(|r| r.name != name);
        rules.len() != before
    }

    /// Messages waiting for delivery or retry.
    pub fn queued(&self) -> Vec<QueuedMessage> {
        self.queue().view()
    }

    /// Acknowledged notifications, oldest first (the last 10,000).
    pub fn delivered(&self) -> Vec<NotificationOutcome> {
        self.queue().delivered()
    }

    /// Notifications dropped after 24 hours without an acknowledgement (the last 10,000).
    pub fn dropped(&self) -> Vec<NotificationOutcome> {
        self.queue().dropped()
    }

    /// Forgets queued messages and the logs (org reset); rules stay.
    pub(crate) fn clear_queue(&self) {
        self.queue().clear();
    }
}

impl CommitObserver for Outbound {
    fn is_active(&self) -> bool {
        !self
            .rules
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .is_empty()
    }

    fn committed(&self, data: &OrgData, changes: Vec<Change>, _user: RecordId, now: DateTime<Utc>) {
        let rules = self.rules.read().unwrap_or_else(|e| e.into_inner());
        let mut queue = self.queue();
        let mut queued = false;
        for change in &changes {
            let Some(def) = data.schema().object_at(change.object) else {
                continue;
            };
            for rule in rules.iter().filter(|r| r.matches(def, change)) {
                let notification = Notification {
                    id: self.mint("04l"),
                    record: change.after.id,
                };
                if queue.push(rule, notification, now) {
                    queued = true;
                } else {
                    tracing::warn!(rule = %rule.name, "outbound queue full; notification dropped");
                }
            }
        }
        if queued {
            self.wake.notify_one();
        }
    }
}

impl Sandbox {
    /// The outbound rules and queue.
    pub fn outbound(&self) -> &Outbound {
        &self.state().outbound
    }

    /// Adds (or replaces, by name) an outbound rule; returns it as stored.
    pub fn add_outbound_rule(&self, rule: &OutboundRule) -> Result<OutboundRule, crate::Error> {
        let state = self.state();
        let data = state.store.read();
        state
            .outbound
            .add_rule(&data, rule)
            .map_err(crate::Error::OutboundRule)
    }

    /// Attempts every due outbound message now (waiting for a round in progress first) and
    /// returns how many messages were attempted.
    pub async fn flush_outbound(&self) -> usize {
        delivery::round(self.state()).await
    }
}
