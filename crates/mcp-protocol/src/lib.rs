//! A hand-written JSON-RPC 2.0 and Model Context Protocol server layer: message types, both
//! protocol eras (the legacy `initialize` era and the stateless 2026-07-28 era), tool, resource and
//! prompt registries, and the Streamable HTTP (as a tower `Service`) and stdio transports.
//!
//! It never knows about Salesforce: any team can embed it for their own MCP server.
//!
//! Handlers may ask the client's model for a completion with [`ToolContext::sample`], one call
//! for both eras (a live request in the legacy era, `input_required` and a retry in the modern
//! one): see [`sampling`].
//!
//! # Serving tools
//!
//! ```no_run
//! use std::sync::Arc;
//!
//! use mcp_protocol::{
//!     HttpConfig, InMemorySessionStore, McpHttpService, McpServer, Tool, ToolContext, ToolOutput,
//! };
//! use serde::Deserialize;
//! use serde_json::json;
//!
//! #[derive(Deserialize)]
//! struct EchoArgs {
//!     text: String,
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let server = McpServer::builder()
//!     .name("demo")
//!     .version("1.0.0")
//!     .tool(
//!         Tool::new("echo").input_schema(json!({
//!             "type": "object",
//!             "properties": {"text": {"type": "string"}},
//!             "required": ["text"]
//!         })),
//!         // Arguments arrive validated against the schema, then deserialized.
//!         |args: EchoArgs, _cx: ToolContext| async move { Ok(ToolOutput::text(args.text)) },
//!     )
//!     .build()?;
//! // A tower service: wrap it in layers, or serve it directly.
//! let service = McpHttpService::new(
//!     server,
//!     Arc::new(InMemorySessionStore::default()),
//!     HttpConfig::default(),
//! );
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! mcp_protocol::serve(listener, service, async {
//!     let _ = tokio::signal::ctrl_c().await;
//! })
//! .await;
//! # Ok(())
//! # }
//! ```

pub mod context;
pub mod dispatch;
mod error;
pub mod http;
pub mod inflight;
pub mod jsonrpc;
pub mod observe;
pub mod registry;
pub mod sampling;
pub mod schema;
pub mod server;
pub mod session;
pub mod stdio;

pub use context::{LogLevel, RequestEnv, ToolContext};
pub use dispatch::{Era, NotificationEffect, Outcome, SessionState};
pub use error::Error;
pub use http::{HttpConfig, McpHttpService, serve};
pub use jsonrpc::{ErrorObject, Message, Notification, Request, RequestId, Response};
pub use observe::{ToolObserver, ToolOutcome};
pub use registry::{
    Prompt, PromptMessages, Resource, ResourceContents, ResourceError, Tool, ToolAnnotations,
    ToolError, ToolOutput,
};
pub use sampling::{Peer, PendingRequests, SamplingRequest, SamplingResult};
pub use server::{CacheScope, McpServer, McpServerBuilder};
pub use session::{InMemorySessionStore, RedisSessionStore, SessionId, SessionOwner, SessionStore};
pub use stdio::{serve_lines, serve_stdio};
