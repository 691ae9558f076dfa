//! `sfmcp-server` in its authenticated modes, end to end over real sockets with the embedded
//! sandbox as Salesforce: `oauth` (DCR → authorize → consent → sandbox login → callback → our
//! code → token, then the official Python SDK with `Authorization: Bearer`, stores in Redis),
//! `direct` (a sandbox-issued Salesforce token as the bearer), and `sfmcp-server login` followed
//! by `--stdio` using the stored connection.

use std::time::Duration;

use auth::pkce::{PkceChallenge, generate_verifier};
use serde_json::{Value, json};
use test_support::TestRedis;
use tokio::io::AsyncBufReadExt as _;

use crate::auth_harness::{Browser, CLIENT_REDIRECT, query};
use crate::support::{OrgFacts, check_run, run_sdk, run_sdk_as, server_binary, settings};

/// 32 bytes of base64, the shape `SFMCP_TOKEN_KEY` takes.
pub const TOKEN_KEY: &str = "c2ZtY3AtZTJlLXRlc3Qta2V5LTMyLWJ5dGVzLWxvbmc=";

/// An OAuth login as an MCP client would do it: register, authorize with PKCE and our resource,
/// consent, the sandbox's auto-approved login, the callback, and the code exchange.
pub async fn oauth_access_token(browser: &Browser) -> String {
    let client_id = browser.register().await;
    let verifier = generate_verifier();
    let challenge = PkceChallenge::from_verifier(&verifier);
    let resource = browser.resource();
    let page = browser
        .authorize(&[
            ("response_type", "code"),
            ("client_id", &client_id),
            ("redirect_uri", CLIENT_REDIRECT),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
            ("state", "e2e-state"),
            ("resource", &resource),
            ("scope", "mcp"),
        ])
        .await;
    let to_salesforce = browser.consent(page, "allow").await;
    let to_callback = browser.follow(&to_salesforce).await;
    assert_eq!(to_callback.path(), "/oauth/salesforce/callback");
    let to_client = browser.follow(&to_callback).await;
    let answer = query(&to_client);
    assert_eq!(answer["state"], "e2e-state");
    let (status, tokens) = browser
        .token(&[
            ("grant_type", "authorization_code"),
            ("code", &answer["code"]),
            ("redirect_uri", CLIENT_REDIRECT),
            ("client_id", &client_id),
            ("code_verifier", verifier.secret()),
            ("resource", &resource),
        ])
        .await;
    assert_eq!(status, 200, "{tokens}");
    tokens["access_token"].as_str().unwrap().to_owned()
}

/// `/mcp` without credentials: 401 pointing at the protected-resource metadata, which names
/// `authorization_server`.
async fn refuses_without_a_token(base: &str, authorization_server: &str) {
    let http = reqwest::Client::new();
    let refused = http
        .post(format!("{base}/mcp"))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    let challenge = refused.headers()["www-authenticate"].to_str().unwrap();
    let metadata_url = format!("{base}/.well-known/oauth-protected-resource/mcp");
    assert!(
        challenge.starts_with("Bearer ")
            && challenge.contains(&format!("resource_metadata=\"{metadata_url}\"")),
        "{challenge}"
    );
    let metadata: Value = http
        .get(&metadata_url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(metadata["resource"], format!("{base}/mcp"));
    assert_eq!(
        metadata["authorization_servers"],
        json!([authorization_server])
    );
}

/// The tools beyond the two `check_run` covers, as the SDK saw them, against the org itself.
async fn check_other_tools(run: &crate::support::SdkRun, facts: &OrgFacts, account: &str) {
    let insights = run.result("insights");
    let opportunity = run.result("opportunity");
    assert_eq!(opportunity["id"], insights["openOpportunities"][0]["id"]);
    let found = run.result("search");
    let ids: Vec<&str> = found["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&account), "{found}");
    assert_eq!(run.result("fetch")["id"], found["results"][0]["id"]);
    let task = run.result("task");
    let stored = facts
        .query(&format!(
            "SELECT WhatId, Subject FROM Task WHERE Id = '{}'",
            task["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(stored[0]["WhatId"], account);
    let contact = run.result("contact");
    let title = facts
        .query(&format!(
            "SELECT Title FROM Contact WHERE Id = '{}'",
            contact["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(title[0]["Title"], "VP Sales (e2e)");
}

async fn metrics(base: &str) -> String {
    reqwest::get(format!("{base}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oauth_mode_serves_the_sdk_with_our_bearer_token_and_keeps_state_in_redis() {
    let redis = TestRedis::shared();
    let running = server::start(settings(&[
        "--auth",
        "oauth",
        "--token-key",
        TOKEN_KEY,
        "--redis-url",
        redis.url(),
        "--redis-prefix",
        redis.prefix(),
    ]))
    .await
    .unwrap();
    let base = format!("http://{}", running.local_addr);
    refuses_without_a_token(&base, &base).await;
    let ready = reqwest::get(format!("{base}/readyz")).await.unwrap();
    assert_eq!(ready.status(), 200, "{}", ready.text().await.unwrap());

    let browser = Browser::new(base.clone());
    let token = oauth_access_token(&browser).await;
    let facts = OrgFacts {
        base: running.sandbox_url.clone().unwrap(),
        token: running.sandbox().unwrap().issue_access_token(),
    };
    let account = facts.account_pipeline().await;
    let url = format!("{base}/mcp");
    for mode in ["legacy", "2026-07-28"] {
        let run = run_sdk_as(mode, &account.0, std::slice::from_ref(&url), Some(&token)).await;
        check_run(&run, &facts, &account).await;
        check_other_tools(&run, &facts, &account.0).await;
    }
    // Our bearer token is ours alone: Salesforce does not accept it.
    let refused = reqwest::Client::new()
        .get(format!("{}/services/data/v66.0/limits", facts.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);

    let text = metrics(&base).await;
    for tool in [
        "searchLeads",
        "getAccountInsights",
        "getOpportunity",
        "search",
        "fetch",
        "createTask",
        "updateContact",
    ] {
        assert!(
            text.contains(&format!(
                "sfmcp_tool_calls_total{{tool=\"{tool}\",outcome=\"ok\"}} 2\n"
            )),
            "{tool}: {text}"
        );
    }
    assert!(text.contains("sfmcp_tool_call_duration_seconds_count{tool=\"searchLeads\"} 2\n"));

    // The user's connection and our grants are in Redis (sealed: see auth's store tests).
    let mut connection = redis::Client::open(redis.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{}*", redis.prefix()))
        .query_async(&mut connection)
        .await
        .unwrap();
    assert!(
        keys.iter().any(|k| k.contains("auth:conn:")),
        "no connection in Redis: {keys:?}"
    );
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn direct_mode_serves_the_sdk_with_a_salesforce_token() {
    let running = server::start(settings(&["--auth", "direct"]))
        .await
        .unwrap();
    let base = format!("http://{}", running.local_addr);
    let sandbox_url = running.sandbox_url.clone().unwrap();
    refuses_without_a_token(&base, &sandbox_url).await;
    let token = running.sandbox().unwrap().issue_access_token();
    let facts = OrgFacts {
        base: sandbox_url,
        token: token.clone(),
    };
    let account = facts.account_pipeline().await;
    let url = format!("{base}/mcp");
    let run = run_sdk_as(
        "2026-07-28",
        &account.0,
        std::slice::from_ref(&url),
        Some(&token),
    )
    .await;
    check_run(&run, &facts, &account).await;
    let forged = reqwest::Client::new()
        .post(&url)
        .bearer_auth("00Dforged!notatoken")
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 401);
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_stores_a_connection_that_stdio_then_uses() {
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let sandbox = salesforce_sandbox::Sandbox::builder()
        .dataset(salesforce_sandbox::DatasetSize::Tiny, 3)
        .auto_approve(true)
        .callback_urls(vec![format!("http://127.0.0.1:{port}/callback")])
        .build()
        .unwrap();
    let facts_token = sandbox.issue_access_token();
    let org = sandbox
        .serve(tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap())
        .unwrap();
    let config_dir =
        std::env::temp_dir().join(format!("sfmcp-login-e2e-{}-{port}", std::process::id()));
    let _ = std::fs::remove_dir_all(&config_dir);
    let mut login = tokio::process::Command::new(server_binary())
        .args(["login", "--no-browser", "--port", &port.to_string()])
        .env("SALESFORCE_LOGIN_URL", org.base_url())
        .env(
            "SALESFORCE_CLIENT_ID",
            salesforce_sandbox::oauth::DEMO_CLIENT_ID,
        )
        .env(
            "SALESFORCE_CLIENT_SECRET",
            salesforce_sandbox::oauth::DEMO_CLIENT_SECRET,
        )
        .env("SFMCP_TOKEN_KEY", TOKEN_KEY)
        .env("SFMCP_CONFIG_DIR", &config_dir)
        .env_remove("REDIS_URL")
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(login.stdout.take().unwrap()).lines();
    let url = tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            let line = lines.next_line().await.unwrap().expect("login ended early");
            if line.starts_with("http") {
                return line;
            }
        }
    })
    .await
    .unwrap();
    // The browser: the sandbox approves and redirects to the loopback listener.
    let browser = Browser::new(String::new());
    let back = browser.follow(&url::Url::parse(&url).unwrap()).await;
    let done = browser.http.get(back).send().await.unwrap();
    assert_eq!(done.status(), 200);
    let status = tokio::time::timeout(Duration::from_secs(30), login.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success());
    let mut rest = String::new();
    while let Some(line) = lines.next_line().await.unwrap() {
        rest.push_str(&line);
    }
    assert!(rest.contains("Connected to Salesforce org 00D"), "{rest}");
    assert!(config_dir.join("connections.json").exists());

    let facts = OrgFacts {
        base: org.base_url(),
        token: facts_token,
    };
    let account = facts.account_pipeline().await;
    let command = vec![
        server_binary().display().to_string(),
        "--stdio".to_owned(),
        "--token-key".to_owned(),
        TOKEN_KEY.to_owned(),
        "--config-dir".to_owned(),
        config_dir.display().to_string(),
    ];
    let run = run_sdk("auto", &account.0, &command).await;
    check_run(&run, &facts, &account).await;
    assert!(
        run.stderr
            .contains("connection stored by `sfmcp-server login`"),
        "{}",
        run.stderr
    );
    let _ = std::fs::remove_dir_all(&config_dir);
    org.shutdown().await;
}
