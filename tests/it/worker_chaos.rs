//! Chaos: 10,000 notifications (5,000 new Leads, each sent once more in another message, in
//! shuffled order and in messages of 1–100) posted to the real worker process, which is
//! SIGKILLed mid-stream and restarted (the new process reclaims the dead one's pending entries
//! with XAUTOCLAIM). Its private Redis, persisted as production must be (append-only file,
//! `appendfsync always`), is SIGKILLed and restarted while messages are arriving and entries
//! are waiting or in a consumer's hands; then the first third is delivered once more (as if
//! its Acks had been lost). The sender behaves like Salesforce: every message is retried until
//! acknowledged. At the end there is exactly one Task per Lead: nothing lost, nothing doubled,
//! no dead letters.

use std::sync::Arc;
use std::time::Duration;

use redis::streams::{StreamInfoGroupsReply, StreamInfoStreamReply};
use test_support::TestRedis;

use crate::worker_harness::{
    LEAD_RULES, LeadNote, ORG, WorkerProcess, free_addr, keyed_tasks, lead_note, redis_connection,
    sandbox_client, sandbox_org, soap_message, wait_until, worker_env, xlen,
};

const LEADS: u32 = 5_000;

/// A deterministic xorshift generator, so that a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        usize::try_from(self.0 % n as u64).unwrap_or(0)
    }
}

/// 10,000 notifications in shuffled messages of 1–100.
fn messages() -> Vec<String> {
    let mut rng = Rng(0x5f3c_9e1a_77d2_4b01);
    let mut notes: Vec<LeadNote> = (0..LEADS)
        .flat_map(|n| [lead_note(n), lead_note(n)])
        .collect();
    for i in (1..notes.len()).rev() {
        notes.swap(i, rng.below(i + 1));
    }
    let mut messages = Vec::new();
    let mut rest = notes.as_slice();
    while !rest.is_empty() {
        let size = (rng.below(100) + 1).min(rest.len());
        let (chunk, tail) = rest.split_at(size);
        messages.push(soap_message(ORG, chunk));
        rest = tail;
    }
    messages
}

/// Posts every message, four at a time, each retried until it is acknowledged.
async fn deliver(url: &str, messages: &[String]) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    let semaphore = Arc::new(tokio::sync::Semaphore::new(4));
    let mut tasks = tokio::task::JoinSet::new();
    for message in messages {
        let (client, url, message) = (client.clone(), url.to_owned(), message.clone());
        let permit = semaphore.clone().acquire_owned().await.expect("semaphore");
        tasks.spawn(async move {
            let _permit = permit;
            for _ in 0..600 {
                let sent = client
                    .post(&url)
                    .header("content-type", "text/xml; charset=utf-8")
                    .body(message.clone())
                    .send()
                    .await;
                if sent.is_ok_and(|r| r.status() == 200) {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            panic!("a message was never acknowledged");
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("sender");
    }
}

/// A stream id as a comparable pair.
fn id_pair(id: &str) -> (u64, u64) {
    let (ms, seq) = id.split_once('-').unwrap_or((id, "0"));
    (ms.parse().unwrap_or(0), seq.parse().unwrap_or(0))
}

/// The stream's last generated id and a count that is positive when entries wait for the group
/// or are pending with a consumer (`None` while the stream or group does not exist).
fn backlog(url: &str, stream: &str) -> Option<((u64, u64), u64)> {
    let mut connection = redis_connection(url);
    let info: StreamInfoStreamReply = redis::cmd("XINFO")
        .arg("STREAM")
        .arg(stream)
        .query(&mut connection)
        .ok()?;
    let groups: StreamInfoGroupsReply = redis::cmd("XINFO")
        .arg("GROUPS")
        .arg(stream)
        .query(&mut connection)
        .ok()?;
    let group = groups.groups.first()?;
    let last = id_pair(&info.last_generated_id);
    // `lag` is unknown once entries were deleted (processed ones are): compare ids instead.
    let undelivered = u64::from(id_pair(&group.last_delivered_id) < last);
    Some((
        last,
        undelivered + u64::try_from(group.pending).unwrap_or(0),
    ))
}

/// Whether every stream entry was delivered to the group and acknowledged.
fn drained(url: &str, stream: &str) -> bool {
    let mut connection = redis_connection(url);
    let Ok(info) = redis::cmd("XINFO")
        .arg("STREAM")
        .arg(stream)
        .query::<StreamInfoStreamReply>(&mut connection)
    else {
        return false;
    };
    let Ok(groups) = redis::cmd("XINFO")
        .arg("GROUPS")
        .arg(stream)
        .query::<StreamInfoGroupsReply>(&mut connection)
    else {
        return false;
    };
    groups
        .groups
        .first()
        .is_some_and(|g| g.pending == 0 && g.last_delivered_id == info.last_generated_id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_thousand_notifications_survive_sigkill_and_a_redis_restart() {
    let mut redis = TestRedis::private_persistent();
    let org = sandbox_org().await;
    let client = sandbox_client(&org);
    let mut env = worker_env(&org, &redis, ORG, ("chaos", LEAD_RULES));
    env.push(("SFMCP_WORKER_CLAIM_IDLE_SECS", "1".to_owned()));
    let stream = format!("{}events", redis.prefix());
    let messages = messages();
    let third = messages.len() / 3;
    let (first, rest) = messages.split_at(third);
    let (second, last) = rest.split_at(third);
    let addr = free_addr();

    let mut worker = WorkerProcess::start(addr, &env).await;
    deliver(&worker.endpoint(), first).await;
    // Killed with a backlog in hand: some entries are pending with this consumer.
    worker.kill();
    let worker = WorkerProcess::start(addr, &env).await;
    let sending = tokio::spawn({
        let (url, second) = (worker.endpoint(), second.to_vec());
        async move { deliver(&url, &second).await }
    });
    let mut before = None;
    wait_until(
        Duration::from_secs(40),
        "entries wait in the stream or with a consumer",
        || {
            before = backlog(redis.url(), &stream).filter(|(_, waiting)| *waiting > 0);
            std::future::ready(before.is_some())
        },
    )
    .await;
    // SIGKILL while messages arrive and entries wait: the append-only file keeps every write
    // Redis answered (stream, consumer group, pending entries, dedupe marks).
    redis.stop();
    redis.start();
    let (last_id, _) = before.unwrap_or_default();
    let after = backlog(redis.url(), &stream).expect("the stream and its group survive");
    assert!(
        after.0 >= last_id,
        "no stored entry is lost: last id {:?} after the restart, {last_id:?} before",
        after.0
    );
    sending.await.expect("second third delivered");

    // Salesforce redelivers the first third (as if its Acks were lost) along with the rest:
    // the persisted dedupe marks recognise it.
    let mut again: Vec<String> = first.to_vec();
    again.extend_from_slice(last);
    deliver(&worker.endpoint(), &again).await;
    wait_until(
        Duration::from_secs(60),
        "everything is processed",
        || async { drained(redis.url(), &stream) },
    )
    .await;
    assert!(
        worker.metric("reclaimed").await > 0,
        "the dead consumer's entries were reclaimed"
    );

    assert_eq!(
        keyed_tasks(&client).await,
        u64::from(LEADS),
        "one task per lead"
    );
    assert_eq!(
        xlen(redis.url(), &format!("{}events:dead", redis.prefix())),
        0,
        "no dead letters"
    );
    assert!(
        worker.metric("duplicates").await > 0,
        "duplicates were recognised at the intake"
    );
}
