//! Salesforce outbound messages: hardened SOAP parsing, authenticity checks, the `Ack` and fault
//! responses, the idempotency store and the durable event queue (in memory and in Redis).
//!
//! It never calls the Salesforce API and never knows about MCP; acting on events is the worker's job.

mod error;
mod event;
pub mod idempotency;
mod ingest;
pub mod intake;
pub mod queue;
mod redis_store;
pub mod response;
pub mod soap;
pub mod verify;

pub use error::Error;
pub use event::{Event, dedupe_key};
pub use idempotency::{
    Claim, IdempotencyStore, IdempotencyTtl, MemoryIdempotencyStore, RedisIdempotencyStore,
};
pub use ingest::{Ingest, IngestOutcome, StagedIngest};
pub use intake::{Intake, IntakeMetrics, IntakeMetricsSnapshot};
pub use queue::{
    BatchedRedisIngest, DeadLetter, Delivery, EventQueue, FailOutcome, MemoryEventQueue,
    QueueLimits, RedisStreamQueue, StreamConfig,
};
pub use redis_store::RedisStore;
pub use soap::{FieldValue, Limits, Notification, OutboundMessage, SObject, SessionId, parse};
pub use verify::{OrgAllowList, PathToken, SessionVerifier, Verifier, VerifyFuture};

/// The boxed future the store and queue traits return (they are used as trait objects).
pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn Future<Output = T> + Send + 'a>>;
