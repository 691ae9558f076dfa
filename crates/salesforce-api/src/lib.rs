//! The Salesforce client every Salesforce call goes through: an injection-proof SOQL builder, the
//! REST API (query, sObjects, collections, composite, search, describe, limits, Flows, Reports),
//! Bulk API 2.0, API-usage tracking, and resilience policies (retry with jittered backoff, rate
//! limiting, circuit breaking).
//!
//! It receives access through a small trait (instance URL, access token, a way to ask for a fresh
//! one). It never knows about MCP, HTTP servers or where tokens are stored.
//!
//! Querying an org, here the local sandbox (any org works the same with its instance URL and a
//! token):
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let org = salesforce_sandbox::Sandbox::start_local().await?;
//! # let (instance_url, token) = (org.base_url(), org.sandbox().issue_access_token());
//! use salesforce_api::soql::{Field, Select};
//! use salesforce_api::{Access, Client, QueryOptions, Record, StaticAccess};
//!
//! let access = Access::new(&instance_url, token.into())?;
//! let client = Client::builder(StaticAccess::new(access)).build()?;
//! // Values from users go through typed constructors: never pasted into the text.
//! let soql = Select::from("Lead")
//!     .fields(["Id", "Company", "Rating"])
//!     .filter(Field::new("Industry")?.eq("Healthcare"))
//!     .limit(5)
//!     .to_soql()?;
//! let page = client.query_page::<Record>(&soql, QueryOptions::default()).await?;
//! assert!(page.records.len() <= 5);
//! for lead in &page.records {
//!     assert_eq!(lead.object_type(), Some("Lead"));
//! }
//! println!("{} healthcare leads", page.total_size);
//! # Ok(())
//! # }
//! ```

mod access;
mod bulk;
mod client;
mod describe;
mod error;
mod names;
mod query;
mod reports;
mod resilience;
mod sobjects;
pub mod soql;
mod usage;

pub use access::{Access, AccessProvider, StaticAccess};
pub use bulk::{
    BulkProgress, FailedRow, IngestOperation, IngestOutcome, IngestRequest, JobInfo, JobKind,
    JobState, KeepRows, MAX_UPLOAD_BYTES, PollPolicy, RESULT_PAGE_BYTES, SuccessRow,
};
pub use client::{ApiVersion, Client, ClientBuilder, DEFAULT_API_VERSION, http_client};
pub use describe::{
    ChildRelationship, DescribeCache, FieldDescribe, FlowResult, GlobalDescribe, LimitValue,
    Limits, ObjectDescribe, ObjectSummary, PicklistValue, sosl_phrase,
};
pub use error::{Error, ErrorClass, TransportFailure};
pub use query::{Attributes, QueryCursor, QueryOptions, QueryPage, Record};
pub use reports::{ReportCell, ReportGroup, ReportRun, ReportSummary};
pub use resilience::{BreakerConfig, BreakerState, CircuitBreaker, RateLimit, RetryPolicy};
/// Record ids: 15→18 conversion with the checksum, validation, key prefix → object.
pub use salesforce_core::id;
pub use salesforce_core::wire::{ApiError, LimitInfo, SaveError, SaveResult};
pub use sobjects::{
    COLLECTION_CHUNK, COMPOSITE_LIMIT, CompositeSubrequest, CompositeSubresponse, CreateResult,
    UpsertResult,
};
pub use usage::{ApiUsage, UsageSnapshot};
