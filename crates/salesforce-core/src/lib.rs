//! The Salesforce wire vocabulary that both sides of the wire speak: the SOQL grammar (lexer,
//! parser, syntax tree, literal escaping), record ids and their checksums, and the shapes of
//! Salesforce's error bodies.
//!
//! `salesforce-api` (the client) and `salesforce-sandbox` (the emulator) both build on it, so a
//! query the client writes is parsed by exactly the grammar the sandbox evaluates.
//!
//! This crate does no I/O: it never knows about HTTP, tokens, MCP or servers.

mod error;
pub mod id;
pub mod soql;
pub mod wire;

pub use error::Error;
