//! A lightweight MCP client for the load, fault, scale-out and widget tests: legacy-era sessions
//! (`initialize`, then `Mcp-Session-Id` on every call) over Streamable HTTP with reqwest, so that
//! a thousand of them cost little more than their sockets. It answers JSON or SSE, as a server
//! may choose either.

use anyhow::{Context, bail};
use serde_json::{Value, json};

/// The legacy protocol version these sessions negotiate.
pub const LEGACY_VERSION: &str = "2025-11-25";

/// One legacy session. The URL may change between calls (another replica behind a balancer):
/// the session id is all the server needs.
#[derive(Debug, Clone)]
pub struct LegacySession {
    http: reqwest::Client,
    session_id: String,
    next_id: u64,
}

/// What a `tools/call` returned.
#[derive(Debug, Clone)]
pub struct ToolResult {
    /// `result.isError`.
    pub is_error: bool,
    /// The first text content (the message of an error result).
    pub text: String,
    /// `result.structuredContent`, or null.
    pub structured: Value,
}

impl LegacySession {
    /// `initialize` and `notifications/initialized` against `url`.
    pub async fn open(http: &reqwest::Client, url: &str) -> anyhow::Result<Self> {
        let response = post(
            http,
            url,
            None,
            &json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
                "protocolVersion": LEGACY_VERSION,
                "capabilities": {},
                "clientInfo": {"name": "sfmcp-load", "version": "1"}
            }}),
        )
        .await?;
        let session_id = response
            .headers()
            .get("mcp-session-id")
            .and_then(|v| v.to_str().ok())
            .context("initialize answered without Mcp-Session-Id")?
            .to_owned();
        let body = rpc_result(response, 0).await?;
        anyhow::ensure!(
            body["protocolVersion"] == LEGACY_VERSION,
            "negotiated {body}"
        );
        let session = Self {
            http: http.clone(),
            session_id,
            next_id: 1,
        };
        let initialized = post(
            http,
            url,
            Some(&session),
            &json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        )
        .await?;
        anyhow::ensure!(
            initialized.status() == 202,
            "notifications/initialized: {}",
            initialized.status()
        );
        Ok(session)
    }

    /// The session id the server issued.
    pub fn id(&self) -> &str {
        &self.session_id
    }

    /// Presents another session id from now on (for tests of refused sessions).
    pub fn set_id(&mut self, id: String) {
        self.session_id = id;
    }

    /// `method params` at `url`: the `result`. A JSON-RPC error or an HTTP failure is `Err`.
    pub async fn request(
        &mut self,
        url: &str,
        method: &str,
        params: Value,
    ) -> anyhow::Result<Value> {
        let id = self.next_id;
        self.next_id += 1;
        let response = post(
            &self.http,
            url,
            Some(self),
            &json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}),
        )
        .await?;
        rpc_result(response, id).await
    }

    /// `tools/call name arguments` at `url`. A JSON-RPC error or an HTTP failure is `Err`; a
    /// tool's own failure is `Ok` with `is_error`.
    pub async fn call(
        &mut self,
        url: &str,
        name: &str,
        arguments: Value,
    ) -> anyhow::Result<ToolResult> {
        let result = self
            .request(
                url,
                "tools/call",
                json!({"name": name, "arguments": arguments}),
            )
            .await?;
        Ok(ToolResult {
            is_error: result["isError"] == true,
            text: result["content"][0]["text"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            structured: result["structuredContent"].clone(),
        })
    }
}

async fn post(
    http: &reqwest::Client,
    url: &str,
    session: Option<&LegacySession>,
    body: &Value,
) -> anyhow::Result<reqwest::Response> {
    let mut request = http
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(body.to_string());
    if let Some(session) = session {
        request = request
            .header("mcp-session-id", &session.session_id)
            .header("mcp-protocol-version", LEGACY_VERSION);
    }
    Ok(request.send().await?)
}

/// The `result` of the response to request `id`, from a JSON body or the SSE event carrying it.
async fn rpc_result(response: reqwest::Response, id: u64) -> anyhow::Result<Value> {
    let status = response.status();
    let sse = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"));
    let text = response.text().await?;
    if !status.is_success() {
        bail!("HTTP {status}: {text}");
    }
    let message: Value = if sse {
        text.lines()
            .filter_map(|line| line.strip_prefix("data:"))
            .filter_map(|data| serde_json::from_str::<Value>(data.trim()).ok())
            .find(|m| m["id"] == id)
            .with_context(|| format!("no response to {id} in the event stream: {text}"))?
    } else {
        serde_json::from_str(&text).with_context(|| format!("not JSON: {text}"))?
    };
    if let Some(error) = message.get("error") {
        bail!("JSON-RPC error: {error}");
    }
    anyhow::ensure!(message["id"] == id, "answer to another id: {message}");
    Ok(message["result"].clone())
}
