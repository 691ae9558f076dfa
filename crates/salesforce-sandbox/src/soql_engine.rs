//! The sandbox's SOQL engine: parses a query with the shared grammar, resolves it against the
//! schema, evaluates it over the store and answers with Salesforce's query response, paged
//! through query locators.
//!
//! The REST layer calls three things:
//! - [`run_query`] for `GET /query?q=…` and `/queryAll?q=…` (with [`batch_size_from_options`]
//!   reading the `Sforce-Query-Options` header);
//! - [`next_page`] for `GET /query/{locator}` (and the same under `/queryAll`);
//! - and keeps one [`QueryLocators`] per org for both.
//!
//! Both return a [`QueryResponse`], which serialises with keys in Salesforce's order
//! (`totalSize`, `done`, `nextRecordsUrl`, `records`; record fields in select order). It is not a
//! `serde_json::Value` on purpose: without serde_json's `preserve_order` feature a `Value` sorts
//! object keys alphabetically, which Salesforce does not.
//!
//! Semantics worth knowing (see the submodules for details):
//! - "today" for relative date literals is the UTC date of `now`; a datetime field compared with
//!   a date literal or a relative date covers whole UTC days (Salesforce uses the user's time
//!   zone; the sandbox's users are all treated as UTC for this). Salesforce refuses a plain date
//!   literal against a datetime field; the sandbox accepts it as that whole UTC day.
//! - text comparisons (`=`, `<`, `IN`, `LIKE`, ordering) ignore case; `!=` and `NOT IN` match
//!   null values, as in SOQL (null is a value there, not SQL's unknown).
//! - a parent reached through a polymorphic lookup (`What`, `Who`) is written with its own
//!   object in `attributes.type` and offers only `Id`, `Name` and `Type`; a soft-deleted parent
//!   reads as null in `query` (present in `queryAll`).
//! - indexes: an equality or `IN` on `Id` or on an indexed field (names, picklists, lookups,
//!   external ids, a few dates) picks the candidate rows (the smallest such set under `AND`, the
//!   union under `OR`); everything else scans. Date ranges scan.
//! - a locator keeps the ids of the remaining records; later pages show those records as they
//!   are when the page is read.
//! - error messages are Salesforce's, without the echoed query line and `ERROR at Row:…` prefix
//!   that Salesforce adds to `INVALID_FIELD` (the syntax tree carries no positions); syntax errors
//!   keep their full `MALFORMED_QUERY` message with row and column.

mod aggregate;
mod execute;
mod locator;
mod output;
mod predicate;
mod resolve;
mod snapshot;

use chrono::{DateTime, Utc};
use http::StatusCode;
use salesforce_core::soql;
use salesforce_core::wire::error_code;

use crate::error::ApiFailure;
use crate::store::OrgData;

pub use locator::{DEFAULT_LOCATOR_TTL, DEFAULT_MAX_LOCATORS, QueryLocators};
pub use output::{Cell, ChildResult, QueryResponse, Row};
pub use snapshot::{FEATURE_NOT_ENABLED, Snapshot, check_bulk_query, snapshot};

/// Records per page when the client asks for nothing else, and the most Salesforce returns.
pub const DEFAULT_BATCH_SIZE: usize = 2_000;
/// The smallest batch size Salesforce honours.
pub const MIN_BATCH_SIZE: usize = 200;

/// `errorCode` of an unknown or expired query locator.
pub const INVALID_QUERY_LOCATOR: &str = "INVALID_QUERY_LOCATOR";
/// `errorCode` of an operator a field does not support, or an unparseable id literal.
pub const INVALID_QUERY_FILTER_OPERATOR: &str = "INVALID_QUERY_FILTER_OPERATOR";

/// One query call: what the REST layer read from the request.
#[derive(Debug, Clone, Copy)]
pub struct QueryRequest<'a> {
    /// API version from the path, e.g. `62.0` (used in `attributes.url` and `nextRecordsUrl`).
    pub version: &'a str,
    /// The SOQL text (`q`).
    pub soql: &'a str,
    /// `true` for `queryAll`: soft-deleted records are included.
    pub include_deleted: bool,
    /// Records per page, from [`batch_size_from_options`].
    pub batch_size: usize,
    /// The sandbox clock's time: "today" for date literals, and the locator's age.
    pub now: DateTime<Utc>,
}

/// Reads `batchSize=N` from a `Sforce-Query-Options` header value and clamps it to
/// 200..=2000 as Salesforce does; [`DEFAULT_BATCH_SIZE`] when absent or unreadable.
///
/// ```
/// use salesforce_sandbox::soql_engine::batch_size_from_options;
/// assert_eq!(batch_size_from_options(Some("batchSize=500")), 500);
/// assert_eq!(batch_size_from_options(Some("batchSize=10")), 200);
/// assert_eq!(batch_size_from_options(None), 2000);
/// ```
pub fn batch_size_from_options(header: Option<&str>) -> usize {
    header
        .into_iter()
        .flat_map(|h| h.split(','))
        .filter_map(|part| part.split_once('='))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("batchSize"))
        .and_then(|(_, v)| v.trim().parse::<usize>().ok())
        .map_or(DEFAULT_BATCH_SIZE, |n| {
            n.clamp(MIN_BATCH_SIZE, DEFAULT_BATCH_SIZE)
        })
}

/// Runs a `query` or `queryAll` call: the first page of the result, with a `nextRecordsUrl`
/// (kept in `locators`) when more records remain.
///
/// Errors are Salesforce's: `MALFORMED_QUERY` (with `ERROR at Row:r:Column:c`), `INVALID_TYPE`,
/// `INVALID_FIELD`, `INVALID_QUERY_FILTER_OPERATOR`, `NUMBER_OUTSIDE_VALID_RANGE`, all 400.
pub fn run_query(
    data: &OrgData,
    locators: &QueryLocators,
    request: &QueryRequest<'_>,
) -> Result<QueryResponse, ApiFailure> {
    let query = soql::parse(request.soql).map_err(|e| grammar_failure(&e, request.soql))?;
    let plan = resolve::plan(data.schema(), &query, request.now.date_naive())?;
    let result = execute::execute(data, &plan, request.include_deleted);
    Ok(locators.first_page(data, plan, result, request))
}

/// Serves `GET /query/{locator}`: the page of a running query that starts at the index after
/// the locator's dash. Unknown or expired locators give 400 `INVALID_QUERY_LOCATOR`.
pub fn next_page(
    data: &OrgData,
    locators: &QueryLocators,
    version: &str,
    locator: &str,
    now: DateTime<Utc>,
) -> Result<QueryResponse, ApiFailure> {
    locators.page(data, version, locator, now)
}

/// The failure for a query the grammar refused.
fn grammar_failure(err: &soql::SoqlError, text: &str) -> ApiFailure {
    let message = match err {
        soql::SoqlError::Syntax(syntax) => syntax.salesforce_message(text),
        other => other.to_string(),
    };
    ApiFailure::new(StatusCode::BAD_REQUEST, err.error_code(), message)
}

/// 400 `INVALID_FIELD` for a column the entity does not have.
fn no_such_column(field: &str, entity: &str) -> ApiFailure {
    ApiFailure::new(
        StatusCode::BAD_REQUEST,
        error_code::INVALID_FIELD,
        format!(
            "No such column '{field}' on entity '{entity}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names."
        ),
    )
}

/// 400 `INVALID_FIELD` for a parent relationship the entity does not have.
fn no_such_relationship(relationship: &str) -> ApiFailure {
    ApiFailure::new(
        StatusCode::BAD_REQUEST,
        error_code::INVALID_FIELD,
        format!(
            "Didn't understand relationship '{relationship}' in field path. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names."
        ),
    )
}

/// 400 `INVALID_TYPE` for a child relationship the parent does not have.
fn no_such_child_relationship(relationship: &str) -> ApiFailure {
    ApiFailure::new(
        StatusCode::BAD_REQUEST,
        error_code::INVALID_TYPE,
        format!(
            "Didn't understand relationship '{relationship}' in FROM part of query call. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names."
        ),
    )
}

/// 400 `MALFORMED_QUERY` for a query that parses but does not make sense.
fn malformed(message: impl Into<String>) -> ApiFailure {
    ApiFailure::new(
        StatusCode::BAD_REQUEST,
        error_code::MALFORMED_QUERY,
        message,
    )
}

/// 400 `INVALID_FIELD` with a free-form message (wrong literal type, unsortable field, …).
fn invalid_field(message: impl Into<String>) -> ApiFailure {
    ApiFailure::new(StatusCode::BAD_REQUEST, error_code::INVALID_FIELD, message)
}

/// 400 `INVALID_QUERY_FILTER_OPERATOR`.
fn invalid_operator(message: impl Into<String>) -> ApiFailure {
    ApiFailure::new(
        StatusCode::BAD_REQUEST,
        INVALID_QUERY_FILTER_OPERATOR,
        message,
    )
}
