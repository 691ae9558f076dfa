//! Helpers shared by the test suites: an isolated Redis per test (its own key prefix on the shared
//! server, or a private `redis-server` on a free port), and headless Chromium as a widget host
//! ([`browser`]).
//!
//! Only ever a dev-dependency: no production crate may depend on it.

pub mod browser;
mod redis_server;

pub use redis_server::TestRedis;
