//! Salesforce CRM capabilities as MCP tools: lead search, opportunity and account insight, record
//! writes validated against describe, and the `search`/`fetch` pair ChatGPT's deep research needs.
//!
//! It depends on `salesforce-api` and `mcp-protocol` and never knows about HTTP, transports or
//! how tokens are obtained: the server supplies a [`Connections`] implementation that turns a
//! tool call into a [`Connection`] for the calling principal.
//!
//! ```no_run
//! # async fn demo(client: salesforce_api::Client) -> Result<(), mcp_protocol::Error> {
//! use crm_tools::{Connection, CrmConfig, CrmTools, SingleConnection};
//! use mcp_protocol::McpServer;
//!
//! let connections = SingleConnection(Connection::new(client, "https://acme.my.salesforce.com"));
//! let tools = CrmTools::new(connections, CrmConfig { read_only: true, ..CrmConfig::default() });
//! let server = tools.register(McpServer::builder().name("sfmcp")).build()?;
//! # Ok(()) }
//! ```
//!
//! The tools (see `docs/tools.md` for examples):
//! - `searchLeads`: leads by picklists, text, owner, created period, revenue and size, sorted and
//!   paged with an opaque cursor;
//! - `getOpportunity`: one opportunity with account, owner, contact roles and recent activities;
//! - `updateContact`: changes updateable Contact fields (checked against describe);
//! - `createTask`: a Task whose `WhoId`/`WhatId` are chosen by the related ids' key prefixes;
//! - `getAccountInsights`: an account with open opportunities, key contacts, open cases and
//!   total and weighted pipeline, fetched concurrently;
//! - `search` and `fetch`: ChatGPT's deep-research pair over leads, contacts, accounts,
//!   opportunities and cases;
//! - `scoreLeads`: explainable 0–100 lead scores, factor by factor (`analytics::scoring`);
//! - `analyzePipeline`: risk factors, forecasts and likely closes for a period
//!   (`analytics::pipeline`, `analytics::periods`);
//! - `summarizeAccountActivity`: an account's timeline by month and type;
//! - `routeLeads`: owner assignment by the `lead-routing` steps the worker uses, dry run unless
//!   `apply` is true.
//! - the generic catalog: `querySoql` (model-written SOQL through the read-only guard),
//!   `searchRecords` (SOSL), `listObjects`, `describeObject`, `getRecord`, `createRecord`,
//!   `updateRecord`, `deleteRecord` (any object, validated against describe), `bulkImport`
//!   (Bulk API 2.0 ingest with progress notifications), `bulkExport` (Bulk query as an embedded
//!   CSV), `runFlow`, `runReport`, `recentEvents` (listed when [`CrmTools::with_events`] gave
//!   it an [`EventSource`]) and `getApiUsage`.
//!
//! Every write logs one audit line on the tracing target [`AUDIT_TARGET`] (`sfmcp::audit`).
//!
//! `searchLeads`, `getOpportunity`, `getAccountInsights`, `scoreLeads` and `analyzePipeline` come
//! with HTML widgets for ChatGPT and MCP Apps hosts ([`widgets`]), served as `ui://` resources
//! and attached by tool `_meta`.
//!
//! Every SOQL statement is assembled with the typed builder of `salesforce_api::soql`: argument
//! text only ever becomes an escaped literal, never query text. Failures come back as `isError`
//! results whose message says what to fix ([`Error`]'s `Display`).

mod analytics;
mod audit;
mod cache;
mod config;
mod connection;
mod cursor;
mod error;
mod events;
mod ids;
mod output;
mod period;
mod tools;
mod validate;
pub mod widgets;

pub use audit::AUDIT_TARGET;
pub use cache::{DEFAULT_RECORD_TTL, RecordCache, RecordCaches};
pub use config::{
    CrmConfig, DEFAULT_ROW_CAP, LeadPicklists, LeadScoring, MAX_ROW_CAP, PipelineSettings,
    RouteStep, ScoreWeights,
};
pub use connection::{Connection, Connections, SingleConnection};
pub use error::Error;
pub use events::{EventEntry, EventSource};
pub use tools::{CrmTools, TOOL_NAMES, WRITE_TOOL_NAMES};
