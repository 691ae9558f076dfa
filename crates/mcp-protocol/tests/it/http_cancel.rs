//! Cancellation over HTTP: `notifications/cancelled` in a legacy session stops the running
//! handler, and a client closing the response stream cancels it in either era.

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use mcp_protocol::{
    HttpConfig, InMemorySessionStore, McpHttpService, Tool, ToolContext, ToolOutput,
};
use serde_json::json;
use tokio::sync::mpsc;
use tower::ServiceExt;

use crate::echo_server;
use crate::harness::modern_meta;

fn request(body: String, extra: &[(&str, &str)]) -> http::Request<Full<Bytes>> {
    let mut b = http::Request::builder()
        .method("POST")
        .uri("/mcp")
        .header("host", "localhost")
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream");
    for (k, v) in extra {
        b = b.header(*k, *v);
    }
    b.body(Full::new(Bytes::from(body))).unwrap()
}

/// A server whose `wait` tool reports progress once, then waits for its cancellation and reports
/// it on `seen`.
fn service(seen: mpsc::Sender<&'static str>) -> McpHttpService {
    let server = echo_server::builder(10)
        .tool(
            Tool::new("wait"),
            move |_a: serde_json::Value, cx: ToolContext| {
                let seen = seen.clone();
                async move {
                    cx.progress(0.0, None, Some("started")).await;
                    cx.cancellation().cancelled().await;
                    let _ = seen.send("cancelled").await;
                    Ok(ToolOutput::text("stopped"))
                }
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

async fn next_frame(body: &mut mcp_protocol::http::McpBody) -> String {
    let frame = body.frame().await.unwrap().unwrap();
    String::from_utf8(frame.into_data().unwrap().to_vec()).unwrap()
}

#[tokio::test]
async fn legacy_cancelled_notification_stops_the_handler() {
    let (tx, mut seen) = mpsc::channel(1);
    let svc = service(tx);
    let init = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"c","version":"1"}}}"#;
    let resp = svc
        .clone()
        .oneshot(request(init.into(), &[]))
        .await
        .unwrap();
    let sid = resp.headers()["mcp-session-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let call = json!({"jsonrpc":"2.0","id":"w","method":"tools/call","params":{"name":"wait","_meta":{"progressToken":1}}});
    let resp = svc
        .clone()
        .oneshot(request(call.to_string(), &[("mcp-session-id", &sid)]))
        .await
        .unwrap();
    let mut body = resp.into_body();
    assert!(
        next_frame(&mut body)
            .await
            .contains("notifications/progress")
    );
    let cancel = json!({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"w","reason":"user"}});
    let resp = svc
        .clone()
        .oneshot(request(cancel.to_string(), &[("mcp-session-id", &sid)]))
        .await
        .unwrap();
    assert_eq!(resp.status(), 202);
    assert_eq!(seen.recv().await, Some("cancelled"));
    // The stream ends without a response, as the spec asks after a cancellation.
    let rest = body.collect().await.unwrap().to_bytes();
    assert!(
        !String::from_utf8_lossy(&rest).contains("\"result\""),
        "{rest:?}"
    );
}

#[tokio::test]
async fn closing_the_stream_cancels_a_modern_request() {
    let (tx, mut seen) = mpsc::channel(1);
    let svc = service(tx);
    let call = json!({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"wait","_meta":{"progressToken":1}}});
    let mut call = call;
    for (k, v) in modern_meta().as_object().unwrap() {
        call["params"]["_meta"][k] = v.clone();
    }
    let headers = [
        ("mcp-protocol-version", "2026-07-28"),
        ("mcp-method", "tools/call"),
        ("mcp-name", "wait"),
    ];
    let resp = svc
        .oneshot(request(call.to_string(), &headers))
        .await
        .unwrap();
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    let mut body = resp.into_body();
    assert!(
        next_frame(&mut body)
            .await
            .contains("notifications/progress")
    );
    drop(body);
    assert_eq!(seen.recv().await, Some("cancelled"));
}
