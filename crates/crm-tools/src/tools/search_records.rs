//! `searchRecords`: a SOSL text search across several objects through `parameterizedSearch`.
//! The term is sent as one literal, escaped SOSL phrase (`salesforce_api::sosl_phrase`), never as
//! SOSL text, so wildcards and `AND`/`OR` in it are plain characters. One call per object, run
//! concurrently, so each object gets its own name fields.

use std::sync::Arc;

use futures::future::try_join_all;
use mcp_protocol::{Tool, ToolContext, ToolOutput};
use salesforce_core::soql::Identifier;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Shared, org_property, read_only};
use crate::output::{respond, show};
use crate::{CrmConfig, Error};

const DEFAULT_OBJECTS: [&str; 5] = ["Account", "Contact", "Lead", "Opportunity", "Case"];
const MAX_OBJECTS: usize = 10;
const DEFAULT_PER_OBJECT: usize = 10;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Args {
    term: String,
    #[serde(default)]
    objects: Option<Vec<String>>,
    #[serde(default)]
    limit: Option<usize>,
    #[serde(default)]
    org: Option<String>,
}

pub(crate) fn tool(config: &CrmConfig) -> Tool {
    let cap = config.row_cap();
    Tool::new("searchRecords")
        .title("Search records (SOSL)")
        .description(format!(
            "Full-text search (SOSL) for a word or phrase in the name fields of Salesforce records, across several objects at once (default: Account, Contact, Lead, Opportunity, Case; any searchable object, custom ones too). \
The term is searched as one literal phrase: no wildcards or operators. Returns each match's object, id and name, at most `limit` per object (default {}, max {cap}). \
Use getRecord or querySoql for details.",
            DEFAULT_PER_OBJECT.min(cap)
        ))
        .input_schema(json!({
            "type": "object",
            "properties": {
                "term": {"type": "string", "minLength": 2, "maxLength": 100, "description": "The word or phrase to find, e.g. \"Acme\" or \"Jane Smith\"."},
                "objects": {
                    "type": "array",
                    "items": {"type": "string", "minLength": 1, "maxLength": 80, "pattern": "^[A-Za-z][A-Za-z0-9_]*$"},
                    "minItems": 1, "maxItems": MAX_OBJECTS, "uniqueItems": true,
                    "description": "Object API names to search."
                },
                "limit": {"type": "integer", "minimum": 1, "maximum": cap, "description": "Matches per object."},
                "org": org_property()
            },
            "required": ["term"],
            "additionalProperties": false
        }))
        .output_schema(json!({
            "type": "object",
            "properties": {
                "results": {"type": "array", "items": {
                    "type": "object",
                    "properties": {
                        "object": {"type": "string"},
                        "id": {"type": "string"},
                        "name": {"type": ["string", "null"]},
                        "url": {"type": "string"}
                    },
                    "required": ["object", "id", "name", "url"]
                }},
                "counts": {"type": "object", "description": "Matches per object."}
            },
            "required": ["results", "counts"]
        }))
        .annotations(read_only())
}

/// The fields read for an object's matches: `Id` and what names a record of it.
fn name_fields(object: &str) -> &'static [&'static str] {
    match object.to_ascii_lowercase().as_str() {
        "case" => &["Id", "CaseNumber", "Subject"],
        "task" | "event" => &["Id", "Subject"],
        _ => &["Id", "Name"],
    }
}

pub(crate) async fn run(
    shared: Arc<Shared>,
    args: Args,
    cx: ToolContext,
) -> Result<ToolOutput, Error> {
    let cap = shared.config.row_cap();
    let per_object = args.limit.unwrap_or(DEFAULT_PER_OBJECT).clamp(1, cap);
    let term = args.term.trim();
    if term.chars().count() < 2 {
        return Err(Error::invalid("`term` needs at least two characters"));
    }
    let objects: Vec<String> = match &args.objects {
        Some(list) => list.clone(),
        None => DEFAULT_OBJECTS.iter().map(|o| (*o).to_owned()).collect(),
    };
    for object in &objects {
        if Identifier::new(object).is_err() {
            return Err(Error::invalid(format!(
                "`objects`: `{}` is not an object API name",
                object.chars().take(80).collect::<String>()
            )));
        }
    }
    let connection = shared.connect(&cx, args.org.as_deref()).await?;
    let found = try_join_all(objects.iter().map(|object| {
        let connection = &connection;
        async move {
            connection
                .client
                .parameterized_search(
                    term,
                    &[object.as_str()],
                    name_fields(object),
                    per_object as u32,
                )
                .await
                .map(|records| (object, records))
        }
    }))
    .await?;
    let mut results = Vec::new();
    let mut counts = serde_json::Map::new();
    for (object, records) in &found {
        counts.insert((*object).clone(), json!(records.len()));
        for record in records {
            let Some(id) = record.id() else { continue };
            let kind = record.object_type().unwrap_or(object);
            let name = name_fields(kind)
                .iter()
                .skip(1)
                .filter_map(|f| record.get_str(f))
                .collect::<Vec<_>>()
                .join(" — ");
            results.push(json!({
                "object": kind,
                "id": id,
                "name": if name.is_empty() { Value::Null } else { json!(name) },
                "url": connection.record_url(kind, id),
            }));
        }
    }
    let summary = if results.is_empty() {
        format!("No record of {} matches \"{term}\".", objects.join(", "))
    } else {
        let lines: Vec<String> = results
            .iter()
            .map(|r| {
                format!(
                    "- {} {} ({})",
                    r["object"].as_str().unwrap_or(""),
                    show(&r["name"]),
                    r["id"].as_str().unwrap_or("")
                )
            })
            .collect();
        format!(
            "{} match(es) for \"{term}\":\n{}",
            results.len(),
            lines.join("\n")
        )
    };
    Ok(respond(
        summary,
        json!({"results": results, "counts": counts}),
    ))
}
