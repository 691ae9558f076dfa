//! A hand-written JSON-RPC 2.0 and Model Context Protocol server layer: message types, both
//! protocol eras (the legacy `initialize` era and the stateless 2026-07-28 era), tool, resource and
//! prompt registries, and the Streamable HTTP (as a tower `Service`) and stdio transports.
//!
//! It never knows about Salesforce: any team can embed it for their own MCP server.

pub mod context;
pub mod dispatch;
mod error;
pub mod http;
pub mod inflight;
pub mod jsonrpc;
pub mod registry;
pub mod schema;
pub mod server;
pub mod session;
pub mod stdio;

pub use context::{LogLevel, RequestEnv, ToolContext};
pub use dispatch::{Era, NotificationEffect, Outcome, SessionState};
pub use error::Error;
pub use http::{HttpConfig, McpHttpService, serve};
pub use jsonrpc::{ErrorObject, Message, Notification, Request, RequestId, Response};
pub use registry::{
    Prompt, PromptMessages, Resource, ResourceContents, ResourceError, Tool, ToolAnnotations,
    ToolError, ToolOutput,
};
pub use server::{CacheScope, McpServer, McpServerBuilder};
pub use session::{InMemorySessionStore, RedisSessionStore, SessionId, SessionStore};
pub use stdio::{serve_lines, serve_stdio};
