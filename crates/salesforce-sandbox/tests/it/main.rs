//! Integration tests of the sandbox over real HTTP on loopback.

mod admin;
mod crud;
mod describe;
mod limits;
mod oauth;
mod outbound;
mod query;
mod soql_engine;
mod support;
mod transactions;
