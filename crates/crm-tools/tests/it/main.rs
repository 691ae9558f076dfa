//! End-to-end tests of the CRM tools: an in-process MCP server whose tools talk over real HTTP
//! to a local sandbox org.
