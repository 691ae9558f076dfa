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
    use super::*;

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
