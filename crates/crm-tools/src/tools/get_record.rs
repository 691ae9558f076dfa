//! `getRecord`: one record of any object (custom ones too) by id, all fields or the ones asked
//! for, checked against describe. Accounts and users come from the short-lived record cache when
//! fresh.

use std::sync::Arc;

use mcp_protocol::{Tool, ToolContext, ToolOutput};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::sobject::{id_property, object_of, object_property};
use super::{Shared, org_property, read_only};
use crate::output::{clean, respond, show};
use crate::{Error, ids};

/// Most fields asked for by name.
const MAX_FIELDS: usize = 100;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Args {
    id: String,
    #[serde(default)]
    object: Option<String>,
    #[serde(default)]
    fields: Option<Vec<String>>,
    #[serde(default)]
    org: Option<String>,
}

pub(crate) fn tool() -> Tool {
    Tool::new("getRecord")
        .title("Get record")
        .description(
            "Reads one Salesforce record of any object, standard or custom (e.g. Account, Case, Invoice__c), by its id. \
`object` is optional: the id's first three characters tell the object. Without `fields` every field with a value is returned; \
with `fields` only those (API names from describeObject). Empty fields are left out.",
        )
        .input_schema(json!({
            "type": "object",
            "properties": {
                "id": id_property("The record id (15 or 18 characters)."),
                "object": object_property("The object's API name; optional, checked against the id."),
                "fields": {
                    "type": "array",
                    "items": {"type": "string", "minLength": 1, "maxLength": 80},
                    "minItems": 1,
                    "maxItems": MAX_FIELDS,
                    "uniqueItems": true,
                    "description": "Field API names to read (default: all)."
                },
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
                "url": {"type": "string"},
                "record": {"type": "object", "description": "Field API name → value (empty fields left out)."},
                "cached": {"type": "boolean", "description": "Served from the short-lived cache of hot records."}
            },
            "required": ["object", "id", "url", "record", "cached"]
        }))
        .annotations(read_only())
}

pub(crate) async fn run(
    shared: Arc<Shared>,
    args: Args,
    cx: ToolContext,
) -> Result<ToolOutput, Error> {
    let id = ids::parse("id", &args.id)?;
    let connection = shared.connect(&cx, args.org.as_deref()).await?;
    let describe = object_of(&connection, args.object.as_deref(), &id).await?;
    let object = describe.name.clone();
    let fields: Option<Vec<String>> = match &args.fields {
        None => None,
        Some(names) => {
            let mut exact = Vec::new();
            let mut unknown = Vec::new();
            for name in names {
                match describe.field(name) {
                    Some(f) => exact.push(f.name.clone()),
                    None => {
                        unknown.push(format!("`{}`", name.chars().take(80).collect::<String>()))
                    }
                }
            }
            if !unknown.is_empty() {
                return Err(Error::invalid(format!(
                    "{object} has no field {}: call describeObject for its field names",
                    unknown.join(", ")
                )));
            }
            Some(exact)
        }
    };
    let key = fields
        .as_ref()
        .map_or_else(|| "*".to_owned(), |f| f.join(","));
    let cache = &connection.record_cache;
    let (record, cached) = match cache.get(&object, id.as_str(), &key) {
        Some(hit) => (hit, true),
        None => {
            let names: Option<Vec<&str>> = fields
                .as_ref()
                .map(|f| f.iter().map(String::as_str).collect());
            let record = connection
                .client
                .get_record(&object, id.as_str(), names.as_deref())
                .await?;
            cache.put(&object, id.as_str(), &key, &record);
            (record, false)
        }
    };
    let record: Map<String, Value> = match clean(&record) {
        Value::Object(map) => map.into_iter().filter(|(_, v)| !v.is_null()).collect(),
        _ => Map::new(),
    };
    let name = ["Name", "Subject", "CaseNumber"]
        .iter()
        .find_map(|f| record.get(*f))
        .map_or_else(String::new, |v| format!(" \"{}\"", show(v)));
    let summary = format!(
        "{object}{name} ({}): {} field(s) with values{}.",
        id.as_str(),
        record.len(),
        if cached { ", from the cache" } else { "" }
    );
    Ok(respond(
        summary,
        json!({
            "object": object,
            "id": id.as_str(),
            "url": connection.record_url(&describe.name, id.as_str()),
            "record": record,
            "cached": cached,
        }),
    ))
}
