//! SIGTERM: the worker process stops accepting connections at once, still answers the request
//! it is reading (`Ack` after storing it), finishes the events its consumers hold (none is
//! left pending with it), and exits with status 0 within its grace period. Nothing it
//! acknowledged is lost: the next worker processes what was stored but not yet taken.

use std::time::{Duration, Instant};

use redis::streams::StreamPendingReply;
use test_support::TestRedis;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use crate::worker_harness::{
    LEAD_RULES, ORG, SECRET, WorkerProcess, free_addr, keyed_tasks, lead_note, post,
    redis_connection, sandbox_client, sandbox_org, soap_message, wait_until, worker_env,
};

/// Events in the first message; with the sandbox's added latency their Tasks take seconds.
const EVENTS: u32 = 20;

/// Entries delivered to a consumer and not acknowledged.
fn pending(url: &str, stream: &str) -> u64 {
    let reply: StreamPendingReply = redis::cmd("XPENDING")
        .arg(stream)
        .arg("workers")
        .query(&mut redis_connection(url))
        .expect("XPENDING");
    u64::try_from(reply.count()).unwrap_or(u64::MAX)
}

/// Sends a request's head with `Expect: 100-continue` and waits for `100 Continue`: hyper sends
/// it only once the intake reads the body, so the request is then in flight.
async fn start_request(worker: &WorkerProcess, body_len: usize) -> TcpStream {
    let mut stream = TcpStream::connect(worker.addr).await.expect("connect");
    let head = format!(
        "POST /webhooks/salesforce/outbound/{SECRET} HTTP/1.1\r\nHost: {}\r\nContent-Type: text/xml; charset=utf-8\r\nContent-Length: {body_len}\r\nExpect: 100-continue\r\n\r\n",
        worker.addr
    );
    stream.write_all(head.as_bytes()).await.expect("head");
    let mut interim = [0u8; 25];
    stream.read_exact(&mut interim).await.expect("100 Continue");
    assert!(
        interim.starts_with(b"HTTP/1.1 100 Continue"),
        "{}",
        String::from_utf8_lossy(&interim)
    );
    stream
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_work_in_hand_and_loses_nothing() {
    let redis = TestRedis::shared();
    let org = sandbox_org().await;
    let client = sandbox_client(&org);
    let mut env = worker_env(&org, &redis, ORG, ("shutdown", LEAD_RULES));
    env.extend([
        ("SFMCP_WORKER_CONSUMERS", "2".to_owned()),
        ("SFMCP_WORKER_SHUTDOWN_GRACE_SECS", "20".to_owned()),
    ]);
    let stream = format!("{}events", redis.prefix());
    // Salesforce answers slowly, so that the consumers hold events when SIGTERM arrives.
    let faults = reqwest::Client::new()
        .put(format!("{}/__sandbox/faults", org.base_url()))
        .json(&serde_json::json!({"latencyMs": 150}))
        .send()
        .await
        .expect("set latency");
    assert!(faults.status().is_success());

    let mut worker = WorkerProcess::start(free_addr(), &env).await;
    let http = reqwest::Client::new();
    let notes: Vec<_> = (0..EVENTS).map(lead_note).collect();
    let (status, text) = post(&http, &worker.endpoint(), soap_message(ORG, &notes)).await;
    assert_eq!(status, 200, "{text}");
    wait_until(
        Duration::from_secs(20),
        "a consumer holds the events",
        || async { pending(redis.url(), &stream) > 0 },
    )
    .await;
    let last = soap_message(ORG, &[lead_note(EVENTS)]);
    let mut open = start_request(&worker, last.len()).await;

    worker.terminate();
    let refused_at = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(worker.addr).await.is_ok() {
        assert!(Instant::now() < refused_at, "still accepting after SIGTERM");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        worker.try_exit().is_none() && pending(redis.url(), &stream) > 0,
        "connections are refused while events are still in hand"
    );
    open.write_all(last.as_bytes()).await.expect("body");
    let mut answer = String::new();
    open.read_to_string(&mut answer).await.expect("answer");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("<Ack>true</Ack>"), "{answer}");

    let exit_by = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = worker.try_exit() {
            break status;
        }
        assert!(Instant::now() < exit_by, "no exit within the deadline");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "exit status {status}");
    assert_eq!(
        pending(redis.url(), &stream),
        0,
        "every event taken was finished and acknowledged"
    );
    // A consumer blocked in its read when SIGTERM came may have taken the last event too.
    let done = keyed_tasks(&client).await;
    assert!(
        done == u64::from(EVENTS) || done == u64::from(EVENTS) + 1,
        "the events in hand were processed: {done} tasks"
    );

    // The message acknowledged during shutdown was stored: the next worker processes it.
    let next = WorkerProcess::start(free_addr(), &env).await;
    wait_until(
        Duration::from_secs(20),
        "the last event is processed",
        || async { keyed_tasks(&client).await == u64::from(EVENTS) + 1 },
    )
    .await;
    assert_eq!(next.metric("dead_lettered").await, 0);
}
