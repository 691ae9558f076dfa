//! Salesforce outbound messages: hardened SOAP parsing, authenticity checks, the `Ack` and fault
//! responses, the idempotency store and the durable event queue (in memory and in Redis).
//!
//! It never calls the Salesforce API and never knows about MCP; acting on events is the worker's job.

mod error;
pub mod response;
pub mod soap;
pub mod verify;

pub use error::Error;
pub use soap::{FieldValue, Limits, Notification, OutboundMessage, SObject, SessionId, parse};
pub use verify::{OrgAllowList, PathToken, SessionVerifier, Verifier};
