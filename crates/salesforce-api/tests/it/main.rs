//! salesforce-api against the sandbox over real HTTP: every call, and the resilience policies
//! under injected faults. One test binary for the crate.

mod bulk;
mod describe;
mod query;
mod resilience;
mod sobjects;
mod support;
