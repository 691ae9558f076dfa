//! Sampling from the client's model, in both eras, as exact bytes: the legacy live round trip
//! (the request on the tool call's SSE stream, the answer POSTed back) and the modern
//! `input_required` / retry, with the refusals: a response from another session, an unknown or
//! already answered id, no capability, a timeout, the pending cap, cancellation, and a
//! tampered or replayed `requestState`.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use expect_test::expect;
use http::StatusCode;
use http_body_util::{BodyExt, Full};
use mcp_protocol::http::McpBody;
use mcp_protocol::{
    HttpConfig, InMemorySessionStore, McpHttpService, McpServer, SamplingRequest, SamplingResult,
    Tool, ToolContext, ToolOutput,
};
use serde::Deserialize;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::harness::{Transcript, modern_meta};

#[derive(Deserialize)]
struct Args {
    text: String,
}

fn show(r: Result<SamplingResult, mcp_protocol::Error>) -> String {
    match r {
        Ok(r) => format!("summary: {}", r.text().unwrap_or_default()),
        Err(e) => format!("no summary: {e}"),
    }
}

/// `summarize` asks the model once; `twice` asks two things at once.
fn server() -> McpServer {
    McpServer::builder()
        .name("sampling-test")
        .version("1.0.0")
        .request_state_secret(b"test secret")
        .tool(
            Tool::new("summarize").input_schema(json!({
                "type": "object",
                "properties": {"text": {"type": "string"}},
                "required": ["text"]
            })),
            |a: Args, cx: ToolContext| async move {
                let asked = SamplingRequest::new(40)
                    .system_prompt("Be brief.")
                    .user(a.text);
                Ok(ToolOutput::text(show(cx.sample("summary", asked).await)))
            },
        )
        .tool(
            Tool::new("twice"),
            |_a: Value, cx: ToolContext| async move {
                let (a, b) = tokio::join!(
                    cx.sample("a", SamplingRequest::new(5).user("a")),
                    cx.sample("b", SamplingRequest::new(5).user("b"))
                );
                Ok(ToolOutput::text(format!("{} | {}", show(a), show(b))))
            },
        )
        .build()
        .unwrap()
}

fn service(config: HttpConfig) -> McpHttpService {
    McpHttpService::new(server(), Arc::new(InMemorySessionStore::default()), config)
}

const V: (&str, &str) = ("mcp-protocol-version", "2025-11-25");

/// Opens a legacy session, declaring `capabilities`.
async fn legacy_session(t: &mut Transcript, capabilities: Value) {
    let init = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": capabilities,
        "clientInfo": {"name": "c", "version": "1"}}});
    let (status, _) = t.post(&[], &init.to_string()).await;
    assert_eq!(status, StatusCode::OK);
    t.post(
        &[V],
        r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
    )
    .await;
}

/// Starts a legacy tool call whose response stays open, recording it like the transcript does.
async fn open_call(t: &mut Transcript, svc: &McpHttpService, body: &str) -> McpBody {
    let req = http::Request::builder()
        .method("POST")
        .uri("/mcp")
        .header("host", "localhost")
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header(V.0, V.1)
        .header("mcp-session-id", t.session.clone().unwrap())
        .body(Full::new(Bytes::from(body.to_owned())))
        .unwrap();
    let resp = svc.clone().oneshot(req).await.unwrap();
    let ct = resp.headers()["content-type"].to_str().unwrap().to_owned();
    t.text.push_str(&format!(
        "> POST\n> {}: {}\n> mcp-session-id: <session>\n> {body}\n< {}\n< content-type: {ct}\n",
        V.0,
        V.1,
        resp.status().as_u16()
    ));
    resp.into_body()
}

/// The next event on an open stream (recorded), as JSON.
async fn next_event(t: &mut Transcript, body: &mut McpBody) -> Value {
    let frame = body.frame().await.unwrap().unwrap();
    let text = String::from_utf8(frame.into_data().unwrap().to_vec()).unwrap();
    t.text.push_str(&format!("< {}\n\n", text.trim_end()));
    let data = text.lines().find_map(|l| l.strip_prefix("data: ")).unwrap();
    serde_json::from_str(data).unwrap()
}

/// The rest of an open stream (recorded).
async fn rest(t: &mut Transcript, body: McpBody) {
    let bytes = body.collect().await.unwrap().to_bytes();
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    if text.is_empty() {
        t.text
            .push_str("< (the stream ends without a response)\n\n");
    } else {
        t.text.push_str(&format!("< {}\n\n", text.trim_end()));
    }
}

fn answer(id: &Value, text: &str) -> String {
    json!({"jsonrpc": "2.0", "id": id, "result": {"role": "assistant",
        "content": {"type": "text", "text": text}, "model": "m", "stopReason": "endTurn"}})
    .to_string()
}

#[tokio::test]
async fn legacy_sampling_transcript() {
    let svc = service(HttpConfig::default());
    let mut t = Transcript::new(svc.clone());
    let mut other = Transcript::new(svc.clone());
    legacy_session(&mut other, json!({"sampling": {}})).await;
    legacy_session(&mut t, json!({"sampling": {}})).await;
    t.text.clear();

    // The call's response turns into a stream carrying our request.
    let mut stream = open_call(
        &mut t,
        &svc,
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"summarize","arguments":{"text":"MCP is a protocol."}}}"#,
    )
    .await;
    let asked = next_event(&mut t, &mut stream).await;
    let id = asked["id"].clone();
    assert_eq!(id.as_str().unwrap().len(), 32, "128 random bits");
    // An id nobody waits for, and the right id from another session: refused.
    t.post(
        &[V],
        &answer(&json!("00000000000000000000000000000000"), "x"),
    )
    .await;
    let (status, _) = other.post(&[V], &answer(&id, "forged")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // The session's own answer is taken, and only once.
    t.post(&[V], &answer(&id, "A protocol for tools.")).await;
    rest(&mut t, stream).await;
    t.post(&[V], &answer(&id, "again")).await;

    // An error answer is the handler's error.
    let mut stream = open_call(
        &mut t,
        &svc,
        r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"summarize","arguments":{"text":"x"}}}"#,
    )
    .await;
    let id2 = next_event(&mut t, &mut stream).await["id"].clone();
    let refusal = json!({"jsonrpc": "2.0", "id": id2,
        "error": {"code": -1, "message": "User rejected sampling request"}});
    t.post(&[V], &refusal.to_string()).await;
    rest(&mut t, stream).await;

    // Cancelling the call drops the waiting request: its answer is refused afterwards.
    let mut stream = open_call(
        &mut t,
        &svc,
        r#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"summarize","arguments":{"text":"y"}}}"#,
    )
    .await;
    let id3 = next_event(&mut t, &mut stream).await["id"].clone();
    t.post(
        &[V],
        r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":3}}"#,
    )
    .await;
    rest(&mut t, stream).await;
    t.post(&[V], &answer(&id3, "late")).await;

    let mut text = t.text.clone();
    for (i, id) in [&id, &id2, &id3].iter().enumerate() {
        text = text.replace(id.as_str().unwrap(), &format!("<sampling-{}>", i + 1));
    }
    expect![[r#"
        > POST
        > mcp-protocol-version: 2025-11-25
        > mcp-session-id: <session>
        > {"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"summarize","arguments":{"text":"MCP is a protocol."}}}
        < 200
        < content-type: text/event-stream
        < event: message
        data: {"jsonrpc":"2.0","id":"<sampling-1>","method":"sampling/createMessage","params":{"maxTokens":40,"messages":[{"content":{"text":"MCP is a protocol.","type":"text"},"role":"user"}],"systemPrompt":"Be brief."}}

        > POST
        > mcp-protocol-version: 2025-11-25
        > mcp-session-id: <session>
        > {"id":"00000000000000000000000000000000","jsonrpc":"2.0","result":{"content":{"text":"x","type":"text"},"model":"m","role":"assistant","stopReason":"endTurn"}}
        < 400
        < content-type: application/json
        < {"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"no request of this session is waiting for that response"}}

        > POST
        > mcp-protocol-version: 2025-11-25
        > mcp-session-id: <session>
        > {"id":"<sampling-1>","jsonrpc":"2.0","result":{"content":{"text":"A protocol for tools.","type":"text"},"model":"m","role":"assistant","stopReason":"endTurn"}}
        < 202

        < event: message
        data: {"jsonrpc":"2.0","id":1,"result":{"content":[{"text":"summary: A protocol for tools.","type":"text"}]}}

        > POST
        > mcp-protocol-version: 2025-11-25
        > mcp-session-id: <session>
        > {"id":"<sampling-1>","jsonrpc":"2.0","result":{"content":{"text":"again","type":"text"},"model":"m","role":"assistant","stopReason":"endTurn"}}
        < 400
        < content-type: application/json
        < {"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"no request of this session is waiting for that response"}}

        > POST
        > mcp-protocol-version: 2025-11-25
        > mcp-session-id: <session>
        > {"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"summarize","arguments":{"text":"x"}}}
        < 200
        < content-type: text/event-stream
        < event: message
        data: {"jsonrpc":"2.0","id":"<sampling-2>","method":"sampling/createMessage","params":{"maxTokens":40,"messages":[{"content":{"text":"x","type":"text"},"role":"user"}],"systemPrompt":"Be brief."}}

        > POST
        > mcp-protocol-version: 2025-11-25
        > mcp-session-id: <session>
        > {"error":{"code":-1,"message":"User rejected sampling request"},"id":"<sampling-2>","jsonrpc":"2.0"}
        < 202

        < event: message
        data: {"jsonrpc":"2.0","id":2,"result":{"content":[{"text":"no summary: the client declined the sampling request (-1): User rejected sampling request","type":"text"}]}}

        > POST
        > mcp-protocol-version: 2025-11-25
        > mcp-session-id: <session>
        > {"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"summarize","arguments":{"text":"y"}}}
        < 200
        < content-type: text/event-stream
        < event: message
        data: {"jsonrpc":"2.0","id":"<sampling-3>","method":"sampling/createMessage","params":{"maxTokens":40,"messages":[{"content":{"text":"y","type":"text"},"role":"user"}],"systemPrompt":"Be brief."}}

        > POST
        > mcp-protocol-version: 2025-11-25
        > mcp-session-id: <session>
        > {"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":3}}
        < 202

        < (the stream ends without a response)

        > POST
        > mcp-protocol-version: 2025-11-25
        > mcp-session-id: <session>
        > {"id":"<sampling-3>","jsonrpc":"2.0","result":{"content":{"text":"late","type":"text"},"model":"m","role":"assistant","stopReason":"endTurn"}}
        < 400
        < content-type: application/json
        < {"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"no request of this session is waiting for that response"}}

    "#]]
    .assert_eq(&text);
}

#[tokio::test]
async fn legacy_sampling_refusals_without_capability_in_time_and_over_the_cap() {
    // Without the capability the handler is told at once, and the answer is plain JSON.
    let mut t = Transcript::new(service(HttpConfig::default()));
    legacy_session(&mut t, json!({})).await;
    let (_, body) = t
        .post(
            &[V],
            r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"summarize","arguments":{"text":"x"}}}"#,
        )
        .await;
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        body["result"]["content"][0]["text"],
        "no summary: the client does not offer sampling"
    );

    // Unanswered: the request times out, the client is told to stop, the handler goes on.
    let svc = service(HttpConfig {
        sampling_timeout: Duration::from_millis(20),
        max_pending_sampling: 1,
        ..HttpConfig::default()
    });
    let mut t = Transcript::new(svc.clone());
    legacy_session(&mut t, json!({"sampling": {}})).await;
    t.text.clear();
    let mut stream = open_call(
        &mut t,
        &svc,
        r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"summarize","arguments":{"text":"x"}}}"#,
    )
    .await;
    let id = next_event(&mut t, &mut stream).await["id"].clone();
    rest(&mut t, stream).await;
    // Over the cap (one per session here): the second request fails at once.
    let mut stream = open_call(
        &mut t,
        &svc,
        r#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"twice"}}"#,
    )
    .await;
    let id2 = next_event(&mut t, &mut stream).await["id"].clone();
    t.post(&[V], &answer(&id2, "A")).await;
    rest(&mut t, stream).await;
    let text = t
        .text
        .replace(id.as_str().unwrap(), "<sampling-1>")
        .replace(id2.as_str().unwrap(), "<sampling-2>");
    expect![[r#"
        > POST
        > mcp-protocol-version: 2025-11-25
        > mcp-session-id: <session>
        > {"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"summarize","arguments":{"text":"x"}}}
        < 200
        < content-type: text/event-stream
        < event: message
        data: {"jsonrpc":"2.0","id":"<sampling-1>","method":"sampling/createMessage","params":{"maxTokens":40,"messages":[{"content":{"text":"x","type":"text"},"role":"user"}],"systemPrompt":"Be brief."}}

        < event: message
        data: {"jsonrpc":"2.0","method":"notifications/cancelled","params":{"reason":"timed out","requestId":"<sampling-1>"}}

        event: message
        data: {"jsonrpc":"2.0","id":2,"result":{"content":[{"text":"no summary: the client did not answer the sampling request in time","type":"text"}]}}

        > POST
        > mcp-protocol-version: 2025-11-25
        > mcp-session-id: <session>
        > {"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"twice"}}
        < 200
        < content-type: text/event-stream
        < event: message
        data: {"jsonrpc":"2.0","id":"<sampling-2>","method":"sampling/createMessage","params":{"maxTokens":5,"messages":[{"content":{"text":"a","type":"text"},"role":"user"}]}}

        > POST
        > mcp-protocol-version: 2025-11-25
        > mcp-session-id: <session>
        > {"id":"<sampling-2>","jsonrpc":"2.0","result":{"content":{"text":"A","type":"text"},"model":"m","role":"assistant","stopReason":"endTurn"}}
        < 202

        < event: message
        data: {"jsonrpc":"2.0","id":3,"result":{"content":[{"text":"summary: A | no summary: too many sampling requests are waiting for this session","type":"text"}]}}

    "#]]
    .assert_eq(&text);
}

fn modern(id: i64, params: Value, caps: Value) -> String {
    let mut params = params;
    params["_meta"] = modern_meta();
    params["_meta"]["io.modelcontextprotocol/clientCapabilities"] = caps;
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": params}).to_string()
}

async fn call(t: &mut Transcript, body: &str) -> Value {
    let h = [
        ("mcp-protocol-version", "2026-07-28"),
        ("mcp-method", "tools/call"),
        ("mcp-name", "summarize"),
    ];
    let (_, body) = t.post(&h, body).await;
    serde_json::from_str(&body).unwrap()
}

#[tokio::test]
async fn modern_sampling_transcript() {
    let mut t = Transcript::new(service(HttpConfig::default()));
    let sampling = json!({"sampling": {}});
    let args = json!({"name": "summarize", "arguments": {"text": "MCP is a protocol."}});
    // First round: the call asks, with a sealed state.
    let first = call(&mut t, &modern(1, args.clone(), sampling.clone())).await;
    let state = first["result"]["requestState"].clone();
    assert!(state.is_string());
    let result = json!({"role": "assistant", "content": {"type": "text", "text": "A protocol for tools."},
        "model": "m", "stopReason": "endTurn"});
    // The retry carries the answer: the handler gets it.
    let mut retry = args.clone();
    retry["inputResponses"] = json!({"summary": result, "unasked": result});
    retry["requestState"] = state.clone();
    call(&mut t, &modern(2, retry.clone(), sampling.clone())).await;
    // A retry with the state but no answer: asked again.
    let mut empty = args.clone();
    empty["requestState"] = state.clone();
    call(&mut t, &modern(3, empty, sampling.clone())).await;
    // A changed state, and the state replayed on other arguments: refused.
    let mut forged = retry.clone();
    let s = state.as_str().unwrap();
    // The payload is base64url of a JSON object, so it starts `eyJ`; one character changed.
    assert!(s.starts_with("eyJ"));
    forged["requestState"] = json!(format!("f{}", &s[1..]));
    call(&mut t, &modern(4, forged, sampling.clone())).await;
    let mut other = retry.clone();
    other["arguments"] = json!({"text": "something else"});
    call(&mut t, &modern(5, other, sampling.clone())).await;
    let mut bad = args.clone();
    bad["inputResponses"] = json!([]);
    call(&mut t, &modern(6, bad, sampling.clone())).await;
    // No capability: nothing is asked.
    call(&mut t, &modern(7, args, json!({}))).await;
    let states = regex::Regex::new(r#""requestState":"[^"]*""#).unwrap();
    let text = states.replace_all(&t.text, r#""requestState":"<state>""#);
    expect![[r#"
        > POST
        > mcp-protocol-version: 2026-07-28
        > mcp-method: tools/call
        > mcp-name: summarize
        > {"id":1,"jsonrpc":"2.0","method":"tools/call","params":{"_meta":{"io.modelcontextprotocol/clientCapabilities":{"sampling":{}},"io.modelcontextprotocol/clientInfo":{"name":"test","version":"1"},"io.modelcontextprotocol/protocolVersion":"2026-07-28"},"arguments":{"text":"MCP is a protocol."},"name":"summarize"}}
        < 200
        < content-type: application/json
        < {"jsonrpc":"2.0","id":1,"result":{"_meta":{"io.modelcontextprotocol/serverInfo":{"name":"sampling-test","version":"1.0.0"}},"inputRequests":{"summary":{"method":"sampling/createMessage","params":{"maxTokens":40,"messages":[{"content":{"text":"MCP is a protocol.","type":"text"},"role":"user"}],"systemPrompt":"Be brief."}}},"requestState":"<state>","resultType":"input_required"}}

        > POST
        > mcp-protocol-version: 2026-07-28
        > mcp-method: tools/call
        > mcp-name: summarize
        > {"id":2,"jsonrpc":"2.0","method":"tools/call","params":{"_meta":{"io.modelcontextprotocol/clientCapabilities":{"sampling":{}},"io.modelcontextprotocol/clientInfo":{"name":"test","version":"1"},"io.modelcontextprotocol/protocolVersion":"2026-07-28"},"arguments":{"text":"MCP is a protocol."},"inputResponses":{"summary":{"content":{"text":"A protocol for tools.","type":"text"},"model":"m","role":"assistant","stopReason":"endTurn"},"unasked":{"content":{"text":"A protocol for tools.","type":"text"},"model":"m","role":"assistant","stopReason":"endTurn"}},"name":"summarize","requestState":"<state>"}}
        < 200
        < content-type: application/json
        < {"jsonrpc":"2.0","id":2,"result":{"_meta":{"io.modelcontextprotocol/serverInfo":{"name":"sampling-test","version":"1.0.0"}},"content":[{"text":"summary: A protocol for tools.","type":"text"}],"resultType":"complete"}}

        > POST
        > mcp-protocol-version: 2026-07-28
        > mcp-method: tools/call
        > mcp-name: summarize
        > {"id":3,"jsonrpc":"2.0","method":"tools/call","params":{"_meta":{"io.modelcontextprotocol/clientCapabilities":{"sampling":{}},"io.modelcontextprotocol/clientInfo":{"name":"test","version":"1"},"io.modelcontextprotocol/protocolVersion":"2026-07-28"},"arguments":{"text":"MCP is a protocol."},"name":"summarize","requestState":"<state>"}}
        < 200
        < content-type: application/json
        < {"jsonrpc":"2.0","id":3,"result":{"_meta":{"io.modelcontextprotocol/serverInfo":{"name":"sampling-test","version":"1.0.0"}},"inputRequests":{"summary":{"method":"sampling/createMessage","params":{"maxTokens":40,"messages":[{"content":{"text":"MCP is a protocol.","type":"text"},"role":"user"}],"systemPrompt":"Be brief."}}},"requestState":"<state>","resultType":"input_required"}}

        > POST
        > mcp-protocol-version: 2026-07-28
        > mcp-method: tools/call
        > mcp-name: summarize
        > {"id":4,"jsonrpc":"2.0","method":"tools/call","params":{"_meta":{"io.modelcontextprotocol/clientCapabilities":{"sampling":{}},"io.modelcontextprotocol/clientInfo":{"name":"test","version":"1"},"io.modelcontextprotocol/protocolVersion":"2026-07-28"},"arguments":{"text":"MCP is a protocol."},"inputResponses":{"summary":{"content":{"text":"A protocol for tools.","type":"text"},"model":"m","role":"assistant","stopReason":"endTurn"},"unasked":{"content":{"text":"A protocol for tools.","type":"text"},"model":"m","role":"assistant","stopReason":"endTurn"}},"name":"summarize","requestState":"<state>"}}
        < 400
        < content-type: application/json
        < {"jsonrpc":"2.0","id":4,"error":{"code":-32602,"message":"invalid or expired requestState"}}

        > POST
        > mcp-protocol-version: 2026-07-28
        > mcp-method: tools/call
        > mcp-name: summarize
        > {"id":5,"jsonrpc":"2.0","method":"tools/call","params":{"_meta":{"io.modelcontextprotocol/clientCapabilities":{"sampling":{}},"io.modelcontextprotocol/clientInfo":{"name":"test","version":"1"},"io.modelcontextprotocol/protocolVersion":"2026-07-28"},"arguments":{"text":"something else"},"inputResponses":{"summary":{"content":{"text":"A protocol for tools.","type":"text"},"model":"m","role":"assistant","stopReason":"endTurn"},"unasked":{"content":{"text":"A protocol for tools.","type":"text"},"model":"m","role":"assistant","stopReason":"endTurn"}},"name":"summarize","requestState":"<state>"}}
        < 400
        < content-type: application/json
        < {"jsonrpc":"2.0","id":5,"error":{"code":-32602,"message":"invalid or expired requestState"}}

        > POST
        > mcp-protocol-version: 2026-07-28
        > mcp-method: tools/call
        > mcp-name: summarize
        > {"id":6,"jsonrpc":"2.0","method":"tools/call","params":{"_meta":{"io.modelcontextprotocol/clientCapabilities":{"sampling":{}},"io.modelcontextprotocol/clientInfo":{"name":"test","version":"1"},"io.modelcontextprotocol/protocolVersion":"2026-07-28"},"arguments":{"text":"MCP is a protocol."},"inputResponses":[],"name":"summarize"}}
        < 400
        < content-type: application/json
        < {"jsonrpc":"2.0","id":6,"error":{"code":-32602,"message":"inputResponses must be an object"}}

        > POST
        > mcp-protocol-version: 2026-07-28
        > mcp-method: tools/call
        > mcp-name: summarize
        > {"id":7,"jsonrpc":"2.0","method":"tools/call","params":{"_meta":{"io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"test","version":"1"},"io.modelcontextprotocol/protocolVersion":"2026-07-28"},"arguments":{"text":"MCP is a protocol."},"name":"summarize"}}
        < 200
        < content-type: application/json
        < {"jsonrpc":"2.0","id":7,"result":{"_meta":{"io.modelcontextprotocol/serverInfo":{"name":"sampling-test","version":"1.0.0"}},"content":[{"text":"no summary: the client does not offer sampling","type":"text"}],"resultType":"complete"}}

    "#]]
    .assert_eq(&text);
}

#[tokio::test]
async fn stdio_sampling_round_trip() {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let (client_in, server_out) = tokio::io::duplex(1 << 16);
    let (mut client_out, server_in) = tokio::io::duplex(1 << 16);
    let serving = tokio::spawn(mcp_protocol::serve_lines(
        server(),
        BufReader::new(server_in),
        server_out,
    ));
    let mut lines = BufReader::new(client_in).lines();
    let mut transcript = String::new();
    let mut id = Value::Null;
    let script = [
        r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{"sampling":{}},"clientInfo":{"name":"c","version":"1"}}}"#.to_owned(),
        r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#.to_owned(),
        r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"summarize","arguments":{"text":"stdio"}}}"#.to_owned(),
        String::new(),
    ];
    for (i, msg) in script.into_iter().enumerate() {
        // The last message answers the request read just before it.
        let msg = if msg.is_empty() {
            answer(&id, "Over pipes.")
        } else {
            msg
        };
        client_out.write_all(msg.as_bytes()).await.unwrap();
        client_out.write_all(b"\n").await.unwrap();
        transcript.push_str(&format!("> {msg}\n"));
        if i != 1 {
            let line = lines.next_line().await.unwrap().unwrap();
            if i == 2 {
                id = serde_json::from_str::<Value>(&line).unwrap()["id"].clone();
            }
            transcript.push_str(&format!("< {line}\n"));
        }
    }
    drop(client_out);
    serving.await.unwrap().unwrap();
    let transcript = transcript.replace(id.as_str().unwrap(), "<sampling-1>");
    expect![[r#"
        > {"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{"sampling":{}},"clientInfo":{"name":"c","version":"1"}}}
        < {"jsonrpc":"2.0","id":1,"result":{"capabilities":{"logging":{},"tools":{"listChanged":false}},"protocolVersion":"2025-11-25","serverInfo":{"name":"sampling-test","version":"1.0.0"}}}
        > {"jsonrpc":"2.0","method":"notifications/initialized"}
        > {"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"summarize","arguments":{"text":"stdio"}}}
        < {"jsonrpc":"2.0","id":"<sampling-1>","method":"sampling/createMessage","params":{"maxTokens":40,"messages":[{"content":{"text":"stdio","type":"text"},"role":"user"}],"systemPrompt":"Be brief."}}
        > {"id":"<sampling-1>","jsonrpc":"2.0","result":{"content":{"text":"Over pipes.","type":"text"},"model":"m","role":"assistant","stopReason":"endTurn"}}
        < {"jsonrpc":"2.0","id":2,"result":{"content":[{"text":"summary: Over pipes.","type":"text"}]}}
    "#]].assert_eq(&transcript);
}
