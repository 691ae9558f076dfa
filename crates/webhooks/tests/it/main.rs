//! Integration tests of the webhooks crate: parsing, hardening, responses, verification, the
//! Redis-backed stores and the intake end to end over a real socket.

mod fixtures;
mod http_client;
mod intake;
mod queue;
mod responses;
mod soap;
mod stores;
mod verify;
