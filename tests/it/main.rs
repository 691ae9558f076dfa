//! Workspace end-to-end tests: real binaries and libraries talking over real sockets. One test
//! binary for the whole workspace, so it links once.

mod worker_chaos;
mod worker_harness;
mod worker_refusals;
mod worker_sandbox;
