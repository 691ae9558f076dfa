//! The demo server shared by the `echo` example and the integration tests: an `echo` tool, a
//! long-running `slow` tool with progress that honours cancellation, `add` with structured
//! output, `fail` (an `isError` result), resources (text, blob, a template, and `mem://stats`
//! counting cancelled `slow` calls, so clients can see that cancellation reached the handler)
//! and a prompt.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use mcp_protocol::{
    LogLevel, McpServer, McpServerBuilder, Prompt, PromptMessages, Resource, ResourceContents,
    ResourceError, Tool, ToolAnnotations, ToolContext, ToolError, ToolOutput,
};
use serde::Deserialize;
use serde_json::json;

#[derive(Deserialize)]
struct EchoArgs {
    text: String,
}

#[derive(Deserialize)]
struct SlowArgs {
    steps: u32,
    #[serde(default = "default_delay")]
    delay_ms: u64,
}

fn default_delay() -> u64 {
    100
}

#[derive(Deserialize)]
struct AddArgs {
    a: f64,
    b: f64,
}

/// Builds the demo server with `page_size` items per list page.
pub fn build(page_size: usize) -> McpServer {
    builder(page_size)
        .build()
        .unwrap_or_else(|e| panic!("demo server definition is invalid: {e}"))
}

/// The demo server's builder, for callers that register more.
pub fn builder(page_size: usize) -> McpServerBuilder {
    let cancelled = Arc::new(AtomicU64::new(0));
    let cancelled_in_slow = cancelled.clone();
    McpServer::builder()
        .name("echo-server")
        .version("1.0.0")
        .instructions("A demo server: echo text, add numbers, run a slow job.")
        .page_size(page_size)
        .tool(
            Tool::new("echo")
                .title("Echo")
                .description("Returns the text it is given.")
                .input_schema(json!({
                    "type": "object",
                    "properties": {"text": {"type": "string", "maxLength": 10000}},
                    "required": ["text"],
                    "additionalProperties": false
                }))
                .annotations(ToolAnnotations {
                    read_only: Some(true),
                    ..Default::default()
                }),
            |args: EchoArgs, _cx: ToolContext| async move { Ok(ToolOutput::text(args.text)) },
        )
        .tool(
            Tool::new("slow")
                .description("Counts through `steps` steps, reporting progress; cancellable.")
                .input_schema(json!({
                    "type": "object",
                    "properties": {
                        "steps": {"type": "integer", "minimum": 1, "maximum": 1000},
                        "delay_ms": {"type": "integer", "minimum": 0, "maximum": 60000}
                    },
                    "required": ["steps"]
                })),
            move |args: SlowArgs, cx: ToolContext| {
                let cancelled = cancelled_in_slow.clone();
                async move {
                    for step in 1..=args.steps {
                        tokio::select! {
                            () = cx.cancellation().cancelled() => {
                                cancelled.fetch_add(1, Ordering::Relaxed);
                                return Err(ToolError::new("cancelled"));
                            }
                            () = tokio::time::sleep(Duration::from_millis(args.delay_ms)) => {}
                        }
                        cx.log(LogLevel::Info, Some("slow"), json!(format!("step {step}")))
                            .await;
                        cx.progress(
                            f64::from(step),
                            Some(f64::from(args.steps)),
                            Some(&format!("step {step}")),
                        )
                        .await;
                    }
                    Ok(ToolOutput::text(format!("done after {} steps", args.steps)))
                }
            },
        )
        .tool(
            Tool::new("add")
                .description("Adds two numbers.")
                .input_schema(json!({
                    "type": "object",
                    "properties": {"a": {"type": "number"}, "b": {"type": "number"}},
                    "required": ["a", "b"]
                }))
                .output_schema(json!({
                    "type": "object",
                    "properties": {"sum": {"type": "number"}},
                    "required": ["sum"]
                })),
            |args: AddArgs, _cx: ToolContext| async move {
                Ok(ToolOutput::structured(json!({"sum": args.a + args.b})))
            },
        )
        .tool(
            Tool::new("fail").description("Always fails with a message the model can read."),
            |_args: serde_json::Value, _cx: ToolContext| async move {
                Err::<ToolOutput, _>(ToolError::new("this tool always fails"))
            },
        )
        .resource(
            Resource::new("mem://readme", "readme")
                .title("Read me")
                .mime_type("text/plain"),
            |uri, _cx| async move {
                Ok(vec![ResourceContents::text(
                    uri,
                    Some("text/plain"),
                    "Hello from the echo server.",
                )])
            },
        )
        .resource(
            Resource::new("mem://logo", "logo").mime_type("image/png"),
            |uri, _cx| async move {
                Ok(vec![ResourceContents::blob(
                    uri,
                    Some("image/png"),
                    &[0x89, b'P', b'N', b'G'],
                )])
            },
        )
        .resource(
            Resource::new("mem://stats", "stats").mime_type("application/json"),
            move |uri, _cx| {
                let cancelled = cancelled.load(Ordering::Relaxed);
                async move {
                    Ok(vec![ResourceContents::text(
                        uri,
                        Some("application/json"),
                        json!({"cancelled": cancelled}).to_string(),
                    )])
                }
            },
        )
        .resource_template(
            Resource::new("mem://items/{id}", "item").mime_type("application/json"),
            |uri, vars, _cx| async move {
                let id = vars.get("id").cloned().unwrap_or_default();
                if id == "missing" {
                    return Err(ResourceError::NotFound);
                }
                Ok(vec![ResourceContents::text(
                    uri,
                    Some("application/json"),
                    json!({"id": id}).to_string(),
                )])
            },
        )
        .prompt(
            Prompt::new("greet")
                .description("Greets someone.")
                .argument("name", Some("Who to greet"), true),
            |args, _cx| async move {
                let name = args.get("name").cloned().unwrap_or_default();
                Ok(PromptMessages::user_text(format!("Say hello to {name}.")))
            },
        )
}
