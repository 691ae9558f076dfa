//! `deleteRecord`: moves one record of any object the server allows writing to the recycle bin.
//! Destructive: annotated so, and audited like every write.

use std::sync::Arc;

use mcp_protocol::{Tool, ToolContext, ToolOutput};
use serde::Deserialize;
use serde_json::json;

use super::sobject::{audit_result, id_property, object_property, write_annotations, write_target};
use super::{Shared, org_property};
use crate::Error;
use crate::output::respond;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Args {
    id: String,
    #[serde(default)]
    object: Option<String>,
    #[serde(default)]
    org: Option<String>,
}

pub(crate) fn tool() -> Tool {
    Tool::new("deleteRecord")
        .title("Delete record")
        .description(
            "Deletes one Salesforce record (it goes to the recycle bin, where an admin can restore it for 15 days). \
Only call this when the user clearly asked to delete this record: confirm its name with getRecord first. \
`object` is optional: the id tells it.",
        )
        .input_schema(json!({
            "type": "object",
            "properties": {
                "id": id_property("The id of the record to delete."),
                "object": object_property("The object's API name; optional, checked against the id."),
                "org": org_property()
            },
            "required": ["id"],
            "additionalProperties": false
        }))
        .output_schema(json!({
            "type": "object",
            "properties": {
                "object": {"type": "string"},
                "id": {"type": "string"},
                "deleted": {"type": "boolean"}
            },
            "required": ["object", "id", "deleted"]
        }))
        .annotations(write_annotations(true, true))
}

pub(crate) async fn run(
    shared: Arc<Shared>,
    args: Args,
    cx: ToolContext,
) -> Result<ToolOutput, Error> {
    const TOOL: &str = "deleteRecord";
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
    if !describe.deletable {
        return Err(Error::NotAllowed(format!(
            "{object} records cannot be deleted by the connected user"
        )));
    }
    let result = connection.client.delete_record(&object, id.as_str()).await;
    connection.record_cache.invalidate(&object, id.as_str());
    audit_result(&shared, &cx, TOOL, &object, id.as_str(), result, |_| None)?;
    Ok(respond(
        format!(
            "Deleted {object} {} (it is in the recycle bin).",
            id.as_str()
        ),
        json!({"object": object, "id": id.as_str(), "deleted": true}),
    ))
}
