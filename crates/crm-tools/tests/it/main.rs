//! End-to-end tests of the CRM tools: an in-process MCP server whose tools talk over real HTTP
//! to a local sandbox org with a fixed clock; expected figures are computed from the sandbox's
//! store directly. `widgets` renders the ChatGPT/MCP Apps widgets in headless Chromium
//! (`test_support::browser`), which must be installed (`apt-get install -y chromium`).

mod account_activity;
mod catalog_ops;
mod catalog_query;
mod catalog_records;
mod errors;
mod http;
mod injection;
mod insights;
mod listing;
mod opportunity;
mod pipeline;
mod route_leads;
mod score_leads;
mod search_fetch;
mod search_leads;
mod support;
mod widgets;
mod writes;
