//! The query response as Salesforce writes it: `{totalSize, done, nextRecordsUrl?, records}`,
//! each record `attributes` first and then its fields in select order, parents as nested records
//! (or null) and child subqueries as nested results (or null). Serialisation streams through
//! serde so key order is kept; record attributes reuse the store's [`Attributes`].

use std::sync::Arc;

use salesforce_core::id::RecordId;
use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::store::Attributes;
use crate::value::Value;

/// One page of a query result.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryResponse {
    /// Records in the whole result (for `COUNT()`, the count).
    pub total_size: usize,
    /// Whether this is the last page.
    pub done: bool,
    /// `/services/data/vNN.N/query/<locator>` for the next page, when not done.
    pub next_records_url: Option<String>,
    /// This page's records.
    pub records: Vec<Row>,
}

impl QueryResponse {
    /// The response as a JSON value (note: `serde_json::Value` sorts object keys; serialise the
    /// response itself to keep Salesforce's order on the wire).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

/// What a row is: a record of an object, or an aggregate result.
#[derive(Debug, Clone, PartialEq)]
enum RowKind {
    Record {
        object: Arc<str>,
        id: RecordId,
        version: Arc<str>,
    },
    Aggregate,
}

/// A record (or aggregate result) with its selected values in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    kind: RowKind,
    cells: Vec<(Arc<str>, Cell)>,
}

/// One selected value of a row.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// A field value (or aggregate).
    Value(Value),
    /// A parent relationship: the parent's selected fields, or `None` when the lookup is empty.
    Parent(Option<Box<Row>>),
    /// A child subquery: its result, or `None` when there are no children.
    Children(Option<ChildResult>),
}

/// A child subquery's result inside a parent record.
#[derive(Debug, Clone, PartialEq)]
pub struct ChildResult {
    /// Number of child records.
    pub total_size: usize,
    /// The child records.
    pub records: Vec<Row>,
}

impl Row {
    /// A record row of `object` with id `id`; `version` is used in `attributes.url`.
    pub(crate) fn record(object: Arc<str>, id: RecordId, version: Arc<str>) -> Self {
        Self {
            kind: RowKind::Record {
                object,
                id,
                version,
            },
            cells: Vec::new(),
        }
    }

    /// An `AggregateResult` row.
    pub(crate) fn aggregate() -> Self {
        Self {
            kind: RowKind::Aggregate,
            cells: Vec::new(),
        }
    }

    pub(crate) fn push(&mut self, name: Arc<str>, cell: Cell) {
        self.cells.push((name, cell));
    }

    /// The record's id (`None` for aggregate rows).
    pub fn id(&self) -> Option<RecordId> {
        match &self.kind {
            RowKind::Record { id, .. } => Some(*id),
            RowKind::Aggregate => None,
        }
    }

    /// The object name in `attributes.type` (`AggregateResult` for aggregate rows).
    pub fn object(&self) -> &str {
        match &self.kind {
            RowKind::Record { object, .. } => object,
            RowKind::Aggregate => "AggregateResult",
        }
    }

    /// The selected cells in order.
    pub fn cells(&self) -> impl Iterator<Item = (&str, &Cell)> {
        self.cells.iter().map(|(n, c)| (n.as_ref(), c))
    }

    /// The cell named `name` (case-insensitively).
    pub fn get(&self, name: &str) -> Option<&Cell> {
        self.cells
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, c)| c)
    }

    /// The plain value named `name`, if it is a value cell.
    pub fn value(&self, name: &str) -> Option<&Value> {
        match self.get(name)? {
            Cell::Value(v) => Some(v),
            _ => None,
        }
    }
}

struct AggregateAttributes;

impl Serialize for AggregateAttributes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry("type", "AggregateResult")?;
        map.end()
    }
}

impl Serialize for Row {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.cells.len() + 1))?;
        match &self.kind {
            RowKind::Record {
                object,
                id,
                version,
            } => map.serialize_entry(
                "attributes",
                &Attributes {
                    object,
                    id,
                    version,
                },
            )?,
            RowKind::Aggregate => map.serialize_entry("attributes", &AggregateAttributes)?,
        }
        for (name, cell) in &self.cells {
            map.serialize_entry(name.as_ref(), cell)?;
        }
        map.end()
    }
}

impl Serialize for Cell {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Value(v) => v.serialize(serializer),
            Self::Parent(parent) => parent.serialize(serializer),
            Self::Children(children) => children.serialize(serializer),
        }
    }
}

impl Serialize for ChildResult {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(3))?;
        map.serialize_entry("totalSize", &self.total_size)?;
        map.serialize_entry("done", &true)?;
        map.serialize_entry("records", &self.records)?;
        map.end()
    }
}

impl Serialize for QueryResponse {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("totalSize", &self.total_size)?;
        map.serialize_entry("done", &self.done)?;
        if let Some(url) = &self.next_records_url {
            map.serialize_entry("nextRecordsUrl", url)?;
        }
        map.serialize_entry("records", &self.records)?;
        map.end()
    }
}
