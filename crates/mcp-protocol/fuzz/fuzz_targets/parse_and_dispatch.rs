//! Fuzz target: arbitrary bytes go through the JSON-RPC parser, the dispatcher of both eras
//! (without a session and inside a legacy session) and the HTTP service; nothing may panic.

#![no_main]

use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use http_body_util::Full;
use libfuzzer_sys::fuzz_target;
use mcp_protocol::jsonrpc::{Message, parse_message};
use mcp_protocol::{
    HttpConfig, InMemorySessionStore, McpHttpService, McpServer, RequestEnv, SessionState, Tool,
    ToolContext, ToolOutput,
};
use serde_json::json;
use tower::ServiceExt;

struct Fixture {
    runtime: tokio::runtime::Runtime,
    server: McpServer,
    http: McpHttpService,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let server = McpServer::builder()
            .name("fuzz")
            .page_size(1)
            .tool(
                Tool::new("echo").input_schema(json!({
                    "type": "object",
                    "properties": {
                        "text": {"type": "string", "pattern": "^[a-z]*$", "maxLength": 8},
                        "n": {"type": ["integer", "null"], "minimum": 0},
                        "when": {"type": "string", "format": "date-time"},
                        "tags": {"type": "array", "items": {"enum": ["a", "b"]}, "maxItems": 3},
                        "either": {"oneOf": [{"type": "string"}, {"type": "number"}]}
                    },
                    "additionalProperties": false
                })),
                |args: serde_json::Value, _cx: ToolContext| async move {
                    Ok(ToolOutput::structured(args))
                },
            )
            .tool(Tool::new("noop"), |_a: serde_json::Value, _cx: ToolContext| async move {
                Ok(ToolOutput::text("ok"))
            })
            .build()
            .expect("fuzz server");
        let http = McpHttpService::new(
            server.clone(),
            Arc::new(InMemorySessionStore::default()),
            HttpConfig::default(),
        );
        Fixture {
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime"),
            server,
            http,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    let session = SessionState {
        protocol_version: "2025-11-25".into(),
        log_level: None,
        initialized: true,
        owner: None,
        client_sampling: false,
    };
    f.runtime.block_on(async {
        if let Ok(msg) = parse_message(data) {
            match msg {
                Message::Request(req) => {
                    let _ = f
                        .server
                        .handle_request(req.clone(), None, RequestEnv::default())
                        .await;
                    let _ = f
                        .server
                        .handle_request(req, Some(&session), RequestEnv::default())
                        .await;
                }
                Message::Notification(n) => {
                    let _ = f.server.handle_notification(&n, Some(&session));
                }
                Message::Response(_) => {}
            }
        }
        let req = http::Request::post("/mcp")
            .header("host", "localhost")
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", "2026-07-28")
            .header("mcp-method", "tools/call")
            .header("mcp-name", "echo")
            .body(Full::new(Bytes::copy_from_slice(data)))
            .expect("request");
        let _ = f.http.clone().oneshot(req).await;
    });
});
