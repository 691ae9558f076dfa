//! `updateRecord`: changes fields of one record of any object the server allows writing, after
//! checking them against describe (updateable, type, length, picklist values). The record's cached
//! copy is dropped.

use std::sync::Arc;

use mcp_protocol::{Tool, ToolContext, ToolOutput};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::create_record::{fields_property, read_back, summary, write_output_schema};
use super::sobject::{audit_result, id_property, object_property, write_annotations, write_target};
use super::{Shared, org_property};
use crate::Error;
use crate::output::respond;
use crate::validate::{self, Write};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Args {
    id: String,
    fields: Map<String, Value>,
    #[serde(default)]
    object: Option<String>,
    #[serde(default)]
    org: Option<String>,
}

pub(crate) fn tool() -> Tool {
    Tool::new("updateRecord")
        .title("Update record")
        .description(
            "Changes fields of one Salesforce record of any object the server allows writing (standard or custom) and returns the record as saved. \
`object` is optional: the id tells it. `fields` maps field API names to new values (null clears a field); only updateable fields are accepted, with the same value rules as createRecord. \
If anything is wrong, nothing is changed and the message lists every problem.",
        )
        .input_schema(json!({
            "type": "object",
            "properties": {
                "id": id_property("The record id."),
                "fields": fields_property("Field API names and their new values."),
                "object": object_property("The object's API name; optional, checked against the id."),
                "org": org_property()
            },
            "required": ["id", "fields"],
            "additionalProperties": false
        }))
        .output_schema(write_output_schema())
        .annotations(write_annotations(true, true))
}

pub(crate) async fn run(
    shared: Arc<Shared>,
    args: Args,
    cx: ToolContext,
) -> Result<ToolOutput, Error> {
    const TOOL: &str = "updateRecord";
    let (connection, describe, id) = write_target(
        &shared,
        &cx,
        TOOL,
        &args.id,
        args.object.as_deref(),
        args.org.as_deref(),
    )
    .await?;
    let object = describe.name.clone();
    validate::check_object(&describe, Write::Update)?;
    let fields = validate::check_fields(&describe, &args.fields, Write::Update)?;
    let result = connection
        .client
        .update_record(&object, id.as_str(), &fields)
        .await;
    connection.record_cache.invalidate(&object, id.as_str());
    audit_result(&shared, &cx, TOOL, &object, id.as_str(), result, |_| None)?;
    let record = read_back(&connection, &object, id.as_str(), &describe, &fields).await;
    let written: Vec<String> = fields.keys().cloned().collect();
    Ok(respond(
        summary("Updated", &object, id.as_str(), &record, &written),
        json!({
            "object": object,
            "id": id.as_str(),
            "url": connection.record_url(&object, id.as_str()),
            "fields": written,
            "record": record,
        }),
    ))
}
