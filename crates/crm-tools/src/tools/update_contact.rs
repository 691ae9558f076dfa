//! `updateContact`: changes fields of one Contact. Every field name is checked against the
//! Contact describe (through the shared cache) before anything is sent: unknown and
//! non-updateable fields are refused by name. Returns the record as it is after the update.

use std::sync::Arc;

use mcp_protocol::{Tool, ToolAnnotations, ToolContext, ToolOutput};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{Shared, org_property};
use crate::output::{clean, respond, show};
use crate::{CrmConfig, Error, ids};

/// Most fields changed in one call.
const MAX_FIELDS: usize = 50;
/// Updateable fields named in the "unknown field" message.
const LISTED_FIELDS: usize = 40;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Args {
    id: String,
    fields: Map<String, Value>,
    #[serde(default)]
    org: Option<String>,
}

pub(crate) fn tool(_config: &CrmConfig) -> Tool {
    Tool::new("updateContact")
        .title("Update contact")
        .description(
            "Updates fields of one Salesforce contact and returns the contact as saved. \
`fields` maps Contact field API names to new values, e.g. {\"Title\":\"VP Sales\",\"Phone\":\"+1 415 555 0100\"}; use null to clear a field. \
Only updateable fields are accepted (e.g. FirstName, LastName, Title, Department, Email, Phone, MobilePhone, MailingCity, Description, AccountId); \
read-only ones such as Name (computed from FirstName/LastName), CreatedDate or LastModifiedDate are refused and nothing is changed. \
Use the contact's id (003…), found with `search` if needed.",
        )
        .input_schema(json!({
            "type": "object",
            "properties": {
                "id": {"type": "string", "minLength": 15, "maxLength": 18, "description": "Contact id (003…)."},
                "fields": {
                    "type": "object",
                    "minProperties": 1,
                    "maxProperties": MAX_FIELDS,
                    "additionalProperties": {"type": ["string", "number", "boolean", "null"]},
                    "description": "Field API names and their new values (dates as YYYY-MM-DD)."
                },
                "org": org_property()
            },
            "required": ["id", "fields"],
            "additionalProperties": false
        }))
        .output_schema(json!({
            "type": "object",
            "properties": {
                "id": {"type": "string"},
                "url": {"type": "string"},
                "updatedFields": {"type": "array", "items": {"type": "string"}},
                "record": {"type": "object", "description": "The contact after the update: Id, Name, the updated fields and LastModifiedDate."}
            },
            "required": ["id", "url", "updatedFields", "record"]
        }))
        .annotations(ToolAnnotations {
            read_only: Some(false),
            destructive: Some(true),
            idempotent: Some(true),
            open_world: Some(false),
        })
}

pub(crate) async fn run(
    shared: Arc<Shared>,
    args: Args,
    cx: ToolContext,
) -> Result<ToolOutput, Error> {
    super::sobject::allow_write(&shared, &cx, "updateContact", "Contact", "")?;
    let (id, _) = ids::expect("id", &args.id, &["Contact"])?;
    if args.fields.is_empty() {
        return Err(Error::invalid(
            "`fields` is empty: name at least one field to change",
        ));
    }
    let connection = shared.connect(&cx, args.org.as_deref()).await?;
    let describe = connection
        .client
        .describe("Contact", Some(&connection.describe_cache))
        .await?;
    let mut unknown = Vec::new();
    let mut read_only = Vec::new();
    let mut changes = Map::new();
    for (name, value) in &args.fields {
        match describe.field(name) {
            None => unknown.push(name.chars().take(80).collect::<String>()),
            Some(field) if !field.updateable => read_only.push(field.name.clone()),
            Some(field) => {
                changes.insert(field.name.clone(), value.clone());
            }
        }
    }
    if !unknown.is_empty() || !read_only.is_empty() {
        let mut problems = Vec::new();
        if !unknown.is_empty() {
            problems.push(format!(
                "Contact has no field {}",
                unknown
                    .iter()
                    .map(|f| format!("`{f}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if !read_only.is_empty() {
            problems.push(format!("{} cannot be updated", read_only.join(", ")));
        }
        let updateable: Vec<&str> = describe
            .fields
            .iter()
            .filter(|f| f.updateable)
            .map(|f| f.name.as_str())
            .take(LISTED_FIELDS)
            .collect();
        return Err(Error::invalid(format!(
            "nothing was changed: {}. Updateable Contact fields: {}",
            problems.join("; "),
            updateable.join(", ")
        )));
    }
    let result = connection
        .client
        .update_record("Contact", id.as_str(), &changes)
        .await;
    super::sobject::audit_result(
        &shared,
        &cx,
        "updateContact",
        "Contact",
        id.as_str(),
        result,
        |_| None,
    )?;
    let updated: Vec<String> = changes.keys().cloned().collect();
    let mut read_back: Vec<&str> = vec!["Id", "Name"];
    read_back.extend(updated.iter().map(String::as_str));
    read_back.push("LastModifiedDate");
    read_back.dedup();
    let record = connection
        .client
        .get_record("Contact", id.as_str(), Some(&read_back))
        .await?;
    let record = clean(&record);
    let summary = format!(
        "Updated contact {} ({}): {}.",
        show(&record["Name"]),
        id.as_str(),
        updated
            .iter()
            .map(|f| format!("{f} = {}", show(&record[f.as_str()])))
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(respond(
        summary,
        json!({
            "id": id.as_str(),
            "url": connection.record_url("Contact", id.as_str()),
            "updatedFields": updated,
            "record": record,
        }),
    ))
}
