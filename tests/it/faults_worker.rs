//! Redis killed and restarted while `sfmcp-worker` takes in outbound messages: the intake
//! answers 503 (so that Salesforce delivers again) while Redis is down and `Ack`s again once it
//! is back, and every acknowledged notification becomes its Task: none is lost.
//!
//! The Redis here persists every write before answering (`appendfsync always`), as production
//! must; `worker_chaos` covers the unpersisted case, where Redis may only restart once drained.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use test_support::TestRedis;

use crate::worker_harness::{
    ORG, WorkerProcess, free_addr, keyed_tasks, lead_note, lead_worker_env, post, sandbox_client,
    sandbox_org, soap_message, wait_until, xlen,
};

const LEADS: u32 = 400;

/// What the sender saw.
#[derive(Default)]
struct Deliveries {
    acked: AtomicU64,
    unavailable: AtomicU64,
    other: std::sync::Mutex<Vec<String>>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_restarted_during_intake_gives_503s_and_loses_no_acknowledged_message() {
    let mut redis = TestRedis::private_persistent();
    let org = sandbox_org().await;
    let client = sandbox_client(&org);
    let mut env = lead_worker_env(&org, &redis, "redis-restart");
    env.push(("SFMCP_WORKER_CLAIM_IDLE_SECS", "1".to_owned()));
    let worker = WorkerProcess::start(free_addr(), &env).await;
    let endpoint = worker.endpoint();
    // Messages of two notifications, sent two at a time; each retried until acknowledged,
    // as Salesforce does.
    let messages: Vec<String> = (0..LEADS)
        .step_by(2)
        .map(|n| soap_message(ORG, &[lead_note(n), lead_note(n + 1)]))
        .collect();
    let seen = Arc::new(Deliveries::default());
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    let sender = {
        let seen = seen.clone();
        async move {
            let semaphore = Arc::new(tokio::sync::Semaphore::new(2));
            let mut tasks = tokio::task::JoinSet::new();
            for message in messages {
                let permit = semaphore.clone().acquire_owned().await.expect("semaphore");
                let (http, endpoint, seen) = (http.clone(), endpoint.clone(), seen.clone());
                tasks.spawn(async move {
                    let _permit = permit;
                    loop {
                        let (status, body) = post(&http, &endpoint, message.clone()).await;
                        match status {
                            200 => {
                                seen.acked.fetch_add(1, Ordering::SeqCst);
                                return;
                            }
                            503 => {
                                seen.unavailable.fetch_add(1, Ordering::SeqCst);
                            }
                            _ => seen
                                .other
                                .lock()
                                .unwrap_or_else(|e| e.into_inner())
                                .push(format!("{status}: {body}")),
                        }
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                });
            }
            while let Some(done) = tasks.join_next().await {
                done.expect("sender");
            }
        }
    };
    let sending = tokio::spawn(sender);

    // A third of the messages in, Redis dies; it comes back once the intake has refused some.
    wait_until(
        Duration::from_secs(30),
        "a third is acknowledged",
        || async { seen.acked.load(Ordering::SeqCst) >= u64::from(LEADS / 6) },
    )
    .await;
    redis.stop();
    let acked_before_outage = seen.acked.load(Ordering::SeqCst);
    wait_until(
        Duration::from_secs(30),
        "the intake answers 503",
        || async { seen.unavailable.load(Ordering::SeqCst) >= 5 },
    )
    .await;
    let acked_during_outage = seen.acked.load(Ordering::SeqCst) - acked_before_outage;
    redis.start();
    sending.await.expect("sender");

    let other = seen.other.lock().unwrap_or_else(|e| e.into_inner()).clone();
    assert!(other.is_empty(), "answers other than Ack or 503: {other:?}");
    // At most the two messages in flight when Redis died may have been acknowledged after it.
    assert!(
        acked_during_outage <= 2,
        "{acked_during_outage} acknowledged without Redis"
    );
    assert_eq!(seen.acked.load(Ordering::SeqCst), u64::from(LEADS / 2));
    wait_until(
        Duration::from_secs(60),
        "every acknowledged notification has its task",
        || async { keyed_tasks(&client).await == u64::from(LEADS) },
    )
    .await;
    assert_eq!(
        xlen(redis.url(), &format!("{}events:dead", redis.prefix())),
        0,
        "no dead letters"
    );
}
