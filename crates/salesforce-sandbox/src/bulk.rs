//! Bulk API 2.0 under `/services/data/vNN.N/jobs/`: ingest jobs (CSV upload, asynchronous
//! processing through the store's validation, result CSVs) and query jobs (asynchronous SOQL,
//! CSV pages with `Sforce-Locator`). Jobs live in memory per sandbox in [`BulkJobs`].

pub mod csv;
pub mod ingest;
pub mod query;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use http::{Method, StatusCode};
use salesforce_core::id::RecordId;
use serde::Serialize;

use crate::error::ApiFailure;
use crate::http::Reply;
use crate::rest::Call;
use crate::server::State;

/// The largest CSV upload one ingest job accepts (Salesforce's 150 MB).
pub const MAX_UPLOAD_BYTES: usize = 150 * 1024 * 1024;
/// Rows written per store write lock, so other requests interleave with a large job.
pub const ROWS_PER_LOCK: usize = 1_000;

/// The most jobs of each kind an org keeps; creating more is refused until some are deleted.
pub const MAX_JOBS: usize = 10_000;

/// `errorCode` of a job in the wrong state for a request.
pub const INVALID_JOB_STATE: &str = "INVALIDJOBSTATE";
/// `errorCode` of a malformed job request.
pub const INVALID_JOB: &str = "INVALIDJOB";

/// A job's state, as written in job info.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum JobState {
    /// Accepting data (ingest only).
    Open,
    /// Data complete, waiting to be processed.
    UploadComplete,
    /// Being processed.
    InProgress,
    /// Done.
    JobComplete,
    /// Stopped by an error.
    Failed,
    /// Stopped by the client.
    Aborted,
}

impl JobState {
    /// Whether the job can no longer change.
    pub fn is_final(self) -> bool {
        matches!(self, Self::JobComplete | Self::Failed | Self::Aborted)
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Open => "Open",
            Self::UploadComplete => "UploadComplete",
            Self::InProgress => "InProgress",
            Self::JobComplete => "JobComplete",
            Self::Failed => "Failed",
            Self::Aborted => "Aborted",
        }
    }
}

/// The CSV options a job was created with.
#[derive(Debug, Clone, Copy)]
pub struct CsvOptions {
    /// `columnDelimiter` name and character.
    pub delimiter: (&'static str, char),
    /// `true` for `CRLF`.
    pub crlf: bool,
}

impl CsvOptions {
    /// Reads `columnDelimiter`, `lineEnding` and `contentType` from a create-job body.
    fn from_body(body: &serde_json::Map<String, serde_json::Value>) -> Result<Self, ApiFailure> {
        let text = |key: &str| body.get(key).and_then(serde_json::Value::as_str);
        if let Some(ct) = text("contentType")
            && ct != "CSV"
        {
            return Err(invalid_job(format!("Invalid content type: {ct}")));
        }
        let delimiter = match text("columnDelimiter") {
            None => csv::DELIMITERS[0],
            Some(name) => csv::DELIMITERS
                .iter()
                .copied()
                .find(|(n, _)| *n == name)
                .ok_or_else(|| invalid_job(format!("Invalid column delimiter: {name}")))?,
        };
        let crlf = match text("lineEnding") {
            None | Some("LF") => false,
            Some("CRLF") => true,
            Some(other) => return Err(invalid_job(format!("Invalid line ending: {other}"))),
        };
        Ok(Self { delimiter, crlf })
    }

    fn line_ending(self) -> &'static str {
        if self.crlf { "\r\n" } else { "\n" }
    }
}

/// The bulk jobs of one org.
#[derive(Debug, Default)]
pub struct BulkJobs {
    next: AtomicU64,
    ingest: JobTable<ingest::IngestJob>,
    query: JobTable<query::QueryJob>,
}

/// The jobs of one kind, by id.
type JobTable<J> = Mutex<HashMap<RecordId, Arc<Mutex<J>>>>;

/// A route's answer, or `None` where the job kind serves no such route.
type Routed = Option<Result<Reply, ApiFailure>>;

/// A kind of bulk job (ingest or query): where its jobs are kept, its info, and the routes of its
/// own beside the list, info and delete routes every kind shares.
trait Job: Sized {
    /// The table of this kind's jobs.
    fn table(jobs: &BulkJobs) -> &JobTable<Self>;
    /// The info fields every kind shares.
    fn common(&self) -> &CommonInfo;
    /// The counters `GET /jobs/…/{id}` adds to the common info.
    fn progress(&self) -> Progress;
    /// The kind's own routes under `/jobs/<kind>/`; `None` for a path and method it has none for.
    fn own_route(state: &Arc<State>, call: &Call<'_>, rest: &[&str]) -> Routed;
}

/// Routes `/jobs/<kind>/{rest…}`: the shared routes, then the kind's own.
fn route<J: Job>(state: &Arc<State>, call: &Call<'_>, rest: &[&str]) -> Result<Reply, ApiFailure> {
    match (call.method.clone(), rest) {
        (Method::GET, [] | [""]) => {
            let all: Vec<Arc<Mutex<J>>> = lock(J::table(&state.bulk)).values().cloned().collect();
            let mut infos: Vec<serde_json::Value> = all
                .iter()
                .map(|job| serde_json::to_value(lock(job).common()).unwrap_or_default())
                .collect();
            infos.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
            Ok(Reply::json(StatusCode::OK, &list_body(infos)))
        }
        (Method::GET, [id]) => {
            let job = find::<J>(state, id)?;
            let job = lock(&job);
            let info = FullInfo {
                common: job.common(),
                progress: job.progress(),
            };
            Ok(Reply::json(StatusCode::OK, &info))
        }
        (Method::DELETE, [id]) => {
            let job = find::<J>(state, id)?;
            let current = lock(&job).common().state;
            if !current.is_final() {
                return Err(invalid_state(format!(
                    "Deleting a job in state {} is not allowed",
                    current.as_str()
                )));
            }
            if let Ok(key) = job_id(id) {
                lock(J::table(&state.bulk)).remove(&key);
            }
            Ok(Reply::empty(StatusCode::NO_CONTENT))
        }
        _ => J::own_route(state, call, rest).unwrap_or_else(|| {
            Err(if rest.len() <= 2 {
                method_not_allowed(call.method)
            } else {
                ApiFailure::not_found()
            })
        }),
    }
}

/// The job of kind `J` with id `id`.
fn find<J: Job>(state: &State, id: &str) -> Result<Arc<Mutex<J>>, ApiFailure> {
    let id = job_id(id)?;
    lock(J::table(&state.bulk))
        .get(&id)
        .cloned()
        .ok_or_else(ApiFailure::not_found)
}

impl BulkJobs {
    fn new_id(&self) -> RecordId {
        RecordId::mint("750", self.next.fetch_add(1, Ordering::Relaxed) + 1)
    }

    /// Refuses a new job when `count` jobs of its kind already exist.
    fn check_room(count: usize) -> Result<(), ApiFailure> {
        if count >= MAX_JOBS {
            return Err(ApiFailure::new(
                StatusCode::BAD_REQUEST,
                "LIMIT_EXCEEDED",
                format!("Too many jobs: at most {MAX_JOBS}; delete finished jobs first"),
            ));
        }
        Ok(())
    }

    /// Forgets every job (org reset). Running jobs finish against the new data unseen.
    pub fn clear(&self) {
        lock(&self.ingest).clear();
        lock(&self.query).clear();
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Whether a call is for `/jobs/…`.
pub fn handles(call: &Call<'_>) -> bool {
    matches!(call.segments.first().map(String::as_str), Some("jobs"))
}

/// Serves a `/jobs/…` call. Needs the shared state to start background processing.
pub fn handle(state: &Arc<State>, call: &Call<'_>) -> Reply {
    let segments: Vec<&str> = call.segments.iter().map(String::as_str).collect();
    let result = match segments.as_slice() {
        ["jobs", "ingest", rest @ ..] => route::<ingest::IngestJob>(state, call, rest),
        ["jobs", "query", rest @ ..] => route::<query::QueryJob>(state, call, rest),
        _ => Err(ApiFailure::not_found()),
    };
    result.unwrap_or_else(Reply::from)
}

fn invalid_job(message: impl Into<String>) -> ApiFailure {
    ApiFailure::new(StatusCode::BAD_REQUEST, INVALID_JOB, message)
}

fn invalid_state(message: impl Into<String>) -> ApiFailure {
    ApiFailure::new(StatusCode::CONFLICT, INVALID_JOB_STATE, message)
}

fn job_id(segment: &str) -> Result<RecordId, ApiFailure> {
    RecordId::parse_lenient(segment)
        .ok()
        .filter(|id| id.key_prefix() == "750")
        .ok_or_else(ApiFailure::not_found)
}

fn method_not_allowed(method: &Method) -> ApiFailure {
    ApiFailure::new(
        StatusCode::METHOD_NOT_ALLOWED,
        salesforce_core::wire::error_code::METHOD_NOT_ALLOWED,
        format!("HTTP Method '{method}' not allowed."),
    )
}

/// The target state of a `PATCH /jobs/…/{id}` body.
fn requested_state(call: &Call<'_>) -> Result<String, ApiFailure> {
    let body = call.json_object()?;
    body.get("state")
        .and_then(serde_json::Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| invalid_job("Missing state"))
}

/// A `text/csv` reply.
fn csv_reply(status: StatusCode, body: String) -> Reply {
    Reply {
        status,
        headers: Vec::new(),
        body: Bytes::from(body),
        content_type: Some("text/csv"),
    }
}

/// Fields every job info shares, in Salesforce's order.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct CommonInfo {
    id: String,
    operation: String,
    object: String,
    created_by_id: String,
    created_date: String,
    system_modstamp: String,
    state: JobState,
    #[serde(skip_serializing_if = "Option::is_none")]
    external_id_field_name: Option<String>,
    concurrency_mode: &'static str,
    content_type: &'static str,
    api_version: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    content_url: Option<String>,
    line_ending: &'static str,
    column_delimiter: &'static str,
}

/// Counters `GET /jobs/…/{id}` adds.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct Progress {
    job_type: &'static str,
    number_records_processed: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    number_records_failed: Option<u64>,
    retries: u64,
    total_processing_time: u64,
    api_active_processing_time: u64,
    apex_processing_time: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_message: Option<String>,
}

impl Progress {
    /// The counters of a job that took `processing_ms` in all (the sandbox runs no Apex and
    /// never retries).
    fn new(
        job_type: &'static str,
        processed: u64,
        failed: Option<u64>,
        processing_ms: u64,
        error_message: Option<String>,
    ) -> Self {
        Self {
            job_type,
            number_records_processed: processed,
            number_records_failed: failed,
            retries: 0,
            total_processing_time: processing_ms,
            api_active_processing_time: processing_ms,
            apex_processing_time: 0,
            error_message,
        }
    }
}

impl CommonInfo {
    fn new(
        id: RecordId,
        operation: &str,
        object: &str,
        user: RecordId,
        now: DateTime<Utc>,
        version: &str,
        options: CsvOptions,
    ) -> Self {
        let stamp = crate::value::format_datetime(now);
        Self {
            id: id.as_str().to_owned(),
            operation: operation.to_owned(),
            object: object.to_owned(),
            created_by_id: user.as_str().to_owned(),
            created_date: stamp.clone(),
            system_modstamp: stamp,
            state: JobState::Open,
            external_id_field_name: None,
            concurrency_mode: "Parallel",
            content_type: "CSV",
            api_version: version.parse().unwrap_or(0.0),
            content_url: None,
            line_ending: if options.crlf { "CRLF" } else { "LF" },
            column_delimiter: options.delimiter.0,
        }
    }

    fn set_state(&mut self, state: JobState, now: DateTime<Utc>) {
        self.state = state;
        self.system_modstamp = crate::value::format_datetime(now);
    }
}

/// Job info with its counters, flattened into one object.
#[derive(Serialize)]
struct FullInfo<'a> {
    #[serde(flatten)]
    common: &'a CommonInfo,
    #[serde(flatten)]
    progress: Progress,
}

/// The `GET /jobs/…` list body.
fn list_body<T: Serialize>(records: Vec<T>) -> serde_json::Value {
    serde_json::json!({
        "done": true,
        "records": records,
        "nextRecordsUrl": null,
    })
}

/// Milliseconds as a counter.
fn millis(elapsed: std::time::Duration) -> u64 {
    u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)
}

/// A state name from a request body, if it is one.
fn parse_state(name: &str) -> Option<JobState> {
    [
        JobState::Open,
        JobState::UploadComplete,
        JobState::InProgress,
        JobState::JobComplete,
        JobState::Failed,
        JobState::Aborted,
    ]
    .into_iter()
    .find(|s| s.as_str() == name)
}
