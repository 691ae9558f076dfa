//! The event feed: a capped, newest-last log of what happened (every recorded event with the
//! rules that acted on it), which the MCP server's `recentEvents` tool reads through
//! [`EventFeed::recent`]. In memory for the embedded mode ([`MemoryFeed`]), on a Redis Stream
//! trimmed with `XADD MAXLEN ~` in production ([`RedisFeed`]).
//!
//! Recording is idempotent: each entry carries the event's dedupe key, and an entry whose key
//! was recorded before (within the mark's TTL, or while still in memory) is skipped, so a
//! redelivered event does not appear twice.
//!
//! [`EventFeed::follow`] reads what is recorded from then on (the server drops cached records
//! that events name): a broadcast from [`MemoryFeed`], `XREAD BLOCK` on [`RedisFeed`]'s stream.
//! The worker and the server name the stream with the same [`stream_key`] under the same
//! `SFMCP_REDIS_PREFIX` ([`DEFAULT_KEY_PREFIX`] by default), so the two cannot drift apart.

use std::collections::{HashSet, VecDeque};
use std::sync::{LazyLock, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use redis::Script;
use redis::aio::MultiplexedConnection;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;
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

    /// A cursor after the newest entry, from which [`FeedCursor::next`] reads what is recorded
    /// from now on (by any process sharing the feed).
    fn follow(&self) -> BoxFuture<'_, Result<FeedCursor, Error>>;
}

/// What a [`FeedCursor`] read.
#[derive(Debug, Clone, PartialEq)]
pub enum Followed {
    /// Entries recorded after the cursor, oldest first (none when the wait ran out).
    Entries(Vec<FeedEntry>),
    /// This many entries went by unread (a reader of the in-memory feed fell behind): whatever
    /// depends on them is stale.
    Missed(u64),
}

/// A position in a feed ([`EventFeed::follow`]).
pub struct FeedCursor(CursorKind);

enum CursorKind {
    Memory(broadcast::Receiver<FeedEntry>),
    Redis(Box<RedisCursor>),
}

struct RedisCursor {
    feed: RedisFeed,
    /// The id of the last entry read; explicit rather than `$`, so that entries recorded
    /// between two reads (or while reconnecting) are still read.
    last: String,
    connection: Option<MultiplexedConnection>,
}

impl std::fmt::Debug for FeedCursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            CursorKind::Memory(_) => f.write_str("FeedCursor::Memory"),
            CursorKind::Redis(redis) => f
                .debug_struct("FeedCursor::Redis")
                .field("stream", &redis.feed.stream)
                .field("last", &redis.last)
                .finish_non_exhaustive(),
        }
    }
}

/// The most entries one [`FeedCursor::next`] returns.
const FOLLOW_BATCH: usize = 100;

impl FeedCursor {
    /// What was recorded after the cursor, waiting up to `wait` for it; moves the cursor on.
    ///
    /// # Errors
    /// [`Error::FeedUnavailable`] when Redis does not answer (the cursor keeps its place: the
    /// next call reconnects and reads on from there) or the in-memory feed is gone.
    pub async fn next(&mut self, wait: Duration) -> Result<Followed, Error> {
        match &mut self.0 {
            CursorKind::Memory(receiver) => match tokio::time::timeout(wait, receiver.recv()).await
            {
                Err(_) => Ok(Followed::Entries(Vec::new())),
                Ok(Ok(entry)) => {
                    let mut entries = vec![entry];
                    while entries.len() < FOLLOW_BATCH
                        && let Ok(entry) = receiver.try_recv()
                    {
                        entries.push(entry);
                    }
                    Ok(Followed::Entries(entries))
                }
                Ok(Err(broadcast::error::RecvError::Lagged(n))) => Ok(Followed::Missed(n)),
                Ok(Err(broadcast::error::RecvError::Closed)) => {
                    Err(Error::FeedUnavailable("the feed was dropped".into()))
                }
            },
            CursorKind::Redis(redis) => {
                let RedisCursor {
                    feed,
                    last,
                    connection,
                } = &mut **redis;
                let result = feed.read_after(connection, last, wait).await;
                if result.is_err() {
                    // The connection may be broken: the next call opens another.
                    *connection = None;
                }
                let (entries, newest) = result?;
                if let Some(newest) = newest {
                    *last = newest;
                }
                Ok(Followed::Entries(entries))
            }
        }
    }
}

fn of_object(entry: &FeedEntry, object: Option<&str>) -> bool {
    object.is_none_or(|o| entry.event.object_type.eq_ignore_ascii_case(o))
}

/// How many recorded entries a follower of the in-memory feed may fall behind before it is told
/// it missed some.
const MEMORY_FOLLOW_CAPACITY: usize = 1_024;

/// The in-memory feed (bounded: the oldest entries and their marks go first).
#[derive(Debug)]
pub struct MemoryFeed {
    max_len: usize,
    state: Mutex<(VecDeque<FeedEntry>, HashSet<String>)>,
    recorded: broadcast::Sender<FeedEntry>,
}

impl MemoryFeed {
    /// A feed keeping at most `max_len` entries (at least one).
    pub fn new(max_len: usize) -> Self {
        Self {
            max_len: max_len.max(1),
            state: Mutex::default(),
            recorded: broadcast::channel(MEMORY_FOLLOW_CAPACITY).0,
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
            // Sent under the lock, so followers hear entries in the order they were recorded;
            // without followers there is no one to tell.
            let _ = self.recorded.send(entry.clone());
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

    fn follow(&self) -> BoxFuture<'_, Result<FeedCursor, Error>> {
        Box::pin(async move { Ok(FeedCursor(CursorKind::Memory(self.recorded.subscribe()))) })
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

/// The prefix of the Redis keys the worker and the server share when `SFMCP_REDIS_PREFIX` is
/// not set (both binaries' default).
pub const DEFAULT_KEY_PREFIX: &str = "sfmcp:";

/// The feed's stream under `prefix`: `{prefix}feed`. The worker writes it, the server reads it.
pub fn stream_key(prefix: &str) -> String {
    format!("{prefix}feed")
}

/// How long Redis may take beyond a blocking read's own wait before the read is abandoned.
const FOLLOW_GRACE: Duration = Duration::from_secs(2);

/// The Redis Stream feed: the stream `{prefix}feed` and marks `{prefix}feed:seen:{key}`.
///
/// Commands go over `webhooks`' [`RedisStore`] (one shared multiplexed connection, each call
/// within its timeout): the worker records every event it processes, and a pooled connection
/// per call would cost a `PING` round trip each.
#[derive(Clone)]
pub struct RedisFeed {
    redis: RedisStore,
    /// For the follower's own connection: a blocking read must not hold the shared one.
    client: redis::Client,
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
        let client = redis::Client::open(url)?;
        Ok(Self {
            redis,
            client,
            stream: stream_key(prefix),
            mark_prefix: format!("{prefix}feed:seen:"),
            max_len: max_len.max(1),
        })
    }

    /// The stream's key.
    pub fn stream_key(&self) -> &str {
        &self.stream
    }

    /// The entries after the id `after`, waiting up to `wait` (`XREAD BLOCK`), on `connection`
    /// (opened when `None`); with the newest id read.
    async fn read_after(
        &self,
        connection: &mut Option<MultiplexedConnection>,
        after: &str,
        wait: Duration,
    ) -> Result<(Vec<FeedEntry>, Option<String>), Error> {
        let connection = match connection {
            Some(connection) => connection,
            None => {
                let config = redis::AsyncConnectionConfig::new()
                    .set_connection_timeout(Some(FOLLOW_GRACE))
                    .set_response_timeout(Some(wait + FOLLOW_GRACE));
                connection.insert(
                    self.client
                        .get_multiplexed_async_connection_with_config(&config)
                        .await?,
                )
            }
        };
        let reply: Option<redis::streams::StreamReadReply> = redis::cmd("XREAD")
            .arg("COUNT")
            .arg(FOLLOW_BATCH)
            .arg("BLOCK")
            .arg(u64::try_from(wait.as_millis()).unwrap_or(u64::MAX).max(1))
            .arg("STREAMS")
            .arg(&self.stream)
            .arg(after)
            .query_async(connection)
            .await?;
        let ids: Vec<redis::streams::StreamId> = reply
            .map(|r| r.keys.into_iter().flat_map(|k| k.ids).collect())
            .unwrap_or_default();
        let newest = ids.last().map(|id| id.id.clone());
        let entries = ids
            .iter()
            .filter_map(|id| id.get::<String>("entry"))
            .filter_map(|json| serde_json::from_str::<FeedEntry>(&json).ok())
            .collect();
        Ok((entries, newest))
    }
}

impl RedisFeed {
    /// The newest `count` stream entries, newest first (`XREVRANGE + - COUNT`).
    async fn newest(&self, count: usize) -> Result<redis::streams::StreamRangeReply, Error> {
        let mut connection = self.redis.connection().await.map_err(feed_error)?;
        self.redis
            .timed(async {
                Ok(redis::cmd("XREVRANGE")
                    .arg(&self.stream)
                    .arg("+")
                    .arg("-")
                    .arg("COUNT")
                    .arg(count)
                    .query_async(&mut connection)
                    .await?)
            })
            .await
            .map_err(feed_error)
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
            let reply = self.newest(scan).await?;
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

    fn follow(&self) -> BoxFuture<'_, Result<FeedCursor, Error>> {
        Box::pin(async move {
            let newest = self.newest(1).await?;
            // `$` resolved once: the cursor then names the last id it read.
            let last = newest
                .ids
                .first()
                .map_or_else(|| "0-0".to_owned(), |id| id.id.clone());
            Ok(FeedCursor(CursorKind::Redis(Box::new(RedisCursor {
                feed: self.clone(),
                last,
                connection: None,
            }))))
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use test_support::TestRedis;

    /// Entry `n` (notification `04l{n:015}`) about `object`.
    pub(crate) fn entry(n: u32, object: &str) -> FeedEntry {
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

    /// Reads from `cursor` until `n` entries came; their notification numbers.
    async fn read(cursor: &mut FeedCursor, n: usize) -> Vec<String> {
        let mut read = Vec::new();
        while read.len() < n {
            match cursor.next(Duration::from_secs(5)).await.unwrap() {
                Followed::Entries(entries) => {
                    assert!(!entries.is_empty(), "nothing new within 5 s: {read:?}");
                    read.extend(entries.into_iter().map(|e| e.event.notification_id));
                }
                missed @ Followed::Missed(_) => panic!("{missed:?}"),
            }
        }
        read
    }

    async fn follows_what_is_recorded_from_then_on(feed: &dyn EventFeed) {
        assert!(feed.record(&entry(1, "Lead")).await.unwrap());
        let mut cursor = feed.follow().await.unwrap();
        assert_eq!(
            cursor.next(Duration::from_millis(20)).await.unwrap(),
            Followed::Entries(Vec::new()),
            "what was recorded before is not followed"
        );
        for n in [2, 2, 3] {
            feed.record(&entry(n, "Account")).await.unwrap();
        }
        assert_eq!(
            read(&mut cursor, 2).await,
            [2, 3].map(|n| format!("04l{n:015}")),
            "each new entry once, in order"
        );
        feed.record(&entry(4, "Lead")).await.unwrap();
        assert_eq!(read(&mut cursor, 1).await, [format!("04l{:015}", 4)]);
    }

    #[tokio::test]
    async fn memory_feed_is_followed() {
        follows_what_is_recorded_from_then_on(&MemoryFeed::new(100)).await;
    }

    #[tokio::test]
    async fn redis_feed_is_followed_across_processes() {
        let redis = TestRedis::shared();
        // The writer and the follower share only the URL and prefix, as the worker and the
        // server do.
        let writer = RedisFeed::new(redis.url(), redis.prefix(), 100).unwrap();
        let reader = RedisFeed::new(redis.url(), redis.prefix(), 1).unwrap();
        assert_eq!(reader.stream_key(), stream_key(redis.prefix()));
        assert!(writer.record(&entry(1, "Lead")).await.unwrap());
        let mut cursor = reader.follow().await.unwrap();
        assert_eq!(
            cursor.next(Duration::from_millis(20)).await.unwrap(),
            Followed::Entries(Vec::new())
        );
        for n in [2, 2, 3] {
            writer.record(&entry(n, "Account")).await.unwrap();
        }
        assert_eq!(
            read(&mut cursor, 2).await,
            [2, 3].map(|n| format!("04l{n:015}"))
        );
    }

    #[tokio::test]
    async fn a_follower_that_falls_behind_the_memory_feed_is_told_how_much_it_missed() {
        let feed = MemoryFeed::new(10);
        let mut cursor = feed.follow().await.unwrap();
        let extra = 5;
        for n in 0..MEMORY_FOLLOW_CAPACITY + extra {
            feed.record(&entry(u32::try_from(n).unwrap(), "Lead"))
                .await
                .unwrap();
        }
        assert_eq!(
            cursor.next(Duration::from_secs(5)).await.unwrap(),
            Followed::Missed(u64::try_from(extra).unwrap())
        );
    }
}
