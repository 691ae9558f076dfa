//! Scale-out: replicas sharing one Redis. Two `sfmcp-worker` processes take webhook deliveries
//! spread over both (every notification delivered once to each, as a balancer in front of
//! replicas and Salesforce's redelivery make happen), and each notification is processed
//! exactly once: one Task per Lead, both replicas did part of the work.

use std::time::Duration;

use futures::StreamExt;

use test_support::TestRedis;

use crate::worker_harness::{
    ORG, WorkerProcess, free_addr, keyed_tasks, lead_note, lead_worker_env, post, sandbox_client,
    sandbox_org, soap_message, wait_until, xlen,
};

const LEADS: u32 = 300;

/// Posts until acknowledged, as Salesforce does; returns how many times a replica answered 503
/// (its store did not answer in time: the message may or may not have been stored).
async fn deliver(http: &reqwest::Client, url: &str, message: &str) -> u32 {
    let mut refused = 0;
    loop {
        let (status, body) = post(http, url, message.to_owned()).await;
        match status {
            200 => return refused,
            503 if refused < 100 => refused += 1,
            _ => panic!("{status}: {body}"),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_on_one_redis_process_each_notification_once() {
    let redis = TestRedis::shared();
    let org = sandbox_org().await;
    let client = sandbox_client(&org);
    let env = lead_worker_env(&org, &redis, "scale-out");
    let workers = [
        WorkerProcess::start(free_addr(), &env).await,
        WorkerProcess::start(free_addr(), &env).await,
    ];
    let http = reqwest::Client::new();
    // Messages of 1–3 notifications; the first delivery of each goes to one replica, the
    // redelivery to the other, concurrently.
    let mut n = 0;
    let mut sends = Vec::new();
    let mut turn = 0;
    while n < LEADS {
        let size = (n % 3 + 1).min(LEADS - n);
        let notes: Vec<_> = (n..n + size).map(lead_note).collect();
        n += size;
        let message = soap_message(ORG, &notes);
        for replica in [turn % 2, (turn + 1) % 2] {
            let (http, url, message) = (http.clone(), workers[replica].endpoint(), message.clone());
            sends.push(async move { deliver(&http, &url, &message).await });
        }
        turn += 1;
    }
    // Eight deliveries at a time, as Salesforce's few delivery threads per org do.
    let in_progress: u32 = futures::stream::iter(sends)
        .buffer_unordered(8)
        .collect::<Vec<u32>>()
        .await
        .into_iter()
        .sum();

    wait_until(
        Duration::from_secs(60),
        "every lead has its task",
        || async { keyed_tasks(&client).await >= u64::from(LEADS) },
    )
    .await;
    let mut processed = 0;
    let mut duplicates = 0;
    for worker in &workers {
        let by_this = worker.metric("processed").await;
        assert!(by_this > 0, "a replica processed nothing");
        processed += by_this;
        duplicates += worker.metric("duplicates").await;
    }
    assert_eq!(
        keyed_tasks(&client).await,
        u64::from(LEADS),
        "one task per lead"
    );
    assert_eq!(
        processed,
        u64::from(LEADS),
        "each notification processed once"
    );
    assert!(
        duplicates >= u64::from(LEADS),
        "every redelivery recognised ({in_progress} answers were 503s)"
    );
    assert_eq!(
        xlen(redis.url(), &format!("{}events:dead", redis.prefix())),
        0,
        "no dead letters"
    );
}
