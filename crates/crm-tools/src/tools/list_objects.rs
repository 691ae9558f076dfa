//! `listObjects`: the org's objects (standard and custom) from `describeGlobal`, through the
//! describe cache, filtered by name and paged with the row cap.

use std::sync::Arc;

use mcp_protocol::{Tool, ToolContext, ToolOutput};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{Shared, org_property, read_only, text_property};
use crate::output::respond;
use crate::{CrmConfig, Error, cursor};

#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Args {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name_contains: Option<String>,
    #[serde(default)]
    custom_only: bool,
    #[serde(default, skip_serializing)]
    limit: Option<usize>,
    #[serde(default, skip_serializing)]
    cursor: Option<String>,
    #[serde(default, skip_serializing)]
    org: Option<String>,
}

pub(crate) fn tool(config: &CrmConfig) -> Tool {
    let cap = config.row_cap();
    Tool::new("listObjects")
        .title("List objects")
        .description(format!(
            "Lists the Salesforce objects of the org the user can see — standard ones (Account, Lead, Case…) and custom ones (API names ending in __c) — with what the user may do on each. \
Use it to find an object's API name before describeObject, querySoql or the record tools. \
Filter with nameContains (matches API name or label) and customOnly; at most {cap} per call, with nextCursor for more."
        ))
        .input_schema(json!({
            "type": "object",
            "properties": {
                "nameContains": text_property("Text the API name or label contains (case-insensitive)."),
                "customOnly": {"type": "boolean", "description": "Only custom objects (default false)."},
                "limit": {"type": "integer", "minimum": 1, "maximum": cap, "description": format!("Objects per page, 1-{cap} (default {cap}).")},
                "cursor": {"type": "string", "maxLength": 200, "description": "nextCursor from the previous call with the same filters."},
                "org": org_property()
            },
            "additionalProperties": false
        }))
        .output_schema(json!({
            "type": "object",
            "properties": {
                "objects": {"type": "array", "items": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string"},
                        "label": {"type": "string"},
                        "custom": {"type": "boolean"},
                        "keyPrefix": {"type": ["string", "null"]},
                        "queryable": {"type": "boolean"},
                        "createable": {"type": "boolean"},
                        "updateable": {"type": "boolean"},
                        "deletable": {"type": "boolean"}
                    },
                    "required": ["name", "label", "custom"]
                }},
                "totalSize": {"type": "integer"},
                "offset": {"type": "integer"},
                "nextCursor": {"type": ["string", "null"]}
            },
            "required": ["objects", "totalSize", "offset", "nextCursor"]
        }))
        .annotations(read_only())
}

pub(crate) async fn run(
    shared: Arc<Shared>,
    args: Args,
    cx: ToolContext,
) -> Result<ToolOutput, Error> {
    let cap = shared.config.row_cap();
    let limit = args.limit.unwrap_or(cap).clamp(1, cap);
    let (fingerprint, offset) = cursor::start("listObjects", &args, args.cursor.as_deref())?;
    let connection = shared.connect(&cx, args.org.as_deref()).await?;
    let global = connection
        .client
        .describe_global(Some(&connection.describe_cache))
        .await?;
    let needle = args.name_contains.as_deref().map(str::to_lowercase);
    let mut matching: Vec<_> = global
        .sobjects
        .iter()
        .filter(|o| !args.custom_only || o.custom)
        .filter(|o| {
            needle.as_deref().is_none_or(|n| {
                o.name.to_lowercase().contains(n) || o.label.to_lowercase().contains(n)
            })
        })
        .collect();
    matching.sort_by(|a, b| a.name.cmp(&b.name));
    let total = matching.len() as u64;
    let page: Vec<Value> = matching
        .iter()
        .skip(offset as usize)
        .take(limit)
        .map(|o| {
            json!({
                "name": o.name,
                "label": o.label,
                "custom": o.custom,
                "keyPrefix": o.key_prefix,
                "queryable": o.queryable,
                "createable": o.createable,
                "updateable": o.updateable,
                "deletable": o.deletable,
            })
        })
        .collect();
    let next = offset + page.len() as u64;
    let next_cursor =
        (next < total && !page.is_empty()).then(|| cursor::encode(&fingerprint, next));
    let names: Vec<&str> = page.iter().filter_map(|o| o["name"].as_str()).collect();
    let summary = if total == 0 {
        "No object matches.".to_owned()
    } else {
        format!(
            "{total} object(s) match; showing {}-{}: {}{}",
            offset + 1,
            next,
            names.join(", "),
            if next_cursor.is_some() {
                " (more with nextCursor)"
            } else {
                ""
            }
        )
    };
    Ok(respond(
        summary,
        json!({"objects": page, "totalSize": total, "offset": offset, "nextCursor": next_cursor}),
    ))
}
