//! Workspace end-to-end tests: real binaries and libraries talking over real sockets. One test
//! binary for the whole workspace, so it links once.

mod auth_flow;
mod auth_harness;
mod auth_loopback;
mod auth_modes;
mod auth_negative;
mod auth_refresh;
