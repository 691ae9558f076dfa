//! Where `recentEvents` reads from: the webhook worker's event feed, behind a small trait so that
//! this crate needs neither Redis nor the worker's crates. The server implements [`EventSource`]
//! by adapting `followups::EventFeed` (each `FeedEntry` becomes an [`EventEntry`]) and passes it to
//! [`crate::CrmTools::with_events`]; without one, `recentEvents` is not listed.

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use serde::Serialize;
use serde_json::{Map, Value};

/// One event of the feed: a Salesforce outbound message notification and what the worker did.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventEntry {
    /// The event's dedupe key (org + notification id).
    pub key: String,
    /// The org that sent it.
    pub org_id: String,
    /// The outbound message action id (in Salesforce, one action per trigger: "lead created",
    /// "opportunity stage changed", …).
    pub action_id: String,
    /// The sObject type (`Lead`, `Invoice__c`).
    pub object: String,
    /// The record's id, when the message carried it.
    pub record_id: Option<String>,
    /// The fields the message carried, in Salesforce's order.
    pub fields: Map<String, Value>,
    /// The worker's rules that acted on it (the event's type, as the worker classifies it).
    pub rules: Vec<String>,
    /// Tasks the worker created or found for it.
    pub task_ids: Vec<String>,
    /// When the worker received it.
    pub received_at: DateTime<Utc>,
    /// When the worker processed it.
    pub processed_at: DateTime<Utc>,
}

/// The feed `recentEvents` reads.
pub trait EventSource: Send + Sync + 'static {
    /// The most recent entries, newest first, at most `max`, optionally of one object type
    /// (case-insensitive). The error is a message fit for the model ("the event feed is
    /// unavailable: …"), without secrets.
    fn recent<'a>(
        &'a self,
        max: usize,
        object: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Vec<EventEntry>, String>>;
}
