//! The REST API under `/services/data/vNN.N/`: routing of an authenticated, counted call to
//! the resource handlers. Every handler runs inside a store transaction so that composite
//! requests can reuse them and roll back.

pub mod collections;
pub mod composite;
pub mod flows;
pub mod query;
pub mod sobjects;

use http::{Method, StatusCode};
use salesforce_core::id::RecordId;
use serde_json::{Map, Value as Json, json};

use crate::error::ApiFailure;
use crate::http::Reply;
use crate::server::State;
use crate::store::Txn;

/// The API versions the sandbox serves, oldest first.
pub const VERSIONS: std::ops::RangeInclusive<u32> = 60..=66;

/// The `GET /services/data/` body.
pub fn versions_body() -> Json {
    let entries: Vec<Json> = VERSIONS
        .map(|v| {
            json!({
                "label": format!("Release {v}"),
                "url": format!("/services/data/v{v}.0"),
                "version": format!("{v}.0"),
            })
        })
        .collect();
    Json::Array(entries)
}

/// The version in a path segment like `v62.0`, if the sandbox serves it.
pub fn parse_version(segment: &str) -> Option<String> {
    let number = segment.strip_prefix('v')?;
    let (major, minor) = number.split_once('.')?;
    let major: u32 = major.parse().ok()?;
    (VERSIONS.contains(&major) && minor == "0").then(|| number.to_owned())
}

/// One REST call as handlers see it.
pub struct Call<'a> {
    /// Shared sandbox state.
    pub state: &'a State,
    /// API version without the `v`, e.g. `62.0`.
    pub version: &'a str,
    /// Method.
    pub method: &'a Method,
    /// Path segments after the version (percent-decoded).
    pub segments: &'a [String],
    /// Raw query string.
    pub query: &'a str,
    /// The `Sforce-Query-Options` header, if sent.
    pub query_options: Option<&'a str>,
    /// Raw body.
    pub body: &'a [u8],
    /// The authenticated user.
    pub user: RecordId,
}

impl Call<'_> {
    /// The body as a JSON object, or `JSON_PARSER_ERROR`.
    pub fn json_object(&self) -> Result<Map<String, Json>, ApiFailure> {
        match serde_json::from_slice::<Json>(self.body) {
            Ok(Json::Object(map)) => Ok(map),
            Ok(_) => Err(ApiFailure::json(
                "Cannot deserialize instance of object from non-object value",
            )),
            Err(e) => Err(ApiFailure::json(format!("Unexpected character: {e}"))),
        }
    }

    /// The body parsed as `T`, or `JSON_PARSER_ERROR`.
    pub fn json_body<T: serde::de::DeserializeOwned>(&self) -> Result<T, ApiFailure> {
        serde_json::from_slice(self.body).map_err(|e| ApiFailure::json(e.to_string()))
    }

    /// The base path of this version: `/services/data/v62.0`.
    pub fn base(&self) -> String {
        format!("/services/data/v{}", self.version)
    }
}

pub(crate) fn method_not_allowed(method: &Method) -> ApiFailure {
    ApiFailure::new(
        StatusCode::METHOD_NOT_ALLOWED,
        salesforce_core::wire::error_code::METHOD_NOT_ALLOWED,
        format!("HTTP Method '{method}' not allowed. Allowed are GET,HEAD"),
    )
}

/// Routes a call to its handler.
pub fn dispatch(call: &Call<'_>, txn: &mut Txn<'_>) -> Reply {
    let segments: Vec<&str> = call.segments.iter().map(String::as_str).collect();
    let result = match segments.as_slice() {
        [] | [""] => resources(call),
        ["sobjects"] | ["sobjects", ""] => match *call.method {
            Method::GET => Ok(Reply::json(
                StatusCode::OK,
                &crate::schema::describe::describe_global(txn.data().schema(), call.version),
            )),
            _ => Err(method_not_allowed(call.method)),
        },
        ["sobjects", object, rest @ ..] => sobjects::route(call, txn, object, rest),
        ["composite", "sobjects"] => collections::handle(call, txn),
        ["composite"] => composite::handle(call, txn),
        ["limits"] => limits(call),
        ["search"] => crate::search::search(call, txn.data()),
        ["parameterizedSearch"] => crate::search::parameterized(call, txn.data()),
        ["analytics", "reports", rest @ ..] => crate::reports::handle(call, txn.data(), rest),
        _ if query::handles(call) => Ok(query::handle(call, txn.data())),
        ["actions", "custom", "flow"] => flows::list(call),
        ["actions", "custom", "flow", name] => flows::run(call, txn, name),
        _ => Err(ApiFailure::not_found()),
    };
    result.unwrap_or_else(Reply::from)
}

fn resources(call: &Call<'_>) -> Result<Reply, ApiFailure> {
    let base = call.base();
    Ok(Reply::json(
        StatusCode::OK,
        &json!({
            "sobjects": format!("{base}/sobjects"),
            "query": format!("{base}/query"),
            "queryAll": format!("{base}/queryAll"),
            "search": format!("{base}/search"),
            "composite": format!("{base}/composite"),
            "limits": format!("{base}/limits"),
            "actions": format!("{base}/actions"),
            "jobs": format!("{base}/jobs"),
        }),
    ))
}

fn limits(call: &Call<'_>) -> Result<Reply, ApiFailure> {
    if call.method != Method::GET {
        return Err(method_not_allowed(call.method));
    }
    let usage = call.state.usage.current(call.state.clock.now());
    let remaining = usage.max.saturating_sub(usage.used);
    Ok(Reply::json(
        StatusCode::OK,
        &json!({
            "DailyApiRequests": {"Max": usage.max, "Remaining": remaining},
            "DailyAsyncApexExecutions": {"Max": 250000, "Remaining": 250000},
            "DailyBulkApiBatches": {"Max": 15000, "Remaining": 15000},
            "DailyBulkV2QueryFileStorageMB": {"Max": 976562, "Remaining": 976562},
            "DailyBulkV2QueryJobs": {"Max": 10000, "Remaining": 10000},
            "DailyWorkflowEmails": {"Max": 2000, "Remaining": 2000},
            "DataStorageMB": {"Max": 5, "Remaining": 5},
            "FileStorageMB": {"Max": 20, "Remaining": 20},
            "HourlyTimeBasedWorkflow": {"Max": 1000, "Remaining": 1000},
            "SingleEmail": {"Max": 15, "Remaining": 15},
        }),
    ))
}
