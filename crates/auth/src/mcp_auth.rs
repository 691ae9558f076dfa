//! The MCP side: we are the resource server the MCP client calls and a broker authorization
//! server in front of Salesforce. Metadata documents, client registration, our own codes and
//! tokens (opaque, stored only as SHA-256 hashes), the token endpoint logic and the bearer layer.

pub mod authorize;
