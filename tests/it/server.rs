//! `sfmcp-server` end to end: the official Python MCP SDK against the embedded demo org over
//! Streamable HTTP (both eras) and against the binary over stdio with a static token; health,
//! readiness and metrics; graceful shutdown finishing an in-flight call; no token in the logs.

use std::time::Duration;

use serde_json::json;

use crate::support::{OrgFacts, check_run, run_sdk, server_binary, settings};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_embedded_demo_answers_the_sdk_in_both_eras_and_reports_metrics() {
    let running = server::start(settings(&[])).await.unwrap();
    let base = format!("http://{}", running.local_addr);
    let facts = OrgFacts {
        base: running.sandbox_url.clone().unwrap(),
        token: running.sandbox().unwrap().issue_access_token(),
    };
    let account = facts.account_pipeline().await;
    // The demo data must make the example question non-trivial.
    assert!(!facts.hot_healthcare_leads_this_week().await.is_empty());
    assert!(account.3 > 0 && account.1 > 0.0);
    let http = reqwest::Client::new();
    for (path, body) in [("/healthz", "ok\n"), ("/readyz", "ready\n")] {
        let response = http.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert!(response.headers().contains_key("x-request-id"));
        assert_eq!(response.text().await.unwrap(), body);
    }

    let url = format!("{base}/mcp");
    for (mode, protocol) in [("legacy", "2025-11-25"), ("2026-07-28", "2026-07-28")] {
        let run = run_sdk(mode, &account.0, std::slice::from_ref(&url)).await;
        assert_eq!(run.protocol, protocol);
        check_run(&run, &facts, &account).await;
    }

    let metrics = http
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("sfmcp_http_requests_total{route=\"/mcp\",status=\"200\"}"),
        "{metrics}"
    );
    assert!(
        metrics.contains("sfmcp_http_request_duration_seconds_bucket{route=\"/mcp\",le=\"+Inf\"}")
    );
    assert!(metrics.contains("sfmcp_salesforce_breaker_state 0\n"));
    let sent: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("sfmcp_salesforce_api_requests_sent_total "))
        .unwrap()
        .parse()
        .unwrap();
    assert!(sent > 0, "{metrics}");
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_serves_stdio_with_a_static_token_and_never_logs_it() {
    let sandbox = salesforce_sandbox::Sandbox::builder()
        .dataset(salesforce_sandbox::DatasetSize::Tiny, 7)
        .build()
        .unwrap();
    let token = sandbox.issue_access_token();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let org = sandbox.serve(listener).unwrap();
    let facts = OrgFacts {
        base: org.base_url(),
        token: token.clone(),
    };
    let account = facts.account_pipeline().await;
    let command = vec![
        server_binary().display().to_string(),
        "--stdio".to_owned(),
        "--salesforce-instance-url".to_owned(),
        org.base_url(),
        "--salesforce-access-token".to_owned(),
        token.clone(),
    ];
    for (mode, protocol) in [("auto", "2026-07-28"), ("legacy", "2025-11-25")] {
        let run = run_sdk(mode, &account.0, &command).await;
        assert_eq!(run.protocol, protocol);
        check_run(&run, &facts, &account).await;
        assert!(
            run.stderr.contains("\"serving MCP over stdio\""),
            "no JSON log line from the server: {}",
            run.stderr
        );
        assert!(
            !run.stderr.contains(&token),
            "the access token leaked into the logs"
        );
    }
    org.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_finishes_an_in_flight_tool_call() {
    let running = server::start(settings(&[])).await.unwrap();
    let url = format!("http://{}/mcp", running.local_addr);
    let sandbox_url = running.sandbox_url.clone().unwrap();
    let http = reqwest::Client::new();
    let faults = http
        .put(format!("{sandbox_url}/__sandbox/faults"))
        .json(&json!({"latencyMs": 1500}))
        .send()
        .await
        .unwrap();
    assert!(faults.status().is_success(), "{}", faults.status());

    let call = tokio::spawn({
        let http = http.clone();
        let url = url.clone();
        async move {
            http.post(url)
                .header("content-type", "application/json")
                .header("accept", "application/json, text/event-stream")
                .header("mcp-protocol-version", "2026-07-28")
                .header("mcp-method", "tools/call")
                .header("mcp-name", "searchLeads")
                .body(
                    json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
                        "name": "searchLeads",
                        "arguments": {"industry": ["Healthcare"], "createdPeriod": "this_week"},
                        "_meta": {
                            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                            "io.modelcontextprotocol/clientCapabilities": {},
                            "io.modelcontextprotocol/clientInfo": {"name": "e2e", "version": "1"}
                        }
                    }})
                    .to_string(),
                )
                .send()
                .await
        }
    });
    // Let the call reach the (slowed) org, then shut down while it waits.
    tokio::time::sleep(Duration::from_millis(400)).await;
    running.shutdown().await;
    let response = call.await.unwrap().unwrap();
    assert_eq!(response.status(), 200);
    let body = response.text().await.unwrap();
    assert!(body.contains("totalSize"), "{body}");
    assert!(!body.contains("\"isError\":true"), "{body}");
    assert!(
        http.get(format!("http://{}/healthz", running_addr_closed(&url)))
            .send()
            .await
            .is_err(),
        "still accepting after shutdown"
    );
}

fn running_addr_closed(url: &str) -> &str {
    url.trim_start_matches("http://").trim_end_matches("/mcp")
}

#[tokio::test]
async fn a_bad_configuration_stops_the_binary_with_one_line_and_exit_code_2() {
    let out = tokio::process::Command::new(server_binary())
        .args(["--listen", "0.0.0.0:0"])
        .env_remove("SFMCP_FORCE_INSECURE_NONE")
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("non-loopback"), "{stderr}");
    assert!(out.stdout.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_over_its_rate_is_told_when_to_retry() {
    let running = server::start(settings(&["--rate-limit", "1"]))
        .await
        .unwrap();
    let url = format!("http://{}/mcp", running.local_addr);
    let http = reqwest::Client::new();
    let mut refused = None;
    // A burst of 2 is allowed per second; twenty back-to-back requests must exceed it.
    for _ in 0..20 {
        let response = http.get(&url).send().await.unwrap();
        if response.status() == 429 {
            refused = Some(response);
            break;
        }
    }
    let refused = refused.expect("no request was rate limited");
    let retry_after: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after >= 1);
    let metrics = http
        .get(format!("http://{}/metrics", running.local_addr))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("sfmcp_http_requests_total{route=\"/mcp\",status=\"429\"}"),
        "{metrics}"
    );
    running.shutdown().await;
}
