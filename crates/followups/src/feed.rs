//! The event feed: a capped, newest-last log of what happened (every recorded event with the
//! rules that acted on it), which the MCP server's `recentEvents` tool reads through
//! [`EventFeed::recent`]. In memory for the embedded mode ([`MemoryFeed`]), on a Redis Stream
//! trimmed with `XADD MAXLEN ~` in production ([`RedisFeed`]).
//!
//! Recording is idempotent: each entry carries the event's dedupe key, and an entry whose key
//! was recorded before (within the mark's TTL, or while still in memory) is skipped, so a
//! redelivered event does not appear twice.

use std::collections::{HashSet, VecDeque};
use std::sync::{LazyLock, Mutex};

use chrono::{DateTime, Utc};
use redis::Script;
use serde::{Deserialize, Serialize};
use webhooks::{Event, RedisStore};

use crate::{BoxFuture, Error};

/// One feed entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeedEntry {
    /// The event's dedupe key (org + notification id).
    pub key: String,
    /// The event.
    pub event: Event,
    /// The rules that acted on it.
    pub rules: Vec<String>,
    /// Ids of the Tasks created or found for it.
    pub task_ids: Vec<String>,
    /// When it was processed.
    pub processed_at: DateTime<Utc>,
}

/// The event feed.
pub trait EventFeed: Send + Sync {
    /// Records an entry unless its key was recorded before; `true` when recorded now.
    fn record<'a>(&'a self, entry: &'a FeedEntry) -> BoxFuture<'a, Result<bool, Error>>;

    /// The most recent entries, newest first, at most `max`, optionally of one object type.
    fn recent<'a>(
        &'a self,
        max: usize,
        object: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Vec<FeedEntry>, Error>>;
}

fn of_object(entry: &FeedEntry, object: Option<&str>) -> bool {
    object.is_none_or(|o| entry.event.object_type.eq_ignore_ascii_case(o))
}

/// The in-memory feed (bounded: the oldest entries and their marks go first).
#[derive(Debug)]
pub struct MemoryFeed {
    max_len: usize,
    state: Mutex<(VecDeque<FeedEntry>, HashSet<String>)>,
}

impl MemoryFeed {
    /// A feed keeping at most `max_len` entries (at least one).
    pub fn new(max_len: usize) -> Self {
        Self {
            max_len: max_len.max(1),
            state: Mutex::default(),
        }
    }
}

impl EventFeed for MemoryFeed {
    fn record<'a>(&'a self, entry: &'a FeedEntry) -> BoxFuture<'a, Result<bool, Error>> {
        Box::pin(async move {
            let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
            let (entries, keys) = &mut *state;
            if !keys.insert(entry.key.clone()) {
                return Ok(false);
            }
            entries.push_back(entry.clone());
            while entries.len() > self.max_len {
                if let Some(old) = entries.pop_front() {
                    keys.remove(&old.key);
                }
            }
            Ok(true)
        })
    }

    fn recent<'a>(
        &'a self,
        max: usize,
        object: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Vec<FeedEntry>, Error>> {
        Box::pin(async move {
            let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
            Ok(state
                .0
                .iter()
                .rev()
                .filter(|e| of_object(e, object))
                .take(max)
                .cloned()
                .collect())
        })
    }
}

/// Mark and append in one step: `SET mark NX EX ttl`, then `XADD MAXLEN ~` only if new.
static RECORD: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[1]) then
  redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'entry', ARGV[3])
  return 1
end
return 0
",
    )
});

/// How long a recorded key is remembered (Salesforce retries for 24 hours).
const MARK_TTL_SECONDS: u64 = 48 * 60 * 60;

/// The most entries one `recent` call scans.
const MAX_SCAN: usize = 10_000;

/// The Redis Stream feed: the stream `{prefix}feed` and marks `{prefix}feed:seen:{key}`.
///
/// Commands go over `webhooks`' [`RedisStore`] (one shared multiplexed connection, each call
/// within its timeout): the worker records every event it processes, and a pooled connection
/// per call would cost a `PING` round trip each.
#[derive(Clone)]
pub struct RedisFeed {
    redis: RedisStore,
    stream: String,
    mark_prefix: String,
    max_len: usize,
}

impl std::fmt::Debug for RedisFeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisFeed")
            .field("stream", &self.stream)
            .field("max_len", &self.max_len)
            .finish_non_exhaustive()
    }
}

impl RedisFeed {
    /// A feed on `url` under `prefix`, trimmed to about `max_len` entries.
    ///
    /// # Errors
    /// [`Error::FeedUnavailable`] when the URL is invalid.
    pub fn new(url: &str, prefix: &str, max_len: usize) -> Result<Self, Error> {
        let redis = RedisStore::new(url, prefix).map_err(feed_error)?;
        Ok(Self {
            redis,
            stream: format!("{prefix}feed"),
            mark_prefix: format!("{prefix}feed:seen:"),
            max_len: max_len.max(1),
        })
    }

    /// The stream's key.
    pub fn stream_key(&self) -> &str {
        &self.stream
    }
}

fn feed_error(error: webhooks::Error) -> Error {
    Error::FeedUnavailable(error.to_string())
}

impl EventFeed for RedisFeed {
    fn record<'a>(&'a self, entry: &'a FeedEntry) -> BoxFuture<'a, Result<bool, Error>> {
        Box::pin(async move {
            let json =
                serde_json::to_string(entry).map_err(|e| Error::FeedUnavailable(e.to_string()))?;
            let mut invocation = RECORD.key(&self.stream);
            invocation
                .key(format!("{}{}", self.mark_prefix, entry.key))
                .arg(MARK_TTL_SECONDS)
                .arg(self.max_len)
                .arg(json);
            let mut connection = self.redis.connection().await.map_err(feed_error)?;
            let added: i64 = self
                .redis
                .timed(async { Ok(invocation.invoke_async(&mut connection).await?) })
                .await
                .map_err(feed_error)?;
            Ok(added == 1)
        })
    }

    fn recent<'a>(
        &'a self,
        max: usize,
        object: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Vec<FeedEntry>, Error>> {
        Box::pin(async move {
            let scan = if object.is_some() {
                MAX_SCAN
            } else {
                max.min(MAX_SCAN)
            };
            let mut connection = self.redis.connection().await.map_err(feed_error)?;
            let reply: redis::streams::StreamRangeReply = self
                .redis
                .timed(async {
                    Ok(redis::cmd("XREVRANGE")
                        .arg(&self.stream)
                        .arg("+")
                        .arg("-")
                        .arg("COUNT")
                        .arg(scan)
                        .query_async(&mut connection)
                        .await?)
                })
                .await
                .map_err(feed_error)?;
            Ok(reply
                .ids
                .iter()
                .filter_map(|id| id.get::<String>("entry"))
                .filter_map(|json| serde_json::from_str::<FeedEntry>(&json).ok())
                .filter(|e| of_object(e, object))
                .take(max)
                .collect())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_support::TestRedis;

    fn entry(n: u32, object: &str) -> FeedEntry {
        FeedEntry {
            key: format!("00D000000000001:04l{n:015}"),
            event: Event {
                org_id: "00D000000000001AAA".into(),
                action_id: "04k000000000001AAA".into(),
                object_type: object.into(),
                record_id: None,
                fields: Vec::new(),
                notification_id: format!("04l{n:015}"),
                received_at: Utc::now(),
            },
            rules: vec!["r".into()],
            task_ids: Vec::new(),
            processed_at: Utc::now(),
        }
    }

    async fn exercise(feed: &dyn EventFeed) {
        assert!(feed.record(&entry(1, "Lead")).await.unwrap());
        assert!(!feed.record(&entry(1, "Lead")).await.unwrap(), "dedupe");
        assert!(feed.record(&entry(2, "Opportunity")).await.unwrap());
        assert!(feed.record(&entry(3, "Lead")).await.unwrap());
        let recent = feed.recent(10, None).await.unwrap();
        let keys: Vec<_> = recent
            .iter()
            .map(|e| e.event.notification_id.clone())
            .collect();
        assert_eq!(keys, [3, 2, 1].map(|n| format!("04l{n:015}")));
        let leads = feed.recent(1, Some("lead")).await.unwrap();
        assert_eq!(
            leads,
            vec![entry(3, "Lead")]
                .into_iter()
                .map(|mut e| {
                    e.event.received_at = leads[0].event.received_at;
                    e.processed_at = leads[0].processed_at;
                    e
                })
                .collect::<Vec<_>>()
        );
    }

    #[tokio::test]
    async fn memory_feed_dedupes_orders_and_filters() {
        exercise(&MemoryFeed::new(100)).await;
    }

    #[tokio::test]
    async fn memory_feed_is_bounded() {
        let feed = MemoryFeed::new(2);
        for n in 0..5 {
            feed.record(&entry(n, "Lead")).await.unwrap();
        }
        assert_eq!(feed.recent(10, None).await.unwrap().len(), 2);
    }

    #[tokio::test]
    async fn redis_feed_dedupes_orders_and_filters() {
        let redis = TestRedis::shared();
        exercise(&RedisFeed::new(redis.url(), redis.prefix(), 100).unwrap()).await;
    }
}
