//! Integration tests of mcp-protocol: wire transcripts of both eras over HTTP and stdio,
//! sampling in both eras, cancellation, Redis-backed sessions shared by two service instances, and interoperability
//! with the official Python SDK.

#[path = "../../examples/echo/server.rs"]
mod echo_server;

mod extensions;
mod harness;
mod http_cancel;
mod http_guards;
mod http_legacy;
mod http_modern;
mod interop;
mod observe;
mod redis_sessions;
mod sampling;
mod stdio;
