//! Salesforce faults seen through `sfmcp-server`'s tools (the embedded demo org injects them):
//! 503 bursts are retried, a long outage opens the breaker (calls fail fast with a clear message
//! and reach nothing) and it closes after recovery, an exhausted API quota is not retried, and
//! sessions expired under load cost one token request for the connection and no failed call.
//! The sandbox's request log counts what actually reached the org.

use std::time::{Duration, Instant};

use futures::future::join_all;
use reqwest::Method;
use serde_json::json;

use crate::mcp_client::LegacySession;
use crate::server_harness::{TestServer, UNLIMITED_RATE, is_api, is_token};

/// Makes `calls` calls of the tool mix; each must be an error result containing every phrase.
async fn every_call_fails_saying(
    server: &TestServer,
    session: &mut LegacySession,
    calls: usize,
    phrases: &[&str],
) {
    for n in 0..calls {
        let (tool, args) = server.mixed_call(n);
        let result = server.call(session, tool, args).await;
        assert!(result.is_error, "{tool} succeeded");
        assert!(
            phrases.iter().all(|p| result.text.contains(p)),
            "{tool}: {}",
            result.text
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_503s_is_retried_and_the_tool_call_succeeds() {
    let server = TestServer::start(&[]).await;
    let mut session = server.session().await;
    // Warm: the token is fetched, so that the burst hits API calls only.
    let warm = server
        .call(&mut session, "searchLeads", json!({"limit": 5}))
        .await;
    assert!(!warm.is_error, "{}", warm.text);
    assert!(warm.structured["leads"].is_array(), "{:?}", warm.structured);

    // Fewer than the breaker's threshold (5 consecutive failures).
    let burst = 4;
    server.clear_log().await;
    server.faults(json!({"failNext": burst})).await;
    for n in 0..5 {
        let (tool, args) = server.mixed_call(n);
        let result = server.call(&mut session, tool, args).await;
        assert!(!result.is_error, "{tool}: {}", result.text);
    }
    let served = server.served().await;
    let unavailable = served.iter().filter(|(_, s)| *s == 503).count();
    assert_eq!(unavailable, burst as usize, "{served:?}");
    // Every 503 was followed by a retry that succeeded: no failure was the last word.
    let last_failure = served.iter().rposition(|(_, s)| *s == 503).unwrap();
    assert!(
        served[last_failure + 1..]
            .iter()
            .any(|(p, s)| is_api(p) && *s == 200),
        "{served:?}"
    );
    assert_eq!(server.metric("sfmcp_salesforce_breaker_state").await, 0.0);
    server.running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_outage_opens_the_breaker_and_recovery_closes_it() {
    let server = TestServer::start(&[]).await;
    let mut session = server.session().await;
    let warm = server
        .call(&mut session, "fetch", json!({"id": server.ids.lead}))
        .await;
    assert!(!warm.is_error, "{}", warm.text);

    server.faults(json!({"errorRate": 1.0})).await;
    // Retries run into the outage until the breaker opens (5 consecutive failures).
    let mut opened = false;
    for _ in 0..6 {
        let result = server
            .call(&mut session, "fetch", json!({"id": server.ids.lead}))
            .await;
        assert!(result.is_error, "the outage was not reported");
        if result.text.contains("paused after repeated failures") {
            opened = true;
            break;
        }
    }
    assert!(opened, "the breaker never opened");
    assert_eq!(server.metric("sfmcp_salesforce_breaker_state").await, 2.0);

    // Open: every tool fails fast with a clear message, and nothing reaches the org.
    server.clear_log().await;
    every_call_fails_saying(
        &server,
        &mut session,
        5,
        &[
            "temporarily unavailable",
            "paused after repeated failures",
            "retry in",
        ],
    )
    .await;
    let served = server.served().await;
    assert!(served.is_empty(), "calls reached the org: {served:?}");

    // The org recovers; after its pause the breaker lets a probe through and closes.
    server.faults(json!({})).await;
    let deadline = Instant::now() + Duration::from_secs(45);
    loop {
        let result = server
            .call(&mut session, "fetch", json!({"id": server.ids.lead}))
            .await;
        if !result.is_error {
            break;
        }
        assert!(
            result.text.contains("paused after repeated failures"),
            "{}",
            result.text
        );
        assert!(Instant::now() < deadline, "the breaker never closed");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    assert_eq!(server.metric("sfmcp_salesforce_breaker_state").await, 0.0);
    for n in 0..5 {
        let (tool, args) = server.mixed_call(n);
        let result = server.call(&mut session, tool, args).await;
        assert!(!result.is_error, "{tool} after recovery: {}", result.text);
    }
    server.running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exhausted_quota_is_a_clear_error_and_never_retried() {
    let server = TestServer::start(&[]).await;
    let mut session = server.session().await;
    let calls = 10;
    // What the mix costs when the org answers, per round of five tools.
    server.clear_log().await;
    for n in 0..5 {
        let (tool, args) = server.mixed_call(n);
        assert!(!server.call(&mut session, tool, args).await.is_error);
    }
    let per_round = server
        .served()
        .await
        .iter()
        .filter(|(p, _)| is_api(p))
        .count();

    server
        .admin(Method::POST, "limits/exhaust", json!({}))
        .await;
    server.clear_log().await;
    every_call_fails_saying(
        &server,
        &mut session,
        calls,
        &[
            "API limits are exhausted",
            "Do not retry now",
            "REQUEST_LIMIT_EXCEEDED",
        ],
    )
    .await;
    let served = server.served().await;
    let refused = served
        .iter()
        .filter(|(p, s)| is_api(p) && *s == 403)
        .count();
    let rounds = calls / 5;
    assert!(refused > 0);
    assert!(
        served.len() <= rounds * per_round,
        "a retry storm: {} requests for {calls} calls (at most {} without retries): {served:?}",
        served.len(),
        rounds * per_round
    );
    // A quota refusal says nothing about the org's health.
    assert_eq!(server.metric("sfmcp_salesforce_breaker_state").await, 0.0);
    server.running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_expired_under_load_cost_one_refresh_and_no_failed_call() {
    let server = TestServer::start(&["--rate-limit", UNLIMITED_RATE]).await;
    let clients = 20;
    let rounds = 8;
    let mut sessions = Vec::new();
    for _ in 0..clients {
        sessions.push(server.session().await);
    }
    let warm = server
        .call(&mut sessions[0], "searchLeads", json!({"limit": 1}))
        .await;
    assert!(!warm.is_error, "{}", warm.text);
    server.clear_log().await;
    let refreshes_before = server.metric("sfmcp_token_refreshes_total").await;

    // Mid-load, whatever the machine's speed: every client makes half its calls, the sessions
    // are ended while all of them wait, then all go on at once (a fixed delay let a fast run
    // finish before the expiry).
    let halfway = tokio::sync::Barrier::new(sessions.len() + 1);
    let expired = tokio::sync::Barrier::new(sessions.len() + 1);
    let expire = async {
        halfway.wait().await;
        server
            .admin(Method::POST, "sessions/expire", json!({}))
            .await;
        expired.wait().await;
    };
    let load = join_all(sessions.iter_mut().enumerate().map(|(i, session)| {
        let server = &server;
        let (halfway, expired) = (&halfway, &expired);
        async move {
            let mut failed = Vec::new();
            for round in 0..rounds {
                if round == rounds / 2 {
                    halfway.wait().await;
                    expired.wait().await;
                }
                // Cheap tools, so that the log (1,000 entries) holds the whole run.
                let (tool, args) = server.mixed_call([0, 3, 4][(i + round) % 3]);
                let result = server.call(session, tool, args).await;
                if result.is_error {
                    failed.push(format!("{tool}: {}", result.text));
                }
            }
            failed
        }
    }));
    let (failed, ()) = tokio::join!(load, expire);
    let failed: Vec<String> = failed.into_iter().flatten().collect();
    assert!(failed.is_empty(), "calls failed: {failed:?}");

    let served = server.served().await;
    assert!(served.len() < 1_000, "the log overflowed; lower the load");
    let tokens = served.iter().filter(|(p, _)| is_token(p)).count();
    let refused = served
        .iter()
        .filter(|(p, s)| is_api(p) && *s == 401)
        .count();
    assert!(refused > 0, "the expiry did not hit the load: {served:?}");
    assert_eq!(
        tokens, 1,
        "one token request for the connection: {served:?}"
    );
    assert_eq!(
        server.metric("sfmcp_token_refreshes_total").await - refreshes_before,
        1.0
    );
    server.running.shutdown().await;
}
