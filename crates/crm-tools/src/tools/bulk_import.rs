//! `bulkImport`: Bulk API 2.0 ingest (insert, update, upsert, delete) from CSV text or a list of
//! records. Columns are checked against describe before any job is created; while the job runs,
//! MCP progress notifications report processed and failed rows; the result counts the rows and
//! lists failed ones with Salesforce's reasons (at most the row cap of them). Memory is bounded by
//! the input limits (one MCP message, `MAX_ROWS`): the job's results are streamed and only the
//! row cap of them kept.

use std::future::Future;
use std::sync::Arc;

use futures::StreamExt;
use futures::channel::mpsc;
use mcp_protocol::{Tool, ToolContext, ToolOutput};
use salesforce_api::{
    BulkProgress, IngestOperation, IngestRequest, KeepRows, ObjectDescribe, PollPolicy,
};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::sobject::{allow_write, audited, describe, object_property, write_annotations};
use super::{Shared, org_property};
use crate::audit::Outcome;
use crate::output::respond;
use crate::{CrmConfig, Error};

/// Most rows one call imports.
pub(crate) const MAX_ROWS: usize = 10_000;
/// Longest CSV text accepted (5 MB).
const MAX_CSV: usize = 5_000_000;
/// Most columns.
const MAX_COLUMNS: usize = 200;
/// What Bulk API 2.0 reads as "set this field to null".
const BULK_NULL: &str = "#N/A";

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum Operation {
    Insert,
    Update,
    Upsert,
    Delete,
}

impl Operation {
    fn api(self) -> IngestOperation {
        match self {
            Operation::Insert => IngestOperation::Insert,
            Operation::Update => IngestOperation::Update,
            Operation::Upsert => IngestOperation::Upsert,
            Operation::Delete => IngestOperation::Delete,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Operation::Insert => "insert",
            Operation::Update => "update",
            Operation::Upsert => "upsert",
            Operation::Delete => "delete",
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Args {
    object: String,
    operation: Operation,
    #[serde(default)]
    csv: Option<String>,
    #[serde(default)]
    records: Option<Vec<Map<String, Value>>>,
    #[serde(default)]
    external_id_field: Option<String>,
    #[serde(default)]
    org: Option<String>,
}

pub(crate) fn tool(config: &CrmConfig) -> Tool {
    let cap = config.row_cap();
    Tool::new("bulkImport")
        .title("Bulk import records")
        .description(format!(
            "Imports many records into one Salesforce object with Bulk API 2.0: insert, update (by Id), upsert (by an external id field) or delete (by Id), up to {MAX_ROWS} rows per call. \
Give the rows either as `csv` (a header line of field API names, then one line per record) or as `records` (a list of objects with the same fields). \
Columns are checked against the object's describe first (call describeObject for field names and required fields). The import runs in the background at Salesforce; progress is reported while it runs. \
The result counts successful and failed rows and lists up to {cap} failed rows with Salesforce's reason, to fix and import again."
        ))
        .input_schema(json!({
            "type": "object",
            "properties": {
                "object": object_property("The object's API name, e.g. Lead or Invoice__c."),
                "operation": {"type": "string", "enum": ["insert", "update", "upsert", "delete"], "description": "What to do with each row."},
                "csv": {"type": "string", "minLength": 1, "maxLength": MAX_CSV, "description": "CSV text: header of field API names, then rows (comma-separated, RFC 4180 quoting)."},
                "records": {
                    "type": "array", "minItems": 1, "maxItems": MAX_ROWS,
                    "items": {"type": "object", "maxProperties": MAX_COLUMNS, "additionalProperties": {"type": ["string", "number", "boolean", "null"]}},
                    "description": "The rows as objects of field API name → value (null clears a field)."
                },
                "externalIdField": {"type": "string", "minLength": 1, "maxLength": 80, "description": "For upsert: the external id field that matches rows to records (or Id)."},
                "org": org_property()
            },
            "required": ["object", "operation"],
            "additionalProperties": false
        }))
        .output_schema(json!({
            "type": "object",
            "properties": {
                "object": {"type": "string"},
                "operation": {"type": "string"},
                "jobIds": {"type": "array", "items": {"type": "string"}},
                "submitted": {"type": "integer"},
                "successful": {"type": "integer"},
                "created": {"type": "integer", "description": "Successful rows that created a record."},
                "failed": {"type": "integer"},
                "unprocessed": {"type": "integer"},
                "failedRows": {"type": "array", "items": {
                    "type": "object",
                    "properties": {"id": {"type": ["string", "null"]}, "error": {"type": "string"}, "fields": {"type": "object"}},
                    "required": ["error", "fields"]
                }},
                "successfulIds": {"type": "array", "items": {"type": "string"}, "description": "Ids of the first successful rows (at most the row cap)."}
            },
            "required": ["object", "operation", "jobIds", "submitted", "successful", "created", "failed", "unprocessed", "failedRows", "successfulIds"]
        }))
        .annotations(write_annotations(true, false))
}

/// The rows as (columns, values), from whichever form was given.
fn rows(args: &Args) -> Result<(Vec<String>, Vec<Vec<String>>), Error> {
    match (&args.csv, &args.records) {
        (Some(_), Some(_)) | (None, None) => Err(Error::invalid(
            "give the rows either as `csv` or as `records` (exactly one of them)",
        )),
        (Some(text), None) => parse_csv(text),
        (None, Some(records)) => Ok(from_records(records)),
    }
}

fn parse_csv(text: &str) -> Result<(Vec<String>, Vec<Vec<String>>), Error> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::Headers)
        .from_reader(text.as_bytes());
    let bad = |e: csv::Error| {
        Error::invalid(format!(
            "`csv` cannot be read: {e}. Send a header line of field names, then one line per record, quoting values that contain commas"
        ))
    };
    let header: Vec<String> = reader
        .headers()
        .map_err(bad)?
        .iter()
        .map(str::to_owned)
        .collect();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(bad)?;
        if rows.len() == MAX_ROWS {
            return Err(too_many());
        }
        rows.push(record.iter().map(str::to_owned).collect());
    }
    Ok((header, rows))
}

fn too_many() -> Error {
    Error::invalid(format!(
        "more than {MAX_ROWS} rows: split the import into several calls"
    ))
}

fn from_records(records: &[Map<String, Value>]) -> (Vec<String>, Vec<Vec<String>>) {
    let mut columns: Vec<String> = Vec::new();
    for record in records {
        for key in record.keys() {
            if !columns.contains(key) {
                columns.push(key.clone());
            }
        }
    }
    let rows = records
        .iter()
        .map(|record| {
            columns
                .iter()
                .map(|c| match record.get(c) {
                    None => String::new(),
                    Some(Value::Null) => BULK_NULL.to_owned(),
                    Some(Value::String(s)) => s.clone(),
                    Some(other) => other.to_string(),
                })
                .collect()
        })
        .collect();
    (columns, rows)
}

/// Checks the columns (and the object) for the operation; returns them with describe's spelling.
fn check_columns(
    d: &ObjectDescribe,
    operation: Operation,
    columns: &[String],
    external_id: Option<&str>,
) -> Result<(Vec<String>, Option<String>), Error> {
    let object_ok = match operation {
        Operation::Insert => d.createable,
        Operation::Update => d.updateable,
        Operation::Upsert => d.createable && d.updateable,
        Operation::Delete => d.deletable,
    };
    if !object_ok {
        return Err(Error::NotAllowed(format!(
            "the connected user cannot {} {} records",
            operation.name(),
            d.name
        )));
    }
    if columns.is_empty() || columns.len() > MAX_COLUMNS {
        return Err(Error::invalid(format!(
            "the rows need between 1 and {MAX_COLUMNS} columns (field API names)"
        )));
    }
    let mut problems = Vec::new();
    let mut exact = Vec::new();
    for column in columns {
        let Some(field) = d.field(column) else {
            problems.push(format!(
                "{} has no field `{}`",
                d.name,
                column.chars().take(80).collect::<String>()
            ));
            continue;
        };
        let is_id = field.name == "Id";
        let ok = match operation {
            Operation::Delete => is_id,
            Operation::Insert => field.createable,
            Operation::Update => is_id || field.updateable,
            Operation::Upsert => {
                is_id
                    || external_id.is_some_and(|e| e.eq_ignore_ascii_case(&field.name))
                    || field.createable
                    || field.updateable
            }
        };
        if !ok {
            problems.push(match operation {
                Operation::Delete => {
                    format!("a delete takes only the Id column, not {}", field.name)
                }
                _ => format!(
                    "{} cannot be written by an {}",
                    field.name,
                    operation.name()
                ),
            });
        }
        exact.push(field.name.clone());
    }
    let has = |name: &str| exact.iter().any(|c| c.eq_ignore_ascii_case(name));
    let external = match operation {
        Operation::Update | Operation::Delete if !has("Id") => {
            problems.push(format!("an {} needs an Id column", operation.name()));
            None
        }
        Operation::Upsert => match external_id.map(|e| (e, d.field(e))) {
            None => {
                problems
                    .push("an upsert needs `externalIdField` (an external id field, or Id)".into());
                None
            }
            Some((e, None)) => {
                problems.push(format!(
                    "{} has no field `{}`",
                    d.name,
                    e.chars().take(80).collect::<String>()
                ));
                None
            }
            Some((_, Some(f))) if !(f.external_id || f.name == "Id") => {
                problems.push(format!("{} is not an external id field", f.name));
                None
            }
            Some((_, Some(f))) => {
                if !has(&f.name) {
                    problems.push(format!("the rows need a {} column to match on", f.name));
                }
                Some(f.name.clone())
            }
        },
        _ => None,
    };
    if operation == Operation::Insert {
        let missing: Vec<&str> = d
            .fields
            .iter()
            .filter(|f| f.required_on_create() && !has(&f.name))
            .map(|f| f.name.as_str())
            .collect();
        if !missing.is_empty() {
            problems.push(format!(
                "required column(s) missing: {}",
                missing.join(", ")
            ));
        }
    }
    if problems.is_empty() {
        Ok((exact, external))
    } else {
        Err(Error::invalid(format!(
            "nothing was imported: {}. {}",
            problems.join("; "),
            crate::validate::accepted_fields(
                d,
                if operation == Operation::Insert {
                    crate::validate::Write::Create
                } else {
                    crate::validate::Write::Update
                }
            )
        )))
    }
}

/// Runs `work`, forwarding the (done, failed) counts it reports to the client as MCP progress
/// notifications while it runs. `work` gets a reporter it may call from a synchronous callback.
pub(crate) async fn with_progress<T, Fut>(
    cx: &ToolContext,
    total: Option<u64>,
    unit: &str,
    work: impl FnOnce(Box<dyn FnMut((u64, u64)) + Send>) -> Fut,
) -> T
where
    Fut: Future<Output = T>,
{
    let (sender, mut receiver) = mpsc::unbounded::<(u64, u64)>();
    // The receiver lives until the work ends; a send cannot fail before that.
    let work = work(Box::new(move |counts| drop(sender.unbounded_send(counts))));
    let total_f = total.map(|t| t as f64);
    let report = async {
        cx.progress(0.0, total_f, Some("submitted to Salesforce"))
            .await;
        while let Some((done, failed)) = receiver.next().await {
            let of = total.map_or_else(String::new, |t| format!(" of {t}"));
            let message = format!("{done}{of} {unit}, {failed} failed");
            cx.progress(done as f64, total_f, Some(&message)).await;
        }
    };
    let (result, ()) = futures::join!(work, report);
    result
}

pub(crate) async fn run(
    shared: Arc<Shared>,
    args: Args,
    cx: ToolContext,
) -> Result<ToolOutput, Error> {
    const TOOL: &str = "bulkImport";
    allow_write(&shared, &cx, TOOL, &args.object, "")?;
    let (columns, rows) = rows(&args)?;
    if rows.is_empty() {
        return Err(Error::invalid("there are no rows to import"));
    }
    if rows.len() > MAX_ROWS {
        return Err(too_many());
    }
    if let Some(n) = rows.iter().position(|r| r.len() != columns.len()) {
        return Err(Error::invalid(format!(
            "row {} has {} values for {} columns",
            n + 1,
            rows[n].len(),
            columns.len()
        )));
    }
    let connection = shared.connect(&cx, args.org.as_deref()).await?;
    let d = describe(&connection, &args.object).await?;
    let object = d.name.clone();
    allow_write(&shared, &cx, TOOL, &object, "")?;
    let (columns, external) = check_columns(
        &d,
        args.operation,
        &columns,
        args.external_id_field.as_deref(),
    )?;
    let cap = shared.config.row_cap();
    let mut request = IngestRequest::new(object.clone(), args.operation.api(), columns);
    request.external_id_field = external;
    request.keep = KeepRows {
        successful: cap,
        failed: cap,
        unprocessed: 0,
    };
    let submitted = rows.len() as u64;
    let outcome = with_progress(&cx, Some(submitted), "rows processed", |mut report| {
        connection.client.bulk_ingest(
            &request,
            futures::stream::iter(rows),
            PollPolicy::default(),
            move |p: BulkProgress| report((p.processed, p.failed)),
        )
    })
    .await;
    connection.record_cache.invalidate_object(&object);
    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(e) => {
            audited(&shared, &cx, TOOL, &object, "", 0, Outcome::Failed);
            return Err(e.into());
        }
    };
    let job_ids: Vec<String> = outcome.jobs.iter().map(|j| j.id.clone()).collect();
    audited(
        &shared,
        &cx,
        TOOL,
        &object,
        &job_ids.join(","),
        outcome.successful,
        Outcome::Succeeded,
    );
    let failed_rows: Vec<Value> = outcome
        .failed_rows
        .iter()
        .map(|row| {
            json!({
                "id": row.id,
                "error": row.error,
                "fields": row.fields.iter().map(|(k, v)| (k.clone(), json!(v))).collect::<Map<String, Value>>(),
            })
        })
        .collect();
    let created = outcome.created;
    let summary = format!(
        "Bulk {} of {submitted} {object} row(s): {} succeeded ({created} created), {} failed, {} not processed (job {}).{}",
        args.operation.name(),
        outcome.successful,
        outcome.failed,
        outcome.unprocessed,
        job_ids.join(", "),
        outcome
            .failed_rows
            .first()
            .map_or_else(String::new, |f| format!(" First failure: {}", f.error))
    );
    Ok(respond(
        summary,
        json!({
            "object": object,
            "operation": args.operation.name(),
            "jobIds": job_ids,
            "submitted": submitted,
            "successful": outcome.successful,
            "created": created,
            "failed": outcome.failed,
            "unprocessed": outcome.unprocessed,
            "failedRows": failed_rows,
            "successfulIds": outcome.successful_rows.iter().map(|r| r.id.clone()).collect::<Vec<_>>(),
        }),
    ))
}
