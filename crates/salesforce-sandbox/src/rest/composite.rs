//! Composite (`/composite`): up to 25 subrequests run in order in one transaction, later ones
//! using earlier results through `@{referenceId.path}`, with `allOrNone` rollback.

use std::collections::HashMap;

use http::{Method, StatusCode};
use salesforce_core::wire::{ApiError, error_code};
use serde::Deserialize;
use serde_json::{Map, Value as Json, json};

use super::{Call, dispatch, parse_version};
use crate::error::ApiFailure;
use crate::http::Reply;
use crate::store::Txn;

/// The most subrequests one composite call may carry.
pub const MAX_SUBREQUESTS: usize = 25;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Request {
    #[serde(default)]
    all_or_none: bool,
    composite_request: Vec<SubRequest>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SubRequest {
    method: String,
    url: String,
    reference_id: String,
    #[serde(default)]
    body: Option<Json>,
}

struct SubResponse {
    reference_id: String,
    status: StatusCode,
    body: Json,
    headers: Map<String, Json>,
}

fn halted(message: &str) -> (StatusCode, Json) {
    (
        StatusCode::BAD_REQUEST,
        json!([ApiError::new(error_code::PROCESSING_HALTED, message)]),
    )
}

/// Looks up `path` (`id`, `records[0].Id`) in a JSON body.
fn lookup<'j>(body: &'j Json, path: &str) -> Option<&'j Json> {
    let mut current = body;
    for part in path.split('.') {
        let (name, index) = match part.split_once('[') {
            Some((name, rest)) => (name, rest.strip_suffix(']')?.parse::<usize>().ok()),
            None => (part, None),
        };
        if !name.is_empty() {
            current = current.get(name)?;
        }
        if let Some(i) = index {
            current = current.get(i)?;
        }
    }
    Some(current)
}

/// Replaces every `@{ref.path}` in `text`; `Err` names the first reference that has no value.
fn substitute(text: &str, results: &HashMap<String, Json>) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("@{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            return Ok(out);
        };
        let reference = &after[..end];
        let (name, path) = reference.split_once('.').unwrap_or((reference, ""));
        let value = results
            .get(name)
            .and_then(|body| {
                if path.is_empty() {
                    Some(body)
                } else {
                    lookup(body, path)
                }
            })
            .ok_or_else(|| reference.to_owned())?;
        match value {
            Json::String(s) => out.push_str(s),
            other => out.push_str(&other.to_string()),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn substitute_json(value: &Json, results: &HashMap<String, Json>) -> Result<Json, String> {
    Ok(match value {
        Json::String(s) => Json::String(substitute(s, results)?),
        Json::Array(items) => Json::Array(
            items
                .iter()
                .map(|v| substitute_json(v, results))
                .collect::<Result<_, _>>()?,
        ),
        Json::Object(map) => Json::Object(
            map.iter()
                .map(|(k, v)| Ok((k.clone(), substitute_json(v, results)?)))
                .collect::<Result<_, String>>()?,
        ),
        other => other.clone(),
    })
}

/// Handles `POST /composite`.
pub fn handle(call: &Call<'_>, txn: &mut Txn<'_>) -> Result<Reply, ApiFailure> {
    if *call.method != Method::POST {
        return Err(super::method_not_allowed(call.method));
    }
    let request: Request = call.json_body()?;
    if request.composite_request.len() > MAX_SUBREQUESTS {
        return Err(ApiFailure::bad_request(
            error_code::INVALID_BATCH_REQUEST,
            format!("The number of subrequests exceeds the limit of {MAX_SUBREQUESTS}"),
            vec![],
        ));
    }
    let start = txn.savepoint();
    let mut results: HashMap<String, Json> = HashMap::new();
    let mut responses: Vec<SubResponse> = Vec::new();
    let mut failed = false;
    for sub in &request.composite_request {
        if failed && request.all_or_none {
            let (status, body) = halted(
                "The transaction was rolled back since another operation in the same transaction failed.",
            );
            responses.push(SubResponse {
                reference_id: sub.reference_id.clone(),
                status,
                body,
                headers: Map::new(),
            });
            continue;
        }
        let response = run_sub(call, txn, sub, &results);
        if response.status.is_success() {
            results.insert(sub.reference_id.clone(), response.body.clone());
        } else {
            failed = true;
        }
        responses.push(response);
    }
    if failed && request.all_or_none {
        txn.rollback_to(start);
        for response in &mut responses {
            if response.status.is_success() {
                let (status, body) = halted(
                    "The transaction was rolled back since another operation in the same transaction failed.",
                );
                response.status = status;
                response.body = body;
                response.headers = Map::new();
            }
        }
    }
    let body: Vec<Json> = responses
        .into_iter()
        .map(|r| {
            json!({
                "body": r.body,
                "httpHeaders": r.headers,
                "httpStatusCode": r.status.as_u16(),
                "referenceId": r.reference_id,
            })
        })
        .collect();
    Ok(Reply::json(
        StatusCode::OK,
        &json!({"compositeResponse": body}),
    ))
}

fn run_sub(
    call: &Call<'_>,
    txn: &mut Txn<'_>,
    sub: &SubRequest,
    results: &HashMap<String, Json>,
) -> SubResponse {
    let respond = |status: StatusCode, body: Json| SubResponse {
        reference_id: sub.reference_id.clone(),
        status,
        body,
        headers: Map::new(),
    };
    let invalid_reference = |reference: String| {
        let name = reference.split('.').next().unwrap_or_default().to_owned();
        let (status, body) = halted(&format!(
            "Invalid reference specified. No value for {reference} found in {name}. Provided referenceId ('{name}') must be declared in the request before it is used, and the referenced request must have succeeded."
        ));
        respond(status, body)
    };
    let url = match substitute(&sub.url, results) {
        Ok(url) => url,
        Err(reference) => return invalid_reference(reference),
    };
    let body = match sub
        .body
        .as_ref()
        .map(|b| substitute_json(b, results))
        .transpose()
    {
        Ok(body) => body,
        Err(reference) => return invalid_reference(reference),
    };
    let Ok(method) = Method::from_bytes(sub.method.to_ascii_uppercase().as_bytes()) else {
        return respond(
            StatusCode::BAD_REQUEST,
            json!([ApiError::new(
                error_code::INVALID_BATCH_REQUEST,
                "invalid method"
            )]),
        );
    };
    let (path, query) = url.split_once('?').unwrap_or((url.as_str(), ""));
    let mut parts = path.trim_start_matches('/').split('/');
    let prefix_ok = parts.next() == Some("services") && parts.next() == Some("data");
    let version = parts.next().and_then(parse_version);
    let segments: Vec<String> = parts
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect();
    let (true, Some(version)) = (prefix_ok, version) else {
        return respond(
            StatusCode::NOT_FOUND,
            json!([ApiError::new(
                error_code::NOT_FOUND,
                "The requested resource does not exist"
            )]),
        );
    };
    if segments.first().is_some_and(|s| s == "composite") {
        return respond(
            StatusCode::BAD_REQUEST,
            json!([ApiError::new(
                error_code::INVALID_BATCH_REQUEST,
                "Composite requests cannot be nested"
            )]),
        );
    }
    let body_bytes = body
        .map(|b| serde_json::to_vec(&b).unwrap_or_default())
        .unwrap_or_default();
    let sub_call = Call {
        state: call.state,
        version: &version,
        method: &method,
        segments: &segments,
        query,
        query_options: None,
        body: &body_bytes,
        user: call.user,
    };
    let reply = dispatch(&sub_call, txn);
    let body = if reply.body.is_empty() {
        Json::Null
    } else {
        serde_json::from_slice(&reply.body).unwrap_or(Json::Null)
    };
    let headers: Map<String, Json> = reply
        .headers
        .iter()
        .map(|(k, v)| (canonical_header(k.as_str()), Json::String(v.clone())))
        .collect();
    SubResponse {
        reference_id: sub.reference_id.clone(),
        status: reply.status,
        body,
        headers,
    }
}

fn canonical_header(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join("-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_resolve_paths() {
        let mut results = HashMap::new();
        results.insert(
            "acct".to_owned(),
            json!({"id": "001", "records": [{"Id": "x"}]}),
        );
        assert_eq!(substitute("/a/@{acct.id}/b", &results).unwrap(), "/a/001/b");
        assert_eq!(substitute("@{acct.records[0].Id}", &results).unwrap(), "x");
        assert_eq!(substitute("@{nope.id}", &results).unwrap_err(), "nope.id");
    }
}
