//! `recentEvents`' source: the webhook pipeline's event feed (`followups::EventFeed`) adapted to
//! `crm_tools::EventSource`, so that `crm-tools` needs neither `followups` nor Redis.

use std::sync::Arc;

use crm_tools::{EventEntry, EventSource};
use followups::{EventFeed, FeedEntry};
use futures::future::BoxFuture;
use serde_json::{Map, Value};

/// The feed the embedded demo's pipeline (or a worker sharing our Redis) records.
pub struct FeedEvents(pub Arc<dyn EventFeed>);

impl EventSource for FeedEvents {
    fn recent<'a>(
        &'a self,
        max: usize,
        object: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Vec<EventEntry>, String>> {
        Box::pin(async move {
            let entries = self
                .0
                .recent(max, object)
                .await
                .map_err(|e| format!("the event feed is unavailable: {e}"))?;
            Ok(entries.into_iter().map(to_entry).collect())
        })
    }
}

fn to_entry(entry: FeedEntry) -> EventEntry {
    let fields = entry
        .event
        .fields
        .iter()
        .map(|(name, value)| {
            (
                name.clone(),
                serde_json::to_value(value).unwrap_or(Value::Null),
            )
        })
        .collect::<Map<String, Value>>();
    EventEntry {
        key: entry.key,
        org_id: entry.event.org_id,
        action_id: entry.event.action_id,
        object: entry.event.object_type,
        record_id: entry.event.record_id,
        fields,
        rules: entry.rules,
        task_ids: entry.task_ids,
        received_at: entry.event.received_at,
        processed_at: entry.processed_at,
    }
}
