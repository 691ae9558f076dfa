//! `GET /query?q=…`, `GET /queryAll?q=…` and `GET /query/{locator}`: SOQL through the engine.
//! They only read, so the server runs them under the store's read lock.

use http::{Method, StatusCode};
use salesforce_core::wire::error_code;

use super::{Call, method_not_allowed};
use crate::error::ApiFailure;
use crate::http::Reply;
use crate::soql_engine::{self, QueryRequest, batch_size_from_options};
use crate::store::OrgData;

/// Whether this call is a query or a query-locator call.
pub fn handles(call: &Call<'_>) -> bool {
    matches!(
        call.segments.first().map(String::as_str),
        Some("query" | "queryAll")
    ) && call.segments.len() <= 2
}

/// Serves a query call.
pub fn handle(call: &Call<'_>, data: &OrgData) -> Reply {
    serve(call, data).unwrap_or_else(Reply::from)
}

fn serve(call: &Call<'_>, data: &OrgData) -> Result<Reply, ApiFailure> {
    if *call.method != Method::GET {
        return Err(method_not_allowed(call.method));
    }
    let now = call.state.clock.now();
    let response = match call.segments {
        [endpoint] => {
            let soql = form_param(call.query, "q").ok_or_else(|| {
                ApiFailure::new(
                    StatusCode::BAD_REQUEST,
                    error_code::MALFORMED_QUERY,
                    "A query string has to be specified",
                )
            })?;
            let request = QueryRequest {
                version: call.version,
                soql: &soql,
                include_deleted: endpoint == "queryAll",
                batch_size: batch_size_from_options(call.query_options),
                now,
            };
            soql_engine::run_query(data, &call.state.locators, &request)?
        }
        [_, locator] => {
            soql_engine::next_page(data, &call.state.locators, call.version, locator, now)?
        }
        _ => return Err(ApiFailure::not_found()),
    };
    Ok(Reply::json(StatusCode::OK, &response))
}

/// A form-encoded query parameter (`+` is a space, `%XX` decoded).
fn form_param(query: &str, name: &str) -> Option<String> {
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
        .filter(|value| !value.trim().is_empty())
}
