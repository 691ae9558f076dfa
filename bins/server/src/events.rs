//! The webhook pipeline's event feed (`followups::EventFeed`: the embedded demo's in memory, or
//! the `{prefix}feed` stream a `sfmcp-worker` sharing our `REDIS_URL` records) as
//! `recentEvents`' source (`crm_tools::EventSource`, so that `crm-tools` needs neither
//! `followups` nor Redis), and followed ([`CacheFollower`]) so that a record an event names is
//! dropped from the record caches of the event's org.

use std::sync::Arc;

use crm_tools::{EventEntry, EventSource, RecordCaches};
use followups::{EventFeed, FeedEntry, Followed};
use futures::future::BoxFuture;
use serde_json::{Map, Value};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::metrics::Metrics;

/// The feed the embedded demo's pipeline (or a worker sharing our Redis) records.
pub struct FeedEvents(pub Arc<dyn EventFeed>);

/// The task following the feed into the record caches; stopped by [`CacheFollower::shutdown`].
pub struct CacheFollower {
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl CacheFollower {
    /// Follows `feed` from its newest entry: each event drops its record (by the event's org,
    /// object and record id) from `caches`, counted in `metrics`. When events went by unread,
    /// every cached record is dropped.
    pub fn start(
        feed: Arc<dyn EventFeed>,
        caches: Arc<RecordCaches>,
        metrics: Option<Arc<Metrics>>,
    ) -> Self {
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let stopped = async {
                let _ = stopped.await;
            };
            followups::follow(&*feed, stopped, |read| match read {
                Followed::Entries(entries) => {
                    for entry in entries {
                        invalidate(&caches, &entry, metrics.as_deref());
                    }
                }
                Followed::Missed(missed) => {
                    tracing::warn!(
                        missed,
                        "webhook events went by unread: every cached record dropped"
                    );
                    caches.clear();
                }
            })
            .await;
        });
        Self { stop, task }
    }

    /// Stops following (at once, also while a read waits or a reconnect pauses).
    pub async fn shutdown(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

fn invalidate(caches: &RecordCaches, entry: &FeedEntry, metrics: Option<&Metrics>) {
    let event = &entry.event;
    let dropped = caches.invalidate(
        &event.org_id,
        &event.object_type,
        event.record_id.as_deref(),
    );
    if let Some(metrics) = metrics {
        metrics.record_followed_event(dropped);
    }
    // Ids and the object name only: an event's field values stay out of the logs.
    tracing::debug!(
        org = %event.org_id,
        object = %event.object_type,
        record = event.record_id.as_deref().unwrap_or("-"),
        dropped,
        "webhook event followed"
    );
}

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
