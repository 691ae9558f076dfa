//! Integration tests of the auth crate: stores on memory and on Redis, refresh single-flight,
//! the Salesforce client against a request-shape double, and the MCP authorization side.

mod bounds;
mod client_metadata;
mod common;
mod log_capture;
mod login;
mod mcp_auth;
mod refresh;
mod routes;
mod salesforce_request_shape;
mod store;
