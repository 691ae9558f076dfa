//! A hand-written JSON-RPC 2.0 and Model Context Protocol server layer: message types, both
//! protocol eras (the legacy `initialize` era and the stateless 2026-07-28 era), tool, resource and
//! prompt registries, and the Streamable HTTP (as a tower `Service`) and stdio transports.
//!
//! It never knows about Salesforce: any team can embed it for their own MCP server.
