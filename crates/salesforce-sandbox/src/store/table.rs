//! One object's rows with an id index and equality indexes on the schema's indexed fields.
//!
//! Rows are never removed (deletes are soft), so a [`RowIdx`] stays valid for the table's life;
//! only a rolled-back insert pops the last row.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use salesforce_core::id::RecordId;

use super::record::Record;
use crate::schema::{FieldIdx, ObjectDef};
use crate::value::Value;

/// Position of a row in its table.
pub type RowIdx = u32;

/// A fast multiplicative hash for the id index. Safe against crafted collisions because the
/// inserted ids are minted by the sandbox (or given by trusted embedding code), never taken
/// from requests; lookups with arbitrary ids cannot degrade the table.
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0.rotate_left(5) ^ u64::from(*b)).wrapping_mul(0x517c_c1b7_2722_0a95);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type IdIndex = HashMap<RecordId, RowIdx, BuildHasherDefault<IdHasher>>;

/// The rows of one object.
#[derive(Debug, Clone, Default)]
pub struct Table {
    rows: Vec<Record>,
    by_id: IdIndex,
    indexes: HashMap<FieldIdx, HashMap<Box<str>, Vec<RowIdx>>>,
}

impl Table {
    /// An empty table with indexes on the object's indexed fields.
    pub fn new(object: &ObjectDef) -> Self {
        let mut table = Self::default();
        table.ensure_indexes(object);
        table
    }

    /// Adds (and fills) indexes for indexed fields that have none yet, e.g. after a schema
    /// extension added fields.
    pub fn ensure_indexes(&mut self, object: &ObjectDef) {
        for (idx, field) in object.fields().iter().enumerate() {
            if field.indexed && field.name != "Id" && !self.indexes.contains_key(&idx) {
                let mut index: HashMap<Box<str>, Vec<RowIdx>> = HashMap::new();
                for (row, record) in self.rows.iter().enumerate() {
                    if let (Some(key), Ok(row)) = (record.get(idx).index_key(), u32::try_from(row))
                    {
                        index.entry(key).or_default().push(row);
                    }
                }
                self.indexes.insert(idx, index);
            }
        }
    }

    /// Number of rows, deleted ones included.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether the table has no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// All rows in insertion order, deleted ones included (check `IsDeleted`).
    pub fn rows(&self) -> &[Record] {
        &self.rows
    }

    /// The row at `row`.
    pub fn row(&self, row: RowIdx) -> Option<&Record> {
        self.rows.get(row as usize)
    }

    /// The row index of the record `id`.
    pub fn find(&self, id: &RecordId) -> Option<RowIdx> {
        self.by_id.get(id).copied()
    }

    /// The record `id`, deleted or not.
    pub fn get(&self, id: &RecordId) -> Option<&Record> {
        self.find(id).and_then(|row| self.row(row))
    }

    /// Whether `field` has an equality index.
    pub fn is_indexed(&self, field: FieldIdx) -> bool {
        self.indexes.contains_key(&field)
    }

    /// Rows whose `field` equals `value` (text case-insensitively), in no particular order;
    /// `None` when the field has no index. Deleted rows are included.
    pub fn lookup(&self, field: FieldIdx, value: &Value) -> Option<&[RowIdx]> {
        let index = self.indexes.get(&field)?;
        Some(
            value
                .with_index_key(|key| index.get(key).map_or(&[][..], Vec::as_slice))
                .unwrap_or(&[]),
        )
    }

    fn index_row(&mut self, row: RowIdx, record: &Record) {
        for (field, index) in &mut self.indexes {
            record
                .get(*field)
                .with_index_key(|key| match index.get_mut(key) {
                    Some(rows) => rows.push(row),
                    None => {
                        index.insert(key.into(), vec![row]);
                    }
                });
        }
    }

    /// Makes room for `additional` more rows (bulk loads).
    pub(crate) fn reserve(&mut self, additional: usize) {
        self.rows.reserve(additional);
        self.by_id.reserve(additional);
    }

    fn unindex_row(&mut self, row: RowIdx, record: &Record) {
        for (field, index) in &mut self.indexes {
            record.get(*field).with_index_key(|key| {
                if let Some(rows) = index.get_mut(key) {
                    if let Some(pos) = rows.iter().rposition(|r| *r == row) {
                        rows.swap_remove(pos);
                    }
                    if rows.is_empty() {
                        index.remove(key);
                    }
                }
            });
        }
    }

    /// Appends a record and returns its row.
    pub(crate) fn push(&mut self, record: Record) -> RowIdx {
        let row = u32::try_from(self.rows.len()).unwrap_or(u32::MAX);
        self.by_id.insert(record.id, row);
        self.index_row(row, &record);
        self.rows.push(record);
        row
    }

    /// Removes the last row (undo of an insert).
    pub(crate) fn pop(&mut self) -> Option<Record> {
        let record = self.rows.pop()?;
        let row = u32::try_from(self.rows.len()).unwrap_or(u32::MAX);
        self.by_id.remove(&record.id);
        self.unindex_row(row, &record);
        Some(record)
    }

    /// Replaces the record at `row`, returning the old one.
    pub(crate) fn replace(&mut self, row: RowIdx, record: Record) -> Option<Record> {
        let old = self.rows.get(row as usize)?.clone();
        self.unindex_row(row, &old);
        self.index_row(row, &record);
        if let Some(slot) = self.rows.get_mut(row as usize) {
            *slot = record;
        }
        Some(old)
    }
}
