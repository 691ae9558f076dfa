//! `bulkExport`: a SOQL query run as a Bulk API 2.0 query job, for result sets too large for
//! `querySoql`. The query passes the same guard (read-only, describe-checked relationships,
//! `LIMIT` capped at `maxRows`). The rows come back as an embedded CSV resource, bounded in size,
//! plus a summary with the first rows inline (at most the row cap).

use std::sync::Arc;

use futures::TryStreamExt;
use mcp_protocol::registry::text_content;
use mcp_protocol::{Tool, ToolContext, ToolOutput};
use salesforce_api::soql::parse;
use salesforce_api::{JobKind, JobState, PollPolicy};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::bulk_import::with_progress;
use super::query_soql::{guard_for, refused, unparsable};
use super::{Shared, org_property, read_only};
use crate::{CrmConfig, Error};

/// Default and largest `maxRows`.
const DEFAULT_ROWS: u64 = 10_000;
const MAX_ROWS: u64 = 50_000;
/// Largest CSV embedded in the result (rows beyond it are counted, not sent).
const MAX_CSV_BYTES: usize = 2_000_000;
/// Rows per results page fetched from Salesforce.
const PAGE: u32 = 10_000;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Args {
    soql: String,
    #[serde(default)]
    max_rows: Option<u64>,
    #[serde(default)]
    org: Option<String>,
}

pub(crate) fn tool(config: &CrmConfig) -> Tool {
    let cap = config.row_cap();
    Tool::new("bulkExport")
        .title("Bulk export (CSV)")
        .description(format!(
            "Exports the rows of one read-only SOQL SELECT query as CSV through Bulk API 2.0, for large result sets (up to {MAX_ROWS} rows; default {DEFAULT_ROWS}). \
The same rules as querySoql apply, and bulk queries also refuse OFFSET, GROUP BY and aggregates. \
The result embeds the CSV as a resource (up to {} MB; beyond that rows are counted, not sent) and shows the first {cap} rows inline with a summary.",
            MAX_CSV_BYTES / 1_000_000
        ))
        .input_schema(json!({
            "type": "object",
            "properties": {
                "soql": {"type": "string", "minLength": 1, "maxLength": 20000, "description": "One SOQL SELECT statement (no OFFSET, GROUP BY or aggregates)."},
                "maxRows": {"type": "integer", "minimum": 1, "maximum": MAX_ROWS, "description": format!("Most rows to export (default {DEFAULT_ROWS}); the LIMIT is capped to it.")},
                "org": org_property()
            },
            "required": ["soql"],
            "additionalProperties": false
        }))
        .output_schema(json!({
            "type": "object",
            "properties": {
                "jobId": {"type": "string"},
                "object": {"type": "string"},
                "soql": {"type": "string", "description": "The query as run, with its LIMIT."},
                "columns": {"type": "array", "items": {"type": "string"}},
                "totalRows": {"type": "integer", "description": "Rows the query job produced."},
                "csvRows": {"type": "integer", "description": "Rows in the embedded CSV."},
                "truncated": {"type": "boolean", "description": "The CSV holds fewer rows than the job produced (size bound)."},
                "resourceUri": {"type": "string"},
                "rows": {"type": "array", "items": {"type": "object"}, "description": "The first rows, inline."}
            },
            "required": ["jobId", "object", "soql", "columns", "totalRows", "csvRows", "truncated", "resourceUri", "rows"]
        }))
        .annotations(read_only())
}

fn csv_line(values: &[String]) -> Result<Vec<u8>, Error> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    writer
        .write_record(values)
        .map_err(|e| Error::invalid(format!("a row cannot be written as CSV: {e}")))?;
    writer
        .into_inner()
        .map_err(|e| Error::invalid(format!("a row cannot be written as CSV: {e}")))
}

pub(crate) async fn run(
    shared: Arc<Shared>,
    args: Args,
    cx: ToolContext,
) -> Result<ToolOutput, Error> {
    let cap = shared.config.row_cap();
    let max_rows = args.max_rows.unwrap_or(DEFAULT_ROWS).clamp(1, MAX_ROWS);
    let query = parse(args.soql.trim()).map_err(|e| unparsable(&e))?;
    if query.offset.is_some() {
        return Err(Error::invalid(
            "bulk queries take no OFFSET: remove it (use querySoql to page with a cursor)",
        ));
    }
    let connection = shared.connect(&cx, args.org.as_deref()).await?;
    let object = query.from.object.as_str().to_owned();
    let guard = guard_for(&connection, &query, max_rows).await?;
    let soql = guard
        .check_query(query)
        .map_err(|e| refused(e, &object))?
        .to_soql();
    let client = &connection.client;
    let job = client.create_query_job(&soql, false).await?;
    let done = with_progress(&cx, None, "rows queried", |mut report| {
        client.wait_for_job(
            &job.id,
            JobKind::Query,
            PollPolicy::default(),
            move |info| {
                report((info.number_records_processed, 0));
            },
        )
    })
    .await?;
    if done.state != JobState::JobComplete {
        return Err(Error::invalid(format!(
            "the bulk query job {} ended {:?}: {}. Fix the query (bulk queries refuse OFFSET, GROUP BY and aggregates) and try again",
            done.id,
            done.state,
            done.error_message.as_deref().unwrap_or("no reason given")
        )));
    }
    let mut rows = std::pin::pin!(client.query_results_stream(&job.id, PAGE));
    let mut columns: Vec<String> = Vec::new();
    let mut csv = Vec::new();
    let mut inline = Vec::new();
    let (mut total, mut in_csv) = (0u64, 0u64);
    while let Some((header, row)) = rows.try_next().await? {
        if columns.is_empty() {
            columns = header.as_ref().clone();
            csv = csv_line(&columns)?;
        }
        total += 1;
        if inline.len() < cap {
            let fields: Map<String, Value> = columns
                .iter()
                .cloned()
                .zip(row.iter().map(|v| json!(v)))
                .collect();
            inline.push(Value::Object(fields));
        }
        let line = csv_line(&row)?;
        if in_csv == total - 1 && csv.len() + line.len() <= MAX_CSV_BYTES {
            csv.extend_from_slice(&line);
            in_csv += 1;
        }
    }
    let text = String::from_utf8(csv).unwrap_or_default();
    let uri = format!("sfmcp://bulk-export/{}.csv", job.id);
    let truncated = in_csv < total;
    let summary = format!(
        "Exported {total} {object} row(s) with bulk query job {} ({} column(s): {}); the CSV {} attached as {uri}; the first {} row(s) are inline.",
        job.id,
        columns.len(),
        columns.join(", "),
        if truncated {
            format!(
                "holds the first {in_csv} rows (size bound of {} MB)",
                MAX_CSV_BYTES / 1_000_000
            )
        } else {
            "is".to_owned()
        },
        inline.len()
    );
    let structured = json!({
        "jobId": job.id,
        "object": object,
        "soql": soql,
        "columns": columns,
        "totalRows": total,
        "csvRows": in_csv,
        "truncated": truncated,
        "resourceUri": uri,
        "rows": inline,
    });
    Ok(ToolOutput {
        content: vec![
            text_content(summary),
            json!({"type": "resource", "resource": {"uri": uri, "mimeType": "text/csv", "text": text}}),
            text_content(structured.to_string()),
        ],
        structured: Some(structured),
        meta: None,
    })
}
