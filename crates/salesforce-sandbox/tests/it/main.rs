//! Integration tests of the sandbox over real HTTP.
