//! `runReport`: runs a Salesforce report (by id, or by name through the report list) and returns
//! its rows, groupings and totals, the rows capped at the row cap.

use std::sync::Arc;

use mcp_protocol::{Tool, ToolContext, ToolOutput};
use salesforce_api::{ReportCell, ReportSummary};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{Shared, org_property, read_only, text_property};
use crate::output::{respond, show};
use crate::{CrmConfig, Error, ids};

/// Reports named in a "which one?" message.
const CANDIDATES: usize = 10;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Args {
    #[serde(default)]
    report_id: Option<String>,
    #[serde(default)]
    report_name: Option<String>,
    #[serde(default = "yes")]
    include_details: bool,
    #[serde(default)]
    org: Option<String>,
}

fn yes() -> bool {
    true
}

pub(crate) fn tool(config: &CrmConfig) -> Tool {
    let cap = config.row_cap();
    Tool::new("runReport")
        .title("Run report")
        .description(format!(
            "Runs a Salesforce report and returns its rows, its groupings with their aggregates (sums, record counts) and the grand totals. \
Name the report by `reportId` (00O…) or by `reportName` (exact or partial name; an ambiguous name lists the candidates). \
At most {cap} detail rows are returned (totalRows says how many there are); set includeDetails false for only the groupings and totals."
        ))
        .input_schema(json!({
            "type": "object",
            "properties": {
                "reportId": {"type": "string", "minLength": 15, "maxLength": 18, "description": "The report id (00O…)."},
                "reportName": text_property("The report's name, or part of it."),
                "includeDetails": {"type": "boolean", "description": "Include detail rows (default true)."},
                "org": org_property()
            },
            "additionalProperties": false
        }))
        .output_schema(json!({
            "type": "object",
            "properties": {
                "reportId": {"type": "string"},
                "name": {"type": "string"},
                "columns": {"type": "array", "items": {"type": "string"}},
                "groups": {"type": "array", "items": {"type": "object"}},
                "rows": {"type": "array", "items": {"type": "object"}},
                "totalRows": {"type": "integer"},
                "totals": {"type": "array", "items": {"type": "object"}}
            },
            "required": ["reportId", "name", "columns", "groups", "rows", "totalRows", "totals"]
        }))
        .annotations(read_only())
}

/// A cell as the model reads it: numbers as numbers (currency amounts unwrapped), the rest as
/// their display label.
fn cell(cell: &ReportCell) -> Value {
    match &cell.value {
        Value::Number(_) => cell.value.clone(),
        Value::Object(map) if map.get("amount").is_some_and(Value::is_number) => {
            map["amount"].clone()
        }
        other => cell
            .label
            .as_ref()
            .map_or_else(|| other.clone(), |label| json!(label)),
    }
}

fn aggregate(cell: &ReportCell) -> Value {
    json!({"label": cell.label, "value": self::cell(cell)})
}

fn pick(reports: &[ReportSummary], name: &str) -> Result<String, Error> {
    let lower = name.trim().to_lowercase();
    let exact: Vec<&ReportSummary> = reports
        .iter()
        .filter(|r| r.name.to_lowercase() == lower)
        .collect();
    let found = if exact.is_empty() {
        reports
            .iter()
            .filter(|r| r.name.to_lowercase().contains(&lower))
            .collect()
    } else {
        exact
    };
    match found.as_slice() {
        [one] => Ok(one.id.clone()),
        [] => Err(Error::NotFound(format!(
            "no report is named or contains `{}`. Reports: {}",
            name.chars().take(80).collect::<String>(),
            reports
                .iter()
                .take(CANDIDATES * 2)
                .map(|r| r.name.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        ))),
        many => Err(Error::invalid(format!(
            "`reportName` matches {} reports; call again with `reportId` set to one of: {}",
            many.len(),
            many.iter()
                .take(CANDIDATES)
                .map(|r| format!("{} ({})", r.name, r.id))
                .collect::<Vec<_>>()
                .join("; ")
        ))),
    }
}

pub(crate) async fn run(
    shared: Arc<Shared>,
    args: Args,
    cx: ToolContext,
) -> Result<ToolOutput, Error> {
    let cap = shared.config.row_cap();
    let connection = shared.connect(&cx, args.org.as_deref()).await?;
    let report_id = match (&args.report_id, &args.report_name) {
        (Some(id), _) => ids::parse("reportId", id)?.as_str().to_owned(),
        (None, Some(name)) => pick(&connection.client.list_reports().await?, name)?,
        (None, None) => {
            return Err(Error::invalid(
                "name the report: pass `reportId` (00O…) or `reportName`",
            ));
        }
    };
    let run = connection
        .client
        .run_report(&report_id, args.include_details)
        .await?;
    let row = |cells: &[ReportCell], group: Option<&str>| {
        let mut map: Map<String, Value> = run
            .columns
            .iter()
            .cloned()
            .zip(cells.iter().map(cell))
            .collect();
        if let Some(group) = group {
            map.insert("group".into(), json!(group));
        }
        Value::Object(map)
    };
    let mut all_rows: Vec<Value> = run.rows.iter().map(|r| row(r, None)).collect();
    for group in &run.groups {
        all_rows.extend(group.rows.iter().map(|r| row(r, Some(&group.label))));
    }
    let total_rows = all_rows.len();
    all_rows.truncate(cap);
    let groups: Vec<Value> = run
        .groups
        .iter()
        .map(|g| json!({"label": g.label, "aggregates": g.aggregates.iter().map(aggregate).collect::<Vec<_>>(), "rows": g.rows.len()}))
        .collect();
    let totals: Vec<Value> = run.totals.iter().map(aggregate).collect();
    let mut summary = format!(
        "Report \"{}\": {total_rows} row(s){}; totals: {}.",
        run.name,
        if total_rows > cap {
            format!(", first {cap} returned")
        } else {
            String::new()
        },
        totals
            .iter()
            .map(|t| show(&t["label"]))
            .collect::<Vec<_>>()
            .join(", ")
    );
    for g in &groups {
        summary.push_str(&format!(
            "\n- {}: {}",
            show(&g["label"]),
            g["aggregates"].as_array().map_or_else(String::new, |a| a
                .iter()
                .map(|x| show(&x["label"]))
                .collect::<Vec<_>>()
                .join(", "))
        ));
    }
    Ok(respond(
        summary,
        json!({
            "reportId": report_id,
            "name": run.name,
            "columns": run.columns,
            "groups": groups,
            "rows": all_rows,
            "totalRows": total_rows,
            "totals": totals,
        }),
    ))
}
