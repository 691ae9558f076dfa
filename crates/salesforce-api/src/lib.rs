//! The Salesforce client every Salesforce call goes through: an injection-proof SOQL builder, the
//! REST API (query, sObjects, collections, composite, search, describe, limits, Flows, Reports),
//! Bulk API 2.0, API-usage tracking, and resilience policies (retry with jittered backoff, rate
//! limiting, circuit breaking).
//!
//! It receives access through a small trait (instance URL, access token, a way to ask for a fresh
//! one). It never knows about MCP, HTTP servers or where tokens are stored.

mod error;
pub mod soql;

pub use error::Error;
