//! A bounded log of the requests the sandbox served, for tests to inspect through the admin API.

use std::collections::VecDeque;
use std::sync::Mutex;

use serde::Serialize;

/// How many entries the log keeps.
pub const CAPACITY: usize = 1_000;

/// One served request. Query strings are left out: they can carry codes and tokens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogEntry {
    /// When (sandbox clock), in Salesforce's datetime format.
    pub at: String,
    /// HTTP method.
    pub method: String,
    /// Path without the query.
    pub path: String,
    /// Response status.
    pub status: u16,
}

/// The newest [`CAPACITY`] requests.
#[derive(Debug, Default)]
pub struct RequestLog {
    entries: Mutex<VecDeque<LogEntry>>,
}

impl RequestLog {
    /// Records one request, dropping the oldest beyond capacity.
    pub fn push(&self, entry: LogEntry) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= CAPACITY {
            entries.pop_front();
        }
        entries.push_back(entry);
    }

    /// All entries, oldest first.
    pub fn entries(&self) -> Vec<LogEntry> {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .cloned()
            .collect()
    }

    /// Empties the log.
    pub fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}
