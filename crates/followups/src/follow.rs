//! Following an event feed for as long as a process runs: [`follow`] reads each batch of new
//! entries from an [`EventFeed`]'s cursor and hands it to a callback, reconnecting after a
//! failure with a bounded exponential backoff, until told to stop. The MCP server uses it to drop
//! cached records that webhook events say have changed.

use std::time::Duration;

use crate::{EventFeed, FeedCursor, Followed};

/// How long one read waits for new entries (also how soon a stop is noticed at worst, although
/// a stop ends the wait at once).
const WAIT: Duration = Duration::from_secs(5);
/// The first pause after a failure; doubled after each further one.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// The longest pause between attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// The next pause after `current`: doubled, at most [`MAX_BACKOFF`].
fn next_backoff(current: Duration) -> Duration {
    (current * 2).min(MAX_BACKOFF)
}

/// Follows `feed` from its newest entry until `stop` completes, calling `on` with every batch
/// read (never with an empty one) and with [`Followed::Missed`] when entries went by unread.
///
/// A failure (Redis down, a read abandoned) is logged as a warning and retried after a pause
/// that doubles from 100 ms to 30 s and resets after a success; the cursor keeps its place, so
/// entries recorded meanwhile are still read. Only opening the first cursor can miss entries:
/// those recorded before it could be opened.
pub async fn follow(
    feed: &dyn EventFeed,
    stop: impl Future<Output = ()>,
    mut on: impl FnMut(Followed),
) {
    let mut stop = std::pin::pin!(stop);
    let mut cursor: Option<FeedCursor> = None;
    let mut backoff = FIRST_BACKOFF;
    loop {
        let step = async {
            match cursor.as_mut() {
                Some(cursor) => cursor.next(WAIT).await.map(Some),
                None => feed.follow().await.map(|opened| {
                    cursor = Some(opened);
                    None
                }),
            }
        };
        let outcome = tokio::select! {
            () = &mut stop => return,
            outcome = step => outcome,
        };
        match outcome {
            Ok(read) => {
                backoff = FIRST_BACKOFF;
                match read {
                    Some(Followed::Entries(entries)) if entries.is_empty() => {}
                    Some(read) => on(read),
                    None => tracing::debug!("following the event feed"),
                }
            }
            Err(error) => {
                tracing::warn!(%error, retry_in = ?backoff, "the event feed cannot be read");
                tokio::select! {
                    () = &mut stop => return,
                    () = tokio::time::sleep(backoff) => {}
                }
                backoff = next_backoff(backoff);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use test_support::TestRedis;
    use tokio::sync::{mpsc, oneshot};

    use super::*;
    use crate::RedisFeed;
    use crate::feed::tests::entry;

    /// Waits (at most 30 s) for the follower to report notification `n`.
    async fn heard(reports: &mut mpsc::UnboundedReceiver<Followed>, n: u32) {
        let wanted = format!("04l{n:015}");
        let wait = async {
            while let Some(read) = reports.recv().await {
                if let Followed::Entries(entries) = read
                    && entries.iter().any(|e| e.event.notification_id == wanted)
                {
                    return;
                }
            }
            panic!("the follower ended");
        };
        tokio::time::timeout(Duration::from_secs(30), wait)
            .await
            .unwrap_or_else(|_| panic!("entry {n} was not followed"));
    }

    #[tokio::test]
    async fn a_follower_reads_on_after_redis_restarts_and_stops_when_told() {
        let mut redis = TestRedis::private();
        let feed = Arc::new(RedisFeed::new(redis.url(), redis.prefix(), 100).unwrap());
        let (report, mut reports) = mpsc::unbounded_channel();
        let (stop, stopped) = oneshot::channel::<()>();
        let follower = tokio::spawn({
            let feed = feed.clone();
            async move {
                let stopped = async {
                    let _ = stopped.await;
                };
                follow(&*feed, stopped, |read| {
                    let _ = report.send(read);
                })
                .await;
            }
        });
        // The follower starts after the newest entry at the time its cursor opens: record
        // until one is heard.
        let mut n = 0;
        loop {
            n += 1;
            assert!(feed.record(&entry(n, "Account")).await.unwrap());
            let first = tokio::time::timeout(Duration::from_millis(200), heard(&mut reports, n));
            if first.await.is_ok() {
                break;
            }
            assert!(n < 100, "the follower never started");
        }

        redis.stop();
        redis.start();
        // Recorded as soon as Redis is back, while the follower may still be pausing: it reads
        // on from its last id rather than from the newest entry, so this is not missed.
        let after = n + 1;
        let mut attempts = 0;
        while feed.record(&entry(after, "Account")).await.is_err() {
            attempts += 1;
            assert!(attempts < 100, "Redis did not come back");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        heard(&mut reports, after).await;

        stop.send(()).unwrap();
        tokio::time::timeout(Duration::from_secs(10), follower)
            .await
            .expect("the follower stops when told")
            .unwrap();
    }

    #[test]
    fn the_backoff_doubles_up_to_its_bound() {
        let mut pause = FIRST_BACKOFF;
        let mut pauses = Vec::new();
        for _ in 0..12 {
            pauses.push(pause.as_millis());
            pause = next_backoff(pause);
        }
        assert_eq!(
            pauses,
            [
                100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 30000, 30000, 30000
            ]
        );
    }
}
