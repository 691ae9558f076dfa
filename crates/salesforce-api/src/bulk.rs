//! Bulk API 2.0: ingest jobs (insert, update, upsert, delete, hardDelete) fed from a stream of rows
//! and split into several jobs above the upload limit, and query jobs whose results are streamed
//! page by page with `Sforce-Locator`, so memory stays at one page whatever the result size.
//!
//! An ingest holds at most one job's upload (`IngestRequest::max_job_bytes`) and one page of
//! results: the result CSVs (one response each, Salesforce does not page them) are read as a byte
//! stream and cut into pages of whole rows ([`RESULT_PAGE_BYTES`]). [`Client::bulk_ingest`] counts
//! every result row and keeps only the first few of each kind ([`KeepRows`]); the rest can be
//! streamed from each job with [`Client::successful_results`] and its siblings.
//!
//! Job states follow Salesforce: `Open → UploadComplete → InProgress → JobComplete | Failed | Aborted`.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::{Stream, StreamExt, TryStreamExt, stream};
use http::header::ACCEPT;
use http::{HeaderValue, Method};
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use crate::client::{Client, Idempotency, MAX_JSON_BODY, Request, read_bounded};
use crate::error::Error;
use crate::names::{check_field, check_object};

/// Salesforce's upload limit for one ingest job's data (100 MB, counted after base64 encoding by
/// Salesforce, so we stay well below it).
pub const MAX_UPLOAD_BYTES: usize = 100_000_000 / 4 * 3 - 1_000_000;

/// Ingest result CSVs are read in pages of whole rows of about this many bytes.
pub const RESULT_PAGE_BYTES: usize = 1 << 20;

/// A result row longer than this is refused rather than buffered (Salesforce's longest field is
/// 131,072 characters; a row echoes the submitted ones).
const MAX_RESULT_ROW_BYTES: usize = 32 << 20;

/// An ingest operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum IngestOperation {
    /// Create records.
    Insert,
    /// Update records by `Id`.
    Update,
    /// Create or update by an external id field.
    Upsert,
    /// Move records to the recycle bin by `Id`.
    Delete,
    /// Delete permanently by `Id`.
    HardDelete,
}

/// A job's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum JobState {
    /// Accepting data.
    Open,
    /// Data complete; queued for processing.
    UploadComplete,
    /// Being processed.
    InProgress,
    /// Finished; results are available.
    JobComplete,
    /// Failed as a whole (see `error_message`).
    Failed,
    /// Aborted by a client.
    Aborted,
}

impl JobState {
    /// Whether the job will change no more.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            JobState::JobComplete | JobState::Failed | JobState::Aborted
        )
    }
}

/// A job as Salesforce describes it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobInfo {
    /// The job id (`750…`).
    pub id: String,
    /// The state.
    pub state: JobState,
    /// The object (ingest jobs).
    #[serde(default)]
    pub object: Option<String>,
    /// Records processed so far.
    #[serde(default)]
    pub number_records_processed: u64,
    /// Records that failed so far (ingest jobs).
    #[serde(default)]
    pub number_records_failed: u64,
    /// Why the job failed, when it did.
    #[serde(default)]
    pub error_message: Option<String>,
}

/// Progress of a running job, for callers that report it (MCP progress notifications).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BulkProgress {
    /// Records processed so far, over every job of the operation.
    pub processed: u64,
    /// Records that failed so far.
    pub failed: u64,
    /// Records submitted, when known.
    pub total: Option<u64>,
}

/// How often to poll a job: exponential from `first` to `max`, for at most `timeout`.
#[derive(Debug, Clone, Copy)]
pub struct PollPolicy {
    /// First wait.
    pub first: Duration,
    /// Longest wait between polls.
    pub max: Duration,
    /// Give up after this long (the job keeps running at Salesforce).
    pub timeout: Duration,
}

impl Default for PollPolicy {
    fn default() -> Self {
        Self {
            first: Duration::from_millis(250),
            max: Duration::from_secs(5),
            timeout: Duration::from_secs(30 * 60),
        }
    }
}

/// One successfully processed row (`sf__Id`, `sf__Created`, then the submitted columns).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuccessRow {
    /// The record id.
    pub id: String,
    /// Whether it was created (rather than updated).
    pub created: bool,
    /// The submitted columns, in header order.
    pub fields: Vec<(String, String)>,
}

/// One failed row (`sf__Id`, `sf__Error`, then the submitted columns).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedRow {
    /// The record id, when there was one.
    pub id: Option<String>,
    /// Salesforce's error, e.g. `REQUIRED_FIELD_MISSING:Required fields are missing: [LastName]:--`.
    pub error: String,
    /// The submitted columns, in header order.
    pub fields: Vec<(String, String)>,
}

/// How many result rows of each kind [`Client::bulk_ingest`] keeps in its [`IngestOutcome`]. Every
/// row is counted either way; the ones not kept can be streamed from each job afterwards
/// ([`Client::successful_results`], [`Client::failed_results`], [`Client::unprocessed_records`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeepRows {
    /// Successful rows to keep.
    pub successful: usize,
    /// Failed rows to keep.
    pub failed: usize,
    /// Unprocessed rows to keep.
    pub unprocessed: usize,
}

impl KeepRows {
    /// Keep none: counts only.
    pub const NONE: Self = Self::first(0);
    /// Keep every row: for small imports only, memory grows with the row count.
    pub const ALL: Self = Self::first(usize::MAX);

    /// Keep the first `n` rows of each kind.
    pub const fn first(n: usize) -> Self {
        Self {
            successful: n,
            failed: n,
            unprocessed: n,
        }
    }
}

impl Default for KeepRows {
    /// The first 1,000 of each kind: everything for a small import, bounded for a large one.
    fn default() -> Self {
        Self::first(1_000)
    }
}

/// The outcome of [`Client::bulk_ingest`] over every job it needed: counts of every row, and the
/// first rows of each kind up to the request's [`KeepRows`].
#[derive(Debug, Clone, Default)]
pub struct IngestOutcome {
    /// The jobs, in order.
    pub jobs: Vec<JobInfo>,
    /// Rows that succeeded.
    pub successful: u64,
    /// Of those, rows that created a record.
    pub created: u64,
    /// Rows that failed.
    pub failed: u64,
    /// Rows not processed (job aborted or failed).
    pub unprocessed: u64,
    /// The first successful rows.
    pub successful_rows: Vec<SuccessRow>,
    /// The first failed rows, with reasons.
    pub failed_rows: Vec<FailedRow>,
    /// The first unprocessed rows, as submitted.
    pub unprocessed_rows: Vec<Vec<(String, String)>>,
}

/// What to ingest.
#[derive(Debug, Clone)]
pub struct IngestRequest {
    /// The object.
    pub object: String,
    /// The operation.
    pub operation: IngestOperation,
    /// The external id field, for upserts.
    pub external_id_field: Option<String>,
    /// The CSV header (field names), in column order.
    pub columns: Vec<String>,
    /// Split into another job past this many bytes of CSV (default [`MAX_UPLOAD_BYTES`]). One
    /// job's data is held in memory while it is uploaded.
    pub max_job_bytes: usize,
    /// How many result rows the outcome keeps (default [`KeepRows::default`]).
    pub keep: KeepRows,
}

impl IngestRequest {
    /// An ingest of `columns` into `object`.
    pub fn new(
        object: impl Into<String>,
        operation: IngestOperation,
        columns: Vec<String>,
    ) -> Self {
        Self {
            object: object.into(),
            operation,
            external_id_field: None,
            columns,
            max_job_bytes: MAX_UPLOAD_BYTES,
            keep: KeepRows::default(),
        }
    }
}

fn csv_line(fields: &[String]) -> Result<Vec<u8>, Error> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    writer
        .write_record(fields)
        .map_err(|e| Error::InvalidRequest(format!("row cannot be written as CSV: {e}")))?;
    writer
        .into_inner()
        .map_err(|e| Error::InvalidRequest(format!("row cannot be written as CSV: {e}")))
}

fn unexpected_csv(context: &'static str) -> impl Fn(csv::Error) -> Error {
    move |e| Error::UnexpectedResponse {
        context,
        detail: e.to_string(),
    }
}

/// Parses a CSV body into (header, rows), bounded by what was already read.
fn parse_csv(body: &[u8]) -> Result<(Vec<String>, Vec<Vec<String>>), Error> {
    let mut header = None;
    let rows = parse_page(body, &mut header, "bulk query results")?
        .into_iter()
        .map(|(_, row)| row)
        .collect();
    Ok((header.map(Arc::unwrap_or_clone).unwrap_or_default(), rows))
}

/// A CSV row with its header.
type NamedRow = (Arc<Vec<String>>, Vec<String>);

/// Parses whole CSV rows; the first row of the first page is the header, kept in `header`.
/// Blank input before the header is no rows.
fn parse_page(
    page: &[u8],
    header: &mut Option<Arc<Vec<String>>>,
    context: &'static str,
) -> Result<Vec<NamedRow>, Error> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(page);
    let mut rows = Vec::new();
    for record in reader.records() {
        let row: Vec<String> = record
            .map_err(unexpected_csv(context))?
            .iter()
            .map(str::to_owned)
            .collect();
        match header {
            None if row.iter().all(|cell| cell.trim().is_empty()) => {}
            None => *header = Some(Arc::new(row)),
            Some(names) if names.len() != row.len() => {
                return Err(Error::UnexpectedResponse {
                    context,
                    detail: format!("a row has {} values for {} columns", row.len(), names.len()),
                });
            }
            Some(names) => rows.push((names.clone(), row)),
        }
    }
    Ok(rows)
}

/// Cuts a CSV byte stream into pages that end on a row boundary (a newline outside quotes), so
/// that each page parses on its own. Quotes only toggle: an escaped `""` toggles twice.
#[derive(Debug, Default)]
struct RowSplitter {
    buffer: Vec<u8>,
    /// Bytes of `buffer` already scanned.
    scanned: usize,
    /// Whether the scan ended inside a quoted value.
    quoted: bool,
    /// The end of the last whole row in `buffer`.
    boundary: usize,
}

impl RowSplitter {
    fn push(&mut self, chunk: &[u8]) {
        self.buffer.extend_from_slice(chunk);
        for (at, byte) in self.buffer.iter().enumerate().skip(self.scanned) {
            match byte {
                b'"' => self.quoted = !self.quoted,
                b'\n' if !self.quoted => self.boundary = at + 1,
                _ => {}
            }
        }
        self.scanned = self.buffer.len();
    }

    /// Bytes of whole rows buffered.
    fn whole(&self) -> usize {
        self.boundary
    }

    /// Bytes of the unfinished row at the end.
    fn partial(&self) -> usize {
        self.buffer.len() - self.boundary
    }

    /// Takes the whole rows buffered (at the end of the stream, everything).
    fn take(&mut self, end: bool) -> Vec<u8> {
        let cut = if end {
            self.buffer.len()
        } else {
            self.boundary
        };
        let rest = self.buffer.split_off(cut);
        let page = std::mem::replace(&mut self.buffer, rest);
        self.scanned -= cut;
        self.boundary = self.boundary.saturating_sub(cut);
        page
    }
}

/// Where a result stream is.
enum ResultRead {
    Start(Result<String, Error>),
    Reading {
        response: reqwest::Response,
        splitter: RowSplitter,
        header: Option<Arc<Vec<String>>>,
    },
    Done,
}

/// Pairs the columns after the first `skip` with their header names.
fn named_fields(header: &[String], row: &[String], skip: usize) -> Vec<(String, String)> {
    header
        .iter()
        .skip(skip)
        .cloned()
        .zip(row.iter().skip(skip).cloned())
        .collect()
}

impl Client {
    /// Creates an ingest job.
    ///
    /// # Errors
    /// Invalid names (before any call), API failures.
    pub async fn create_ingest_job(&self, request: &IngestRequest) -> Result<JobInfo, Error> {
        check_object(&request.object)?;
        if let Some(field) = &request.external_id_field {
            check_field(field)?;
        }
        if request.operation == IngestOperation::Upsert && request.external_id_field.is_none() {
            return Err(Error::InvalidRequest(
                "an upsert job needs an external id field".into(),
            ));
        }
        let mut body = serde_json::json!({
            "object": request.object,
            "operation": request.operation,
            "contentType": "CSV",
            "lineEnding": "LF",
            "columnDelimiter": "COMMA",
        });
        if let Some(field) = &request.external_id_field {
            body["externalIdFieldName"] = field.clone().into();
        }
        let request = Request::new(Method::POST, self.data_path("jobs/ingest")).json_body(&body)?;
        self.json(&request, "create ingest job").await
    }

    /// Uploads a job's CSV data (one upload per job).
    ///
    /// # Errors
    /// API failures (a job that is not `Open`).
    pub async fn upload_job_data(&self, job_id: &str, csv: Bytes) -> Result<(), Error> {
        let path = self.data_path(&format!("jobs/ingest/{}/batches", check_job_id(job_id)?));
        // Re-uploading the same data to the same open job is harmless.
        let request = Request::new(Method::PUT, path)
            .raw_body(csv, "text/csv")
            .idempotency(Idempotency::Idempotent);
        self.send(&request).await.map(drop)
    }

    async fn set_ingest_state(&self, job_id: &str, state: JobState) -> Result<JobInfo, Error> {
        let path = self.data_path(&format!("jobs/ingest/{}", check_job_id(job_id)?));
        let request =
            Request::new(Method::PATCH, path).json_body(&serde_json::json!({ "state": state }))?;
        self.json(&request, "change job state").await
    }

    /// Marks the upload complete: Salesforce starts processing.
    ///
    /// # Errors
    /// API failures.
    pub async fn close_ingest_job(&self, job_id: &str) -> Result<JobInfo, Error> {
        self.set_ingest_state(job_id, JobState::UploadComplete)
            .await
    }

    /// Aborts an ingest job.
    ///
    /// # Errors
    /// API failures (a job already final).
    pub async fn abort_ingest_job(&self, job_id: &str) -> Result<JobInfo, Error> {
        self.set_ingest_state(job_id, JobState::Aborted).await
    }

    /// Deletes a finished job and its results.
    ///
    /// # Errors
    /// API failures.
    pub async fn delete_ingest_job(&self, job_id: &str) -> Result<(), Error> {
        let path = self.data_path(&format!("jobs/ingest/{}", check_job_id(job_id)?));
        self.send(&Request::new(Method::DELETE, path))
            .await
            .map(drop)
    }

    /// An ingest job's current state and counts.
    ///
    /// # Errors
    /// API failures.
    pub async fn ingest_job(&self, job_id: &str) -> Result<JobInfo, Error> {
        let path = self.data_path(&format!("jobs/ingest/{}", check_job_id(job_id)?));
        self.json(&Request::get(path), "ingest job").await
    }

    /// A query job's current state and counts.
    ///
    /// # Errors
    /// API failures.
    pub async fn query_job(&self, job_id: &str) -> Result<JobInfo, Error> {
        let path = self.data_path(&format!("jobs/query/{}", check_job_id(job_id)?));
        self.json(&Request::get(path), "query job").await
    }

    /// Polls a job until it is final, reporting progress after each poll.
    ///
    /// # Errors
    /// API failures; [`Error::UnexpectedResponse`] when the poll timeout passes.
    pub async fn wait_for_job(
        &self,
        job_id: &str,
        kind: JobKind,
        policy: PollPolicy,
        mut progress: impl FnMut(&JobInfo),
    ) -> Result<JobInfo, Error> {
        let started = Instant::now();
        let mut wait = policy.first;
        loop {
            let info = match kind {
                JobKind::Ingest => self.ingest_job(job_id).await?,
                JobKind::Query => self.query_job(job_id).await?,
            };
            progress(&info);
            if info.state.is_final() {
                return Ok(info);
            }
            if started.elapsed() + wait > policy.timeout {
                return Err(Error::UnexpectedResponse {
                    context: "bulk job",
                    detail: format!(
                        "job {job_id} still {:?} after {:?}",
                        info.state, policy.timeout
                    ),
                });
            }
            tokio::time::sleep(wait).await;
            wait = (wait.mul_f32(1.5)).min(policy.max);
        }
    }

    /// The rows of one result CSV of an ingest job, read page by page as they are consumed.
    fn ingest_result_rows(
        &self,
        job_id: &str,
        which: &'static str,
    ) -> impl Stream<Item = Result<NamedRow, Error>> + Send + 'static {
        const CONTEXT: &str = "bulk results";
        let client = self.clone();
        let path =
            check_job_id(job_id).map(|id| self.data_path(&format!("jobs/ingest/{id}/{which}")));
        stream::try_unfold(ResultRead::Start(path), move |state| {
            let client = client.clone();
            async move {
                let (mut response, mut splitter, mut header) = match state {
                    ResultRead::Done => return Ok::<_, Error>(None),
                    ResultRead::Start(path) => {
                        let request = Request::get(path?)
                            .header(ACCEPT, HeaderValue::from_static("text/csv"));
                        (client.send(&request).await?, RowSplitter::default(), None)
                    }
                    ResultRead::Reading {
                        response,
                        splitter,
                        header,
                    } => (response, splitter, header),
                };
                let end = loop {
                    if splitter.whole() >= RESULT_PAGE_BYTES {
                        break false;
                    }
                    match response.chunk().await.map_err(Error::transport)? {
                        Some(chunk) => splitter.push(&chunk),
                        None => break true,
                    }
                    if splitter.partial() > MAX_RESULT_ROW_BYTES {
                        return Err(Error::UnexpectedResponse {
                            context: CONTEXT,
                            detail: format!("a row longer than {MAX_RESULT_ROW_BYTES} bytes"),
                        });
                    }
                };
                let rows = parse_page(&splitter.take(end), &mut header, CONTEXT)?;
                let next = if end {
                    ResultRead::Done
                } else {
                    ResultRead::Reading {
                        response,
                        splitter,
                        header,
                    }
                };
                Ok(Some((
                    stream::iter(rows.into_iter().map(Ok::<_, Error>)),
                    next,
                )))
            }
        })
        .try_flatten()
    }

    /// The rows a finished ingest job processed successfully, streamed as they are consumed.
    ///
    /// # Errors
    /// Items fail on API failures and unreadable CSV.
    pub fn successful_results(
        &self,
        job_id: &str,
    ) -> impl Stream<Item = Result<SuccessRow, Error>> + Send + 'static {
        self.ingest_result_rows(job_id, "successfulResults/")
            .map_ok(|(header, row)| SuccessRow {
                id: row.first().cloned().unwrap_or_default(),
                created: row.get(1).is_some_and(|c| c.eq_ignore_ascii_case("true")),
                fields: named_fields(&header, &row, 2),
            })
    }

    /// The rows a finished ingest job could not process, with Salesforce's reasons, streamed as
    /// they are consumed.
    ///
    /// # Errors
    /// Items fail on API failures and unreadable CSV.
    pub fn failed_results(
        &self,
        job_id: &str,
    ) -> impl Stream<Item = Result<FailedRow, Error>> + Send + 'static {
        self.ingest_result_rows(job_id, "failedResults/")
            .map_ok(|(header, row)| FailedRow {
                id: row.first().filter(|id| !id.is_empty()).cloned(),
                error: row.get(1).cloned().unwrap_or_default(),
                fields: named_fields(&header, &row, 2),
            })
    }

    /// The rows an aborted or failed ingest job never processed, as submitted, streamed as they
    /// are consumed.
    ///
    /// # Errors
    /// Items fail on API failures and unreadable CSV.
    pub fn unprocessed_records(
        &self,
        job_id: &str,
    ) -> impl Stream<Item = Result<Vec<(String, String)>, Error>> + Send + 'static {
        self.ingest_result_rows(job_id, "unprocessedrecords/")
            .map_ok(|(header, row)| named_fields(&header, &row, 0))
    }

    /// The whole ingest: rows from `rows` are written as CSV, a job is created, filled, closed and
    /// awaited each time the data reaches `request.max_job_bytes`, and every job's results are
    /// streamed, counted, and kept up to `request.keep`. `progress` sees the running totals after
    /// each poll. Memory holds one job's upload and one page of results, whatever the row count;
    /// a small import keeps everything with [`KeepRows::ALL`] and `futures::stream::iter(rows)`.
    ///
    /// # Errors
    /// A row whose length differs from the header (before it is sent), API failures. Jobs
    /// already submitted keep running at Salesforce.
    pub async fn bulk_ingest<S>(
        &self,
        request: &IngestRequest,
        rows: S,
        poll: PollPolicy,
        mut progress: impl FnMut(BulkProgress),
    ) -> Result<IngestOutcome, Error>
    where
        S: Stream<Item = Vec<String>> + Send,
    {
        if request.columns.is_empty() {
            return Err(Error::InvalidRequest(
                "an ingest needs at least one column".into(),
            ));
        }
        for column in &request.columns {
            crate::names::check_path(column)?;
        }
        let header = csv_line(&request.columns)?;
        let mut outcome = IngestOutcome::default();
        let mut done = BulkProgress {
            processed: 0,
            failed: 0,
            total: None,
        };
        let mut submitted = 0u64;
        let mut buffer = header.clone();
        let mut rows_in_buffer = 0u64;
        let mut rows = std::pin::pin!(rows);
        loop {
            let next = rows.next().await;
            let line = match &next {
                Some(row) if row.len() != request.columns.len() => {
                    return Err(Error::InvalidRequest(format!(
                        "row {} has {} values for {} columns",
                        submitted + rows_in_buffer + 1,
                        row.len(),
                        request.columns.len()
                    )));
                }
                Some(row) => Some(csv_line(row)?),
                None => None,
            };
            let full = line
                .as_ref()
                .is_some_and(|l| buffer.len() + l.len() > request.max_job_bytes);
            if (full || line.is_none()) && rows_in_buffer > 0 {
                let data = std::mem::replace(&mut buffer, header.clone());
                submitted += rows_in_buffer;
                rows_in_buffer = 0;
                let job = self
                    .run_ingest_job(
                        request,
                        Bytes::from(data),
                        poll,
                        &mut done,
                        submitted,
                        &mut progress,
                    )
                    .await?;
                self.collect_results(&job, request.keep, &mut outcome)
                    .await?;
                outcome.jobs.push(job);
            }
            match line {
                Some(line) => {
                    if header.len() + line.len() > request.max_job_bytes {
                        return Err(Error::InvalidRequest(
                            "one row is larger than the upload limit".into(),
                        ));
                    }
                    buffer.extend_from_slice(&line);
                    rows_in_buffer += 1;
                }
                None => return Ok(outcome),
            }
        }
    }

    async fn run_ingest_job(
        &self,
        request: &IngestRequest,
        data: Bytes,
        poll: PollPolicy,
        done: &mut BulkProgress,
        submitted: u64,
        progress: &mut impl FnMut(BulkProgress),
    ) -> Result<JobInfo, Error> {
        let job = self.create_ingest_job(request).await?;
        if let Err(error) = self.upload_job_data(&job.id, data).await {
            // Leave nothing half-open at Salesforce.
            let _ = self.abort_ingest_job(&job.id).await;
            return Err(error);
        }
        self.close_ingest_job(&job.id).await?;
        let before = *done;
        let info = self
            .wait_for_job(&job.id, JobKind::Ingest, poll, |info| {
                progress(BulkProgress {
                    processed: before.processed + info.number_records_processed,
                    failed: before.failed + info.number_records_failed,
                    total: Some(submitted),
                });
            })
            .await?;
        done.processed += info.number_records_processed;
        done.failed += info.number_records_failed;
        Ok(info)
    }

    async fn collect_results(
        &self,
        job: &JobInfo,
        keep: KeepRows,
        outcome: &mut IngestOutcome,
    ) -> Result<(), Error> {
        if job.state == JobState::JobComplete {
            let mut created = 0;
            tally(
                self.successful_results(&job.id),
                &mut outcome.successful,
                &mut outcome.successful_rows,
                keep.successful,
                |row| created += u64::from(row.created),
            )
            .await?;
            outcome.created += created;
            tally(
                self.failed_results(&job.id),
                &mut outcome.failed,
                &mut outcome.failed_rows,
                keep.failed,
                |_| {},
            )
            .await
        } else {
            tally(
                self.unprocessed_records(&job.id),
                &mut outcome.unprocessed,
                &mut outcome.unprocessed_rows,
                keep.unprocessed,
                |_| {},
            )
            .await
        }
    }

    /// Creates a query job (`queryAll` when `include_deleted`). Bulk queries take no OFFSET,
    /// GROUP BY or aggregates; Salesforce refuses them.
    ///
    /// # Errors
    /// API failures (`INVALIDJOB`, malformed query).
    pub async fn create_query_job(
        &self,
        soql: &str,
        include_deleted: bool,
    ) -> Result<JobInfo, Error> {
        let operation = if include_deleted { "queryAll" } else { "query" };
        let body = serde_json::json!({ "operation": operation, "query": soql });
        let request = Request::new(Method::POST, self.data_path("jobs/query")).json_body(&body)?;
        self.json(&request, "create query job").await
    }

    /// One page of a finished query job's results: the CSV header, its rows, and the locator of
    /// the next page (`None` on the last).
    ///
    /// # Errors
    /// API failures and unreadable CSV.
    pub async fn query_results_page(
        &self,
        job_id: &str,
        locator: Option<&str>,
        max_records: u32,
    ) -> Result<(Vec<String>, Vec<Vec<String>>, Option<String>), Error> {
        let path = self.data_path(&format!("jobs/query/{}/results", check_job_id(job_id)?));
        let mut request = Request::get(path)
            .header(ACCEPT, HeaderValue::from_static("text/csv"))
            .query("maxRecords", max_records.max(1).to_string());
        if let Some(locator) = locator {
            request = request.query("locator", locator);
        }
        let response = self.send(&request).await?;
        let next = response
            .headers()
            .get("sforce-locator")
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty() && *v != "null")
            .map(str::to_owned);
        let body = read_bounded(response, MAX_JSON_BODY, "bulk query results").await?;
        let (header, rows) = parse_csv(&body)?;
        Ok((header, rows, next))
    }

    /// Every row of a finished query job as `(header, row)` pairs, fetched one page of
    /// `max_records` at a time, only when the previous page has been consumed.
    pub fn query_results_stream(
        &self,
        job_id: &str,
        max_records: u32,
    ) -> impl Stream<Item = Result<NamedRow, Error>> + Send + 'static {
        enum Next {
            Page(Option<String>),
            Done,
        }
        let client = self.clone();
        let job_id = job_id.to_owned();
        stream::try_unfold(Next::Page(None), move |next| {
            let client = client.clone();
            let job_id = job_id.clone();
            async move {
                let Next::Page(locator) = next else {
                    return Ok::<_, Error>(None);
                };
                let (header, rows, following) = client
                    .query_results_page(&job_id, locator.as_deref(), max_records)
                    .await?;
                let header = Arc::new(header);
                let items = rows.into_iter().map(move |row| Ok((header.clone(), row)));
                Ok(Some((
                    stream::iter(items),
                    following.map_or(Next::Done, |l| Next::Page(Some(l))),
                )))
            }
        })
        .try_flatten()
        .boxed()
    }
}

/// Counts every row of `rows`, shows each to `each`, and keeps the first `keep` in `kept`.
async fn tally<T>(
    rows: impl Stream<Item = Result<T, Error>>,
    count: &mut u64,
    kept: &mut Vec<T>,
    keep: usize,
    mut each: impl FnMut(&T),
) -> Result<(), Error> {
    let mut rows = std::pin::pin!(rows);
    while let Some(row) = rows.try_next().await? {
        *count += 1;
        each(&row);
        if kept.len() < keep {
            kept.push(row);
        }
    }
    Ok(())
}

/// Which kind of job to poll.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobKind {
    /// `/jobs/ingest`.
    Ingest,
    /// `/jobs/query`.
    Query,
}

fn check_job_id(job_id: &str) -> Result<&str, Error> {
    crate::names::check_id(job_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_lines_quote_only_what_needs_it() {
        let line = csv_line(&[
            "Acme, Inc.".into(),
            "say \"hi\"".into(),
            "plain".into(),
            "multi\nline".into(),
        ])
        .unwrap();
        assert_eq!(
            String::from_utf8(line).unwrap(),
            "\"Acme, Inc.\",\"say \"\"hi\"\"\",plain,\"multi\nline\"\n"
        );
    }

    #[test]
    fn result_csvs_pair_columns_with_names() {
        let body = b"\"sf__Id\",\"sf__Created\",LastName,Company\n00Q000000000001AAA,true,Flores,\"Acme, Inc.\"\n";
        let (header, rows) = parse_csv(body).unwrap();
        assert_eq!(header, vec!["sf__Id", "sf__Created", "LastName", "Company"]);
        assert_eq!(
            named_fields(&header, &rows[0], 2),
            vec![
                ("LastName".into(), "Flores".into()),
                ("Company".into(), "Acme, Inc.".into())
            ]
        );
    }

    #[test]
    fn blank_bodies_have_no_rows_and_ragged_rows_are_refused() {
        assert_eq!(parse_csv(b"").unwrap(), (Vec::new(), Vec::new()));
        assert_eq!(parse_csv(b"\n \n").unwrap(), (Vec::new(), Vec::new()));
        assert!(parse_csv(b"sf__Id,sf__Error,Name\n,x\n").is_err());
    }

    /// Splits `body` into chunks of the given sizes (cycled), pushes them through a splitter
    /// taking a page whenever `page` bytes of whole rows are buffered, and parses each page.
    fn paged(body: &[u8], chunks: &[usize], page: usize) -> (Vec<String>, Vec<Vec<String>>) {
        let mut splitter = RowSplitter::default();
        let mut header = None;
        let mut rows = Vec::new();
        let mut rest = body;
        let mut sizes = chunks.iter().cycle();
        while !rest.is_empty() {
            let n = (*sizes.next().unwrap()).clamp(1, rest.len());
            splitter.push(&rest[..n]);
            rest = &rest[n..];
            if splitter.whole() >= page {
                let taken = splitter.take(false);
                rows.extend(parse_page(&taken, &mut header, "test").unwrap());
            }
        }
        rows.extend(parse_page(&splitter.take(true), &mut header, "test").unwrap());
        let header = header.map(Arc::unwrap_or_clone).unwrap_or_default();
        (header, rows.into_iter().map(|(_, row)| row).collect())
    }

    #[test]
    fn pages_end_on_row_boundaries_whatever_the_chunks() {
        let body = "sf__Id,sf__Error,Name,Notes\n\
            ,REQUIRED_FIELD_MISSING:x:--,\"Acme, Inc.\",\"two\nlines\"\n\
            001000000000001AAA,\"quoted \"\"word\"\"\",Plain,\n\
            ,e,\"\"\"\",\"\n\n\"\n\
            ,last,no newline,at end";
        let whole = parse_csv(body.as_bytes()).unwrap();
        assert_eq!(whole.1.len(), 4);
        assert_eq!(whole.1[0][3], "two\nlines");
        assert_eq!(whole.1[2][2], "\"");
        for chunks in [&[1][..], &[2, 3], &[7], &[64], &[5, 1, 13]] {
            for page in [1, 10, 40, 1_000] {
                assert_eq!(
                    paged(body.as_bytes(), chunks, page),
                    whole,
                    "chunks {chunks:?}, page {page}"
                );
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn any_rows_survive_any_chunking(
            cells in proptest::collection::vec(
                proptest::collection::vec("[a-c,\"\n ]{0,6}", 3),
                1..30,
            ),
            chunks in proptest::collection::vec(1usize..20, 1..5),
            page in 1usize..50,
        ) {
            let mut writer = csv::WriterBuilder::new()
                .terminator(csv::Terminator::Any(b'\n'))
                .from_writer(Vec::new());
            writer.write_record(["A", "B", "C"]).unwrap();
            for row in &cells {
                writer.write_record(row).unwrap();
            }
            let body = writer.into_inner().unwrap();
            let (header, rows) = paged(&body, &chunks, page);
            proptest::prop_assert_eq!(header, vec!["A", "B", "C"]);
            proptest::prop_assert_eq!(rows, cells);
        }
    }

    #[test]
    fn states_know_when_they_are_final() {
        let finals: Vec<JobState> = [
            JobState::Open,
            JobState::UploadComplete,
            JobState::InProgress,
            JobState::JobComplete,
            JobState::Failed,
            JobState::Aborted,
        ]
        .into_iter()
        .filter(|s| s.is_final())
        .collect();
        assert_eq!(
            finals,
            vec![JobState::JobComplete, JobState::Failed, JobState::Aborted]
        );
        let info: JobInfo = serde_json::from_str(
            r#"{"id":"7505g00000AbCdEAAV","state":"InProgress","object":"Lead","numberRecordsProcessed":5,"contentUrl":"services/data/v62.0/jobs/ingest/7505g00000AbCdEAAV/batches"}"#,
        )
        .unwrap();
        assert_eq!(
            (info.state, info.number_records_processed),
            (JobState::InProgress, 5)
        );
    }

    #[test]
    fn operations_serialize_as_salesforce_names() {
        assert_eq!(
            serde_json::to_value(IngestOperation::HardDelete).unwrap(),
            "hardDelete"
        );
        assert_eq!(
            serde_json::to_value(IngestOperation::Upsert).unwrap(),
            "upsert"
        );
    }
}
