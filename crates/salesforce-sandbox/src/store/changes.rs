//! What a committed [`Txn`](super::Txn) changed, read from its undo log, and the observer the
//! store tells about it (outbound messages hang off this hook).
//!
//! Each undo entry is one DML step: an insert or a replacement of a row. The value a row had
//! right after a step is the "before" of the next step on that row, or the row as it stands now.

use std::collections::HashMap;
use std::fmt::Debug;

use chrono::{DateTime, Utc};
use salesforce_core::id::RecordId;

use super::{OrgData, Record, RowIdx, Undo};
use crate::schema::ObjectIdx;

/// One committed create or update (deletes are not reported: nothing in the sandbox reacts
/// to them).
#[derive(Debug, Clone)]
pub struct Change {
    /// The record's object.
    pub object: ObjectIdx,
    /// The record before the step; `None` for a create.
    pub before: Option<Record>,
    /// The record right after the step.
    pub after: Record,
}

/// Told about every committed transaction while the store's write lock is still held, so it
/// must be quick and must not touch the store.
pub trait CommitObserver: Send + Sync + Debug {
    /// Whether it wants changes at all (skips computing them when not).
    fn is_active(&self) -> bool;
    /// The committed creates and updates, in the order they happened.
    fn committed(&self, data: &OrgData, changes: Vec<Change>, user: RecordId, now: DateTime<Utc>);
}

/// The surviving creates and updates of an undo log.
pub(super) fn committed(data: &OrgData, undo: &[Undo]) -> Vec<Change> {
    let key = |entry: &Undo| match entry {
        Undo::Insert(obj, row) | Undo::Replace(obj, row, _) => (*obj, *row),
    };
    // For each step, the index of the next step on the same row.
    let mut next_step: Vec<Option<usize>> = vec![None; undo.len()];
    let mut last_seen: HashMap<(ObjectIdx, RowIdx), usize> = HashMap::new();
    for (i, entry) in undo.iter().enumerate().rev() {
        if let Some(later) = last_seen.insert(key(entry), i) {
            next_step[i] = Some(later);
        }
    }
    let mut changes = Vec::new();
    for (i, entry) in undo.iter().enumerate() {
        let (obj, row) = key(entry);
        let after = match next_step[i].and_then(|n| undo.get(n)) {
            Some(Undo::Replace(_, _, before_next)) => Some(before_next.as_ref()),
            Some(Undo::Insert(..)) => None,
            None => data.tables.get(obj).and_then(|t| t.row(row)),
        };
        let Some(after) = after else { continue };
        if data.is_deleted(obj, after) {
            continue;
        }
        let before = match entry {
            Undo::Insert(..) => None,
            Undo::Replace(_, _, old) => Some(old.as_ref().clone()),
        };
        changes.push(Change {
            object: obj,
            before,
            after: after.clone(),
        });
    }
    changes
}
