//! Bulk API 2.0 query jobs: create (the query is checked at once), asynchronous processing with
//! the SOQL engine on a blocking task (the result is a [`Snapshot`] of record ids), info, list,
//! abort, delete, and CSV result pages with `Sforce-Locator` and `Sforce-NumberOfRecords`.
//!
//! Locators are the decimal index of a page's first record; a page shows the records as they are
//! when it is read.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use http::{HeaderName, Method, StatusCode};
use serde_json::Value as Json;

use super::{
    BulkJobs, CommonInfo, CsvOptions, Job, JobState, JobTable, Progress, Routed, csv, csv_reply,
    find, invalid_job, invalid_state, lock, millis, parse_state, requested_state,
};
use crate::error::ApiFailure;
use crate::http::{Reply, form_pairs, param};
use crate::rest::Call;
use crate::server::State;
use crate::soql_engine::{self, Snapshot};

/// Records per result page when the client sends no `maxRecords`.
pub const DEFAULT_MAX_RECORDS: usize = 100_000;

/// One query job.
#[derive(Debug)]
pub struct QueryJob {
    info: CommonInfo,
    query: String,
    include_deleted: bool,
    options: CsvOptions,
    result: Option<Arc<Snapshot>>,
    processing_ms: u64,
    error_message: Option<String>,
}

impl Job for QueryJob {
    fn table(jobs: &BulkJobs) -> &JobTable<Self> {
        &jobs.query
    }

    fn common(&self) -> &CommonInfo {
        &self.info
    }

    fn progress(&self) -> Progress {
        Progress::new(
            "V2Query",
            self.result
                .as_ref()
                .map_or(0, |r| u64::try_from(r.len()).unwrap_or(u64::MAX)),
            None,
            self.processing_ms,
            self.error_message.clone(),
        )
    }

    /// Create, abort, and the result pages.
    fn own_route(state: &Arc<State>, call: &Call<'_>, rest: &[&str]) -> Routed {
        Some(match (call.method.clone(), rest) {
            (Method::POST, [] | [""]) => create(state, call),
            (Method::PATCH, [id]) => abort(state, call, id),
            (Method::GET, [id, "results"]) => results(state, call, id),
            _ => return None,
        })
    }
}

fn create(state: &Arc<State>, call: &Call<'_>) -> Result<Reply, ApiFailure> {
    let body = call.json_object()?;
    let text = |key: &str| body.get(key).and_then(Json::as_str);
    let op_name = text("operation").unwrap_or("query");
    let include_deleted = match op_name {
        "query" => false,
        "queryAll" => true,
        other => return Err(invalid_job(format!("Invalid operation: {other}"))),
    };
    let query = text("query")
        .filter(|q| !q.trim().is_empty())
        .ok_or_else(|| invalid_job("Missing query"))?
        .to_owned();
    let options = CsvOptions::from_body(&body)?;
    let now = state.clock.now();
    let object = {
        let data = state.store.read();
        soql_engine::check_bulk_query(&data, &query, now)?
    };
    BulkJobs::check_room(lock(&state.bulk.query).len())?;
    let id = state.bulk.new_id();
    let info = CommonInfo::new(id, op_name, &object, call.user, now, call.version, options);
    let job = QueryJob {
        info: CommonInfo {
            state: JobState::UploadComplete,
            ..info
        },
        query,
        include_deleted,
        options,
        result: None,
        processing_ms: 0,
        error_message: None,
    };
    let reply = Reply::json(StatusCode::OK, &job.info);
    let handle = Arc::new(Mutex::new(job));
    lock(&state.bulk.query).insert(id, handle.clone());
    let state = state.clone();
    tokio::task::spawn_blocking(move || process(&state, &handle));
    Ok(reply)
}

fn process(state: &State, handle: &Mutex<QueryJob>) {
    let started = Instant::now();
    let (query, include_deleted) = {
        let mut job = lock(handle);
        if job.info.state != JobState::UploadComplete {
            return;
        }
        job.info.set_state(JobState::InProgress, state.clock.now());
        (job.query.clone(), job.include_deleted)
    };
    let outcome = {
        let data = state.store.read();
        soql_engine::snapshot(&data, &query, include_deleted, state.clock.now())
    };
    let mut job = lock(handle);
    job.processing_ms = millis(started.elapsed());
    if job.info.state != JobState::InProgress {
        return;
    }
    match outcome {
        Ok(snapshot) => {
            job.result = Some(Arc::new(snapshot));
            job.info.set_state(JobState::JobComplete, state.clock.now());
        }
        Err(failure) => {
            job.error_message = failure
                .errors
                .first()
                .map(|e| format!("{}: {}", e.error_code, e.message));
            job.info.set_state(JobState::Failed, state.clock.now());
        }
    }
}

fn abort(state: &Arc<State>, call: &Call<'_>, id: &str) -> Result<Reply, ApiFailure> {
    let target = requested_state(call)?;
    let handle = find::<QueryJob>(state, id)?;
    let mut job = lock(&handle);
    if parse_state(&target) != Some(JobState::Aborted) {
        return Err(invalid_job(format!("Invalid state: {target}")));
    }
    let current = job.info.state;
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
    job.info.set_state(JobState::Aborted, state.clock.now());
    Ok(Reply::json(StatusCode::OK, &job.info))
}

fn results(state: &Arc<State>, call: &Call<'_>, id: &str) -> Result<Reply, ApiFailure> {
    let handle = find::<QueryJob>(state, id)?;
    let (result, options) = {
        let job = lock(&handle);
        if job.info.state != JobState::JobComplete {
            return Err(invalid_state(format!(
                "Results are not available for a job in state {}",
                job.info.state.as_str()
            )));
        }
        (job.result.clone(), job.options)
    };
    let result = result.ok_or_else(ApiFailure::not_found)?;
    let pairs = form_pairs(call.query);
    let start = match param(&pairs, "locator").filter(|l| !l.is_empty()) {
        None => 0,
        Some(locator) => locator
            .parse::<usize>()
            .ok()
            .filter(|n| *n < result.len())
            .ok_or_else(|| invalid_job(format!("Invalid locator: {locator}")))?,
    };
    let max = match param(&pairs, "maxRecords") {
        None => DEFAULT_MAX_RECORDS,
        Some(n) => n
            .parse::<usize>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| invalid_job(format!("Invalid maxRecords: {n}")))?,
    };
    let end = start.saturating_add(max).min(result.len());
    let rows = {
        let data = state.store.read();
        result.rows(&data, start, end)
    };
    let delimiter = options.delimiter.1;
    let eol = options.line_ending();
    let mut out = String::new();
    let columns = result.columns();
    csv::write_record(
        &mut out,
        columns.iter().map(|c| Some(c.as_str())),
        delimiter,
        eol,
    );
    for row in &rows {
        csv::write_record(&mut out, row.iter().map(Option::as_deref), delimiter, eol);
    }
    let locator = if end < result.len() {
        end.to_string()
    } else {
        "null".to_owned()
    };
    Ok(csv_reply(StatusCode::OK, out)
        .with_header(HeaderName::from_static("sforce-locator"), locator)
        .with_header(
            HeaderName::from_static("sforce-numberofrecords"),
            rows.len().to_string(),
        ))
}
