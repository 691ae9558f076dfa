//! A local Salesforce org: schema, seeded data, a SOQL engine, the REST, OAuth and Bulk API 2.0
//! endpoints and outbound messages, behaving like Salesforce on the wire.
//!
//! It is an independent peer of our client: it never depends on `salesforce-api`, `auth` or any
//! MCP crate, so that testing the client against it tests two implementations against each other.
//!
//! Module map: [`schema`] (objects, fields, describe), [`store`] (tables, validation,
//! transactions), [`dataset`] (seeded generator), [`server`] (builder, accept loop, routing),
//! `rest` (sObjects, query, collections, composite, limits, flows), [`soql_engine`] (SOQL
//! evaluation and query locators), [`oauth`] (authorize, token,
//! revoke, userinfo, introspect), `admin` (`/__sandbox/`), [`clock`], [`faults`], [`limits`],
//! [`outbound`] (outbound-message rules and SOAP delivery with retries).

mod admin;
pub mod clock;
pub mod dataset;
mod error;
pub mod faults;
mod http;
pub mod limits;
pub mod oauth;
pub mod outbound;
pub mod request_log;
mod rest;
pub mod schema;
pub mod server;
pub mod soql_engine;
pub mod store;
pub mod value;

pub use clock::Clock;
pub use dataset::DatasetSize;
pub use error::{ApiFailure, Error};
pub use outbound::{OutboundRule, demo_outbound_rules};
pub use server::{RunningSandbox, Sandbox, SandboxBuilder};
