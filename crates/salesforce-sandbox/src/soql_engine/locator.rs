//! Query locators: the rest of a result that did not fit in one response, kept under an id like
//! `01g3h00000AbCdEfGH` and addressed as `<id>-<start>` in `nextRecordsUrl`.
//!
//! A locator keeps the result's record ids (or, for aggregates, its finished rows), not the
//! records, so later pages show records as they are when read. Locators expire after a time
//! without use (Salesforce: 15 minutes of inactivity), at most a fixed number live at once (the
//! oldest is dropped first, as Salesforce drops a user's oldest cursor), and a locator is released
//! once its last page has been served. Unknown, expired or out-of-range locators are 400
//! `INVALID_QUERY_LOCATOR` `invalid query locator`.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, TimeDelta, Utc};
use http::StatusCode;
use salesforce_core::id::RecordId;

use super::execute::{Outcome, materialize};
use super::output::{QueryResponse, Row};
use super::resolve::{Ctx, Plan, Shape};
use super::{INVALID_QUERY_LOCATOR, QueryRequest};
use crate::error::ApiFailure;
use crate::store::OrgData;

/// How long an unused locator lives.
pub const DEFAULT_LOCATOR_TTL: TimeDelta = TimeDelta::minutes(15);
/// How many locators live at once by default.
pub const DEFAULT_MAX_LOCATORS: usize = 50;

/// What a locator pages through.
enum Content {
    /// Record ids in result order, serialised with the plan's projection when read.
    Records(Arc<Plan>, Vec<RecordId>),
    /// Finished rows (aggregate results).
    Rows(Vec<Row>),
}

impl Content {
    fn len(&self) -> usize {
        match self {
            Self::Records(_, ids) => ids.len(),
            Self::Rows(rows) => rows.len(),
        }
    }
}

struct Cursor {
    content: Content,
    include_deleted: bool,
    batch_size: usize,
    last_used: DateTime<Utc>,
}

#[derive(Default)]
struct State {
    cursors: HashMap<RecordId, Cursor>,
    /// Creation order, for evicting the oldest.
    order: VecDeque<RecordId>,
}

/// The org's live query locators.
pub struct QueryLocators {
    state: Mutex<State>,
    ttl: TimeDelta,
    max_live: usize,
}

impl std::fmt::Debug for QueryLocators {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueryLocators")
            .field("ttl", &self.ttl)
            .field("max_live", &self.max_live)
            .finish_non_exhaustive()
    }
}

impl Default for QueryLocators {
    fn default() -> Self {
        Self::new(DEFAULT_LOCATOR_TTL, DEFAULT_MAX_LOCATORS)
    }
}

/// A page of `content` from `start`.
struct PageSlice {
    content: Content,
    next: Option<usize>,
}

fn invalid_locator() -> ApiFailure {
    ApiFailure::new(
        StatusCode::BAD_REQUEST,
        INVALID_QUERY_LOCATOR,
        "invalid query locator",
    )
}

impl QueryLocators {
    /// Locators that expire after `ttl` without use, at most `max_live` (at least 1) at once.
    pub fn new(ttl: TimeDelta, max_live: usize) -> Self {
        Self {
            state: Mutex::new(State::default()),
            ttl,
            max_live: max_live.max(1),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The map stays consistent between operations, so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Number of locators alive at `now`.
    pub fn live(&self, now: DateTime<Utc>) -> usize {
        let mut state = self.lock();
        self.purge(&mut state, now);
        state.cursors.len()
    }

    /// Drops every locator (e.g. when the org is reset).
    pub fn clear(&self) {
        let mut state = self.lock();
        state.cursors.clear();
        state.order.clear();
    }

    fn purge(&self, state: &mut State, now: DateTime<Utc>) {
        let ttl = self.ttl;
        state.cursors.retain(|_, c| now - c.last_used <= ttl);
        let State { cursors, order } = state;
        order.retain(|id| cursors.contains_key(id));
    }

    /// Answers the first page of a query's outcome, keeping the rest under a new locator.
    pub(crate) fn first_page(
        &self,
        data: &OrgData,
        plan: Plan,
        outcome: Outcome,
        request: &QueryRequest<'_>,
    ) -> QueryResponse {
        let content = match outcome {
            Outcome::Count(n) => {
                return QueryResponse {
                    total_size: n,
                    done: true,
                    next_records_url: None,
                    records: Vec::new(),
                };
            }
            Outcome::Records(ids) => Content::Records(Arc::new(plan), ids),
            Outcome::Rows(rows) => Content::Rows(rows),
        };
        let total = content.len();
        let batch = request.batch_size.max(1);
        let version: Arc<str> = Arc::from(request.version);
        if total <= batch {
            let records = render(data, &content, request.include_deleted, &version, 0, total);
            return QueryResponse {
                total_size: total,
                done: true,
                next_records_url: None,
                records,
            };
        }
        let records = render(data, &content, request.include_deleted, &version, 0, batch);
        let id = self.insert(
            Cursor {
                content,
                include_deleted: request.include_deleted,
                batch_size: batch,
                last_used: request.now,
            },
            request.now,
        );
        QueryResponse {
            total_size: total,
            done: false,
            next_records_url: Some(next_url(&version, &id, batch)),
            records,
        }
    }

    fn insert(&self, cursor: Cursor, now: DateTime<Utc>) -> RecordId {
        let mut state = self.lock();
        self.purge(&mut state, now);
        while state.cursors.len() >= self.max_live {
            match state.order.pop_front() {
                Some(oldest) => {
                    state.cursors.remove(&oldest);
                }
                None => break,
            }
        }
        let id = loop {
            let candidate = RecordId::mint("01g", rand::random::<u64>() % 62u64.pow(10));
            if !state.cursors.contains_key(&candidate) {
                break candidate;
            }
        };
        state.cursors.insert(id, cursor);
        state.order.push_back(id);
        id
    }

    /// Serves the page `locator` (`<id>-<start>`) names.
    pub(crate) fn page(
        &self,
        data: &OrgData,
        version: &str,
        locator: &str,
        now: DateTime<Utc>,
    ) -> Result<QueryResponse, ApiFailure> {
        let (id, start) = locator.split_once('-').ok_or_else(invalid_locator)?;
        let id = RecordId::parse_lenient(id).map_err(|_| invalid_locator())?;
        let start: usize = start.parse().map_err(|_| invalid_locator())?;
        let (slice, total, include_deleted) = {
            let mut state = self.lock();
            self.purge(&mut state, now);
            let cursor = state.cursors.get_mut(&id).ok_or_else(invalid_locator)?;
            let total = cursor.content.len();
            if start >= total {
                return Err(invalid_locator());
            }
            cursor.last_used = now;
            let end = start.saturating_add(cursor.batch_size).min(total);
            let content = match &cursor.content {
                Content::Records(plan, ids) => {
                    Content::Records(plan.clone(), ids.get(start..end).unwrap_or(&[]).to_vec())
                }
                Content::Rows(rows) => Content::Rows(rows.get(start..end).unwrap_or(&[]).to_vec()),
            };
            let include_deleted = cursor.include_deleted;
            if end >= total {
                state.cursors.remove(&id);
                state.order.retain(|o| *o != id);
            }
            let next = (end < total).then_some(end);
            (PageSlice { content, next }, total, include_deleted)
        };
        let version: Arc<str> = Arc::from(version);
        let len = slice.content.len();
        let records = render(data, &slice.content, include_deleted, &version, 0, len);
        Ok(QueryResponse {
            total_size: total,
            done: slice.next.is_none(),
            next_records_url: slice.next.map(|n| next_url(&version, &id, n)),
            records,
        })
    }
}

fn next_url(version: &str, id: &RecordId, start: usize) -> String {
    format!("/services/data/v{version}/query/{id}-{start}")
}

/// Serialises `content[start..end]`. Records that no longer exist (the org was reset) are left
/// out.
fn render(
    data: &OrgData,
    content: &Content,
    include_deleted: bool,
    version: &Arc<str>,
    start: usize,
    end: usize,
) -> Vec<Row> {
    match content {
        Content::Rows(rows) => rows.get(start..end).unwrap_or(&[]).to_vec(),
        Content::Records(plan, ids) => {
            let Shape::Records(projection) = &plan.shape else {
                return Vec::new();
            };
            let Some(table) = data.table(plan.object) else {
                return Vec::new();
            };
            let cx = Ctx::new(data, include_deleted);
            ids.get(start..end)
                .unwrap_or(&[])
                .iter()
                .filter_map(|id| table.get(id))
                .map(|record| materialize(&cx, projection, plan.object, record, version))
                .collect()
        }
    }
}
