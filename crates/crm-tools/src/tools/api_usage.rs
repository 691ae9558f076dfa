//! `getApiUsage`: the org's API limits from `/limits` (daily API requests, bulk jobs, storage…)
//! and what sfmcp itself sent, from the client's usage counters.

use std::sync::Arc;

use mcp_protocol::{Tool, ToolContext, ToolOutput};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Shared, org_property, read_only};
use crate::Error;
use crate::output::respond;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Args {
    #[serde(default)]
    org: Option<String>,
}

pub(crate) fn tool() -> Tool {
    Tool::new("getApiUsage")
        .title("API usage and limits")
        .description(
            "Shows the Salesforce org's API usage against its limits (daily API requests, Bulk API jobs, storage and the rest of /limits: max, remaining, used) and how many requests sfmcp itself has sent to the org since it started. \
Use it when asked about API consumption, or before a large import or export.",
        )
        .input_schema(json!({
            "type": "object",
            "properties": {"org": org_property()},
            "additionalProperties": false
        }))
        .output_schema(json!({
            "type": "object",
            "properties": {
                "dailyApiRequests": {"type": ["object", "null"], "description": "max, remaining, used and percentUsed of DailyApiRequests."},
                "limits": {"type": "array", "items": {"type": "object", "properties": {
                    "name": {"type": "string"}, "max": {"type": "integer"}, "remaining": {"type": "integer"}, "used": {"type": "integer"}
                }, "required": ["name", "max", "remaining", "used"]}},
                "sfmcp": {"type": "object", "properties": {
                    "requestsSent": {"type": "integer", "description": "Requests sfmcp sent to this org since it started (this call's included)."},
                    "lastReportedUsed": {"type": ["integer", "null"]},
                    "lastReportedMax": {"type": ["integer", "null"]}
                }, "required": ["requestsSent"]}
            },
            "required": ["dailyApiRequests", "limits", "sfmcp"]
        }))
        .annotations(read_only())
}

fn percent(used: i64, max: i64) -> f64 {
    if max <= 0 {
        0.0
    } else {
        (used as f64 * 1000.0 / max as f64).round() / 10.0
    }
}

pub(crate) async fn run(
    shared: Arc<Shared>,
    args: Args,
    cx: ToolContext,
) -> Result<ToolOutput, Error> {
    let connection = shared.connect(&cx, args.org.as_deref()).await?;
    let limits = connection.client.limits().await?;
    let usage = connection.client.usage();
    let mut names: Vec<&String> = limits.keys().collect();
    names.sort();
    let list: Vec<Value> = names
        .iter()
        .map(|name| {
            let l = limits[*name];
            json!({"name": name, "max": l.max, "remaining": l.remaining, "used": l.max - l.remaining})
        })
        .collect();
    let daily = limits.get("DailyApiRequests").map(|l| {
        let used = l.max - l.remaining;
        json!({"max": l.max, "remaining": l.remaining, "used": used, "percentUsed": percent(used, l.max)})
    });
    let mut summary = match &daily {
        Some(d) => format!(
            "Daily API requests: {} of {} used ({}%), {} remaining.",
            d["used"], d["max"], d["percentUsed"], d["remaining"]
        ),
        None => "The org reports no DailyApiRequests limit.".to_owned(),
    };
    summary.push_str(&format!(
        " sfmcp sent {} request(s) to this org since it started. {} other limit(s) listed.",
        usage.sent_by_us,
        list.len()
    ));
    Ok(respond(
        summary,
        json!({
            "dailyApiRequests": daily,
            "limits": list,
            "sfmcp": {
                "requestsSent": usage.sent_by_us,
                "lastReportedUsed": usage.used,
                "lastReportedMax": usage.max,
            }
        }),
    ))
}
