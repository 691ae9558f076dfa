//! sObject Collections (`/composite/sobjects`): create, update and delete up to 200 records in
//! one call, one save result per record in order, with `allOrNone` rollback.

use http::{Method, StatusCode};
use salesforce_core::wire::{SaveError, SaveResult, error_code};
use serde::Deserialize;
use serde_json::{Map, Value as Json};

use super::{Call, method_not_allowed};
use crate::error::ApiFailure;
use crate::http::{Reply, form_pairs, param};
use crate::store::Txn;

/// The most records one collections call may carry.
pub const MAX_RECORDS: usize = 200;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Request {
    #[serde(default)]
    all_or_none: bool,
    records: Vec<Map<String, Json>>,
}

fn too_many() -> ApiFailure {
    ApiFailure::bad_request(
        error_code::INVALID_BATCH_REQUEST,
        format!("Maximum number of records allowed: {MAX_RECORDS}"),
        vec![],
    )
}

fn object_of(record: &Map<String, Json>) -> Result<String, ApiFailure> {
    record
        .get("attributes")
        .and_then(|a| a.get("type"))
        .and_then(Json::as_str)
        .map(str::to_owned)
        .ok_or_else(|| {
            ApiFailure::bad_request(
                error_code::INVALID_TYPE,
                "Must specify a type in the attributes of every record",
                vec![],
            )
        })
}

fn save_errors(failure: ApiFailure) -> Vec<SaveError> {
    failure.errors.into_iter().map(SaveError::from).collect()
}

/// Handles `POST`, `PATCH` and `DELETE /composite/sobjects`.
pub fn handle(call: &Call<'_>, txn: &mut Txn<'_>) -> Result<Reply, ApiFailure> {
    let (all_or_none, ops): (bool, Vec<Op>) = match *call.method {
        Method::POST | Method::PATCH => {
            let request: Request = call.json_body()?;
            if request.records.len() > MAX_RECORDS {
                return Err(too_many());
            }
            let creating = *call.method == Method::POST;
            let ops = request
                .records
                .into_iter()
                .map(|r| {
                    if creating {
                        Op::Create(r)
                    } else {
                        Op::Update(r)
                    }
                })
                .collect();
            (request.all_or_none, ops)
        }
        Method::DELETE => {
            let pairs = form_pairs(call.query);
            let ids: Vec<String> = param(&pairs, "ids")
                .unwrap_or_default()
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
            if ids.len() > MAX_RECORDS {
                return Err(too_many());
            }
            let all = param(&pairs, "allOrNone").is_some_and(|v| v.eq_ignore_ascii_case("true"));
            (all, ids.into_iter().map(Op::Delete).collect())
        }
        _ => return Err(method_not_allowed(call.method)),
    };
    let start = txn.savepoint();
    let mut results: Vec<SaveResult> = ops.into_iter().map(|op| op.run(txn)).collect();
    if all_or_none && results.iter().any(|r| !r.success) {
        txn.rollback_to(start);
        for result in &mut results {
            if result.success {
                result.success = false;
                result.errors = vec![SaveError {
                    status_code: error_code::ALL_OR_NONE_OPERATION_ROLLED_BACK.into(),
                    message: "Record rolled back because not all records were valid and the request was using AllOrNone header".into(),
                    fields: vec![],
                }];
                if *call.method == Method::POST {
                    result.id = None;
                }
            }
        }
    }
    Ok(Reply::json(StatusCode::OK, &results))
}

enum Op {
    Create(Map<String, Json>),
    Update(Map<String, Json>),
    Delete(String),
}

impl Op {
    fn run(self, txn: &mut Txn<'_>) -> SaveResult {
        match self {
            Op::Create(record) => {
                if record.contains_key("Id") {
                    return SaveResult::failed(vec![SaveError {
                        status_code: error_code::INVALID_FIELD.into(),
                        message: "cannot specify Id in an insert call".into(),
                        fields: vec!["Id".into()],
                    }]);
                }
                match object_of(&record).and_then(|object| txn.insert(&object, &record)) {
                    Ok(id) => SaveResult::ok(id.as_str()),
                    Err(e) => SaveResult::failed(save_errors(e)),
                }
            }
            Op::Update(mut record) => {
                let id = record
                    .remove("Id")
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default();
                if id.is_empty() {
                    return SaveResult::failed(vec![SaveError {
                        status_code: error_code::MALFORMED_ID.into(),
                        message: "Id not specified in an update call".into(),
                        fields: vec![],
                    }]);
                }
                match object_of(&record).and_then(|object| txn.update(&object, &id, &record)) {
                    Ok(id) => SaveResult::ok(id.as_str()),
                    Err(e) => with_id(SaveResult::failed(save_errors(e)), &id),
                }
            }
            Op::Delete(id) => {
                let object = salesforce_core::id::RecordId::parse_lenient(&id)
                    .ok()
                    .and_then(|rid| {
                        txn.data()
                            .schema()
                            .object_for_prefix(rid.key_prefix())
                            .map(|(_, o)| o.name.clone())
                    });
                let result = match object {
                    Some(object) => txn.delete(&object, &id),
                    None => Err(ApiFailure::bad_request(
                        error_code::MALFORMED_ID,
                        format!("malformed id {id}"),
                        vec![],
                    )),
                };
                match result {
                    Ok(id) => SaveResult::ok(id.as_str()),
                    Err(e) => with_id(SaveResult::failed(save_errors(e)), &id),
                }
            }
        }
    }
}

fn with_id(mut result: SaveResult, id: &str) -> SaveResult {
    result.id = Some(id.to_owned());
    result
}
