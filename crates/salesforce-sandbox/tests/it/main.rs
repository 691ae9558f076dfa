//! Integration tests of the sandbox over real HTTP on loopback.

mod admin;
mod bulk;
mod crud;
mod describe;
mod history;
mod limits;
mod oauth;
mod outbound;
mod query;
mod reports;
mod search;
mod soql_engine;
mod support;
mod tls;
mod transactions;
