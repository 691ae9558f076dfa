//! Test plumbing: a server with extra test-only tools, and an HTTP client that drives the tower
//! service in-process and records an exact transcript of every exchange.

use std::sync::Arc;

use bytes::Bytes;
use http::{Method, StatusCode};
use http_body_util::{BodyExt, Full};
use mcp_protocol::{
    HttpConfig, InMemorySessionStore, McpHttpService, McpServer, SessionStore, Tool, ToolContext,
    ToolOutput,
};
use serde_json::json;
use tower::ServiceExt;

use crate::echo_server;

/// The demo server plus tools that exercise failure paths.
pub fn test_server() -> McpServer {
    echo_server::builder(2)
        .tool(
            Tool::new("panic").description("Panics."),
            |_a: serde_json::Value, _cx: ToolContext| async move {
                if std::hint::black_box(true) {
                    panic!("boom");
                }
                Ok(ToolOutput::text("unreachable"))
            },
        )
        .tool(
            Tool::new("ask")
                .description("Needs elicitation.")
                .requires_client_capabilities(json!({"elicitation": {}})),
            |_a: serde_json::Value, _cx: ToolContext| async move { Ok(ToolOutput::text("asked")) },
        )
        .tool(
            Tool::new("bad_output")
                .description("Returns output that breaks its own output schema.")
                .output_schema(json!({
                    "type": "object",
                    "properties": {"count": {"type": "integer"}},
                    "required": ["count"]
                })),
            |_a: serde_json::Value, _cx: ToolContext| async move {
                Ok(ToolOutput::structured(json!({"count": "many"})))
            },
        )
        .build()
        .unwrap()
}

pub fn service(store: Arc<dyn SessionStore>) -> McpHttpService {
    McpHttpService::new(test_server(), store, HttpConfig::default())
}

pub fn memory_service() -> McpHttpService {
    service(Arc::new(InMemorySessionStore::default()))
}

/// Headers a legacy client sends.
pub const LEGACY: &[(&str, &str)] = &[
    ("host", "localhost:8080"),
    ("content-type", "application/json"),
    ("accept", "application/json, text/event-stream"),
];

/// Records exchanges as text: requests marked `>`, responses `<`, session ids replaced.
pub struct Transcript {
    svc: McpHttpService,
    pub text: String,
    pub session: Option<String>,
}

const SHOWN_HEADERS: [&str; 5] = [
    "content-type",
    "mcp-session-id",
    "allow",
    "cache-control",
    "x-accel-buffering",
];

impl Transcript {
    pub fn new(svc: McpHttpService) -> Self {
        Transcript {
            svc,
            text: String::new(),
            session: None,
        }
    }

    fn redact(&self, s: &str) -> String {
        match &self.session {
            Some(id) => s.replace(id.as_str(), "<session>"),
            None => s.to_owned(),
        }
    }

    /// Sends one request with `base` headers plus `extra`, and records it. When the session is
    /// known it is sent too, unless `extra` sets `mcp-session-id` itself.
    pub async fn send(
        &mut self,
        method: Method,
        base: &[(&str, &str)],
        extra: &[(&str, &str)],
        body: &str,
    ) -> (StatusCode, String) {
        let mut req = http::Request::builder().method(method.clone()).uri("/mcp");
        let mut shown = format!("> {method}\n");
        let set_session = extra.iter().any(|(k, _)| *k == "mcp-session-id");
        let mut headers: Vec<(String, String)> = base
            .iter()
            .chain(extra)
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        if let (Some(s), false) = (&self.session, set_session) {
            headers.push(("mcp-session-id".into(), s.clone()));
        }
        for (k, v) in &headers {
            req = req.header(k.as_str(), v.as_str());
            if !matches!(k.as_str(), "host" | "content-type" | "accept") {
                shown.push_str(&format!("> {k}: {}\n", self.redact(v)));
            }
        }
        if !body.is_empty() {
            shown.push_str(&format!("> {body}\n"));
        }
        let req = req.body(Full::new(Bytes::from(body.to_owned()))).unwrap();
        let resp = self.svc.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        if let Some(id) = resp.headers().get("mcp-session-id") {
            self.session = Some(id.to_str().unwrap().to_owned());
        }
        shown.push_str(&format!("< {}\n", status.as_u16()));
        for name in SHOWN_HEADERS {
            if let Some(v) = resp.headers().get(name) {
                shown.push_str(&format!("< {name}: {}\n", self.redact(v.to_str().unwrap())));
            }
        }
        let is_stream = resp
            .headers()
            .get("content-type")
            .is_some_and(|v| v == "text/event-stream");
        let body = if is_stream && method == Method::GET {
            // A GET stream never ends on its own: record only its head.
            String::new()
        } else {
            let bytes = resp.into_body().collect().await.unwrap().to_bytes();
            String::from_utf8(bytes.to_vec()).unwrap()
        };
        if !body.is_empty() {
            shown.push_str(&format!("< {}\n", self.redact(body.trim_end())));
        }
        shown.push('\n');
        self.text.push_str(&shown);
        (status, body)
    }

    pub async fn post(&mut self, extra: &[(&str, &str)], body: &str) -> (StatusCode, String) {
        self.send(Method::POST, LEGACY, extra, body).await
    }
}

/// The `_meta` every modern request carries.
pub fn modern_meta() -> serde_json::Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": {"name": "test", "version": "1"}
    })
}
