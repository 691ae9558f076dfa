//! A tool observer hears each call that reached a handler, with the tool's name and how it
//! ended: a result, an `isError` result, arguments the handler could not take, or a panic.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::Request;
use http_body_util::{BodyExt, Full};
use mcp_protocol::{
    HttpConfig, InMemorySessionStore, McpHttpService, McpServer, Tool, ToolContext, ToolError,
    ToolObserver, ToolOutcome, ToolOutput,
};
use serde_json::{Value, json};
use tower::ServiceExt;

#[derive(Default)]
struct Heard(Mutex<Vec<(String, ToolOutcome)>>);

impl ToolObserver for Heard {
    fn tool_called(&self, tool: &str, outcome: ToolOutcome, _elapsed: Duration) {
        self.0.lock().unwrap().push((tool.to_owned(), outcome));
    }
}

#[derive(serde::Deserialize)]
struct Count {
    n: u32,
}

async fn call(svc: &McpHttpService, name: &str, arguments: Value) -> Value {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
        "name": name,
        "arguments": arguments,
        "_meta": {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {},
            "io.modelcontextprotocol/clientInfo": {"name": "t", "version": "1"}
        }
    }});
    let request = Request::post("/mcp")
        .header("host", "localhost")
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "tools/call")
        .header("mcp-name", name)
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap();
    let response = svc.clone().oneshot(request).await.unwrap();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    serde_json::from_slice(&bytes).unwrap_or(Value::Null)
}

#[tokio::test]
async fn every_call_that_reaches_a_handler_is_heard_with_its_outcome() {
    let heard = Arc::new(Heard::default());
    let server = McpServer::builder()
        .name("observed")
        .version("1")
        .observe_tools(heard.clone())
        .tool(Tool::new("fine"), |_: Value, _cx: ToolContext| async {
            Ok(ToolOutput::text("ok"))
        })
        .tool(Tool::new("refuses"), |_: Value, _cx: ToolContext| async {
            Err::<ToolOutput, _>(ToolError::new("no"))
        })
        .tool(
            Tool::new("counts"),
            |c: Count, _cx: ToolContext| async move { Ok(ToolOutput::text(c.n.to_string())) },
        )
        .tool(Tool::new("explodes"), |_: Value, _cx: ToolContext| async {
            if true {
                panic!("boom");
            }
            Ok(ToolOutput::text("unreachable"))
        })
        .build()
        .unwrap();
    let svc = McpHttpService::new(
        server,
        Arc::new(InMemorySessionStore::default()),
        HttpConfig::default(),
    );
    assert_eq!(
        call(&svc, "fine", json!({})).await["result"]["isError"],
        Value::Null
    );
    assert_eq!(
        call(&svc, "refuses", json!({})).await["result"]["isError"],
        true
    );
    assert!(call(&svc, "counts", json!({"n": "x"})).await["error"].is_object());
    assert_eq!(
        call(&svc, "counts", json!({"n": 3})).await["result"]["content"][0]["text"],
        "3"
    );
    assert!(call(&svc, "explodes", json!({})).await["error"].is_object());
    // An unknown tool never reaches a handler.
    assert!(call(&svc, "missing", json!({})).await["error"].is_object());
    let heard = heard.0.lock().unwrap().clone();
    assert_eq!(
        heard,
        vec![
            ("fine".to_owned(), ToolOutcome::Ok),
            ("refuses".to_owned(), ToolOutcome::Error),
            ("counts".to_owned(), ToolOutcome::InvalidArguments),
            ("counts".to_owned(), ToolOutcome::Ok),
            ("explodes".to_owned(), ToolOutcome::Panicked),
        ]
    );
}
