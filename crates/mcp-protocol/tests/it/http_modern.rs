//! Modern-era (2026-07-28, stateless) Streamable HTTP transcript: every method, error code and
//! status the modern era uses, as exact bytes.

use expect_test::expect;
use http::Method;
use serde_json::{Value, json};

use crate::harness::{LEGACY, Transcript, memory_service, modern_meta};

fn body(id: i64, method: &str, mut params: Value) -> String {
    params["_meta"] = modern_meta();
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}).to_string()
}

async fn call(t: &mut Transcript, id: i64, method: &str, name: Option<&str>, params: Value) {
    let mut h = vec![
        ("mcp-protocol-version", "2026-07-28"),
        ("mcp-method", method),
    ];
    if let Some(n) = name {
        h.push(("mcp-name", n));
    }
    t.post(&h, &body(id, method, params)).await;
}

#[tokio::test]
async fn modern_http_transcript() {
    let mut t = Transcript::new(memory_service());
    call(&mut t, 1, "server/discover", None, json!({})).await;
    call(&mut t, 2, "tools/list", None, json!({})).await;
    call(&mut t, 3, "tools/list", None, json!({"cursor": "bzI"})).await;
    call(
        &mut t,
        4,
        "tools/call",
        Some("echo"),
        json!({"name": "echo", "arguments": {"text": "hi"}}),
    )
    .await;
    call(
        &mut t,
        5,
        "tools/call",
        Some("add"),
        json!({"name": "add", "arguments": {"a": 2, "b": 3}}),
    )
    .await;
    call(
        &mut t,
        6,
        "tools/call",
        Some("fail"),
        json!({"name": "fail", "arguments": {}}),
    )
    .await;
    call(
        &mut t,
        7,
        "tools/call",
        Some("nope"),
        json!({"name": "nope"}),
    )
    .await;
    call(
        &mut t,
        8,
        "tools/call",
        Some("echo"),
        json!({"name": "echo", "arguments": {}}),
    )
    .await;
    call(
        &mut t,
        9,
        "tools/call",
        Some("panic"),
        json!({"name": "panic"}),
    )
    .await;
    call(
        &mut t,
        10,
        "tools/call",
        Some("ask"),
        json!({"name": "ask"}),
    )
    .await;
    // Structured output is checked against the output schema in debug builds (tests).
    call(
        &mut t,
        101,
        "tools/call",
        Some("bad_output"),
        json!({"name": "bad_output"}),
    )
    .await;
    // Progress and per-request logs turn the response into an SSE stream.
    let mut slow = json!({"name": "slow", "arguments": {"steps": 2, "delay_ms": 1}});
    let mut p: Value = serde_json::from_str(&body(11, "tools/call", slow.clone())).unwrap();
    p["params"]["_meta"]["progressToken"] = json!("tok");
    p["params"]["_meta"]["io.modelcontextprotocol/logLevel"] = json!("info");
    t.post(
        &[
            ("mcp-protocol-version", "2026-07-28"),
            ("mcp-method", "tools/call"),
            ("mcp-name", "slow"),
        ],
        &p.to_string(),
    )
    .await;
    slow["name"] = json!("slow");
    let mut p: Value = serde_json::from_str(&body(12, "tools/call", slow)).unwrap();
    p["params"]["_meta"]["io.modelcontextprotocol/logLevel"] = json!("loud");
    t.post(
        &[
            ("mcp-protocol-version", "2026-07-28"),
            ("mcp-method", "tools/call"),
            ("mcp-name", "slow"),
        ],
        &p.to_string(),
    )
    .await;
    call(&mut t, 13, "resources/list", None, json!({})).await;
    call(&mut t, 14, "resources/templates/list", None, json!({})).await;
    call(
        &mut t,
        15,
        "resources/read",
        Some("mem://readme"),
        json!({"uri": "mem://readme"}),
    )
    .await;
    call(
        &mut t,
        16,
        "resources/read",
        Some("=?base64?bWVtOi8vaXRlbXMvNw==?="),
        json!({"uri": "mem://items/7"}),
    )
    .await;
    call(
        &mut t,
        17,
        "resources/read",
        Some("mem://none"),
        json!({"uri": "mem://none"}),
    )
    .await;
    call(&mut t, 18, "prompts/list", None, json!({})).await;
    call(
        &mut t,
        19,
        "prompts/get",
        Some("greet"),
        json!({"name": "greet", "arguments": {"name": "Ada"}}),
    )
    .await;
    call(&mut t, 20, "no/such", None, json!({})).await;
    call(&mut t, 21, "initialize", None, json!({})).await;
    call(&mut t, 22, "ping", None, json!({})).await;
    // Per-request metadata errors.
    let mut no_caps: Value = serde_json::from_str(&body(23, "tools/list", json!({}))).unwrap();
    no_caps["params"]["_meta"]
        .as_object_mut()
        .unwrap()
        .remove("io.modelcontextprotocol/clientCapabilities");
    t.post(
        &[
            ("mcp-protocol-version", "2026-07-28"),
            ("mcp-method", "tools/list"),
        ],
        &no_caps.to_string(),
    )
    .await;
    let mut old: Value = serde_json::from_str(&body(24, "tools/list", json!({}))).unwrap();
    old["params"]["_meta"]["io.modelcontextprotocol/protocolVersion"] = json!("1900-01-01");
    t.post(
        &[
            ("mcp-protocol-version", "1900-01-01"),
            ("mcp-method", "tools/list"),
        ],
        &old.to_string(),
    )
    .await;
    t.post(
        &[
            ("mcp-protocol-version", "2026-07-28"),
            ("mcp-method", "tools/list"),
        ],
        r#"{"jsonrpc":"2.0","id":25,"method":"tools/list"}"#,
    )
    .await;
    // Header mismatches.
    t.post(
        &[("mcp-method", "tools/list")],
        &body(26, "tools/list", json!({})),
    )
    .await;
    t.post(
        &[
            ("mcp-protocol-version", "2025-11-25"),
            ("mcp-method", "tools/list"),
        ],
        &body(27, "tools/list", json!({})),
    )
    .await;
    t.post(
        &[("mcp-protocol-version", "2026-07-28")],
        &body(28, "tools/list", json!({})),
    )
    .await;
    t.post(
        &[
            ("mcp-protocol-version", "2026-07-28"),
            ("mcp-method", "prompts/list"),
        ],
        &body(29, "tools/list", json!({})),
    )
    .await;
    t.post(
        &[
            ("mcp-protocol-version", "2026-07-28"),
            ("mcp-method", "tools/call"),
        ],
        &body(
            30,
            "tools/call",
            json!({"name": "echo", "arguments": {"text": "x"}}),
        ),
    )
    .await;
    t.post(
        &[
            ("mcp-protocol-version", "2026-07-28"),
            ("mcp-method", "tools/call"),
            ("mcp-name", "add"),
        ],
        &body(
            31,
            "tools/call",
            json!({"name": "echo", "arguments": {"text": "x"}}),
        ),
    )
    .await;
    // Notifications are accepted without a body.
    t.post(&[("mcp-protocol-version", "2026-07-28"), ("mcp-method", "notifications/cancelled")], &json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 1, "_meta": modern_meta()}}).to_string()).await;
    // No GET stream and no sessions in this era.
    t.send(
        Method::GET,
        LEGACY,
        &[("mcp-protocol-version", "2026-07-28")],
        "",
    )
    .await;
    t.send(
        Method::DELETE,
        LEGACY,
        &[("mcp-protocol-version", "2026-07-28")],
        "",
    )
    .await;
    expect![[r#"
        > POST
        > mcp-protocol-version: 2026-07-28
        > mcp-method: server/discover
        > {"id":1,"jsonrpc":"2.0","method":"server/discover","params":{"_meta":{"io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"test","version":"1"},"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}
        < 200
        < content-type: application/json
        < {"jsonrpc":"2.0","id":1,"result":{"_meta":{"io.modelcontextprotocol/serverInfo":{"name":"echo-server","version":"1.0.0"}},"cacheScope":"private","capabilities":{"prompts":{"listChanged":false},"resources":{"listChanged":false,"subscribe":false},"tools":{"listChanged":false}},"instructions":"A demo server: echo text, add numbers, run a slow job.","resultType":"complete","supportedVersions":["2026-07-28","2025-11-25","2025-06-18","2025-03-26"],"ttlMs":0}}

        > POST
        > mcp-protocol-version: 2026-07-28
        > mcp-method: tools/list
        > {"id":2,"jsonrpc":"2.0","method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"test","version":"1"},"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}
        < 200
        < content-type: application/json
        < {"jsonrpc":"2.0","id":2,"result":{"_meta":{"io.modelcontextprotocol/serverInfo":{"name":"echo-server","version":"1.0.0"}},"cacheScope":"private","nextCursor":"bzI","resultType":"complete","tools":[{"annotations":{"readOnlyHint":true,"title":"Echo"},"description":"Returns the text it is given.","inputSchema":{"additionalProperties":false,"properties":{"text":{"maxLength":10000,"type":"string"}},"required":["text"],"type":"object"},"name":"echo","title":"Echo"},{"description":"Counts through `steps` steps, reporting progress; cancellable.","inputSchema":{"properties":{"delay_ms":{"maximum":60000,"minimum":0,"type":"integer"},"steps":{"maximum":1000,"minimum":1,"type":"integer"}},"required":["steps"],"type":"object"},"name":"slow"}],"ttlMs":0}}

        > POST
        > mcp-protocol-version: 2026-07-28
        > mcp-method: tools/list
        > {"id":3,"jsonrpc":"2.0","method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"test","version":"1"},"io.modelcontextprotocol/protocolVersion":"2026-07-28"},"cursor":"bzI"}}
        < 200
        < content-type: application/json
        < {"jsonrpc":"2.0","id":3,"result":{"_meta":{"io.modelcontextprotocol/serverInfo":{"name":"echo-server","version":"1.0.0"}},"cacheScope":"private","nextCursor":"bzQ","resultType":"complete","tools":[{"description":"Adds two numbers.","inputSchema":{"properties":{"a":{"type":"number"},"b":{"type":"number"}},"required":["a","b"],"type":"object"},"name":"add","outputSchema":{"properties":{"sum":{"type":"number"}},"required":["sum"],"type":"object"}},{"description":"Always fails with a message the model can read.","inputSchema":{"type":"object"},"name":"fail"}],"ttlMs":0}}

        > POST
        > mcp-protocol-version: 2026-07-28
        > mcp-method: tools/call
        > mcp-name: echo
        > {"id":4,"jsonrpc":"2.0","method":"tools/call","params":{"_meta":{"io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"test","version":"1"},"io.modelcontextprotocol/protocolVersion":"2026-07-28"},"arguments":{"text":"hi"},"name":"echo"}}
        < 200
        < content-type: application/json
        < {"jsonrpc":"2.0","id":4,"result":{"_meta":{"io.modelcontextprotocol/serverInfo":{"name":"echo-server","version":"1.0.0"}},"content":[{"text":"hi","type":"text"}],"resultType":"complete"}}

        > POST
        > mcp-protocol-version: 2026-07-28
        > mcp-method: tools/call
        > mcp-name: add
        > {"id":5,"jsonrpc":"2.0","method":"tools/call","params":{"_meta":{"io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"test","version":"1"},"io.modelcontextprotocol/protocolVersion":"2026-07-28"},"arguments":{"a":2,"b":3},"name":"add"}}
        < 200
        < content-type: application/json
        < {"jsonrpc":"2.0","id":5,"result":{"_meta":{"io.modelcontextprotocol/serverInfo":{"name":"echo-server","version":"1.0.0"}},"content":[{"text":"{\"sum\":5.0}","type":"text"}],"resultType":"complete","structuredContent":{"sum":5.0}}}

        > POST
        > mcp-protocol-version: 2026-07-28
        > mcp-method: tools/call
        > mcp-name: fail
        > {"id":6,"jsonrpc":"2.0","method":"tools/call","params":{"_meta":{"io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"test","version":"1"},"io.modelcontextprotocol/protocolVersion":"2026-07-28"},"arguments":{},"name":"fail"}}
        < 200
        < content-type: application/json
        < {"jsonrpc":"2.0","id":6,"result":{"_meta":{"io.modelcontextprotocol/serverInfo":{"name":"echo-server","version":"1.0.0"}},"content":[{"text":"this tool always fails","type":"text"}],"isError":true,"resultType":"complete"}}

        > POST
        > mcp-protocol-version: 2026-07-28
        > mcp-method: tools/call
        > mcp-name: nope
        > {"id":7,"jsonrpc":"2.0","method":"tools/call","params":{"_meta":{"io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"test","version":"1"},"io.modelcontextprotocol/protocolVersion":"2026-07-28"},"name":"nope"}}
        < 400
        < content-type: application/json
        < {"jsonrpc":"2.0","id":7,"error":{"code":-32602,"message":"Unknown tool: nope"}}

        > POST
        > mcp-protocol-version: 2026-07-28
        > mcp-method: tools/call
        > mcp-name: echo
        > {"id":8,"jsonrpc":"2.0","method":"tools/call","params":{"_meta":{"io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"test","version":"1"},"io.modelcontextprotocol/protocolVersion":"2026-07-28"},"arguments":{},"name":"echo"}}
        < 400
        < content-type: application/json
        < {"jsonrpc":"2.0","id":8,"error":{"code":-32602,"message":"Invalid arguments for tool echo: /: missing required property \"text\""}}

        > POST
        > mcp-protocol-version: 2026-07-28
        > mcp-method: tools/call
        > mcp-name: panic
        > {"id":9,"jsonrpc":"2.0","method":"tools/call","params":{"_meta":{"io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"test","version":"1"},"io.modelcontextprotocol/protocolVersion":"2026-07-28"},"name":"panic"}}
        < 200
        < content-type: application/json
        < {"jsonrpc":"2.0","id":9,"error":{"code":-32603,"message":"tool panic failed unexpectedly (panic)"}}

        > POST
        > mcp-protocol-version: 2026-07-28
        > mcp-method: tools/call
        > mcp-name: ask
        > {"id":10,"jsonrpc":"2.0","method":"tools/call","params":{"_meta":{"io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"test","version":"1"},"io.modelcontextprotocol/protocolVersion":"2026-07-28"},"name":"ask"}}
        < 400
        < content-type: application/json
        < {"jsonrpc":"2.0","id":10,"error":{"code":-32021,"message":"Missing required client capability","data":{"requiredCapabilities":{"elicitation":{}}}}}

        > POST
        > mcp-protocol-version: 2026-07-28
        > mcp-method: tools/call
        > mcp-name: bad_output
        > {"id":101,"jsonrpc":"2.0","method":"tools/call","params":{"_meta":{"io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"test","version":"1"},"io.modelcontextprotocol/protocolVersion":"2026-07-28"},"name":"bad_output"}}
        < 200
        < content-type: application/json
        < {"jsonrpc":"2.0","id":101,"error":{"code":-32603,"message":"tool bad_output returned output that does not match its output schema: /count: expected integer, got string"}}

        > POST
        > mcp-protocol-version: 2026-07-28
        > mcp-method: tools/call
        > mcp-name: slow
        > {"id":11,"jsonrpc":"2.0","method":"tools/call","params":{"_meta":{"io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"test","version":"1"},"io.modelcontextprotocol/logLevel":"info","io.modelcontextprotocol/protocolVersion":"2026-07-28","progressToken":"tok"},"arguments":{"delay_ms":1,"steps":2},"name":"slow"}}
        < 200
        < content-type: text/event-stream
        < cache-control: no-cache
        < x-accel-buffering: no
        < event: message
        data: {"jsonrpc":"2.0","method":"notifications/message","params":{"data":"step 1","level":"info","logger":"slow"}}

        event: message
        data: {"jsonrpc":"2.0","method":"notifications/progress","params":{"message":"step 1","progress":1.0,"progressToken":"tok","total":2.0}}

        event: message
        data: {"jsonrpc":"2.0","method":"notifications/message","params":{"data":"step 2","level":"info","logger":"slow"}}

        event: message
        data: {"jsonrpc":"2.0","method":"notifications/progress","params":{"message":"step 2","progress":2.0,"progressToken":"tok","total":2.0}}

        event: message
        data: {"jsonrpc":"2.0","id":11,"result":{"_meta":{"io.modelcontextprotocol/serverInfo":{"name":"echo-server","version":"1.0.0"}},"content":[{"text":"done after 2 steps","type":"text"}],"resultType":"complete"}}

        > POST
        > mcp-protocol-version: 2026-07-28
        > mcp-method: tools/call
        > mcp-name: slow
        > {"id":12,"jsonrpc":"2.0","method":"tools/call","params":{"_meta":{"io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"test","version":"1"},"io.modelcontextprotocol/logLevel":"loud","io.modelcontextprotocol/protocolVersion":"2026-07-28"},"arguments":{"delay_ms":1,"steps":2},"name":"slow"}}
        < 400
        < content-type: application/json
        < {"jsonrpc":"2.0","id":12,"error":{"code":-32602,"message":"_meta[\"io.modelcontextprotocol/logLevel\"] is not a log level"}}

        > POST
        > mcp-protocol-version: 2026-07-28
        > mcp-method: resources/list
        > {"id":13,"jsonrpc":"2.0","method":"resources/list","params":{"_meta":{"io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"test","version":"1"},"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}
        < 200
        < content-type: application/json
        < {"jsonrpc":"2.0","id":13,"result":{"_meta":{"io.modelcontextprotocol/serverInfo":{"name":"echo-server","version":"1.0.0"}},"cacheScope":"private","nextCursor":"bzI","resources":[{"mimeType":"text/plain","name":"readme","title":"Read me","uri":"mem://readme"},{"mimeType":"image/png","name":"logo","uri":"mem://logo"}],"resultType":"complete","ttlMs":0}}

        > POST
        > mcp-protocol-version: 2026-07-28
        > mcp-method: resources/templates/list
        > {"id":14,"jsonrpc":"2.0","method":"resources/templates/list","params":{"_meta":{"io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"test","version":"1"},"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}
        < 200
        < content-type: application/json
        < {"jsonrpc":"2.0","id":14,"result":{"_meta":{"io.modelcontextprotocol/serverInfo":{"name":"echo-server","version":"1.0.0"}},"cacheScope":"private","resourceTemplates":[{"mimeType":"application/json","name":"item","uriTemplate":"mem://items/{id}"}],"resultType":"complete","ttlMs":0}}

        > POST
        > mcp-protocol-version: 2026-07-28
        > mcp-method: resources/read
        > mcp-name: mem://readme
        > {"id":15,"jsonrpc":"2.0","method":"resources/read","params":{"_meta":{"io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"test","version":"1"},"io.modelcontextprotocol/protocolVersion":"2026-07-28"},"uri":"mem://readme"}}
        < 200
        < content-type: application/json
        < {"jsonrpc":"2.0","id":15,"result":{"_meta":{"io.modelcontextprotocol/serverInfo":{"name":"echo-server","version":"1.0.0"}},"cacheScope":"private","contents":[{"mimeType":"text/plain","text":"Hello from the echo server.","uri":"mem://readme"}],"resultType":"complete","ttlMs":0}}

        > POST
        > mcp-protocol-version: 2026-07-28
        > mcp-method: resources/read
        > mcp-name: =?base64?bWVtOi8vaXRlbXMvNw==?=
        > {"id":16,"jsonrpc":"2.0","method":"resources/read","params":{"_meta":{"io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"test","version":"1"},"io.modelcontextprotocol/protocolVersion":"2026-07-28"},"uri":"mem://items/7"}}
        < 200
        < content-type: application/json
        < {"jsonrpc":"2.0","id":16,"result":{"_meta":{"io.modelcontextprotocol/serverInfo":{"name":"echo-server","version":"1.0.0"}},"cacheScope":"private","contents":[{"mimeType":"application/json","text":"{\"id\":\"7\"}","uri":"mem://items/7"}],"resultType":"complete","ttlMs":0}}

        > POST
        > mcp-protocol-version: 2026-07-28
        > mcp-method: resources/read
        > mcp-name: mem://none
        > {"id":17,"jsonrpc":"2.0","method":"resources/read","params":{"_meta":{"io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"test","version":"1"},"io.modelcontextprotocol/protocolVersion":"2026-07-28"},"uri":"mem://none"}}
        < 400
        < content-type: application/json
        < {"jsonrpc":"2.0","id":17,"error":{"code":-32602,"message":"Resource not found","data":{"uri":"mem://none"}}}

        > POST
        > mcp-protocol-version: 2026-07-28
        > mcp-method: prompts/list
        > {"id":18,"jsonrpc":"2.0","method":"prompts/list","params":{"_meta":{"io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"test","version":"1"},"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}
        < 200
        < content-type: application/json
        < {"jsonrpc":"2.0","id":18,"result":{"_meta":{"io.modelcontextprotocol/serverInfo":{"name":"echo-server","version":"1.0.0"}},"cacheScope":"private","prompts":[{"arguments":[{"description":"Who to greet","name":"name","required":true}],"description":"Greets someone.","name":"greet"}],"resultType":"complete","ttlMs":0}}

        > POST
        > mcp-protocol-version: 2026-07-28
        > mcp-method: prompts/get
        > mcp-name: greet
        > {"id":19,"jsonrpc":"2.0","method":"prompts/get","params":{"_meta":{"io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"test","version":"1"},"io.modelcontextprotocol/protocolVersion":"2026-07-28"},"arguments":{"name":"Ada"},"name":"greet"}}
        < 200
        < content-type: application/json
        < {"jsonrpc":"2.0","id":19,"result":{"_meta":{"io.modelcontextprotocol/serverInfo":{"name":"echo-server","version":"1.0.0"}},"messages":[{"content":{"text":"Say hello to Ada.","type":"text"},"role":"user"}],"resultType":"complete"}}

        > POST
        > mcp-protocol-version: 2026-07-28
        > mcp-method: no/such
        > {"id":20,"jsonrpc":"2.0","method":"no/such","params":{"_meta":{"io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"test","version":"1"},"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}
        < 404
        < content-type: application/json
        < {"jsonrpc":"2.0","id":20,"error":{"code":-32601,"message":"Method not found: no/such"}}

        > POST
        > mcp-protocol-version: 2026-07-28
        > mcp-method: initialize
        > {"id":21,"jsonrpc":"2.0","method":"initialize","params":{"_meta":{"io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"test","version":"1"},"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}
        < 404
        < content-type: application/json
        < {"jsonrpc":"2.0","id":21,"error":{"code":-32601,"message":"Method not found: initialize"}}

        > POST
        > mcp-protocol-version: 2026-07-28
        > mcp-method: ping
        > {"id":22,"jsonrpc":"2.0","method":"ping","params":{"_meta":{"io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"test","version":"1"},"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}
        < 404
        < content-type: application/json
        < {"jsonrpc":"2.0","id":22,"error":{"code":-32601,"message":"Method not found: ping"}}

        > POST
        > mcp-protocol-version: 2026-07-28
        > mcp-method: tools/list
        > {"id":23,"jsonrpc":"2.0","method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/clientInfo":{"name":"test","version":"1"},"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}
        < 400
        < content-type: application/json
        < {"jsonrpc":"2.0","id":23,"error":{"code":-32602,"message":"missing params._meta[\"io.modelcontextprotocol/clientCapabilities\"]"}}

        > POST
        > mcp-protocol-version: 1900-01-01
        > mcp-method: tools/list
        > {"id":24,"jsonrpc":"2.0","method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"test","version":"1"},"io.modelcontextprotocol/protocolVersion":"1900-01-01"}}}
        < 400
        < content-type: application/json
        < {"jsonrpc":"2.0","id":24,"error":{"code":-32022,"message":"Unsupported protocol version","data":{"requested":"1900-01-01","supported":["2026-07-28","2025-11-25","2025-06-18","2025-03-26"]}}}

        > POST
        > mcp-protocol-version: 2026-07-28
        > mcp-method: tools/list
        > {"jsonrpc":"2.0","id":25,"method":"tools/list"}
        < 400
        < content-type: application/json
        < {"jsonrpc":"2.0","id":25,"error":{"code":-32602,"message":"missing params._meta[\"io.modelcontextprotocol/protocolVersion\"]"}}

        > POST
        > mcp-method: tools/list
        > {"id":26,"jsonrpc":"2.0","method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"test","version":"1"},"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}
        < 400
        < content-type: application/json
        < {"jsonrpc":"2.0","id":26,"error":{"code":-32020,"message":"missing MCP-Protocol-Version header"}}

        > POST
        > mcp-protocol-version: 2025-11-25
        > mcp-method: tools/list
        > {"id":27,"jsonrpc":"2.0","method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"test","version":"1"},"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}
        < 400
        < content-type: application/json
        < {"jsonrpc":"2.0","id":27,"error":{"code":-32020,"message":"MCP-Protocol-Version header \"2025-11-25\" does not match the request's protocol version"}}

        > POST
        > mcp-protocol-version: 2026-07-28
        > {"id":28,"jsonrpc":"2.0","method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"test","version":"1"},"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}
        < 400
        < content-type: application/json
        < {"jsonrpc":"2.0","id":28,"error":{"code":-32020,"message":"missing Mcp-Method header"}}

        > POST
        > mcp-protocol-version: 2026-07-28
        > mcp-method: prompts/list
        > {"id":29,"jsonrpc":"2.0","method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"test","version":"1"},"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}
        < 400
        < content-type: application/json
        < {"jsonrpc":"2.0","id":29,"error":{"code":-32020,"message":"Mcp-Method header \"prompts/list\" does not match method \"tools/list\""}}

        > POST
        > mcp-protocol-version: 2026-07-28
        > mcp-method: tools/call
        > {"id":30,"jsonrpc":"2.0","method":"tools/call","params":{"_meta":{"io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"test","version":"1"},"io.modelcontextprotocol/protocolVersion":"2026-07-28"},"arguments":{"text":"x"},"name":"echo"}}
        < 400
        < content-type: application/json
        < {"jsonrpc":"2.0","id":30,"error":{"code":-32020,"message":"missing Mcp-Name header"}}

        > POST
        > mcp-protocol-version: 2026-07-28
        > mcp-method: tools/call
        > mcp-name: add
        > {"id":31,"jsonrpc":"2.0","method":"tools/call","params":{"_meta":{"io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"test","version":"1"},"io.modelcontextprotocol/protocolVersion":"2026-07-28"},"arguments":{"text":"x"},"name":"echo"}}
        < 400
        < content-type: application/json
        < {"jsonrpc":"2.0","id":31,"error":{"code":-32020,"message":"Mcp-Name header \"add\" does not match params.name"}}

        > POST
        > mcp-protocol-version: 2026-07-28
        > mcp-method: notifications/cancelled
        > {"jsonrpc":"2.0","method":"notifications/cancelled","params":{"_meta":{"io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"test","version":"1"},"io.modelcontextprotocol/protocolVersion":"2026-07-28"},"requestId":1}}
        < 202

        > GET
        > mcp-protocol-version: 2026-07-28
        < 405

        > DELETE
        > mcp-protocol-version: 2026-07-28
        < 405

    "#]].assert_eq(&t.text);
}

#[tokio::test]
async fn subscriptions_listen_acknowledges_then_ends_gracefully_on_shutdown() {
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    let svc = memory_service();
    let req = http::Request::post("/mcp")
        .header("host", "localhost")
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "subscriptions/listen")
        .body(http_body_util::Full::new(bytes::Bytes::from(body(
            7,
            "subscriptions/listen",
            json!({"notifications": {"toolsListChanged": true}}),
        ))))
        .unwrap();
    let resp = svc.clone().oneshot(req).await.unwrap();
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    let mut body = resp.into_body();
    let ack = body.frame().await.unwrap().unwrap().into_data().unwrap();
    svc.close_streams();
    let rest = body.collect().await.unwrap().to_bytes();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&ack),
        String::from_utf8_lossy(&rest)
    );
    expect![[r#"
        event: message
        data: {"jsonrpc":"2.0","method":"notifications/subscriptions/acknowledged","params":{"_meta":{"io.modelcontextprotocol/subscriptionId":7},"notifications":{}}}

        event: message
        data: {"jsonrpc":"2.0","id":7,"result":{"_meta":{"io.modelcontextprotocol/serverInfo":{"name":"echo-server","version":"1.0.0"},"io.modelcontextprotocol/subscriptionId":7},"resultType":"complete"}}

    "#]].assert_eq(&text);
}
