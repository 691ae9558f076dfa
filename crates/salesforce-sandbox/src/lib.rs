//! A local Salesforce org: schema, seeded data, a SOQL engine, the REST, OAuth and Bulk API 2.0
//! endpoints and outbound messages, behaving like Salesforce on the wire.
//!
//! It is an independent peer of our client: it never depends on `salesforce-api`, `auth` or any
//! MCP crate, so that testing the client against it tests two implementations against each other.

pub mod clock;
pub mod dataset;
mod error;
pub mod schema;
pub mod soql_engine;
pub mod store;
pub mod value;

pub use clock::Clock;
pub use error::{ApiFailure, Error};
