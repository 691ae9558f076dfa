//! What a layer in front of the HTTP service attaches to the request (an authenticated principal)
//! reaches tool handlers through `ToolContext::extensions`, in both eras, and nothing leaks from
//! one request to the next.

use std::sync::Arc;

use bytes::Bytes;
use http::Request;
use http_body_util::{BodyExt, Full};
use mcp_protocol::{
    HttpConfig, InMemorySessionStore, McpHttpService, McpServer, Tool, ToolContext, ToolOutput,
};
use serde_json::{Value, json};
use tower::ServiceExt;

/// What an auth layer would attach.
#[derive(Clone, Debug, PartialEq)]
struct Principal(String);

fn service() -> McpHttpService {
    let server = McpServer::builder()
        .name("extensions")
        .version("1")
        .tool(
            Tool::new("whoami").description("Names the caller."),
            |_args: Value, cx: ToolContext| async move {
                let who = cx
                    .extensions()
                    .get::<Principal>()
                    .map_or("nobody".to_owned(), |p| p.0.clone());
                Ok(ToolOutput::text(who))
            },
        )
        .build()
        .unwrap();
    McpHttpService::new(
        server,
        Arc::new(InMemorySessionStore::default()),
        HttpConfig::default(),
    )
}

async fn post(
    svc: &McpHttpService,
    body: Value,
    principal: Option<&str>,
    session: Option<&str>,
    modern: bool,
) -> (Option<String>, Value) {
    let mut request = Request::post("/mcp")
        .header("host", "localhost")
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream");
    if modern {
        request = request
            .header("mcp-protocol-version", "2026-07-28")
            .header("mcp-method", "tools/call")
            .header("mcp-name", "whoami");
    }
    if let Some(session) = session {
        request = request.header("mcp-session-id", session);
    }
    let mut request = request
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap();
    if let Some(principal) = principal {
        request
            .extensions_mut()
            .insert(Principal(principal.to_owned()));
    }
    let response = svc.clone().oneshot(request).await.unwrap();
    let session = response
        .headers()
        .get("mcp-session-id")
        .map(|v| v.to_str().unwrap().to_owned());
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (
        session,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn text(result: &Value) -> &str {
    result["result"]["content"][0]["text"].as_str().unwrap()
}

#[tokio::test]
async fn modern_requests_carry_their_extensions_to_the_tool() {
    let svc = service();
    let meta = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {}
    });
    let call = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "whoami", "arguments": {}, "_meta": meta}});
    let (_, alice) = post(&svc, call.clone(), Some("alice"), None, true).await;
    assert_eq!(text(&alice), "alice");
    let (_, anonymous) = post(&svc, call, None, None, true).await;
    assert_eq!(
        text(&anonymous),
        "nobody",
        "nothing carries over between requests"
    );
}

#[tokio::test]
async fn legacy_session_requests_use_each_request_own_extensions() {
    let svc = service();
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}});
    let (session, _) = post(&svc, init, Some("alice"), None, false).await;
    let session = session.expect("a session id");
    let call = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "whoami", "arguments": {}}});
    let (_, bob) = post(&svc, call, Some("bob"), Some(&session), false).await;
    assert_eq!(
        text(&bob),
        "bob",
        "the principal is the request's, not the session creator's"
    );
}
