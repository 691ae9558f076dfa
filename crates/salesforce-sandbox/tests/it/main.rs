//! Integration tests of the sandbox over real HTTP.
mod soql_engine;
