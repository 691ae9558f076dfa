//! Bulk API 2.0 ingest jobs: create, upload CSV, close (which starts processing on a blocking
//! tokio task), abort, info, list, delete, and the three result CSVs.
//!
//! Processing writes through the store's [`Txn`] with full validation, one savepoint per row
//! (a failed row leaves nothing behind), [`ROWS_PER_LOCK`] rows per write
//! lock. An empty CSV cell leaves the field alone; `#N/A` sets it to null, as in Salesforce.
//! `hardDelete` deletes like `delete`: the sandbox has no recycle bin to bypass, so hard-deleted
//! records still show in `queryAll`.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use http::{Method, StatusCode};
use salesforce_core::id::RecordId;
use salesforce_core::wire::ApiError;
use serde_json::{Map, Value as Json};

use super::{
    BulkJobs, CommonInfo, CsvOptions, Job, JobState, JobTable, MAX_UPLOAD_BYTES, Progress,
    ROWS_PER_LOCK, Routed, csv, csv_reply, find, invalid_job, invalid_state, lock, millis,
    parse_state, requested_state,
};
use crate::error::ApiFailure;
use crate::http::Reply;
use crate::rest::Call;
use crate::schema::FieldType;
use crate::server::State;
use crate::store::Txn;

/// What an ingest job does to each row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// Create records.
    Insert,
    /// Update by `Id`.
    Update,
    /// Upsert by the job's external id field.
    Upsert,
    /// Delete by `Id`.
    Delete,
    /// Delete by `Id` (no recycle bin in the sandbox: same as delete).
    HardDelete,
}

impl Operation {
    fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "insert" => Self::Insert,
            "update" => Self::Update,
            "upsert" => Self::Upsert,
            "delete" => Self::Delete,
            "hardDelete" => Self::HardDelete,
            _ => return None,
        })
    }
}

/// The outcome of one row.
#[derive(Debug, Clone)]
enum RowOutcome {
    Success { id: RecordId, created: bool },
    Failure { id: Option<RecordId>, error: String },
}

/// One ingest job.
#[derive(Debug)]
pub struct IngestJob {
    info: CommonInfo,
    operation: Operation,
    options: CsvOptions,
    user: RecordId,
    upload: Option<Vec<u8>>,
    header: Vec<String>,
    rows: Arc<Vec<Vec<String>>>,
    outcomes: Vec<RowOutcome>,
    failed: u64,
    processing_ms: u64,
    error_message: Option<String>,
}

impl Job for IngestJob {
    fn table(jobs: &BulkJobs) -> &JobTable<Self> {
        &jobs.ingest
    }

    fn common(&self) -> &CommonInfo {
        &self.info
    }

    fn progress(&self) -> Progress {
        Progress::new(
            "V2Ingest",
            u64::try_from(self.outcomes.len()).unwrap_or(u64::MAX),
            Some(self.failed),
            self.processing_ms,
            self.error_message.clone(),
        )
    }

    /// Create, upload, close or abort, and the result CSVs.
    fn own_route(state: &Arc<State>, call: &Call<'_>, rest: &[&str]) -> Routed {
        Some(match (call.method.clone(), rest) {
            (Method::POST, [] | [""]) => create(state, call),
            (Method::PATCH, [id]) => patch(state, call, id),
            (Method::PUT, [id, "batches"]) => upload(state, call, id),
            // Salesforce documents the result paths with a trailing slash (`successfulResults/`).
            (Method::GET, [id, kind] | [id, kind, ""]) => results(state, id, kind),
            _ => return None,
        })
    }
}

fn create(state: &Arc<State>, call: &Call<'_>) -> Result<Reply, ApiFailure> {
    let body = call.json_object()?;
    let text = |key: &str| body.get(key).and_then(Json::as_str);
    let object_name = text("object").ok_or_else(|| invalid_job("Missing object"))?;
    let op_name = text("operation").ok_or_else(|| invalid_job("Missing operation"))?;
    let operation = Operation::parse(op_name)
        .ok_or_else(|| invalid_job(format!("Invalid operation: {op_name}")))?;
    let options = CsvOptions::from_body(&body)?;
    let now = state.clock.now();
    let (object, external_id) = {
        let data = state.store.read();
        let (_, def) = data
            .schema()
            .object(object_name)
            .ok_or_else(|| invalid_job(format!("Unable to find object: {object_name}")))?;
        let external_id = match (operation, text("externalIdFieldName")) {
            (Operation::Upsert, None) => {
                return Err(invalid_job(format!(
                    "External ID was blank for {}. An External ID must be specified for upsert.",
                    def.name
                )));
            }
            (Operation::Upsert, Some(field)) => {
                let (_, f) = def
                    .field(field)
                    .filter(|(_, f)| f.external_id || f.field_type == FieldType::Id)
                    .ok_or_else(|| {
                        invalid_job(format!(
                            "The field {field} is not an external ID field on {}",
                            def.name
                        ))
                    })?;
                Some(f.name.clone())
            }
            _ => None,
        };
        (def.name.clone(), external_id)
    };
    BulkJobs::check_room(lock(&state.bulk.ingest).len())?;
    let id = state.bulk.new_id();
    let mut info = CommonInfo::new(id, op_name, &object, call.user, now, call.version, options);
    info.external_id_field_name = external_id;
    info.content_url = Some(format!(
        "services/data/v{}/jobs/ingest/{}/batches",
        call.version, id
    ));
    let job = IngestJob {
        info: info.clone(),
        operation,
        options,
        user: call.user,
        upload: None,
        header: Vec::new(),
        rows: Arc::new(Vec::new()),
        outcomes: Vec::new(),
        failed: 0,
        processing_ms: 0,
        error_message: None,
    };
    lock(&state.bulk.ingest).insert(id, Arc::new(Mutex::new(job)));
    Ok(Reply::json(StatusCode::OK, &info))
}

fn upload(state: &Arc<State>, call: &Call<'_>, id: &str) -> Result<Reply, ApiFailure> {
    let job = find::<IngestJob>(state, id)?;
    let mut job = lock(&job);
    if job.info.state != JobState::Open {
        return Err(invalid_state(format!(
            "Unable to upload data as job is in state {}",
            job.info.state.as_str()
        )));
    }
    if job.upload.is_some() {
        return Err(ApiFailure::new(
            StatusCode::BAD_REQUEST,
            "BULK_API_ERROR",
            format!(
                "Found multiple contents for job: <{}>, please 'Close' / 'Abort' / 'Delete' the current Job then create a new Job and make sure you only do 'PUT' once on a given Job.",
                job.info.id
            ),
        ));
    }
    if call.body.len() > MAX_UPLOAD_BYTES {
        return Err(ApiFailure::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "REQUEST_ENTITY_TOO_LARGE",
            "The CSV data exceeds the limit of 150 MB per job",
        ));
    }
    job.upload = Some(call.body.to_vec());
    Ok(Reply::empty(StatusCode::CREATED))
}

fn patch(state: &Arc<State>, call: &Call<'_>, id: &str) -> Result<Reply, ApiFailure> {
    let target = requested_state(call)?;
    let handle = find::<IngestJob>(state, id)?;
    let now = state.clock.now();
    let mut job = lock(&handle);
    let current = job.info.state;
    match parse_state(&target) {
        Some(JobState::UploadComplete) => {
            if current != JobState::Open {
                return Err(invalid_state(format!(
                    "Closing a job in state {} is not allowed",
                    current.as_str()
                )));
            }
            job.info.set_state(JobState::UploadComplete, now);
            let reply = Reply::json(StatusCode::OK, &job.info);
            drop(job);
            let state = state.clone();
            let handle = handle.clone();
            tokio::task::spawn_blocking(move || process(&state, &handle));
            Ok(reply)
        }
        Some(JobState::Aborted) => {
            if current.is_final() {
                return Err(invalid_state(format!(
                    "Aborting already {} Job not allowed",
                    if current == JobState::JobComplete {
                        "Completed"
                    } else {
                        current.as_str()
                    }
                )));
            }
            job.info.set_state(JobState::Aborted, now);
            Ok(Reply::json(StatusCode::OK, &job.info))
        }
        _ => Err(invalid_job(format!("Invalid state: {target}"))),
    }
}

/// Parses the upload and applies its rows; runs on a blocking task.
fn process(state: &State, handle: &Mutex<IngestJob>) {
    let started = Instant::now();
    let (upload, options, operation, object, external_id, user) = {
        let mut job = lock(handle);
        if job.info.state != JobState::UploadComplete {
            return;
        }
        job.info.set_state(JobState::InProgress, state.clock.now());
        (
            job.upload.take().unwrap_or_default(),
            job.options,
            job.operation,
            job.info.object.clone(),
            job.info.external_id_field_name.clone(),
            job.user,
        )
    };
    let prepared = prepare(
        state,
        &upload,
        options,
        operation,
        &object,
        external_id.as_deref(),
    );
    drop(upload);
    let (header, rows) = match prepared {
        Ok(parsed) => parsed,
        Err(message) => {
            let mut job = lock(handle);
            if job.info.state == JobState::InProgress {
                job.info.set_state(JobState::Failed, state.clock.now());
            }
            job.error_message = Some(message);
            job.processing_ms = millis(started.elapsed());
            return;
        }
    };
    let rows = Arc::new(rows);
    {
        let mut job = lock(handle);
        job.header = header.clone();
        job.rows = rows.clone();
    }
    let plan = RowPlan {
        object: &object,
        operation,
        header: &header,
        external_id: external_id.as_deref(),
    };
    for chunk in rows.chunks(ROWS_PER_LOCK) {
        if lock(handle).info.state == JobState::Aborted {
            break;
        }
        let outcomes: Vec<RowOutcome> = {
            let mut data = state.store.write();
            let mut txn = Txn::new(&mut data, user, state.clock.now());
            chunk
                .iter()
                .map(|row| {
                    let savepoint = txn.savepoint();
                    let outcome = plan.apply(&mut txn, row);
                    if matches!(outcome, RowOutcome::Failure { .. }) {
                        txn.rollback_to(savepoint);
                    }
                    outcome
                })
                .collect()
        };
        let mut job = lock(handle);
        let failed = outcomes
            .iter()
            .filter(|o| matches!(o, RowOutcome::Failure { .. }))
            .count();
        job.failed += u64::try_from(failed).unwrap_or(u64::MAX);
        job.outcomes.extend(outcomes);
        job.processing_ms = millis(started.elapsed());
    }
    let mut job = lock(handle);
    job.processing_ms = millis(started.elapsed());
    if job.info.state == JobState::InProgress {
        job.info.set_state(JobState::JobComplete, state.clock.now());
    }
}

/// Parses the CSV and checks its header against the object; errors are the job's
/// `errorMessage`.
fn prepare(
    state: &State,
    upload: &[u8],
    options: CsvOptions,
    operation: Operation,
    object: &str,
    external_id: Option<&str>,
) -> Result<(Vec<String>, Vec<Vec<String>>), String> {
    let text = std::str::from_utf8(upload)
        .map_err(|_| "InvalidBatch : The CSV data is not valid UTF-8".to_owned())?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut records = csv::parse(text, options.delimiter.1).map_err(|e| match e {
        csv::CsvError::UnterminatedQuote => {
            "ClientInputError : LineEnding is invalid on user data. Current LineEnding setting is LF"
                .to_owned()
        }
        csv::CsvError::StrayQuote => "InvalidBatch : Failed to parse CSV: stray quote".to_owned(),
    })?;
    if records.is_empty() {
        return Err("InvalidBatch : Empty CSV file".to_owned());
    }
    let raw_header = records.remove(0);
    let data = state.store.read();
    let (_, def) = data
        .schema()
        .object(object)
        .ok_or_else(|| format!("InvalidBatch : Unable to find object: {object}"))?;
    let mut header = Vec::with_capacity(raw_header.len());
    for column in &raw_header {
        let name = column.trim();
        let (_, field) = def
            .field(name)
            .ok_or_else(|| format!("InvalidBatch : Field name not found : {name}"))?;
        if header.iter().any(|h: &String| h == &field.name) {
            return Err(format!("InvalidBatch : Duplicate field name : {name}"));
        }
        header.push(field.name.clone());
    }
    let needs = match operation {
        Operation::Insert => None,
        Operation::Update | Operation::Delete | Operation::HardDelete => Some("Id"),
        Operation::Upsert => external_id,
    };
    if let Some(needed) = needs
        && !header.iter().any(|h| h == needed)
    {
        return Err(format!("InvalidBatch : Field name not found : {needed}"));
    }
    if matches!(operation, Operation::Delete | Operation::HardDelete) && header.len() != 1 {
        return Err("InvalidBatch : Delete and hardDelete take only the Id column".to_owned());
    }
    if let Some(bad) = records.iter().position(|r| r.len() != header.len()) {
        return Err(format!(
            "InvalidBatch : Row {} has {} columns, the header has {}",
            bad + 1,
            records.get(bad).map_or(0, Vec::len),
            header.len()
        ));
    }
    Ok((header, records))
}

/// How to apply one row.
struct RowPlan<'a> {
    object: &'a str,
    operation: Operation,
    header: &'a [String],
    external_id: Option<&'a str>,
}

impl RowPlan<'_> {
    fn apply(&self, txn: &mut Txn<'_>, row: &[String]) -> RowOutcome {
        let cell = |name: &str| {
            self.header
                .iter()
                .position(|h| h == name)
                .and_then(|i| row.get(i))
                .map(String::as_str)
        };
        let row_id = cell("Id").and_then(|v| RecordId::parse_lenient(v.trim()).ok());
        let result = match self.operation {
            Operation::Insert => txn
                .insert(self.object, &self.body(row, &[]))
                .map(|id| (id, true)),
            Operation::Update => {
                let id = cell("Id").unwrap_or_default();
                txn.update(self.object, id.trim(), &self.body(row, &["Id"]))
                    .map(|id| (id, false))
            }
            Operation::Upsert => {
                let field = self.external_id.unwrap_or("Id");
                let key = cell(field).unwrap_or_default().trim();
                if key.is_empty() {
                    Err(ApiFailure::bad_request(
                        "MISSING_ARGUMENT",
                        format!("{field} not specified"),
                        Vec::new(),
                    ))
                } else {
                    txn.upsert(self.object, field, key, &self.body(row, &[field]))
                }
            }
            Operation::Delete | Operation::HardDelete => {
                let id = cell("Id").unwrap_or_default();
                txn.delete(self.object, id.trim()).map(|id| (id, false))
            }
        };
        match result {
            Ok((id, created)) => RowOutcome::Success { id, created },
            Err(failure) => RowOutcome::Failure {
                id: row_id,
                error: error_text(failure.errors.first()),
            },
        }
    }

    /// The row as a JSON body: empty cells left out, `#N/A` as null.
    fn body(&self, row: &[String], skip: &[&str]) -> Map<String, Json> {
        self.header
            .iter()
            .zip(row)
            .filter(|(name, _)| !skip.contains(&name.as_str()))
            .filter(|(_, value)| !value.is_empty())
            .map(|(name, value)| {
                let value = if value == "#N/A" {
                    Json::Null
                } else {
                    Json::String(value.clone())
                };
                (name.clone(), value)
            })
            .collect()
    }
}

/// `CODE:message:--`, as Salesforce writes `sf__Error`.
fn error_text(error: Option<&ApiError>) -> String {
    error.map_or_else(
        || "UNKNOWN_EXCEPTION:unknown error:--".to_owned(),
        |e| format!("{}:{}:--", e.error_code, e.message),
    )
}

fn results(state: &Arc<State>, id: &str, kind: &str) -> Result<Reply, ApiFailure> {
    let job = find::<IngestJob>(state, id)?;
    let job = lock(&job);
    let delimiter = job.options.delimiter.1;
    let eol = job.options.line_ending();
    let mut out = String::new();
    let columns = job.header.iter().map(|h| Some(h.as_str()));
    match kind {
        "successfulResults" => {
            csv::write_record(
                &mut out,
                [Some("sf__Id"), Some("sf__Created")]
                    .into_iter()
                    .chain(columns),
                delimiter,
                eol,
            );
            for (outcome, row) in job.outcomes.iter().zip(job.rows.iter()) {
                if let RowOutcome::Success { id, created } = outcome {
                    let created = if *created { "true" } else { "false" };
                    let cells = [Some(id.as_str()), Some(created)]
                        .into_iter()
                        .chain(row.iter().map(|c| Some(c.as_str())));
                    csv::write_record(&mut out, cells, delimiter, eol);
                }
            }
        }
        "failedResults" => {
            csv::write_record(
                &mut out,
                [Some("sf__Id"), Some("sf__Error")]
                    .into_iter()
                    .chain(columns),
                delimiter,
                eol,
            );
            for (outcome, row) in job.outcomes.iter().zip(job.rows.iter()) {
                if let RowOutcome::Failure { id, error } = outcome {
                    let id = id.as_ref().map_or("", RecordId::as_str);
                    let cells = [Some(id), Some(error.as_str())]
                        .into_iter()
                        .chain(row.iter().map(|c| Some(c.as_str())));
                    csv::write_record(&mut out, cells, delimiter, eol);
                }
            }
        }
        "unprocessedrecords" => unprocessed(&job, &mut out),
        _ => return Err(ApiFailure::not_found()),
    }
    Ok(csv_reply(StatusCode::OK, out))
}

/// The rows processing never reached: all of an unprocessed upload, or the tail of an aborted
/// job.
fn unprocessed(job: &IngestJob, out: &mut String) {
    let delimiter = job.options.delimiter.1;
    let eol = job.options.line_ending();
    if let Some(upload) = &job.upload {
        // Never parsed: hand back the upload as it came, header included.
        out.push_str(&String::from_utf8_lossy(upload));
        return;
    }
    if job.header.is_empty() {
        return;
    }
    csv::write_record(
        out,
        job.header.iter().map(|h| Some(h.as_str())),
        delimiter,
        eol,
    );
    for row in job.rows.iter().skip(job.outcomes.len()) {
        csv::write_record(out, row.iter().map(|c| Some(c.as_str())), delimiter, eol);
    }
}
