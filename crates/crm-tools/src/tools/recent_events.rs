//! `recentEvents`: what the webhook worker recorded lately — outbound-message events such as a
//! lead created or an opportunity's stage changed, with the rules that acted on them — filtered by
//! object, type (rule or action), record and time. Listed only when the server gave the tools an
//! [`crate::EventSource`].

use std::sync::Arc;

use chrono::{DateTime, Utc};
use mcp_protocol::{Tool, ToolContext, ToolOutput};
use serde::Deserialize;
use serde_json::{Value, json};

use super::sobject::object_property;
use super::{Shared, read_only, text_property};
use crate::output::respond;
use crate::{CrmConfig, Error, EventEntry};

/// Entries read from the feed before filtering by type, record and time.
const SCAN: usize = 1_000;
/// Default number of events returned.
const DEFAULT_LIMIT: usize = 20;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Args {
    #[serde(default)]
    object: Option<String>,
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    record_id: Option<String>,
    #[serde(default)]
    since: Option<DateTime<Utc>>,
    #[serde(default)]
    until: Option<DateTime<Utc>>,
    #[serde(default)]
    limit: Option<usize>,
    #[serde(default)]
    org: Option<String>,
}

pub(crate) fn tool(config: &CrmConfig) -> Tool {
    let cap = config.row_cap();
    Tool::new("recentEvents")
        .title("Recent CRM events")
        .description(format!(
            "Lists recent changes Salesforce pushed to sfmcp's webhook worker (outbound messages), newest first: e.g. leads created, opportunities whose stage changed, with the record's fields as sent and the follow-up rules that acted on each (and the Tasks they created). \
Filter by object (Lead, Opportunity…), type (a worker rule name such as lead-follow-up, or an outbound-message action id), recordId, and time (since/until, ISO 8601). \
Covers only the most recent events the worker kept; at most {cap} per call."
        ))
        .input_schema(json!({
            "type": "object",
            "properties": {
                "object": object_property("Only events about this object, e.g. Lead."),
                "type": text_property("Only events a rule of this name acted on, or of this outbound-message action id."),
                "recordId": {"type": "string", "minLength": 15, "maxLength": 18, "description": "Only events about this record."},
                "since": {"type": "string", "format": "date-time", "description": "Only events received at or after this time."},
                "until": {"type": "string", "format": "date-time", "description": "Only events received before this time."},
                "limit": {"type": "integer", "minimum": 1, "maximum": cap, "description": format!("Most events to return (default {}).", DEFAULT_LIMIT.min(cap))},
                "org": {"type": "string", "maxLength": 80, "description": "Only events from this org id (15 or 18 characters). Omit for every org."}
            },
            "additionalProperties": false
        }))
        .output_schema(json!({
            "type": "object",
            "properties": {
                "events": {"type": "array", "items": {"type": "object", "properties": {
                    "object": {"type": "string"},
                    "recordId": {"type": ["string", "null"]},
                    "receivedAt": {"type": "string"},
                    "rules": {"type": "array", "items": {"type": "string"}},
                    "fields": {"type": "object"}
                }, "required": ["object", "recordId", "receivedAt", "rules", "fields"]}},
                "returned": {"type": "integer"},
                "more": {"type": "boolean", "description": "More events matched than were returned."}
            },
            "required": ["events", "returned", "more"]
        }))
        .annotations(read_only())
}

fn same_id(a: &str, b: &str) -> bool {
    let a = a.trim();
    let b = b.trim();
    a.get(..15).is_some_and(|x| b.get(..15) == Some(x))
}

fn matches(entry: &EventEntry, args: &Args) -> bool {
    let kind = args.kind.as_deref().map(str::trim);
    kind.is_none_or(|k| {
        entry.action_id.eq_ignore_ascii_case(k)
            || entry.rules.iter().any(|r| r.eq_ignore_ascii_case(k))
    }) && args
        .record_id
        .as_deref()
        .is_none_or(|id| entry.record_id.as_deref().is_some_and(|r| same_id(r, id)))
        && args
            .org
            .as_deref()
            .is_none_or(|org| same_id(&entry.org_id, org))
        && args.since.is_none_or(|t| entry.received_at >= t)
        && args.until.is_none_or(|t| entry.received_at < t)
}

pub(crate) async fn run(
    shared: Arc<Shared>,
    args: Args,
    _cx: ToolContext,
) -> Result<ToolOutput, Error> {
    let Some(source) = &shared.events else {
        return Err(Error::NotAllowed(
            "this server has no event feed configured".into(),
        ));
    };
    let cap = shared.config.row_cap();
    let limit = args.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, cap);
    let entries = source
        .recent(SCAN, args.object.as_deref())
        .await
        .map_err(|e| Error::NotConnected {
            reason: format!("the event feed is unavailable: {e}"),
            reauthorize: false,
        })?;
    let matching: Vec<&EventEntry> = entries.iter().filter(|e| matches(e, &args)).collect();
    let more = matching.len() > limit;
    let events: Vec<Value> = matching
        .iter()
        .take(limit)
        .map(|e| serde_json::to_value(e).unwrap_or(Value::Null))
        .collect();
    let lines: Vec<String> = matching
        .iter()
        .take(limit)
        .map(|e| {
            format!(
                "- {} {} {}{}",
                e.received_at.format("%Y-%m-%d %H:%M:%S UTC"),
                e.object,
                e.record_id.as_deref().unwrap_or("(no id)"),
                if e.rules.is_empty() {
                    String::new()
                } else {
                    format!(" — rules: {}", e.rules.join(", "))
                }
            )
        })
        .collect();
    let summary = if events.is_empty() {
        "No recent event matches.".to_owned()
    } else {
        format!(
            "{} event(s){}:\n{}",
            events.len(),
            if more {
                " (more match: narrow the filters)"
            } else {
                ""
            },
            lines.join("\n")
        )
    };
    Ok(respond(
        summary,
        json!({"events": events, "returned": events.len(), "more": more}),
    ))
}
