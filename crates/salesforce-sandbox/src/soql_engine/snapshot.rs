//! Bulk query results: a query run once at processing time, kept as the matching record ids
//! (compact even for a million rows) and rendered page by page as flat CSV cells, with parent
//! fields as dotted columns (`Account.Name`).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use http::StatusCode;
use salesforce_core::id::RecordId;
use salesforce_core::soql;

use super::execute::{self, Outcome};
use super::output::{Cell, Row};
use super::resolve::{self, Ctx, Item, Plan, Projection, Shape};
use crate::error::ApiFailure;
use crate::store::OrgData;
use crate::value::{Value, format_date, format_datetime};

/// `errorCode` of a query feature Bulk API 2.0 does not support.
pub const FEATURE_NOT_ENABLED: &str = "FEATURENOTENABLED";

/// A bulk query's result as of processing time.
#[derive(Debug)]
pub struct Snapshot {
    plan: Arc<Plan>,
    ids: Vec<RecordId>,
    include_deleted: bool,
    object: String,
}

/// Checks that `text` is a query Bulk API 2.0 accepts and returns its plan: no `OFFSET`,
/// `GROUP BY`, aggregates, `COUNT()` or child subqueries.
fn bulk_plan(data: &OrgData, text: &str, now: DateTime<Utc>) -> Result<Plan, ApiFailure> {
    let query = soql::parse(text).map_err(|e| super::grammar_failure(&e, text))?;
    let plan = resolve::plan(data.schema(), &query, now.date_naive())?;
    let unsupported =
        |message: &str| ApiFailure::new(StatusCode::BAD_REQUEST, FEATURE_NOT_ENABLED, message);
    if plan.offset > 0 {
        return Err(unsupported("OFFSET clause is not supported in Bulk Query"));
    }
    match &plan.shape {
        Shape::Records(projection) if has_children(projection) => Err(unsupported(
            "Aggregate Relationships not supported in Bulk Query",
        )),
        Shape::Records(_) => Ok(plan),
        Shape::Count | Shape::Aggregate(_) => Err(unsupported(
            "Aggregate queries are not supported in Bulk Query",
        )),
    }
}

fn has_children(projection: &Projection) -> bool {
    projection.items.iter().any(|item| match item {
        Item::Children(_) => true,
        Item::Parent { sub, .. } => has_children(sub),
        Item::Field { .. } => false,
    })
}

/// Validates a bulk query at job creation (same errors as [`snapshot`]); returns the queried
/// object's name.
pub fn check_bulk_query(
    data: &OrgData,
    text: &str,
    now: DateTime<Utc>,
) -> Result<String, ApiFailure> {
    let plan = bulk_plan(data, text, now)?;
    Ok(data
        .schema()
        .object_at(plan.object)
        .map(|d| d.name.clone())
        .unwrap_or_default())
}

/// Runs a bulk query and keeps the ids of its records (`include_deleted` for `queryAll`).
pub fn snapshot(
    data: &OrgData,
    text: &str,
    include_deleted: bool,
    now: DateTime<Utc>,
) -> Result<Snapshot, ApiFailure> {
    let plan = bulk_plan(data, text, now)?;
    let ids = match execute::execute(data, &plan, include_deleted) {
        Outcome::Records(ids) => ids,
        Outcome::Count(_) | Outcome::Rows(_) => Vec::new(),
    };
    let object = data
        .schema()
        .object_at(plan.object)
        .map(|d| d.name.clone())
        .unwrap_or_default();
    Ok(Snapshot {
        plan: Arc::new(plan),
        ids,
        include_deleted,
        object,
    })
}

impl Snapshot {
    /// Records in the result.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether the result is empty.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The queried object's name.
    pub fn object(&self) -> &str {
        &self.object
    }

    /// The CSV header: selected fields in order, parent fields dotted.
    pub fn columns(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Shape::Records(projection) = &self.plan.shape {
            collect_columns(projection, "", &mut out);
        }
        out
    }

    /// The rows `start..end` as CSV cells (`None` for null), as the records are now. Records
    /// that no longer exist (the org was reset) are left out.
    pub fn rows(&self, data: &OrgData, start: usize, end: usize) -> Vec<Vec<Option<String>>> {
        let Shape::Records(projection) = &self.plan.shape else {
            return Vec::new();
        };
        let Some(table) = data.table(self.plan.object) else {
            return Vec::new();
        };
        let cx = Ctx::new(data, self.include_deleted);
        let version: Arc<str> = Arc::from("");
        self.ids
            .get(start..end.min(self.ids.len()))
            .unwrap_or(&[])
            .iter()
            .filter_map(|id| table.get(id))
            .map(|record| {
                let row = execute::materialize(&cx, projection, self.plan.object, record, &version);
                let mut cells = Vec::new();
                flatten(projection, Some(&row), &mut cells);
                cells
            })
            .collect()
    }
}

fn collect_columns(projection: &Projection, prefix: &str, out: &mut Vec<String>) {
    for item in &projection.items {
        match item {
            Item::Field { name, .. } => out.push(format!("{prefix}{name}")),
            Item::Parent { hop, sub } => {
                collect_columns(sub, &format!("{prefix}{}.", hop.name), out);
            }
            Item::Children(_) => {}
        }
    }
}

/// Appends the cells of `row` (or nulls for an absent parent) in column order.
fn flatten(projection: &Projection, row: Option<&Row>, out: &mut Vec<Option<String>>) {
    for item in &projection.items {
        match item {
            Item::Field { name, .. } => {
                out.push(row.and_then(|r| r.value(name)).and_then(csv_text));
            }
            Item::Parent { hop, sub } => {
                let parent = row.and_then(|r| match r.get(&hop.name) {
                    Some(Cell::Parent(Some(p))) => Some(p.as_ref()),
                    _ => None,
                });
                flatten(sub, parent, out);
            }
            Item::Children(_) => {}
        }
    }
}

/// A value as Bulk API CSV writes it (`None` for null).
fn csv_text(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::Bool(b) => Some(b.to_string()),
        Value::Int(i) => Some(i.to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::Text(s) => Some(s.to_string()),
        Value::Date(d) => Some(format_date(*d)),
        Value::DateTime(t) => Some(format_datetime(*t)),
        Value::Id(id) => Some(id.as_str().to_owned()),
    }
}

/// A SOQL query's matching records (no bulk restrictions beyond [`snapshot`]'s), for search:
/// the records can be filtered and then rendered as response rows.
impl Snapshot {
    /// Keeps the records for which `keep` holds (given the object and the record).
    pub fn retain(
        &mut self,
        data: &OrgData,
        mut keep: impl FnMut(&crate::schema::ObjectDef, &crate::store::Record) -> bool,
    ) {
        let (Some(table), Some(def)) = (
            data.table(self.plan.object),
            data.schema().object_at(self.plan.object),
        ) else {
            self.ids.clear();
            return;
        };
        self.ids
            .retain(|id| table.get(id).is_some_and(|record| keep(def, record)));
    }

    /// Keeps the first `n` records.
    pub fn truncate(&mut self, n: usize) {
        self.ids.truncate(n);
    }

    /// The records as query-response rows (`attributes` with `url` under `version`).
    pub fn records(&self, data: &OrgData, version: &str) -> Vec<Row> {
        let Shape::Records(projection) = &self.plan.shape else {
            return Vec::new();
        };
        let Some(table) = data.table(self.plan.object) else {
            return Vec::new();
        };
        let cx = Ctx::new(data, self.include_deleted);
        let version: Arc<str> = Arc::from(version);
        self.ids
            .iter()
            .filter_map(|id| table.get(id))
            .map(|record| execute::materialize(&cx, projection, self.plan.object, record, &version))
            .collect()
    }
}
