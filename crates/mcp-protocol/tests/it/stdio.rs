//! The stdio transport: a transcript over in-memory pipes, concurrent requests, cancellation
//! and exit on end of input.

use expect_test::expect;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use crate::harness::test_server;

#[tokio::test]
async fn stdio_transcript_and_exit_on_eof() {
    let (client_in, server_out) = tokio::io::duplex(1 << 16);
    let (mut client_out, server_in) = tokio::io::duplex(1 << 16);
    let server = tokio::spawn(mcp_protocol::serve_lines(
        test_server(),
        BufReader::new(server_in),
        server_out,
    ));
    let mut lines = BufReader::new(client_in).lines();
    let mut transcript = String::new();
    let script = [
        r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"c","version":"1"}}}"#,
        r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
        r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}}"#,
        r#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"slow","arguments":{"steps":2,"delay_ms":1},"_meta":{"progressToken":"p"}}}"#,
        r#"{"jsonrpc":"2.0","id":4,"method":"server/discover","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}"#,
        r#"not json"#,
        r#"{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"panic"}}"#,
    ];
    let expected_lines = [1, 0, 1, 3, 1, 1, 1];
    for (msg, n) in script.iter().zip(expected_lines) {
        client_out.write_all(msg.as_bytes()).await.unwrap();
        client_out.write_all(b"\n").await.unwrap();
        transcript.push_str(&format!("> {msg}\n"));
        for _ in 0..n {
            let line = lines.next_line().await.unwrap().unwrap();
            transcript.push_str(&format!("< {line}\n"));
        }
    }
    // A long call, then its cancellation: the handler stops and no response is sent; the next
    // request is still answered.
    client_out.write_all(br#"{"jsonrpc":"2.0","id":6,"method":"tools/call","params":{"name":"slow","arguments":{"steps":1000,"delay_ms":1000}}}"#).await.unwrap();
    client_out.write_all(b"\n").await.unwrap();
    client_out
        .write_all(
            br#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":6}}"#,
        )
        .await
        .unwrap();
    client_out.write_all(b"\n").await.unwrap();
    client_out
        .write_all(br#"{"jsonrpc":"2.0","id":7,"method":"ping"}"#)
        .await
        .unwrap();
    client_out.write_all(b"\n").await.unwrap();
    transcript.push_str(&format!(
        "< {}\n",
        lines.next_line().await.unwrap().unwrap()
    ));
    drop(client_out);
    server.await.unwrap().unwrap();
    // Nothing else was written (no response to the cancelled request) and stdout closed.
    assert_eq!(lines.next_line().await.unwrap(), None);
    expect![[r#"
        > {"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"c","version":"1"}}}
        < {"jsonrpc":"2.0","id":1,"result":{"capabilities":{"logging":{},"prompts":{"listChanged":false},"resources":{"listChanged":false,"subscribe":false},"tools":{"listChanged":false}},"instructions":"A demo server: echo text, add numbers, run a slow job.","protocolVersion":"2025-11-25","serverInfo":{"name":"echo-server","version":"1.0.0"}}}
        > {"jsonrpc":"2.0","method":"notifications/initialized"}
        > {"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}}
        < {"jsonrpc":"2.0","id":2,"result":{"content":[{"text":"hi","type":"text"}]}}
        > {"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"slow","arguments":{"steps":2,"delay_ms":1},"_meta":{"progressToken":"p"}}}
        < {"jsonrpc":"2.0","method":"notifications/progress","params":{"message":"step 1","progress":1.0,"progressToken":"p","total":2.0}}
        < {"jsonrpc":"2.0","method":"notifications/progress","params":{"message":"step 2","progress":2.0,"progressToken":"p","total":2.0}}
        < {"jsonrpc":"2.0","id":3,"result":{"content":[{"text":"done after 2 steps","type":"text"}]}}
        > {"jsonrpc":"2.0","id":4,"method":"server/discover","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}
        < {"jsonrpc":"2.0","id":4,"result":{"_meta":{"io.modelcontextprotocol/serverInfo":{"name":"echo-server","version":"1.0.0"}},"cacheScope":"private","capabilities":{"prompts":{"listChanged":false},"resources":{"listChanged":false,"subscribe":false},"tools":{"listChanged":false}},"instructions":"A demo server: echo text, add numbers, run a slow job.","resultType":"complete","supportedVersions":["2026-07-28","2025-11-25","2025-06-18","2025-03-26"],"ttlMs":0}}
        > not json
        < {"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error: expected ident at line 1 column 2"}}
        > {"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"panic"}}
        < {"jsonrpc":"2.0","id":5,"error":{"code":-32603,"message":"tool panic failed unexpectedly (panic)"}}
        < {"jsonrpc":"2.0","id":7,"result":{}}
    "#]].assert_eq(&transcript);
}
