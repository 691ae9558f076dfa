//! Salesforce CRM capabilities as MCP tools: lead search and scoring, opportunity and account
//! insight, record writes, schema discovery, and the `search`/`fetch` pair for deep research.
//!
//! It depends on `salesforce-api` and `mcp-protocol` and never knows about HTTP, transports or
//! how tokens are obtained.
