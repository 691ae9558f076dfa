//! `createRecord`: creates a record of any object the server allows writing, after checking
//! every field against describe (createable, required, type, length, picklist values).

use std::sync::Arc;

use mcp_protocol::{Tool, ToolContext, ToolOutput};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::sobject::{allow_write, audit_result, describe, object_property, write_annotations};
use super::{Shared, org_property};
use crate::output::{clean, respond, show};
use crate::validate::{self, Write};
use crate::{Connection, Error};

/// Most fields set in one call.
pub(crate) const MAX_FIELDS: usize = 100;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Args {
    object: String,
    fields: Map<String, Value>,
    #[serde(default)]
    org: Option<String>,
}

/// The `fields` argument's schema.
pub(crate) fn fields_property(description: &str) -> Value {
    json!({
        "type": "object",
        "minProperties": 1,
        "maxProperties": MAX_FIELDS,
        "additionalProperties": {"type": ["string", "number", "boolean", "null"]},
        "description": description
    })
}

/// The output of a single-record write.
pub(crate) fn write_output_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "object": {"type": "string"},
            "id": {"type": "string"},
            "url": {"type": "string"},
            "fields": {"type": "array", "items": {"type": "string"}, "description": "The fields written."},
            "record": {"type": "object", "description": "The record as saved: Id, its name and the written fields."}
        },
        "required": ["object", "id", "url", "fields", "record"]
    })
}

pub(crate) fn tool() -> Tool {
    Tool::new("createRecord")
        .title("Create record")
        .description(
            "Creates one Salesforce record of any object the server allows writing, standard or custom (e.g. Account, Case, Invoice__c), and returns it as saved. \
`fields` maps field API names to values: text as strings, numbers as numbers, checkboxes as true/false, dates as YYYY-MM-DD, date-times as 2026-11-25T15:00:00Z, lookups as record ids, picklists as one of their values. \
Every field is checked against the object's describe first (call describeObject to see required fields and picklist values); if anything is wrong, nothing is created and the message lists every problem.",
        )
        .input_schema(json!({
            "type": "object",
            "properties": {
                "object": object_property("The object's API name, e.g. Account or Invoice__c."),
                "fields": fields_property("Field API names and their values."),
                "org": org_property()
            },
            "required": ["object", "fields"],
            "additionalProperties": false
        }))
        .output_schema(write_output_schema())
        .annotations(write_annotations(false, false))
}

/// Reads back what was written (`Id`, a name field, the written fields); a failed read falls
/// back to what was sent, since the write itself succeeded.
pub(crate) async fn read_back(
    connection: &Connection,
    object: &str,
    id: &str,
    describe: &salesforce_api::ObjectDescribe,
    written: &Map<String, Value>,
) -> Value {
    let mut names: Vec<&str> = vec!["Id"];
    if let Some(name) = ["Name", "Subject", "CaseNumber"]
        .into_iter()
        .find(|n| describe.field(n).is_some())
    {
        names.push(name);
    }
    names.extend(written.keys().map(String::as_str).filter(|k| *k != "Id"));
    names.dedup();
    match connection.client.get_record(object, id, Some(&names)).await {
        Ok(record) => clean(&record),
        Err(e) => {
            tracing::warn!(error = %e, "wrote a record but could not read it back");
            let mut sent = written.clone();
            sent.insert("Id".into(), json!(id));
            Value::Object(sent)
        }
    }
}

/// The one-line summary of a single-record write.
pub(crate) fn summary(
    verb: &str,
    object: &str,
    id: &str,
    record: &Value,
    fields: &[String],
) -> String {
    let name = ["Name", "Subject", "CaseNumber"]
        .iter()
        .find_map(|f| record.get(*f).filter(|v| !v.is_null()))
        .map_or_else(String::new, |v| format!(" \"{}\"", show(v)));
    let shown: Vec<String> = fields
        .iter()
        .map(|f| format!("{f} = {}", show(record.get(f).unwrap_or(&Value::Null))))
        .collect();
    format!("{verb} {object}{name} ({id}): {}.", shown.join(", "))
}

pub(crate) async fn run(
    shared: Arc<Shared>,
    args: Args,
    cx: ToolContext,
) -> Result<ToolOutput, Error> {
    const TOOL: &str = "createRecord";
    allow_write(&shared, &cx, TOOL, &args.object, "")?;
    let connection = shared.connect(&cx, args.org.as_deref()).await?;
    let describe = describe(&connection, &args.object).await?;
    let object = describe.name.clone();
    // The allow-list is checked again by the exact name describe gave.
    allow_write(&shared, &cx, TOOL, &object, "")?;
    validate::check_object(&describe, Write::Create)?;
    let fields = validate::check_fields(&describe, &args.fields, Write::Create)?;
    let created = audit_result(
        &shared,
        &cx,
        TOOL,
        &object,
        "",
        connection.client.create_record(&object, &fields).await,
        |c| Some(c.id.clone()),
    )?;
    let record = read_back(&connection, &object, &created.id, &describe, &fields).await;
    let written: Vec<String> = fields.keys().cloned().collect();
    Ok(respond(
        summary("Created", &object, &created.id, &record, &written),
        json!({
            "object": object,
            "id": created.id,
            "url": connection.record_url(&object, &created.id),
            "fields": written,
            "record": record,
        }),
    ))
}
