//! [`RedisStreamQueue`]: the queue on a Redis Stream with a consumer group.
//!
//! Keys (all under the store's prefix): the stream (`events`), the dead-letter stream
//! (`events:dead`), a hash of last errors per pending entry (`events:errors`) and the dedupe
//! marks (`dedupe:{org15}:{notification}`) shared with [`crate::RedisIdempotencyStore`].
//! Acknowledged entries are deleted (`XACK` + `XDEL`: there is one consumer group), so the
//! stream holds only the backlog. The ingest refuses a message that would take the backlog past
//! `max_len` (the intake answers 503 and Salesforce delivers again later) instead of trimming:
//! `MAXLEN` would drop entries whether or not they were processed, after their `Ack`.
//!
//! The ingest script touches dedupe keys it is not handed as `KEYS`: fine on a single Redis or
//! a primary with replicas, not on Redis Cluster (which would need hash-tagged keys).

use std::collections::HashMap;
use std::sync::LazyLock;
use std::time::Duration;

use redis::streams::{StreamAutoClaimReply, StreamId, StreamPendingCountReply, StreamReadReply};
use redis::{RedisError, Script, Value};

use super::{DeadLetter, Delivery, EventQueue, FailOutcome, QueueLimits, truncate_error};
use crate::ingest::{Ingest, IngestOutcome};
use chrono::{DateTime, Utc};

use crate::{BoxFuture, Error, Event, IdempotencyTtl, OutboundMessage, RedisStore, dedupe_key};

/// The atomic ingest: per event, mark it done with `SET NX` and, when it was not marked
/// before, `XADD` it. Redis runs a script without interleaving, so the mark and the entry appear
/// together; if `XADD` fails the mark is deleted again before the error is returned, so that the
/// redelivery is taken as new. Returns per event 0 (enqueued), 1 (duplicate) or 2 (pending in a
/// staged ingest).
static INGEST: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('XLEN', KEYS[1]) + (#ARGV - 3) / 2 > tonumber(ARGV[3]) then
  return redis.error_reply('QUEUE_FULL the event backlog is at its limit')
end
local out = {}
for i = 4, #ARGV, 2 do
  local key = ARGV[1] .. ARGV[i]
  if redis.call('SET', key, 'done', 'NX', 'EX', ARGV[2]) then
    local added = redis.pcall('XADD', KEYS[1], '*', 'event', ARGV[i + 1])
    if type(added) == 'table' and added.err then
      redis.call('DEL', key)
      return added
    end
    out[#out + 1] = 0
  elseif redis.call('GET', key) == 'done' then
    out[#out + 1] = 1
  else
    out[#out + 1] = 2
  end
end
return out
",
    )
});

/// Names and limits of the stream queue; names are relative to the store's key prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamConfig {
    /// The stream (default `events`).
    pub stream: String,
    /// The consumer group (default `workers`).
    pub group: String,
    /// The dead-letter stream (default `events:dead`).
    pub dead_letter_stream: String,
    /// Trimming, delivery and dead-letter limits.
    pub limits: QueueLimits,
    /// TTLs of the dedupe marks written by [`Ingest::ingest`].
    pub ttl: IdempotencyTtl,
}

impl Default for StreamConfig {
    fn default() -> Self {
        Self {
            stream: "events".to_owned(),
            group: "workers".to_owned(),
            dead_letter_stream: "events:dead".to_owned(),
            limits: QueueLimits::default(),
            ttl: IdempotencyTtl::default(),
        }
    }
}

/// The Redis Streams queue.
#[derive(Debug, Clone)]
pub struct RedisStreamQueue {
    redis: RedisStore,
    stream: String,
    dead: String,
    errors: String,
    dedupe_prefix: String,
    group: String,
    limits: QueueLimits,
    ttl: IdempotencyTtl,
}

fn decode(value: Option<&Value>) -> Result<Event, String> {
    let text: String = match value {
        Some(v) => redis::from_redis_value_ref(v).map_err(|e| e.to_string())?,
        None => return Err("entry has no event field".to_owned()),
    };
    serde_json::from_str(&text).map_err(|e| format!("undecodable event: {e}"))
}

fn is_no_group(error: &Error) -> bool {
    matches!(error, Error::StoreUnavailable(message) if message.contains("NOGROUP"))
}

impl RedisStreamQueue {
    /// A queue on `redis` with the given names and limits.
    pub fn new(redis: RedisStore, config: StreamConfig) -> Self {
        Self {
            stream: redis.key(&config.stream),
            dead: redis.key(&config.dead_letter_stream),
            errors: redis.key(&format!("{}:errors", config.stream)),
            dedupe_prefix: redis.key("dedupe:"),
            group: config.group,
            limits: config.limits,
            ttl: config.ttl,
            redis,
        }
    }

    /// The stream's full key.
    pub fn stream_key(&self) -> &str {
        &self.stream
    }

    /// Creates the consumer group (and the stream) if missing. Receiving does this on demand,
    /// also after a Redis restart lost them.
    ///
    /// # Errors
    /// [`Error::StoreUnavailable`] when Redis cannot be reached.
    pub async fn ensure_group(&self) -> Result<(), Error> {
        let mut connection = self.redis.connection().await?;
        let created: Result<(), RedisError> = self
            .redis
            .timed(async {
                Ok(redis::cmd("XGROUP")
                    .arg("CREATE")
                    .arg(&self.stream)
                    .arg(&self.group)
                    .arg("0")
                    .arg("MKSTREAM")
                    .query_async(&mut connection)
                    .await)
            })
            .await?;
        match created {
            Err(e) if e.code() == Some("BUSYGROUP") => Ok(()),
            other => Ok(other?),
        }
    }

    async fn read_new(
        &self,
        consumer: &str,
        max: usize,
        wait: Duration,
    ) -> Result<Vec<StreamId>, Error> {
        match self.read_new_once(consumer, max, wait).await {
            Err(error) if is_no_group(&error) => {
                self.ensure_group().await?;
                self.read_new_once(consumer, max, wait).await
            }
            other => other,
        }
    }

    async fn read_new_once(
        &self,
        consumer: &str,
        max: usize,
        wait: Duration,
    ) -> Result<Vec<StreamId>, Error> {
        let mut connection = self.redis.dedicated_connection().await?;
        let mut command = redis::cmd("XREADGROUP");
        command
            .arg("GROUP")
            .arg(&self.group)
            .arg(consumer)
            .arg("COUNT")
            .arg(max.max(1));
        if !wait.is_zero() {
            command
                .arg("BLOCK")
                .arg(u64::try_from(wait.as_millis()).unwrap_or(u64::MAX));
        }
        command.arg("STREAMS").arg(&self.stream).arg(">");
        let reply: Option<StreamReadReply> = tokio::time::timeout(
            wait + self.redis.timeout(),
            command.query_async(&mut connection),
        )
        .await
        .map_err(|_| Error::StoreTimeout(wait))??;
        Ok(reply
            .map(|r| r.keys.into_iter().flat_map(|k| k.ids).collect())
            .unwrap_or_default())
    }

    async fn autoclaim(
        &self,
        consumer: &str,
        min_idle: Duration,
        max: usize,
    ) -> Result<StreamAutoClaimReply, Error> {
        match self.autoclaim_once(consumer, min_idle, max).await {
            Err(error) if is_no_group(&error) => {
                self.ensure_group().await?;
                self.autoclaim_once(consumer, min_idle, max).await
            }
            other => other,
        }
    }

    async fn autoclaim_once(
        &self,
        consumer: &str,
        min_idle: Duration,
        max: usize,
    ) -> Result<StreamAutoClaimReply, Error> {
        let mut connection = self.redis.connection().await?;
        self.redis
            .timed(async {
                Ok(redis::cmd("XAUTOCLAIM")
                    .arg(&self.stream)
                    .arg(&self.group)
                    .arg(consumer)
                    .arg(u64::try_from(min_idle.as_millis()).unwrap_or(u64::MAX))
                    .arg("0-0")
                    .arg("COUNT")
                    .arg(max)
                    .query_async(&mut connection)
                    .await?)
            })
            .await
    }

    /// Moves entries to the dead-letter stream and acknowledges them, atomically.
    async fn bury(&self, letters: &[DeadLetter]) -> Result<(), Error> {
        if letters.is_empty() {
            return Ok(());
        }
        let mut pipe = redis::pipe();
        pipe.atomic();
        for letter in letters {
            let payload =
                serde_json::to_string(letter).map_err(|e| Error::EventEncoding(e.to_string()))?;
            pipe.cmd("XADD")
                .arg(&self.dead)
                .arg("MAXLEN")
                .arg("~")
                .arg(self.limits.max_dead_letters)
                .arg("*")
                .arg("dead")
                .arg(payload)
                .ignore();
            pipe.xack(&self.stream, &self.group, &[&letter.entry_id])
                .ignore();
            pipe.xdel(&self.stream, &[&letter.entry_id]).ignore();
            pipe.hdel(&self.errors, &letter.entry_id).ignore();
        }
        let mut connection = self.redis.connection().await?;
        self.redis
            .timed(async { Ok(pipe.query_async::<()>(&mut connection).await?) })
            .await
    }

    fn deliveries(
        &self,
        ids: Vec<StreamId>,
        counts: &HashMap<String, u64>,
    ) -> (Vec<Delivery>, Vec<DeadLetter>) {
        let mut deliveries = Vec::new();
        let mut dead = Vec::new();
        for id in ids {
            let count = counts.get(&id.id).copied().unwrap_or(1);
            match decode(id.map.get("event")) {
                Ok(event) => deliveries.push(Delivery {
                    entry_id: id.id,
                    event,
                    delivery_count: count,
                }),
                Err(error) => dead.push(DeadLetter {
                    entry_id: id.id,
                    event: None,
                    error,
                    delivery_count: count,
                }),
            }
        }
        (deliveries, dead)
    }
}

impl EventQueue for RedisStreamQueue {
    fn enqueue<'a>(&'a self, events: &'a [Event]) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            if events.is_empty() {
                return Ok(());
            }
            let mut connection = self.redis.connection().await?;
            // Refuse rather than trim: trimming would drop unprocessed events. The check and the
            // XADDs are not atomic, so concurrent enqueues may overshoot the limit slightly.
            let backlog: usize = self
                .redis
                .timed(async {
                    Ok(redis::cmd("XLEN")
                        .arg(&self.stream)
                        .query_async(&mut connection)
                        .await?)
                })
                .await?;
            if backlog + events.len() > self.limits.max_len {
                return Err(Error::QueueFull {
                    capacity: self.limits.max_len,
                });
            }
            let mut pipe = redis::pipe();
            for event in events {
                let payload = serde_json::to_string(event)
                    .map_err(|e| Error::EventEncoding(e.to_string()))?;
                pipe.cmd("XADD")
                    .arg(&self.stream)
                    .arg("*")
                    .arg("event")
                    .arg(payload)
                    .ignore();
            }
            self.redis
                .timed(async { Ok(pipe.query_async::<()>(&mut connection).await?) })
                .await
        })
    }

    fn receive<'a>(
        &'a self,
        consumer: &'a str,
        max: usize,
        wait: Duration,
    ) -> BoxFuture<'a, Result<Vec<Delivery>, Error>> {
        Box::pin(async move {
            let ids = self.read_new(consumer, max, wait).await?;
            let (deliveries, dead) = self.deliveries(ids, &HashMap::new());
            self.bury(&dead).await?;
            Ok(deliveries)
        })
    }

    fn ack<'a>(&'a self, entry_ids: &'a [String]) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            if entry_ids.is_empty() {
                return Ok(());
            }
            let mut pipe = redis::pipe();
            pipe.xack(&self.stream, &self.group, entry_ids).ignore();
            pipe.xdel(&self.stream, entry_ids).ignore();
            pipe.hdel(&self.errors, entry_ids).ignore();
            let mut connection = self.redis.connection().await?;
            self.redis
                .timed(async { Ok(pipe.query_async::<()>(&mut connection).await?) })
                .await
        })
    }

    fn fail<'a>(
        &'a self,
        delivery: &'a Delivery,
        error: &'a str,
    ) -> BoxFuture<'a, Result<FailOutcome, Error>> {
        Box::pin(async move {
            let error = truncate_error(error);
            if delivery.delivery_count >= self.limits.max_deliveries {
                self.bury(&[DeadLetter {
                    entry_id: delivery.entry_id.clone(),
                    event: Some(delivery.event.clone()),
                    error,
                    delivery_count: delivery.delivery_count,
                }])
                .await?;
                return Ok(FailOutcome::DeadLettered);
            }
            let mut connection = self.redis.connection().await?;
            self.redis
                .timed(async {
                    Ok(redis::cmd("HSET")
                        .arg(&self.errors)
                        .arg(&delivery.entry_id)
                        .arg(error)
                        .query_async::<()>(&mut connection)
                        .await?)
                })
                .await?;
            Ok(FailOutcome::WillRetry)
        })
    }

    fn reclaim<'a>(
        &'a self,
        consumer: &'a str,
        min_idle: Duration,
        max: usize,
    ) -> BoxFuture<'a, Result<Vec<Delivery>, Error>> {
        Box::pin(async move {
            let max = max.max(1);
            let claimed = self.autoclaim(consumer, min_idle, max).await?;
            let (Some(first), Some(last)) = (claimed.claimed.first(), claimed.claimed.last())
            else {
                return Ok(Vec::new());
            };
            let mut connection = self.redis.connection().await?;
            let (pending, errors): (StreamPendingCountReply, Vec<Option<String>>) = self
                .redis
                .timed(async {
                    let ids: Vec<&str> = claimed.claimed.iter().map(|c| c.id.as_str()).collect();
                    let mut pipe = redis::pipe();
                    pipe.cmd("XPENDING")
                        .arg(&self.stream)
                        .arg(&self.group)
                        .arg(&first.id)
                        .arg(&last.id)
                        .arg(max)
                        .arg(consumer);
                    pipe.cmd("HMGET").arg(&self.errors).arg(&ids);
                    Ok(pipe.query_async(&mut connection).await?)
                })
                .await?;
            let counts: HashMap<String, u64> = pending
                .ids
                .into_iter()
                .map(|p| (p.id, u64::try_from(p.times_delivered).unwrap_or(u64::MAX)))
                .collect();
            let errors: HashMap<String, String> = claimed
                .claimed
                .iter()
                .zip(errors)
                .filter_map(|(c, e)| e.map(|e| (c.id.clone(), e)))
                .collect();
            let (deliveries, mut dead) = self.deliveries(claimed.claimed, &counts);
            let mut live = Vec::with_capacity(deliveries.len());
            for delivery in deliveries {
                if delivery.delivery_count > self.limits.max_deliveries {
                    let error = errors.get(&delivery.entry_id).cloned().unwrap_or_else(|| {
                        format!(
                            "not acknowledged after {} deliveries",
                            delivery.delivery_count - 1
                        )
                    });
                    dead.push(DeadLetter {
                        entry_id: delivery.entry_id,
                        event: Some(delivery.event),
                        error,
                        delivery_count: delivery.delivery_count - 1,
                    });
                } else {
                    live.push(delivery);
                }
            }
            self.bury(&dead).await?;
            Ok(live)
        })
    }

    fn dead_letters<'a>(&'a self, max: usize) -> BoxFuture<'a, Result<Vec<DeadLetter>, Error>> {
        Box::pin(async move {
            let mut connection = self.redis.connection().await?;
            let reply: redis::streams::StreamRangeReply = self
                .redis
                .timed(async {
                    Ok(redis::cmd("XREVRANGE")
                        .arg(&self.dead)
                        .arg("+")
                        .arg("-")
                        .arg("COUNT")
                        .arg(max.max(1))
                        .query_async(&mut connection)
                        .await?)
                })
                .await?;
            let mut letters = Vec::with_capacity(reply.ids.len());
            for id in reply.ids.into_iter().rev() {
                let text: String = match id.map.get("dead") {
                    Some(v) => redis::from_redis_value_ref(v)
                        .map_err(|e| Error::EventEncoding(e.to_string()))?,
                    None => continue,
                };
                letters.push(
                    serde_json::from_str(&text).map_err(|e| Error::EventEncoding(e.to_string()))?,
                );
            }
            Ok(letters)
        })
    }
}

impl RedisStreamQueue {
    /// The dedupe key and JSON payload of each notification of a parsed message, written from the
    /// borrowed message (the same JSON as [`encode`](Self::encode) of its events).
    pub(crate) fn encode_message(
        message: &OutboundMessage<'_>,
        received_at: DateTime<Utc>,
    ) -> Result<Vec<(String, String)>, Error> {
        message
            .notifications
            .iter()
            .map(|notification| {
                Ok((
                    dedupe_key(&message.organization_id, &notification.id),
                    Event::json_of(message, notification, received_at)?,
                ))
            })
            .collect()
    }

    /// The dedupe key and JSON payload of each event, as the ingest script takes them.
    pub(crate) fn encode(events: &[Event]) -> Result<Vec<(String, String)>, Error> {
        events
            .iter()
            .map(|event| {
                let payload = serde_json::to_string(event)
                    .map_err(|e| Error::EventEncoding(e.to_string()))?;
                Ok((event.dedupe_key(), payload))
            })
            .collect()
    }

    /// Runs the ingest script once over these (dedupe key, payload) pairs; a code per pair.
    pub(crate) async fn ingest_encoded<'i>(
        &self,
        items: impl Iterator<Item = &'i (String, String)>,
    ) -> Result<Vec<u8>, Error> {
        let mut invocation = INGEST.prepare_invoke();
        invocation
            .key(&self.stream)
            .arg(&self.dedupe_prefix)
            .arg(self.ttl.done().as_secs())
            .arg(self.limits.max_len);
        for (key, payload) in items {
            invocation.arg(key).arg(payload);
        }
        let mut connection = self.redis.connection().await?;
        self.redis
            .timed(async { Ok(invocation.invoke_async(&mut connection).await?) })
            .await
    }

    /// A message's outcome from its script codes.
    pub(crate) fn outcome(codes: &[u8]) -> Result<IngestOutcome, Error> {
        let mut outcome = IngestOutcome::default();
        for code in codes {
            match code {
                0 => outcome.enqueued += 1,
                1 => outcome.duplicates += 1,
                _ => return Err(Error::DeliveryInProgress),
            }
        }
        Ok(outcome)
    }
}

impl RedisStreamQueue {
    /// One script run over encoded events, checked against their count.
    async fn ingest_items(&self, items: &[(String, String)]) -> Result<IngestOutcome, Error> {
        if items.is_empty() {
            return Ok(IngestOutcome::default());
        }
        let codes = self.ingest_encoded(items.iter()).await?;
        if codes.len() != items.len() {
            return Err(Error::StoreUnavailable(
                "short reply from the ingest script".to_owned(),
            ));
        }
        Self::outcome(&codes)
    }
}

impl Ingest for RedisStreamQueue {
    fn ingest<'a>(&'a self, events: &'a [Event]) -> BoxFuture<'a, Result<IngestOutcome, Error>> {
        let items = Self::encode(events);
        Box::pin(async move { self.ingest_items(&items?).await })
    }

    fn ingest_message<'a>(
        &'a self,
        message: &'a OutboundMessage<'_>,
        received_at: DateTime<Utc>,
    ) -> BoxFuture<'a, Result<IngestOutcome, Error>> {
        let items = Self::encode_message(message, received_at);
        Box::pin(async move { self.ingest_items(&items?).await })
    }
}
