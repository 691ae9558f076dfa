//! The tools over the MCP Streamable HTTP transport (the legacy era ChatGPT and Claude speak):
//! `initialize`, then the example question and a deep-research `search` over real HTTP, with
//! the tools in turn calling the sandbox over HTTP.

use std::sync::Arc;

use mcp_protocol::{HttpConfig, InMemorySessionStore, McpHttpService};
use serde_json::{Value, json};

use crate::support::Bench;

struct McpClient {
    http: reqwest::Client,
    url: String,
    session: Option<String>,
    next_id: i64,
}

impl McpClient {
    async fn post(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let mut request = self
            .http
            .post(&self.url)
            .header("accept", "application/json, text/event-stream")
            .header("content-type", "application/json")
            .body(
                json!({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params})
                    .to_string(),
            );
        if let Some(session) = &self.session {
            request = request
                .header("mcp-session-id", session)
                .header("mcp-protocol-version", "2025-06-18");
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 200, "{method}");
        if let Some(id) = response.headers().get("mcp-session-id") {
            self.session = Some(id.to_str().unwrap().to_owned());
        }
        let kind = response
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let text = response.text().await.unwrap();
        let body = if kind.starts_with("text/event-stream") {
            text.lines()
                .rev()
                .filter_map(|l| l.strip_prefix("data:"))
                .map(str::trim)
                .next()
                .unwrap()
                .to_owned()
        } else {
            text
        };
        serde_json::from_str(&body).unwrap()
    }

    async fn notify(&self, method: &str) {
        let response = self
            .http
            .post(&self.url)
            .header("accept", "application/json, text/event-stream")
            .header("content-type", "application/json")
            .header("mcp-session-id", self.session.as_deref().unwrap())
            .header("mcp-protocol-version", "2025-06-18")
            .body(json!({"jsonrpc": "2.0", "method": method}).to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 202);
    }
}

#[tokio::test]
async fn legacy_session_over_streamable_http() {
    let bench = Bench::start().await;
    bench
        .insert(
            "Lead",
            json!({"LastName": "Osei", "Company": "St. Luke's Health", "Industry": "Healthcare", "Rating": "Hot"}),
        )
        .await;
    let service = McpHttpService::new(
        bench.server.clone(),
        Arc::new(InMemorySessionStore::default()),
        HttpConfig::default(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(mcp_protocol::serve(listener, service, async move {
        let _ = stopped.await;
    }));
    let mut client = McpClient {
        http: reqwest::Client::new(),
        url,
        session: None,
        next_id: 0,
    };
    let init = client
        .post(
            "initialize",
            json!({"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "it", "version": "1"}}),
        )
        .await;
    assert_eq!(init["result"]["protocolVersion"], "2025-06-18");
    client.notify("notifications/initialized").await;

    let listed = client.post("tools/list", json!({})).await;
    assert_eq!(
        listed["result"]["tools"].as_array().unwrap().len(),
        crm_tools::TOOL_NAMES.len()
    );

    let answer = client
        .post(
            "tools/call",
            json!({"name": "searchLeads", "arguments": {"industry": ["Healthcare"], "rating": ["Hot"], "createdPeriod": "this_week"}}),
        )
        .await;
    let result = &answer["result"];
    assert_eq!(result.get("isError"), None, "{answer}");
    let direct = bench
        .call(
            "searchLeads",
            json!({"industry": ["Healthcare"], "rating": ["Hot"], "createdPeriod": "this_week"}),
        )
        .await;
    assert_eq!(result["structuredContent"], direct);
    assert!(
        result["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("St. Luke's Health")
    );

    let found = client
        .post(
            "tools/call",
            json!({"name": "search", "arguments": {"query": "Luke's"}}),
        )
        .await;
    let content = found["result"]["content"].as_array().unwrap();
    assert_eq!(content.len(), 1);
    let results: Value = serde_json::from_str(content[0]["text"].as_str().unwrap()).unwrap();
    assert!(
        results["results"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["title"].as_str().unwrap().contains("St. Luke's Health")),
        "{results}"
    );
    let _ = stop.send(());
    server.await.unwrap();
}
