//! Workspace end-to-end tests: real binaries and libraries talking over real sockets. One test
//! binary for the whole workspace, so it links once.
