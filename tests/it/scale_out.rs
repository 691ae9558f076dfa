//! Scale-out: replicas sharing one Redis. Two `sfmcp-worker` processes take webhook deliveries
//! spread over both (every notification delivered once to each, as a balancer in front of
//! replicas and Salesforce's redelivery make happen), and each notification is processed
//! exactly once: one Task per Lead, both replicas did part of the work. Two server replicas
//! (`REDIS_URL` set, `none` auth with the client-credentials flow) serve one legacy session
//! alternately, and expired Salesforce tokens under load cost one token request per replica
//! (each replica holds its own client-credentials token). Two `oauth` replicas share one user's
//! Salesforce connection through the Redis token store: when it expires under calls spread over
//! both, the cross-replica refresh lock lets exactly one refresh reach Salesforce.

use std::time::Duration;

use futures::StreamExt;
use salesforce_sandbox::oauth::{DEMO_CLIENT_ID, DEMO_CLIENT_SECRET};
use salesforce_sandbox::{DatasetSize, RunningSandbox, Sandbox};

use test_support::TestRedis;

use crate::auth_harness::Browser;
use crate::mcp_client::LegacySession;
use crate::server_auth::{TOKEN_KEY, oauth_access_token};
use crate::server_harness::{DemoIds, UNLIMITED_RATE, is_token, sandbox_admin};
use crate::support::settings;
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

/// An `sfmcp-server` replica (`server::start`, the binary's composition) listening on `listen`,
/// on `org` through the demo app, its stores in `redis`, with the auth mode's `extra` flags
/// (none: the client-credentials flow).
pub async fn replica(
    org: &RunningSandbox,
    redis: &TestRedis,
    extra: &[&str],
    listen: std::net::SocketAddr,
) -> server::Running {
    let base = org.base_url();
    let mut args = vec![
        "--salesforce-login-url",
        &base,
        "--salesforce-client-id",
        DEMO_CLIENT_ID,
        "--salesforce-client-secret",
        DEMO_CLIENT_SECRET,
        "--rate-limit",
        UNLIMITED_RATE,
        "--redis-url",
        redis.url(),
        "--redis-prefix",
        redis.prefix(),
    ];
    args.extend_from_slice(extra);
    let mut settings = settings(&args);
    settings.listen = listen;
    server::start(settings).await.expect("replica starts")
}

/// Any free loopback port.
pub fn any_port() -> std::net::SocketAddr {
    "127.0.0.1:0".parse().expect("addr")
}

/// A replica's counter `name` from `/metrics`.
pub async fn counter(replica: &server::Running, name: &str) -> u64 {
    let text = reqwest::get(format!("http://{}/metrics", replica.local_addr))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("metrics body");
    let line = format!("{name} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&line))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {name} in {text}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_server_replicas_share_legacy_sessions_and_refresh_once_each_under_load() {
    let redis = TestRedis::shared();
    let org = sandbox_org().await;
    let ids = DemoIds::lookup(&org.base_url(), org.sandbox().issue_access_token()).await;
    let replicas = [
        replica(&org, &redis, &[], any_port()).await,
        replica(&org, &redis, &[], any_port()).await,
    ];
    let urls: Vec<String> = replicas
        .iter()
        .map(|r| format!("http://{}/mcp", r.local_addr))
        .collect();
    let http = reqwest::Client::new();

    // A session opened on one replica is served by either, call after call.
    let mut session = LegacySession::open(&http, &urls[0]).await.expect("session");
    for n in 0..10 {
        let (tool, args) = ids.mixed_call(n);
        let result = session
            .call(&urls[n % 2], tool, args)
            .await
            .unwrap_or_else(|e| panic!("{tool} on replica {}: {e:#}", n % 2));
        assert!(!result.is_error, "{tool}: {}", result.text);
    }
    // Control: a replica does check sessions (an unknown id is refused).
    let mut forged = session.clone();
    forged.set_id("f".repeat(32));
    assert!(
        forged
            .call(&urls[1], "fetch", serde_json::json!({"id": ids.lead}))
            .await
            .is_err(),
        "an unknown session was served"
    );

    // Tokens expire under load: each replica fetches one new token, however many calls hit it.
    let clients = 16;
    let mut sessions = Vec::new();
    for i in 0..clients {
        sessions.push(
            LegacySession::open(&http, &urls[i % 2])
                .await
                .expect("session"),
        );
    }
    org_admin(&org, reqwest::Method::DELETE, "log").await;
    let expire = async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        org_admin(&org, reqwest::Method::POST, "sessions/expire").await;
    };
    let load = futures::future::join_all(sessions.iter_mut().enumerate().map(|(i, session)| {
        let (urls, ids) = (&urls, &ids);
        async move {
            let mut failed = Vec::new();
            for round in 0..6 {
                let (tool, args) = ids.mixed_call([0, 3, 4][(i + round) % 3]);
                match session.call(&urls[(i + round) % 2], tool, args).await {
                    Ok(result) if !result.is_error => {}
                    Ok(result) => failed.push(format!("{tool}: {}", result.text)),
                    Err(e) => failed.push(format!("{tool}: {e:#}")),
                }
            }
            failed
        }
    }));
    let (failed, ()) = tokio::join!(load, expire);
    let failed: Vec<String> = failed.into_iter().flatten().collect();
    assert!(failed.is_empty(), "calls failed: {failed:?}");
    let log = org_admin(&org, reqwest::Method::GET, "log").await;
    let entries = log.as_array().expect("log");
    let tokens = entries
        .iter()
        .filter(|e| e["path"].as_str().is_some_and(is_token))
        .count();
    let refused = entries.iter().filter(|e| e["status"] == 401).count();
    assert!(refused > 0, "the expiry did not hit the load");
    assert_eq!(tokens, 2, "one token request per replica: {entries:?}");
    for replica in &replicas {
        assert_eq!(counter(replica, "sfmcp_token_refreshes_total").await, 1);
    }
    for replica in replicas {
        replica.shutdown().await;
    }
}

/// An admin call on a sandbox org.
async fn org_admin(org: &RunningSandbox, method: reqwest::Method, path: &str) -> serde_json::Value {
    sandbox_admin(
        &reqwest::Client::new(),
        &org.base_url(),
        method,
        path,
        serde_json::Value::Null,
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_oauth_replicas_refresh_a_shared_connection_once_under_load() {
    let redis = TestRedis::shared();
    // The balancer's address is the first replica's: OAuth redirects land there, and MCP calls
    // go to either replica.
    let first = free_addr();
    let public = format!("http://{first}");
    let org = Sandbox::builder()
        .dataset(DatasetSize::Tiny, 7)
        .auto_approve(true)
        .callback_urls(vec![format!("{public}/oauth/salesforce/callback")])
        .build()
        .expect("sandbox")
        .serve(
            tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind"),
        )
        .expect("serve");
    let ids = DemoIds::lookup(&org.base_url(), org.sandbox().issue_access_token()).await;
    // Users log in at the org through the demo app; grants, their Salesforce connections and
    // the refresh lock live in Redis. Our tokens name the balancer's URL as issuer and resource.
    let oauth = [
        "--auth",
        "oauth",
        "--token-key",
        TOKEN_KEY,
        "--public-url",
        &public,
    ];
    let replicas = [
        replica(&org, &redis, &oauth, first).await,
        replica(&org, &redis, &oauth, any_port()).await,
    ];
    let urls: Vec<String> = replicas
        .iter()
        .map(|r| format!("http://{}/mcp", r.local_addr))
        .collect();

    // One MCP client, authorized once through the whole flow, its bearer on every request.
    let bearer = oauth_access_token(&Browser::new(public.clone())).await;
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {bearer}").parse().expect("header"),
    );
    let http = reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .expect("client");
    let mut sessions = Vec::new();
    for i in 0..8 {
        sessions.push(
            LegacySession::open(&http, &urls[i % 2])
                .await
                .expect("session"),
        );
    }

    // Every access token dies at once; then the client's calls land on both replicas together.
    org_admin(&org, reqwest::Method::POST, "sessions/expire").await;
    org_admin(&org, reqwest::Method::DELETE, "log").await;
    let failed: Vec<String> =
        futures::future::join_all(sessions.iter_mut().enumerate().map(|(i, session)| {
            let (urls, ids) = (&urls, &ids);
            async move {
                let mut failed = Vec::new();
                // Each session alternates replicas, call after call.
                for round in 0..4 {
                    let (tool, args) = ids.mixed_call([0, 1, 2, 4][(i + round) % 4]);
                    match session.call(&urls[(i + round) % 2], tool, args).await {
                        Ok(result) if !result.is_error => {}
                        Ok(result) => failed.push(format!("{tool}: {}", result.text)),
                        Err(e) => failed.push(format!("{tool}: {e:#}")),
                    }
                }
                failed
            }
        }))
        .await
        .into_iter()
        .flatten()
        .collect();
    assert!(failed.is_empty(), "calls failed: {failed:?}");

    let log = org_admin(&org, reqwest::Method::GET, "log").await;
    let entries = log.as_array().expect("log");
    let refused = entries.iter().filter(|e| e["status"] == 401).count();
    let tokens: Vec<&serde_json::Value> = entries
        .iter()
        .filter(|e| e["path"].as_str().is_some_and(is_token))
        .collect();
    assert!(refused > 0, "the expiry did not hit the calls");
    assert_eq!(
        tokens.len(),
        1,
        "one refresh across both replicas: {tokens:?}"
    );
    assert_eq!(tokens[0]["status"], 200, "{tokens:?}");
    let mut refreshes = 0;
    for replica in &replicas {
        refreshes += counter(replica, "sfmcp_token_refreshes_total").await;
    }
    assert_eq!(
        refreshes, 1,
        "sfmcp_token_refreshes_total over both replicas"
    );
    for replica in replicas {
        replica.shutdown().await;
    }
    org.shutdown().await;
}
