//! The deployment modes besides the default broker mode (`mcp_auth`: we are the MCP client's
//! authorization server and keep each user's Salesforce connection):
//!
//! - [`none`]: loopback development only. No authentication of MCP callers; one pre-configured
//!   Salesforce connection (a static access token + instance URL, or the client-credentials
//!   flow), and a guard refusing a non-loopback bind address unless explicitly forced.
//! - [`direct`]: the MCP client's callback is registered in the Salesforce connected app, so the
//!   client logs in at Salesforce itself and presents Salesforce access tokens, which we validate
//!   at Salesforce (`userinfo`) with a short cache.

pub mod direct;
pub mod none;
