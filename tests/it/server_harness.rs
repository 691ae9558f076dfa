//! The in-process `sfmcp-server` with its embedded demo org, seen the way the load and fault
//! tests need it: legacy MCP sessions, a mix of read tools with real record ids, the sandbox's
//! admin API (faults, quota, sessions, request log) and the server's metrics.
//!
//! The embedded org is switched to the tiny dataset (seed 7) through the admin API: in a debug
//! build a SOSL `search` over the demo dataset's 23,000 records costs about 0.35 CPU-seconds,
//! which would make a thousand concurrent sessions a benchmark of the sandbox's search rather
//! than a test of the server.

use serde_json::{Value, json};

use crate::mcp_client::{LegacySession, ToolResult};
use crate::support::{OrgFacts, settings};

/// Requests per second per client for tests that put many sessions behind one address (all
/// test clients are 127.0.0.1, one key of the per-client rate limit).
pub const UNLIMITED_RATE: &str = "1000000";

/// A running server and what the tests call on it.
pub struct TestServer {
    /// The server (take it to shut down).
    pub running: server::Running,
    /// `http://{addr}/mcp`.
    pub mcp_url: String,
    /// The embedded sandbox's base URL.
    pub sandbox_url: String,
    /// A client for admin calls and sessions.
    pub http: reqwest::Client,
    /// Real ids of the demo org for the tool mix.
    pub ids: DemoIds,
}

/// Record ids the tool mix needs.
#[derive(Debug, Clone)]
pub struct DemoIds {
    pub account: String,
    pub opportunity: String,
    pub lead: String,
}

impl TestServer {
    /// Starts the server (embedded demo org, tiny dataset) with extra flags, and looks up the ids.
    pub async fn start(args: &[&str]) -> Self {
        let running = server::start(settings(args)).await.expect("server starts");
        let sandbox_url = running.sandbox_url.clone().expect("embedded sandbox");
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(2_000)
            .build()
            .expect("client");
        sandbox_admin(
            &http,
            &sandbox_url,
            reqwest::Method::POST,
            "dataset",
            json!({"size": "tiny", "seed": 7}),
        )
        .await;
        let token = running.sandbox().expect("sandbox").issue_access_token();
        let ids = DemoIds::lookup(&sandbox_url, token).await;
        Self {
            mcp_url: format!("http://{}/mcp", running.local_addr),
            sandbox_url,
            running,
            http,
            ids,
        }
    }

    /// A new legacy session.
    pub async fn session(&self) -> LegacySession {
        LegacySession::open(&self.http, &self.mcp_url)
            .await
            .expect("legacy session opens")
    }

    /// Calls a tool; a protocol or HTTP failure fails the test.
    pub async fn call(&self, session: &mut LegacySession, name: &str, args: Value) -> ToolResult {
        session
            .call(&self.mcp_url, name, args)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e:#}"))
    }

    /// A call on the embedded org's admin API; panics unless 2xx.
    pub async fn admin(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        sandbox_admin(&self.http, &self.sandbox_url, method, path, body).await
    }

    /// Injects faults (`{}` clears them).
    pub async fn faults(&self, config: Value) {
        self.admin(reqwest::Method::PUT, "faults", config).await;
    }

    /// Empties the sandbox's request log.
    pub async fn clear_log(&self) {
        self.admin(reqwest::Method::DELETE, "log", json!({})).await;
    }

    /// The API and OAuth requests the sandbox served since the log was cleared (admin calls
    /// left out), as (path, status).
    pub async fn served(&self) -> Vec<(String, u16)> {
        let log = self.admin(reqwest::Method::GET, "log", Value::Null).await;
        log.as_array()
            .expect("log entries")
            .iter()
            .map(|e| {
                (
                    e["path"].as_str().unwrap_or_default().to_owned(),
                    e["status"]
                        .as_u64()
                        .and_then(|s| u16::try_from(s).ok())
                        .unwrap_or(0),
                )
            })
            .filter(|(path, _)| !path.starts_with("/__sandbox/"))
            .collect()
    }

    /// A value from the server's `/metrics` (the first sample of `name`).
    pub async fn metric(&self, name: &str) -> f64 {
        let text = self
            .http
            .get(format!("http://{}/metrics", self.running.local_addr))
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("metrics body");
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {name} in {text}"))
    }

    /// The `n`-th call of the read-tool mix.
    pub fn mixed_call(&self, n: usize) -> (&'static str, Value) {
        self.ids.mixed_call(n)
    }
}

impl DemoIds {
    /// Looks the ids up in the org at `base` (an account with open pipeline, the first
    /// opportunity and lead).
    pub async fn lookup(base: &str, token: String) -> Self {
        let facts = OrgFacts {
            base: base.to_owned(),
            token,
        };
        let (account, ..) = facts.account_pipeline().await;
        let first_id = |rows: Vec<Value>| rows[0]["Id"].as_str().expect("Id").to_owned();
        let opportunity = first_id(
            facts
                .query("SELECT Id FROM Opportunity ORDER BY Id LIMIT 1")
                .await,
        );
        let lead = first_id(facts.query("SELECT Id FROM Lead ORDER BY Id LIMIT 1").await);
        Self {
            account,
            opportunity,
            lead,
        }
    }

    /// The `n`-th call of the read-tool mix (searchLeads, getOpportunity, getAccountInsights,
    /// search, fetch), as (tool, arguments).
    pub fn mixed_call(&self, n: usize) -> (&'static str, Value) {
        match n % 5 {
            0 => (
                "searchLeads",
                json!({"industry": ["Healthcare"], "createdPeriod": "this_year", "limit": 10}),
            ),
            1 => ("getOpportunity", json!({"id": self.opportunity})),
            2 => ("getAccountInsights", json!({"id": self.account})),
            3 => ("search", json!({"query": "Health"})),
            _ => ("fetch", json!({"id": self.lead})),
        }
    }
}

/// `method /__sandbox/{path}` with a JSON `body` on the sandbox at `base`; its JSON answer (or
/// null). Panics unless 2xx.
pub async fn sandbox_admin(
    http: &reqwest::Client,
    base: &str,
    method: reqwest::Method,
    path: &str,
    body: Value,
) -> Value {
    let response = http
        .request(method, format!("{base}/__sandbox/{path}"))
        .json(&body)
        .send()
        .await
        .expect("admin call");
    assert!(
        response.status().is_success(),
        "{path}: {}",
        response.status()
    );
    response.json().await.unwrap_or(Value::Null)
}

/// Whether a path is a Salesforce REST call (not OAuth, not admin).
pub fn is_api(path: &str) -> bool {
    path.starts_with("/services/data/")
}

/// Whether a path is the OAuth token endpoint.
pub fn is_token(path: &str) -> bool {
    path == "/services/oauth2/token"
}
