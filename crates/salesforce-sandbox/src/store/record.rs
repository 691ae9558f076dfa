//! One stored record: its id and its non-null field values, kept sparse and sorted by field
//! index so that wide objects with few values set stay small.

use salesforce_core::id::RecordId;

use crate::schema::FieldIdx;
use crate::value::{NULL, Value};

/// A record of some object. Fields never set are null; the `Id` field holds [`Record::id`].
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// The record's id.
    pub id: RecordId,
    values: Vec<(u16, Value)>,
}

impl Record {
    /// An empty record with the given id.
    pub fn new(id: RecordId) -> Self {
        Self {
            id,
            values: Vec::new(),
        }
    }

    /// The value of the field at `idx` (null when unset).
    pub fn get(&self, idx: FieldIdx) -> &Value {
        match self
            .values
            .binary_search_by_key(&idx, |(i, _)| usize::from(*i))
        {
            Ok(pos) => self.values.get(pos).map_or(&NULL, |(_, v)| v),
            Err(_) => &NULL,
        }
    }

    /// Sets the field at `idx`; null removes it.
    pub fn set(&mut self, idx: FieldIdx, value: Value) {
        let Ok(key) = u16::try_from(idx) else {
            return;
        };
        match self.values.binary_search_by_key(&key, |(i, _)| *i) {
            Ok(pos) => {
                if value.is_null() {
                    self.values.remove(pos);
                } else if let Some(slot) = self.values.get_mut(pos) {
                    slot.1 = value;
                }
            }
            Err(pos) => {
                if !value.is_null() {
                    self.values.insert(pos, (key, value));
                }
            }
        }
    }

    /// The non-null values with their field indexes, in field order.
    pub fn values(&self) -> impl Iterator<Item = (FieldIdx, &Value)> {
        self.values.iter().map(|(i, v)| (usize::from(*i), v))
    }
}
