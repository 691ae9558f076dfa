//! Legacy-era (initialize-based) Streamable HTTP transcript: every method, error code and
//! status the legacy era uses, as exact bytes.

use expect_test::expect;
use http::Method;

use crate::harness::{LEGACY, Transcript, memory_service};

#[tokio::test]
async fn legacy_http_transcript() {
    let mut t = Transcript::new(memory_service());
    // No session yet: only initialize and ping are allowed.
    t.post(&[], r#"{"jsonrpc":"2.0","id":0,"method":"tools/list"}"#)
        .await;
    t.post(&[], r#"{"jsonrpc":"2.0","id":0,"method":"ping"}"#)
        .await;
    // An unknown version is answered with our latest legacy version.
    t.post(&[], r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2024-01-01","capabilities":{},"clientInfo":{"name":"c","version":"1"}}}"#).await;
    t.session = None;
    t.post(&[], r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"c","version":"1"}}}"#).await;
    let v = &[("mcp-protocol-version", "2025-06-18")];
    t.post(
        v,
        r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
    )
    .await;
    t.post(v, r#"{"jsonrpc":"2.0","id":2,"method":"ping"}"#)
        .await;
    t.post(v, r#"{"jsonrpc":"2.0","id":3,"method":"tools/list"}"#)
        .await;
    t.post(
        v,
        r#"{"jsonrpc":"2.0","id":4,"method":"tools/list","params":{"cursor":"bzI"}}"#,
    )
    .await;
    t.post(
        v,
        r#"{"jsonrpc":"2.0","id":5,"method":"tools/list","params":{"cursor":"bzQ"}}"#,
    )
    .await;
    t.post(
        v,
        r#"{"jsonrpc":"2.0","id":6,"method":"tools/list","params":{"cursor":"nope"}}"#,
    )
    .await;
    t.post(v, r#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}}"#).await;
    t.post(v, r#"{"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"add","arguments":{"a":1,"b":2.5}}}"#).await;
    t.post(
        v,
        r#"{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"fail"}}"#,
    )
    .await;
    t.post(
        v,
        r#"{"jsonrpc":"2.0","id":10,"method":"tools/call","params":{"name":"nope"}}"#,
    )
    .await;
    t.post(v, r#"{"jsonrpc":"2.0","id":11,"method":"tools/call","params":{"name":"echo","arguments":{"text":5}}}"#).await;
    t.post(
        v,
        r#"{"jsonrpc":"2.0","id":12,"method":"tools/call","params":{"name":"panic"}}"#,
    )
    .await;
    // The connection survives the panic.
    t.post(v, r#"{"jsonrpc":"2.0","id":13,"method":"tools/call","params":{"name":"slow","arguments":{"steps":2,"delay_ms":1},"_meta":{"progressToken":7}}}"#).await;
    t.post(
        v,
        r#"{"jsonrpc":"2.0","id":14,"method":"logging/setLevel","params":{"level":"verbose"}}"#,
    )
    .await;
    t.post(
        v,
        r#"{"jsonrpc":"2.0","id":15,"method":"logging/setLevel","params":{"level":"info"}}"#,
    )
    .await;
    t.post(v, r#"{"jsonrpc":"2.0","id":16,"method":"tools/call","params":{"name":"slow","arguments":{"steps":1,"delay_ms":1}}}"#).await;
    t.post(v, r#"{"jsonrpc":"2.0","id":17,"method":"resources/list"}"#)
        .await;
    t.post(
        v,
        r#"{"jsonrpc":"2.0","id":18,"method":"resources/templates/list"}"#,
    )
    .await;
    t.post(
        v,
        r#"{"jsonrpc":"2.0","id":19,"method":"resources/read","params":{"uri":"mem://readme"}}"#,
    )
    .await;
    t.post(
        v,
        r#"{"jsonrpc":"2.0","id":20,"method":"resources/read","params":{"uri":"mem://logo"}}"#,
    )
    .await;
    t.post(
        v,
        r#"{"jsonrpc":"2.0","id":21,"method":"resources/read","params":{"uri":"mem://items/42"}}"#,
    )
    .await;
    t.post(v, r#"{"jsonrpc":"2.0","id":22,"method":"resources/read","params":{"uri":"mem://items/missing"}}"#).await;
    t.post(
        v,
        r#"{"jsonrpc":"2.0","id":23,"method":"resources/read","params":{"uri":"mem://none"}}"#,
    )
    .await;
    t.post(v, r#"{"jsonrpc":"2.0","id":24,"method":"prompts/list"}"#)
        .await;
    t.post(v, r#"{"jsonrpc":"2.0","id":25,"method":"prompts/get","params":{"name":"greet","arguments":{"name":"Ada"}}}"#).await;
    t.post(
        v,
        r#"{"jsonrpc":"2.0","id":26,"method":"prompts/get","params":{"name":"greet"}}"#,
    )
    .await;
    t.post(v, r#"{"jsonrpc":"2.0","id":27,"method":"no/such"}"#)
        .await;
    t.post(v, r#"{"jsonrpc":"2.0","id":28,"result":{}}"#).await;
    t.post(
        v,
        r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":99}}"#,
    )
    .await;
    // Malformed messages.
    t.post(v, r#"{"jsonrpc":"2.0","id":29,"method""#).await;
    t.post(v, r#"[{"jsonrpc":"2.0","id":30,"method":"ping"}]"#)
        .await;
    t.post(v, r#"{"jsonrpc":"2.0","id":31}"#).await;
    // Transport errors.
    t.post(
        &[("mcp-protocol-version", "1999-01-01")],
        r#"{"jsonrpc":"2.0","id":32,"method":"ping"}"#,
    )
    .await;
    t.post(
        &[("mcp-session-id", "0123abcd")],
        r#"{"jsonrpc":"2.0","id":33,"method":"tools/list"}"#,
    )
    .await;
    t.post(
        &[("origin", "https://evil.example")],
        r#"{"jsonrpc":"2.0","id":34,"method":"ping"}"#,
    )
    .await;
    t.send(
        Method::POST,
        &[
            ("host", "evil.example"),
            ("content-type", "application/json"),
            ("accept", "application/json, text/event-stream"),
        ],
        &[],
        r#"{"jsonrpc":"2.0","id":35,"method":"ping"}"#,
    )
    .await;
    t.send(
        Method::POST,
        &[
            ("host", "localhost"),
            ("content-type", "application/json"),
            ("accept", "application/json"),
        ],
        &[],
        r#"{"jsonrpc":"2.0","id":36,"method":"ping"}"#,
    )
    .await;
    t.send(
        Method::POST,
        &[
            ("host", "localhost"),
            ("content-type", "text/plain"),
            ("accept", "*/*"),
        ],
        &[],
        r#"{"jsonrpc":"2.0","id":37,"method":"ping"}"#,
    )
    .await;
    let big = format!(
        r#"{{"jsonrpc":"2.0","id":38,"method":"ping","params":{{"pad":"{}"}}}}"#,
        "x".repeat(4 * 1024 * 1024)
    );
    let (status, _) = t.post(&[], &big).await;
    assert_eq!(status, 413);
    t.text = t.text.replace(&"x".repeat(4 * 1024 * 1024), "x…");
    t.send(Method::PUT, LEGACY, &[], "").await;
    t.send(Method::GET, LEGACY, &[], "").await;
    t.send(Method::DELETE, LEGACY, &[("mcp-session-id", "ffff")], "")
        .await;
    t.send(Method::DELETE, LEGACY, &[], "").await;
    t.post(v, r#"{"jsonrpc":"2.0","id":39,"method":"ping"}"#)
        .await;
    expect![[r#"
        > POST
        > {"jsonrpc":"2.0","id":0,"method":"tools/list"}
        < 400
        < content-type: application/json
        < {"jsonrpc":"2.0","id":0,"error":{"code":-32600,"message":"Bad Request: Mcp-Session-Id header is required"}}

        > POST
        > {"jsonrpc":"2.0","id":0,"method":"ping"}
        < 200
        < content-type: application/json
        < {"jsonrpc":"2.0","id":0,"result":{}}

        > POST
        > {"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2024-01-01","capabilities":{},"clientInfo":{"name":"c","version":"1"}}}
        < 200
        < content-type: application/json
        < mcp-session-id: <session>
        < {"jsonrpc":"2.0","id":1,"result":{"capabilities":{"logging":{},"prompts":{"listChanged":false},"resources":{"listChanged":false,"subscribe":false},"tools":{"listChanged":false}},"instructions":"A demo server: echo text, add numbers, run a slow job.","protocolVersion":"2025-11-25","serverInfo":{"name":"echo-server","version":"1.0.0"}}}

        > POST
        > {"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"c","version":"1"}}}
        < 200
        < content-type: application/json
        < mcp-session-id: <session>
        < {"jsonrpc":"2.0","id":1,"result":{"capabilities":{"logging":{},"prompts":{"listChanged":false},"resources":{"listChanged":false,"subscribe":false},"tools":{"listChanged":false}},"instructions":"A demo server: echo text, add numbers, run a slow job.","protocolVersion":"2025-06-18","serverInfo":{"name":"echo-server","version":"1.0.0"}}}

        > POST
        > mcp-protocol-version: 2025-06-18
        > mcp-session-id: <session>
        > {"jsonrpc":"2.0","method":"notifications/initialized"}
        < 202

        > POST
        > mcp-protocol-version: 2025-06-18
        > mcp-session-id: <session>
        > {"jsonrpc":"2.0","id":2,"method":"ping"}
        < 200
        < content-type: application/json
        < {"jsonrpc":"2.0","id":2,"result":{}}

        > POST
        > mcp-protocol-version: 2025-06-18
        > mcp-session-id: <session>
        > {"jsonrpc":"2.0","id":3,"method":"tools/list"}
        < 200
        < content-type: application/json
        < {"jsonrpc":"2.0","id":3,"result":{"nextCursor":"bzI","tools":[{"annotations":{"readOnlyHint":true,"title":"Echo"},"description":"Returns the text it is given.","inputSchema":{"additionalProperties":false,"properties":{"text":{"maxLength":10000,"type":"string"}},"required":["text"],"type":"object"},"name":"echo","title":"Echo"},{"description":"Counts through `steps` steps, reporting progress; cancellable.","inputSchema":{"properties":{"delay_ms":{"maximum":60000,"minimum":0,"type":"integer"},"steps":{"maximum":1000,"minimum":1,"type":"integer"}},"required":["steps"],"type":"object"},"name":"slow"}]}}

        > POST
        > mcp-protocol-version: 2025-06-18
        > mcp-session-id: <session>
        > {"jsonrpc":"2.0","id":4,"method":"tools/list","params":{"cursor":"bzI"}}
        < 200
        < content-type: application/json
        < {"jsonrpc":"2.0","id":4,"result":{"nextCursor":"bzQ","tools":[{"description":"Adds two numbers.","inputSchema":{"properties":{"a":{"type":"number"},"b":{"type":"number"}},"required":["a","b"],"type":"object"},"name":"add","outputSchema":{"properties":{"sum":{"type":"number"}},"required":["sum"],"type":"object"}},{"description":"Always fails with a message the model can read.","inputSchema":{"type":"object"},"name":"fail"}]}}

        > POST
        > mcp-protocol-version: 2025-06-18
        > mcp-session-id: <session>
        > {"jsonrpc":"2.0","id":5,"method":"tools/list","params":{"cursor":"bzQ"}}
        < 200
        < content-type: application/json
        < {"jsonrpc":"2.0","id":5,"result":{"nextCursor":"bzY","tools":[{"description":"Panics.","inputSchema":{"type":"object"},"name":"panic"},{"description":"Needs elicitation.","inputSchema":{"type":"object"},"name":"ask"}]}}

        > POST
        > mcp-protocol-version: 2025-06-18
        > mcp-session-id: <session>
        > {"jsonrpc":"2.0","id":6,"method":"tools/list","params":{"cursor":"nope"}}
        < 200
        < content-type: application/json
        < {"jsonrpc":"2.0","id":6,"error":{"code":-32602,"message":"invalid cursor"}}

        > POST
        > mcp-protocol-version: 2025-06-18
        > mcp-session-id: <session>
        > {"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}}
        < 200
        < content-type: application/json
        < {"jsonrpc":"2.0","id":7,"result":{"content":[{"text":"hi","type":"text"}]}}

        > POST
        > mcp-protocol-version: 2025-06-18
        > mcp-session-id: <session>
        > {"jsonrpc":"2.0","id":8,"method":"tools/call","params":{"name":"add","arguments":{"a":1,"b":2.5}}}
        < 200
        < content-type: application/json
        < {"jsonrpc":"2.0","id":8,"result":{"content":[{"text":"{\"sum\":3.5}","type":"text"}],"structuredContent":{"sum":3.5}}}

        > POST
        > mcp-protocol-version: 2025-06-18
        > mcp-session-id: <session>
        > {"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"fail"}}
        < 200
        < content-type: application/json
        < {"jsonrpc":"2.0","id":9,"result":{"content":[{"text":"this tool always fails","type":"text"}],"isError":true}}

        > POST
        > mcp-protocol-version: 2025-06-18
        > mcp-session-id: <session>
        > {"jsonrpc":"2.0","id":10,"method":"tools/call","params":{"name":"nope"}}
        < 200
        < content-type: application/json
        < {"jsonrpc":"2.0","id":10,"error":{"code":-32602,"message":"Unknown tool: nope"}}

        > POST
        > mcp-protocol-version: 2025-06-18
        > mcp-session-id: <session>
        > {"jsonrpc":"2.0","id":11,"method":"tools/call","params":{"name":"echo","arguments":{"text":5}}}
        < 200
        < content-type: application/json
        < {"jsonrpc":"2.0","id":11,"error":{"code":-32602,"message":"Invalid arguments for tool echo: /text: expected string, got number"}}

        > POST
        > mcp-protocol-version: 2025-06-18
        > mcp-session-id: <session>
        > {"jsonrpc":"2.0","id":12,"method":"tools/call","params":{"name":"panic"}}
        < 200
        < content-type: application/json
        < {"jsonrpc":"2.0","id":12,"error":{"code":-32603,"message":"tool panic failed unexpectedly (panic)"}}

        > POST
        > mcp-protocol-version: 2025-06-18
        > mcp-session-id: <session>
        > {"jsonrpc":"2.0","id":13,"method":"tools/call","params":{"name":"slow","arguments":{"steps":2,"delay_ms":1},"_meta":{"progressToken":7}}}
        < 200
        < content-type: text/event-stream
        < cache-control: no-cache
        < x-accel-buffering: no
        < event: message
        data: {"jsonrpc":"2.0","method":"notifications/progress","params":{"message":"step 1","progress":1.0,"progressToken":7,"total":2.0}}

        event: message
        data: {"jsonrpc":"2.0","method":"notifications/progress","params":{"message":"step 2","progress":2.0,"progressToken":7,"total":2.0}}

        event: message
        data: {"jsonrpc":"2.0","id":13,"result":{"content":[{"text":"done after 2 steps","type":"text"}]}}

        > POST
        > mcp-protocol-version: 2025-06-18
        > mcp-session-id: <session>
        > {"jsonrpc":"2.0","id":14,"method":"logging/setLevel","params":{"level":"verbose"}}
        < 200
        < content-type: application/json
        < {"jsonrpc":"2.0","id":14,"error":{"code":-32602,"message":"level must be a log level name"}}

        > POST
        > mcp-protocol-version: 2025-06-18
        > mcp-session-id: <session>
        > {"jsonrpc":"2.0","id":15,"method":"logging/setLevel","params":{"level":"info"}}
        < 200
        < content-type: application/json
        < {"jsonrpc":"2.0","id":15,"result":{}}

        > POST
        > mcp-protocol-version: 2025-06-18
        > mcp-session-id: <session>
        > {"jsonrpc":"2.0","id":16,"method":"tools/call","params":{"name":"slow","arguments":{"steps":1,"delay_ms":1}}}
        < 200
        < content-type: text/event-stream
        < cache-control: no-cache
        < x-accel-buffering: no
        < event: message
        data: {"jsonrpc":"2.0","method":"notifications/message","params":{"data":"step 1","level":"info","logger":"slow"}}

        event: message
        data: {"jsonrpc":"2.0","id":16,"result":{"content":[{"text":"done after 1 steps","type":"text"}]}}

        > POST
        > mcp-protocol-version: 2025-06-18
        > mcp-session-id: <session>
        > {"jsonrpc":"2.0","id":17,"method":"resources/list"}
        < 200
        < content-type: application/json
        < {"jsonrpc":"2.0","id":17,"result":{"nextCursor":"bzI","resources":[{"mimeType":"text/plain","name":"readme","title":"Read me","uri":"mem://readme"},{"mimeType":"image/png","name":"logo","uri":"mem://logo"}]}}

        > POST
        > mcp-protocol-version: 2025-06-18
        > mcp-session-id: <session>
        > {"jsonrpc":"2.0","id":18,"method":"resources/templates/list"}
        < 200
        < content-type: application/json
        < {"jsonrpc":"2.0","id":18,"result":{"resourceTemplates":[{"mimeType":"application/json","name":"item","uriTemplate":"mem://items/{id}"}]}}

        > POST
        > mcp-protocol-version: 2025-06-18
        > mcp-session-id: <session>
        > {"jsonrpc":"2.0","id":19,"method":"resources/read","params":{"uri":"mem://readme"}}
        < 200
        < content-type: application/json
        < {"jsonrpc":"2.0","id":19,"result":{"contents":[{"mimeType":"text/plain","text":"Hello from the echo server.","uri":"mem://readme"}]}}

        > POST
        > mcp-protocol-version: 2025-06-18
        > mcp-session-id: <session>
        > {"jsonrpc":"2.0","id":20,"method":"resources/read","params":{"uri":"mem://logo"}}
        < 200
        < content-type: application/json
        < {"jsonrpc":"2.0","id":20,"result":{"contents":[{"blob":"iVBORw==","mimeType":"image/png","uri":"mem://logo"}]}}

        > POST
        > mcp-protocol-version: 2025-06-18
        > mcp-session-id: <session>
        > {"jsonrpc":"2.0","id":21,"method":"resources/read","params":{"uri":"mem://items/42"}}
        < 200
        < content-type: application/json
        < {"jsonrpc":"2.0","id":21,"result":{"contents":[{"mimeType":"application/json","text":"{\"id\":\"42\"}","uri":"mem://items/42"}]}}

        > POST
        > mcp-protocol-version: 2025-06-18
        > mcp-session-id: <session>
        > {"jsonrpc":"2.0","id":22,"method":"resources/read","params":{"uri":"mem://items/missing"}}
        < 200
        < content-type: application/json
        < {"jsonrpc":"2.0","id":22,"error":{"code":-32002,"message":"Resource not found","data":{"uri":"mem://items/missing"}}}

        > POST
        > mcp-protocol-version: 2025-06-18
        > mcp-session-id: <session>
        > {"jsonrpc":"2.0","id":23,"method":"resources/read","params":{"uri":"mem://none"}}
        < 200
        < content-type: application/json
        < {"jsonrpc":"2.0","id":23,"error":{"code":-32002,"message":"Resource not found","data":{"uri":"mem://none"}}}

        > POST
        > mcp-protocol-version: 2025-06-18
        > mcp-session-id: <session>
        > {"jsonrpc":"2.0","id":24,"method":"prompts/list"}
        < 200
        < content-type: application/json
        < {"jsonrpc":"2.0","id":24,"result":{"prompts":[{"arguments":[{"description":"Who to greet","name":"name","required":true}],"description":"Greets someone.","name":"greet"}]}}

        > POST
        > mcp-protocol-version: 2025-06-18
        > mcp-session-id: <session>
        > {"jsonrpc":"2.0","id":25,"method":"prompts/get","params":{"name":"greet","arguments":{"name":"Ada"}}}
        < 200
        < content-type: application/json
        < {"jsonrpc":"2.0","id":25,"result":{"messages":[{"content":{"text":"Say hello to Ada.","type":"text"},"role":"user"}]}}

        > POST
        > mcp-protocol-version: 2025-06-18
        > mcp-session-id: <session>
        > {"jsonrpc":"2.0","id":26,"method":"prompts/get","params":{"name":"greet"}}
        < 200
        < content-type: application/json
        < {"jsonrpc":"2.0","id":26,"error":{"code":-32602,"message":"missing required argument name"}}

        > POST
        > mcp-protocol-version: 2025-06-18
        > mcp-session-id: <session>
        > {"jsonrpc":"2.0","id":27,"method":"no/such"}
        < 200
        < content-type: application/json
        < {"jsonrpc":"2.0","id":27,"error":{"code":-32601,"message":"Method not found: no/such"}}

        > POST
        > mcp-protocol-version: 2025-06-18
        > mcp-session-id: <session>
        > {"jsonrpc":"2.0","id":28,"result":{}}
        < 400
        < content-type: application/json
        < {"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"no request of this session is waiting for that response"}}

        > POST
        > mcp-protocol-version: 2025-06-18
        > mcp-session-id: <session>
        > {"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":99}}
        < 202

        > POST
        > mcp-protocol-version: 2025-06-18
        > mcp-session-id: <session>
        > {"jsonrpc":"2.0","id":29,"method"
        < 400
        < content-type: application/json
        < {"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error: EOF while parsing an object at line 1 column 33"}}

        > POST
        > mcp-protocol-version: 2025-06-18
        > mcp-session-id: <session>
        > [{"jsonrpc":"2.0","id":30,"method":"ping"}]
        < 400
        < content-type: application/json
        < {"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Invalid Request: batches are not supported"}}

        > POST
        > mcp-protocol-version: 2025-06-18
        > mcp-session-id: <session>
        > {"jsonrpc":"2.0","id":31}
        < 400
        < content-type: application/json
        < {"jsonrpc":"2.0","id":31,"error":{"code":-32600,"message":"Invalid Request: response needs exactly one of result/error"}}

        > POST
        > mcp-protocol-version: 1999-01-01
        > mcp-session-id: <session>
        > {"jsonrpc":"2.0","id":32,"method":"ping"}
        < 400
        < content-type: application/json
        < {"jsonrpc":"2.0","id":32,"error":{"code":-32600,"message":"Bad Request: unsupported MCP-Protocol-Version"}}

        > POST
        > mcp-session-id: 0123abcd
        > {"jsonrpc":"2.0","id":33,"method":"tools/list"}
        < 404
        < content-type: application/json
        < {"jsonrpc":"2.0","id":33,"error":{"code":-32600,"message":"Session not found"}}

        > POST
        > origin: https://evil.example
        > mcp-session-id: <session>
        > {"jsonrpc":"2.0","id":34,"method":"ping"}
        < 403
        < content-type: application/json
        < {"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Origin not allowed"}}

        > POST
        > mcp-session-id: <session>
        > {"jsonrpc":"2.0","id":35,"method":"ping"}
        < 403
        < content-type: application/json
        < {"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Host not allowed"}}

        > POST
        > mcp-session-id: <session>
        > {"jsonrpc":"2.0","id":36,"method":"ping"}
        < 406
        < content-type: application/json
        < {"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Not Acceptable: Accept must list application/json and text/event-stream"}}

        > POST
        > mcp-session-id: <session>
        > {"jsonrpc":"2.0","id":37,"method":"ping"}
        < 415
        < content-type: application/json
        < {"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Content-Type must be application/json"}}

        > POST
        > mcp-session-id: <session>
        > {"jsonrpc":"2.0","id":38,"method":"ping","params":{"pad":"x…"}}
        < 413
        < content-type: application/json
        < {"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"body larger than 4194304 bytes"}}

        > PUT
        > mcp-session-id: <session>
        < 405
        < allow: GET, POST, DELETE

        > GET
        > mcp-session-id: <session>
        < 200
        < content-type: text/event-stream
        < cache-control: no-cache
        < x-accel-buffering: no

        > DELETE
        > mcp-session-id: ffff
        < 404

        > DELETE
        > mcp-session-id: <session>
        < 200

        > POST
        > mcp-protocol-version: 2025-06-18
        > mcp-session-id: <session>
        > {"jsonrpc":"2.0","id":39,"method":"ping"}
        < 404
        < content-type: application/json
        < {"jsonrpc":"2.0","id":39,"error":{"code":-32600,"message":"Session not found"}}

    "#]].assert_eq(&t.text);
}
