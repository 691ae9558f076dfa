//! The Salesforce client every Salesforce call goes through: an injection-proof SOQL builder, the
//! REST API (query, sObjects, collections, composite, search, describe, limits, Flows, Reports),
//! Bulk API 2.0, API-usage tracking, and resilience policies (retry with jittered backoff, rate
//! limiting, circuit breaking).
//!
//! It receives access through a small trait (instance URL, access token, a way to ask for a fresh
//! one). It never knows about MCP, HTTP servers or where tokens are stored.

mod access;
mod bulk;
mod client;
mod describe;
mod error;
mod names;
mod query;
mod resilience;
mod sobjects;
pub mod soql;
mod usage;

pub use access::{Access, AccessProvider, StaticAccess};
pub use bulk::{
    BulkProgress, FailedRow, IngestOperation, IngestOutcome, IngestRequest, JobInfo, JobKind,
    JobState, MAX_UPLOAD_BYTES, PollPolicy, SuccessRow,
};
pub use client::{ApiVersion, Client, ClientBuilder, DEFAULT_API_VERSION, http_client};
pub use describe::{
    ChildRelationship, DescribeCache, FieldDescribe, FlowResult, GlobalDescribe, LimitValue,
    Limits, ObjectDescribe, ObjectSummary, PicklistValue,
};
pub use error::{Error, ErrorClass, TransportFailure};
pub use query::{Attributes, QueryCursor, QueryOptions, QueryPage, Record};
pub use resilience::{BreakerConfig, BreakerState, CircuitBreaker, RateLimit, RetryPolicy};
pub use salesforce_core::wire::{ApiError, LimitInfo, SaveError, SaveResult};
pub use sobjects::{
    COLLECTION_CHUNK, COMPOSITE_LIMIT, CompositeSubrequest, CompositeSubresponse, CreateResult,
    UpsertResult,
};
pub use usage::{ApiUsage, UsageSnapshot};
