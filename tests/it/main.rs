//! Workspace end-to-end tests: real binaries and libraries talking over real sockets. One test
//! binary for the whole workspace, so it links once.
//!
//! The server is run two ways: in-process through `server::start` (the exact composition the
//! binary runs, so tests can reach the embedded sandbox), and as the real `sfmcp-server` binary
//! for stdio and log capture (next to this test binary in the target directory, brought up to
//! date with `cargo build -p server` first, since a test package cannot depend on another
//! package's binary).

mod auth_flow;
mod auth_harness;
mod auth_loopback;
mod auth_modes;
mod auth_negative;
mod auth_refresh;
mod faults_server;
mod faults_worker;
mod load;
mod mcp_client;
mod scale_out;
mod server;
mod server_auth;
mod server_catalog;
mod server_demo;
mod server_events;
mod server_harness;
mod server_injection;
mod server_sampling;
mod server_widgets;
mod support;
mod worker_chaos;
mod worker_harness;
mod worker_refusals;
mod worker_sandbox;
mod worker_session;
mod worker_shutdown;
