//! Autolaunched flows (`/actions/custom/flow/{name}`): a small registry of flows written in
//! Rust, answering in Salesforce's invocable-action shape.

use chrono::Duration;
use http::{Method, StatusCode};
use salesforce_core::id::RecordId;
use salesforce_core::wire::{SaveError, error_code};
use serde::Deserialize;
use serde_json::{Map, Value as Json, json};

use super::{Call, method_not_allowed};
use crate::error::ApiFailure;
use crate::http::Reply;
use crate::store::Txn;

type FlowFn = fn(&mut Txn<'_>, &Map<String, Json>) -> Result<Map<String, Json>, ApiFailure>;

/// One flow in the registry.
pub struct Flow {
    /// API name, e.g. `Qualify_Lead`.
    pub name: &'static str,
    /// Label.
    pub label: &'static str,
    run: FlowFn,
}

/// The flows the sandbox knows.
pub const FLOWS: &[Flow] = &[
    Flow {
        name: "Qualify_Lead",
        label: "Qualify Lead",
        run: qualify_lead,
    },
    Flow {
        name: "Create_Follow_Up_Task",
        label: "Create Follow-Up Task",
        run: create_follow_up_task,
    },
];

fn input<'m>(inputs: &'m Map<String, Json>, name: &str) -> Result<&'m str, ApiFailure> {
    inputs
        .get(name)
        .and_then(Json::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            ApiFailure::bad_request(
                error_code::REQUIRED_FIELD_MISSING,
                format!("Missing required input parameter: {name}"),
                vec![],
            )
        })
}

/// Sets a lead to `Working - Contacted` and its rating (input `rating`, default `Hot`).
fn qualify_lead(
    txn: &mut Txn<'_>,
    inputs: &Map<String, Json>,
) -> Result<Map<String, Json>, ApiFailure> {
    let lead = input(inputs, "leadId")?;
    let rating = inputs.get("rating").and_then(Json::as_str).unwrap_or("Hot");
    let mut update = Map::new();
    update.insert("Status".into(), json!("Working - Contacted"));
    update.insert("Rating".into(), json!(rating));
    let id = txn.update("Lead", lead, &update)?;
    let mut out = Map::new();
    out.insert("leadId".into(), json!(id));
    out.insert("status".into(), json!("Working - Contacted"));
    out.insert("rating".into(), json!(rating));
    Ok(out)
}

/// Creates a task due in `daysFromNow` days (default 3) on a lead, contact, account,
/// opportunity or case.
fn create_follow_up_task(
    txn: &mut Txn<'_>,
    inputs: &Map<String, Json>,
) -> Result<Map<String, Json>, ApiFailure> {
    let record = input(inputs, "recordId")?;
    let id = RecordId::parse_lenient(record).map_err(|_| {
        ApiFailure::bad_request(
            error_code::MALFORMED_ID,
            format!("invalid id: {record}"),
            vec![],
        )
    })?;
    let field = match id.standard_object() {
        Some("Lead" | "Contact") => "WhoId",
        Some("Account" | "Opportunity" | "Case") => "WhatId",
        _ => {
            return Err(ApiFailure::bad_request(
                error_code::INVALID_CROSS_REFERENCE_KEY,
                "invalid cross reference id",
                vec!["recordId".into()],
            ));
        }
    };
    let days = inputs
        .get("daysFromNow")
        .and_then(Json::as_i64)
        .unwrap_or(3)
        .clamp(0, 3650);
    let subject = inputs
        .get("subject")
        .and_then(Json::as_str)
        .unwrap_or("Follow up");
    let due = (txn.now() + Duration::days(days)).date_naive();
    let mut task = Map::new();
    task.insert(field.into(), json!(id));
    task.insert("Subject".into(), json!(subject));
    task.insert(
        "ActivityDate".into(),
        json!(due.format("%Y-%m-%d").to_string()),
    );
    task.insert("Priority".into(), json!("Normal"));
    let task_id = txn.insert("Task", &task)?;
    let mut out = Map::new();
    out.insert("taskId".into(), json!(task_id));
    Ok(out)
}

#[derive(Deserialize)]
struct Request {
    #[serde(default)]
    inputs: Vec<Map<String, Json>>,
}

/// `GET /actions/custom/flow`: the registry.
pub fn list(call: &Call<'_>) -> Result<Reply, ApiFailure> {
    if *call.method != Method::GET {
        return Err(method_not_allowed(call.method));
    }
    let actions: Vec<Json> = FLOWS
        .iter()
        .map(|f| {
            json!({
                "label": f.label,
                "name": f.name,
                "type": "FLOW",
                "url": format!("{}/actions/custom/flow/{}", call.base(), f.name),
            })
        })
        .collect();
    Ok(Reply::json(StatusCode::OK, &json!({"actions": actions})))
}

/// `POST /actions/custom/flow/{name}`: runs the flow once per input, each in its own savepoint.
pub fn run(call: &Call<'_>, txn: &mut Txn<'_>, name: &str) -> Result<Reply, ApiFailure> {
    let Some(flow) = FLOWS.iter().find(|f| f.name == name) else {
        return Err(ApiFailure::new(
            StatusCode::NOT_FOUND,
            error_code::NOT_FOUND,
            format!("Couldn't find a flow with the API name {name}"),
        ));
    };
    if *call.method != Method::POST {
        return Err(method_not_allowed(call.method));
    }
    let request: Request = call.json_body()?;
    let mut any_success = false;
    let results: Vec<Json> = request
        .inputs
        .iter()
        .map(|inputs| {
            let savepoint = txn.savepoint();
            match (flow.run)(txn, inputs) {
                Ok(mut outputs) => {
                    any_success = true;
                    outputs.insert("Flow__InterviewStatus".into(), json!("Finished"));
                    json!({"actionName": flow.name, "errors": null, "isSuccess": true, "outputValues": outputs})
                }
                Err(failure) => {
                    txn.rollback_to(savepoint);
                    let errors: Vec<SaveError> = failure.errors.into_iter().map(SaveError::from).collect();
                    json!({"actionName": flow.name, "errors": errors, "isSuccess": false, "outputValues": null})
                }
            }
        })
        .collect();
    let status = if any_success || results.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    Ok(Reply::json(status, &results))
}
