//! The eight figures of `docs/benchmarks.md`, one module each, and the MCP requests they share.

pub mod bulk;
pub mod mcp_echo;
pub mod memory;
pub mod sandbox_rest;
pub mod soap_parse;
pub mod token_refresh;
pub mod tool_overhead;
pub mod webhook;

use std::net::SocketAddr;

use bytes::Bytes;
use futures::future::BoxFuture;
use http::{HeaderMap, HeaderValue, Request};
use http_body_util::Full;

use crate::RunArgs;
use crate::load::{self, Answer, Conn};

/// Runs figure `number`. Figure 6 leaves its sandbox, holding a million more Leads, in `loaded`
/// for figure 7.
///
/// # Errors
/// When the figure cannot be measured.
pub async fn run(
    number: u8,
    args: &RunArgs,
    loaded: &mut Option<crate::fixtures::Sandbox>,
) -> anyhow::Result<()> {
    match number {
        1 => mcp_echo::run(args).await,
        2 => tool_overhead::run(args).await,
        3 => webhook::run(args).await,
        4 => soap_parse::run(args),
        5 => memory::run(args).await,
        6 => {
            *loaded = Some(bulk::run(args).await?);
            Ok(())
        }
        7 => sandbox_rest::run(args, loaded.take()).await,
        8 => token_refresh::run(args).await,
        other => anyhow::bail!("there is no figure {other} (1-8)"),
    }
}

/// The MCP protocol era a scenario speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Era {
    /// `initialize`, a session, `MCP-Protocol-Version: 2025-11-25`.
    Legacy,
    /// Stateless 2026-07-28: every request carries its version in `_meta` and headers.
    Modern,
    /// No session and the legacy version header, as the TypeScript SDK's stateless mode takes it.
    Sessionless,
}

const LEGACY_VERSION: &str = "2025-11-25";
const MODERN_VERSION: &str = "2026-07-28";

/// `tools/call` of one tool with fixed arguments, in one era.
pub struct ToolCall {
    /// The server.
    pub addr: SocketAddr,
    /// The era.
    pub era: Era,
    /// Tool name.
    pub tool: &'static str,
    /// Its arguments (JSON).
    pub arguments: serde_json::Value,
}

impl ToolCall {
    fn body(&self, id: u64) -> String {
        let mut params = serde_json::json!({"name": self.tool, "arguments": self.arguments});
        if self.era == Era::Modern {
            params["_meta"] = serde_json::json!({
                "io.modelcontextprotocol/protocolVersion": MODERN_VERSION,
                "io.modelcontextprotocol/clientCapabilities": {},
                "io.modelcontextprotocol/clientInfo": {"name": "sfmcp-bench", "version": "0.1.0"}
            });
        }
        serde_json::json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": params})
            .to_string()
    }
}

const JSON_HEADERS: [(&str, &str); 2] = [
    ("content-type", "application/json"),
    ("accept", "application/json, text/event-stream"),
];

/// Opens a legacy session on `conn`: `initialize`, then `notifications/initialized`. Returns the
/// headers later requests carry.
pub async fn open_legacy_session(addr: SocketAddr, conn: &mut Conn) -> anyhow::Result<HeaderMap> {
    let init = serde_json::json!({
        "jsonrpc": "2.0", "id": 0, "method": "initialize",
        "params": {"protocolVersion": LEGACY_VERSION, "capabilities": {},
                   "clientInfo": {"name": "sfmcp-bench", "version": "0.1.0"}}
    });
    let answer = conn
        .send(load::post(
            addr,
            "/mcp",
            &JSON_HEADERS,
            &HeaderMap::new(),
            init.to_string(),
        ))
        .await?;
    anyhow::ensure!(answer.status.is_success(), "initialize: {}", answer.status);
    let session = answer
        .headers
        .get("mcp-session-id")
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("initialize answered without Mcp-Session-Id"))?;
    let mut headers = HeaderMap::new();
    headers.insert("mcp-session-id", session);
    headers.insert(
        "mcp-protocol-version",
        HeaderValue::from_static(LEGACY_VERSION),
    );
    let initialized = r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;
    let answer = conn
        .send(load::post(
            addr,
            "/mcp",
            &JSON_HEADERS,
            &headers,
            initialized,
        ))
        .await?;
    anyhow::ensure!(answer.status.is_success(), "initialized: {}", answer.status);
    Ok(headers)
}

impl load::Scenario for ToolCall {
    fn setup<'a>(&'a self, conn: &'a mut Conn) -> BoxFuture<'a, anyhow::Result<HeaderMap>> {
        Box::pin(async move {
            let mut headers = match self.era {
                Era::Legacy => open_legacy_session(self.addr, conn).await?,
                Era::Modern => {
                    let mut h = HeaderMap::new();
                    h.insert(
                        "mcp-protocol-version",
                        HeaderValue::from_static(MODERN_VERSION),
                    );
                    h.insert("mcp-method", HeaderValue::from_static("tools/call"));
                    h.insert("mcp-name", HeaderValue::from_static(self.tool));
                    h
                }
                Era::Sessionless => {
                    let mut h = HeaderMap::new();
                    h.insert(
                        "mcp-protocol-version",
                        HeaderValue::from_static(LEGACY_VERSION),
                    );
                    h
                }
            };
            headers.insert("connection", HeaderValue::from_static("keep-alive"));
            Ok(headers)
        })
    }

    fn request(
        &self,
        _conn: usize,
        seq: u64,
        _part: usize,
        extra: &HeaderMap,
    ) -> Request<Full<Bytes>> {
        load::post(self.addr, "/mcp", &JSON_HEADERS, extra, self.body(seq + 1))
    }

    fn accept(&self, answer: &Answer) -> bool {
        answer.status.is_success() && tool_succeeded(&answer.body)
    }
}

/// Whether an MCP answer (JSON or one SSE event) carries a tool result that is not an error.
pub fn tool_succeeded(body: &[u8]) -> bool {
    let text = String::from_utf8_lossy(body);
    text.contains("\"result\"") && !text.contains("\"isError\":true")
}
